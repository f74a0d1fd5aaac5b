//! The `git` program, as `tether dev`, bootstrap and the benchmarks drive it: never interactive,
//! stdout returned, stderr in the error.

use std::path::Path;
use std::process::Command;

use anyhow::{Context as _, bail};

/// Runs `git ARGS` in `dir` with `env` added; its stdout, or an error quoting its stderr.
pub fn run(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> anyhow::Result<String> {
    let output = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_TERMINAL_PROMPT", "0")
        .envs(env.iter().copied())
        .output()
        .context("cannot run git (the git program must be on PATH)")?;
    if !output.status.success() {
        bail!(
            "git {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// The identity benchmark and example commits are made as, whatever the user's git config says.
pub const COMMITTER: &[(&str, &str)] = &[
    ("GIT_AUTHOR_NAME", "tether"),
    ("GIT_AUTHOR_EMAIL", "tether@example.com"),
    ("GIT_COMMITTER_NAME", "tether"),
    ("GIT_COMMITTER_EMAIL", "tether@example.com"),
];
