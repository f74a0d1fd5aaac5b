//! Whether output is coloured, and the few ANSI styles the commands use. Colour goes only to a
//! terminal, and never when `NO_COLOR` is set to a non-empty value (<https://no-color.org>), so
//! pipes, files and tests get plain text.

use std::ffi::OsStr;
use std::io::IsTerminal;

/// The rule, without the environment: a terminal, and `NO_COLOR` absent or empty.
pub fn wanted(is_terminal: bool, no_color: Option<&OsStr>) -> bool {
    is_terminal && no_color.is_none_or(OsStr::is_empty)
}

/// Whether stderr gets colour (the log and progress lines).
pub fn for_stderr() -> bool {
    wanted(
        std::io::stderr().is_terminal(),
        std::env::var_os("NO_COLOR").as_deref(),
    )
}

/// ANSI styles that render as plain text when colour is off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Palette {
    enabled: bool,
}

impl Palette {
    pub fn new(enabled: bool) -> Palette {
        Palette { enabled }
    }

    /// Colour for stdout, by [`wanted`].
    pub fn stdout() -> Palette {
        Palette::new(wanted(
            std::io::stdout().is_terminal(),
            std::env::var_os("NO_COLOR").as_deref(),
        ))
    }

    pub fn green(self, text: &str) -> String {
        self.paint("32", text)
    }

    pub fn red(self, text: &str) -> String {
        self.paint("31", text)
    }

    pub fn yellow(self, text: &str) -> String {
        self.paint("33", text)
    }

    pub fn cyan(self, text: &str) -> String {
        self.paint("36", text)
    }

    fn paint(self, code: &str, text: &str) -> String {
        if self.enabled {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_only_on_a_terminal_without_no_color() {
        assert!(wanted(true, None));
        assert!(wanted(true, Some(OsStr::new(""))));
        assert!(!wanted(true, Some(OsStr::new("1"))));
        assert!(!wanted(false, None));
    }

    #[test]
    fn palette_paints_only_when_enabled() {
        assert_eq!(Palette::new(true).green("+a"), "\x1b[32m+a\x1b[0m");
        assert_eq!(Palette::new(false).green("+a"), "+a");
        assert_eq!(Palette::new(false).red("-a"), "-a");
    }
}
