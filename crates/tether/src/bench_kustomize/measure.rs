//! Running one build as a whole process: its output, its wall time, and its resource usage.
//!
//! Peak memory comes from GNU time (`/usr/bin/time -f '%M %U %S'`), which reads the child's
//! `ru_maxrss` from `wait4` for us: no `unsafe` here, and no racy sampling of `/proc`. Timed
//! runs spawn the build directly, so the wrapper's own start-up is not in the wall times.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context as _;

pub const GNU_TIME: &str = "/usr/bin/time";

/// A kustomize implementation run as a process.
#[derive(Debug, Clone)]
pub enum Tool {
    /// `tether kustomize build DIR`.
    Tether(PathBuf),
    /// `kubectl kustomize DIR`.
    Kubectl(PathBuf),
}

impl Tool {
    pub fn name(&self) -> &'static str {
        match self {
            Tool::Tether(_) => "tether",
            Tool::Kubectl(_) => "kubectl",
        }
    }

    /// The program and arguments that build `dir` with `flags` (e.g. `--load-restrictor=…`).
    fn argv(&self, dir: &Path, flags: &[String]) -> Vec<std::ffi::OsString> {
        let mut argv: Vec<std::ffi::OsString> = match self {
            Tool::Tether(exe) => vec![exe.into(), "kustomize".into(), "build".into()],
            Tool::Kubectl(exe) => vec![exe.into(), "kustomize".into()],
        };
        argv.push(dir.into());
        argv.extend(flags.iter().map(Into::into));
        argv
    }

    fn command(&self, dir: &Path, flags: &[String]) -> Command {
        let argv = self.argv(dir, flags);
        let mut command = Command::new(&argv[0]);
        command.args(&argv[1..]);
        // Keep tether's log filter at its default whatever the caller's environment says.
        command.env_remove("TETHER_LOG");
        command
    }

    /// The build's standard output, and whether it succeeded.
    pub fn output(&self, dir: &Path, flags: &[String]) -> anyhow::Result<(String, bool)> {
        let out = self
            .command(dir, flags)
            .stdin(Stdio::null())
            .stderr(Stdio::null())
            .output()
            .with_context(|| format!("cannot run {} on {}", self.name(), dir.display()))?;
        Ok((
            String::from_utf8_lossy(&out.stdout).into_owned(),
            out.status.success(),
        ))
    }

    /// Wall time of one build from spawn to exit, output discarded.
    pub fn time(&self, dir: &Path, flags: &[String]) -> anyhow::Result<Duration> {
        let mut command = self.command(dir, flags);
        command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let start = Instant::now();
        command
            .status()
            .with_context(|| format!("cannot run {} on {}", self.name(), dir.display()))?;
        Ok(start.elapsed())
    }

    /// Peak RSS and CPU time of one build, under GNU time; `None` without `/usr/bin/time`.
    pub fn usage(
        &self,
        dir: &Path,
        flags: &[String],
        scratch: &Path,
    ) -> anyhow::Result<Option<Usage>> {
        if !Path::new(GNU_TIME).is_file() {
            return Ok(None);
        }
        let report = scratch.join("usage.txt");
        let status = Command::new(GNU_TIME)
            .arg("-f")
            .arg("%M %U %S")
            .arg("-o")
            .arg(&report)
            .args(self.argv(dir, flags))
            .env_remove("TETHER_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .with_context(|| format!("cannot run {GNU_TIME}"))?;
        let text = std::fs::read_to_string(&report)
            .with_context(|| format!("{GNU_TIME} wrote no report ({status})"))?;
        // After a failed build GNU time writes "Command exited with non-zero status N" first.
        let line = text.lines().last().unwrap_or_default();
        Usage::parse(line)
            .map(Some)
            .with_context(|| format!("unexpected {GNU_TIME} report {line:?}"))
    }
}

/// What GNU time reports about a finished child.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Usage {
    pub max_rss_kib: u64,
    /// User plus system CPU time.
    pub cpu: Duration,
}

impl Usage {
    /// Parses `%M %U %S` (KiB, seconds, seconds).
    fn parse(line: &str) -> Option<Usage> {
        let mut fields = line.split_whitespace();
        let max_rss_kib = fields.next()?.parse().ok()?;
        let user: f64 = fields.next()?.parse().ok()?;
        let system: f64 = fields.next()?.parse().ok()?;
        Some(Usage {
            max_rss_kib,
            cpu: Duration::try_from_secs_f64(user + system).ok()?,
        })
    }
}

/// The median of some durations (the lower middle one for an even count).
pub fn median(times: &[Duration]) -> Duration {
    let mut sorted = times.to_vec();
    sorted.sort();
    sorted
        .get(sorted.len().saturating_sub(1) / 2)
        .copied()
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gnu_time_reports_are_parsed() {
        let u = Usage::parse("48212 0.05 0.01").unwrap();
        assert_eq!(u.max_rss_kib, 48212);
        assert_eq!(u.cpu, Duration::from_millis(60));
        assert_eq!(Usage::parse("Command exited with non-zero status 1"), None);
    }

    #[test]
    fn median_takes_the_middle() {
        let ms = Duration::from_millis;
        assert_eq!(median(&[ms(5), ms(1), ms(3)]), ms(3));
        assert_eq!(median(&[ms(4), ms(1), ms(3), ms(2)]), ms(2));
        assert_eq!(median(&[]), Duration::ZERO);
    }

    #[test]
    fn tether_and_kubectl_get_their_own_command_lines() {
        let flags = ["--load-restrictor=LoadRestrictionsNone".to_owned()];
        let t = Tool::Tether("/bin/tether".into()).argv(Path::new("/d"), &flags);
        let k = Tool::Kubectl("/bin/kubectl".into()).argv(Path::new("/d"), &flags);
        assert_eq!(
            t,
            [
                "/bin/tether",
                "kustomize",
                "build",
                "/d",
                "--load-restrictor=LoadRestrictionsNone"
            ]
            .map(std::ffi::OsString::from)
        );
        assert_eq!(
            k,
            [
                "/bin/kubectl",
                "kustomize",
                "/d",
                "--load-restrictor=LoadRestrictionsNone"
            ]
            .map(std::ffi::OsString::from)
        );
    }
}
