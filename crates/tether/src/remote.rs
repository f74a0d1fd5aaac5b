//! Fetching kustomize remote bases with the `git` command line (until tether's own git client
//! in tether-source takes over): a shallow fetch of the ref, a full clone as fallback (commits
//! that servers refuse to serve shallowly).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

use tether_kustomize::{RemoteBase, RemoteFetcher};

/// Checkouts live in temporary directories removed when the fetcher is dropped.
#[derive(Debug, Default)]
pub struct GitCliFetcher {
    checkouts: Mutex<Vec<tempfile::TempDir>>,
}

fn git(dir: &Path, args: &[&str]) -> Result<(), String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("GIT_TERMINAL_PROMPT", "0")
        .output()
        .map_err(|e| format!("running git: {e} (is git installed?)"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "git {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

impl RemoteFetcher for GitCliFetcher {
    fn fetch(&self, base: &RemoteBase) -> Result<PathBuf, String> {
        let dir = tempfile::Builder::new()
            .prefix("tether-remote-")
            .tempdir()
            .map_err(|e| format!("creating a checkout directory: {e}"))?;
        let path = dir.path().to_path_buf();
        let wanted = if base.git_ref.is_empty() {
            "HEAD"
        } else {
            &base.git_ref
        };
        git(&path, &["init", "-q"])?;
        let shallow = git(&path, &["fetch", "-q", "--depth", "1", &base.repo, wanted])
            .and_then(|()| git(&path, &["checkout", "-q", "FETCH_HEAD"]));
        if let Err(shallow_err) = shallow {
            // A commit id the server will not serve shallowly: fetch everything, then check out.
            git(
                &path,
                &[
                    "fetch",
                    "-q",
                    &base.repo,
                    "+refs/heads/*:refs/remotes/origin/*",
                    "+refs/tags/*:refs/tags/*",
                ],
            )
            .and_then(|()| git(&path, &["checkout", "-q", wanted]))
            .map_err(|e| format!("{shallow_err}; then {e}"))?;
        }
        if let Ok(mut checkouts) = self.checkouts.lock() {
            checkouts.push(dir);
        }
        Ok(path)
    }
}
