//! Progress for commands that wait: a spinner on a terminal, one plain line per step otherwise
//! (logs and CI stay readable).

use std::io::IsTerminal;
use std::time::Duration;

pub struct Progress {
    spinner: Option<indicatif::ProgressBar>,
}

impl Progress {
    pub fn start(message: &str) -> Progress {
        let spinner = std::io::stderr().is_terminal().then(|| {
            let bar = indicatif::ProgressBar::new_spinner();
            bar.enable_steady_tick(Duration::from_millis(100));
            bar.set_message(message.to_owned());
            bar
        });
        if spinner.is_none() {
            eprintln!("► {message}");
        }
        Progress { spinner }
    }

    pub fn step(&self, message: &str) {
        match &self.spinner {
            Some(bar) => bar.set_message(message.to_owned()),
            None => eprintln!("◎ {message}"),
        }
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.spinner {
            bar.finish_and_clear();
        }
    }
}
