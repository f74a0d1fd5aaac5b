//! Remote bases: git URLs in `resources:` (kustomize's `repospec`). The engine parses them;
//! fetching is the caller's, through [`RemoteFetcher`], so a controller can refuse them (as
//! Flux's `--no-remote-bases` does) and the CLI can use tether's git client.

use std::path::PathBuf;

/// A parsed remote base: where the repository is, which ref, and the directory inside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteBase {
    /// What `git clone` takes (`https://host/org/repo.git`, `git@host:org/repo`, `file:///r`).
    pub repo: String,
    /// Branch, tag or commit; empty for the default branch.
    pub git_ref: String,
    /// The kustomization directory inside the repository (`""` for its root).
    pub path: String,
}

/// Fetches remote bases into local directories.
pub trait RemoteFetcher: Send + Sync + std::fmt::Debug {
    /// A local checkout of `base.repo` at `base.git_ref` (its root, not `base.path`).
    fn fetch(&self, base: &RemoteBase) -> Result<PathBuf, String>;
}

/// Whether a `resources:` entry is a remote base rather than a local path.
pub fn is_remote(entry: &str) -> bool {
    entry.contains("://")
        || entry.starts_with("git::")
        || entry.starts_with("git@")
        || ["github.com/", "gitlab.com/", "bitbucket.org/"]
            .iter()
            .any(|h| entry.starts_with(h))
}

/// Parses a remote base URL: `<repo>//<path>?ref=<ref>` (or `<repo>.git/<path>`), with
/// `version` as an alias of `ref`, a `git::` prefix allowed, and no scheme meaning https.
pub fn parse(entry: &str) -> Result<RemoteBase, String> {
    let url = entry.strip_prefix("git::").unwrap_or(entry);
    let (url, query) = match url.split_once('?') {
        Some((u, q)) => (u, q),
        None => (url, ""),
    };
    let mut git_ref = String::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        match pair.split_once('=') {
            Some(("ref" | "version", v)) => git_ref = v.to_owned(),
            Some(("timeout" | "submodules", _)) => {}
            _ => {
                return Err(format!(
                    "remote base {entry:?}: unknown query parameter {pair:?}"
                ));
            }
        }
    }
    let (scheme, rest) = match url.split_once("://") {
        Some((s, r)) => (Some(s), r),
        None => (None, url),
    };
    // The repository ends at `//` or at `.git/` (or `.git` at the end).
    let (repo_part, path) = if let Some(i) = rest.find("//") {
        (&rest[..i], rest[i + 2..].to_owned())
    } else if let Some(i) = rest.find(".git/") {
        (&rest[..i + 4], rest[i + 5..].to_owned())
    } else if rest.starts_with("github.com/") || rest.contains("@github.com") {
        // github.com/org/repo/sub/dir: the first two segments name the repository.
        let segments: Vec<&str> = rest.splitn(4, '/').collect();
        if segments.len() < 3 {
            return Err(format!("remote base {entry:?}: no repository in the URL"));
        }
        let repo_len = segments[..3].iter().map(|s| s.len()).sum::<usize>() + 2;
        (
            &rest[..repo_len],
            segments.get(3).copied().unwrap_or("").to_owned(),
        )
    } else {
        (rest, String::new())
    };
    if repo_part.is_empty() {
        return Err(format!("remote base {entry:?}: no repository in the URL"));
    }
    let repo = match scheme {
        Some(s) => format!("{s}://{repo_part}"),
        None if repo_part.starts_with("git@") => repo_part.to_owned(),
        None => format!("https://{repo_part}"),
    };
    Ok(RemoteBase {
        repo,
        git_ref,
        path: path.trim_matches('/').to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_kustomize_url_forms() {
        let cases = [
            (
                "https://github.com/org/repo//deploy/base?ref=v1.2",
                ("https://github.com/org/repo", "v1.2", "deploy/base"),
            ),
            (
                "github.com/org/repo/deploy?ref=main",
                ("https://github.com/org/repo", "main", "deploy"),
            ),
            (
                "git@github.com:org/repo.git/deploy",
                ("git@github.com:org/repo.git", "", "deploy"),
            ),
            (
                "git::https://host/r.git//x?version=abc",
                ("https://host/r.git", "abc", "x"),
            ),
            (
                "file:///srv/repo//base?ref=stable",
                ("file:///srv/repo", "stable", "base"),
            ),
            (
                "ssh://git@host/org/repo.git",
                ("ssh://git@host/org/repo.git", "", ""),
            ),
        ];
        for (url, (repo, r, path)) in cases {
            let got = parse(url).unwrap();
            assert_eq!(
                (got.repo.as_str(), got.git_ref.as_str(), got.path.as_str()),
                (repo, r, path),
                "{url}"
            );
        }
        assert!(is_remote("https://x/y") && is_remote("git@h:o/r") && !is_remote("../base"));
        assert!(parse("https://h/r?bogus=1").is_err());
    }
}
