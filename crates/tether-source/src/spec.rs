use std::time::Duration;

/// Flux's default branch when `spec.ref` names nothing.
pub const DEFAULT_BRANCH: &str = "master";

/// Flux's default `spec.timeout` for Git operations.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// What to fetch: the plain-Rust form of a GitRepository's spec (the controller maps the CRD
/// onto it). `include` is not here: it is the controller's to resolve (it copies other
/// artifacts), and not supported yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitSourceSpec {
    /// `https://`, `http://`, `ssh://`, `file://` or a local path.
    pub url: String,
    pub reference: GitReference,
    /// `spec.ignore`: extra gitignore-style rules, applied after every `.sourceignore`.
    pub ignore: Option<String>,
    /// `spec.recurseSubmodules`: not supported yet; `true` fails the fetch saying so.
    pub recurse_submodules: bool,
    /// `spec.timeout`: the whole fetch (connect, negotiate, download) must finish within it.
    pub timeout: Duration,
}

impl GitSourceSpec {
    /// A spec for `url` following Flux's defaults (branch `master`, 60 s timeout).
    pub fn new(url: impl Into<String>) -> Self {
        GitSourceSpec {
            url: url.into(),
            reference: GitReference::default(),
            ignore: None,
            recurse_submodules: false,
            timeout: DEFAULT_TIMEOUT,
        }
    }

    pub fn with_reference(mut self, reference: GitReference) -> Self {
        self.reference = reference;
        self
    }

    pub fn with_ignore(mut self, ignore: impl Into<String>) -> Self {
        self.ignore = Some(ignore.into());
        self
    }
}

/// `spec.ref`. Several fields may be set; Flux's precedence decides which one counts:
/// `commit` (with `branch` or `name` only naming the revision), then `name`, `tag`, `semver`,
/// and `branch` (default `master`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GitReference {
    pub branch: Option<String>,
    pub tag: Option<String>,
    pub semver: Option<String>,
    pub name: Option<String>,
    pub commit: Option<String>,
}

impl GitReference {
    pub fn branch(name: &str) -> Self {
        GitReference {
            branch: Some(name.to_owned()),
            ..Default::default()
        }
    }

    pub fn tag(name: &str) -> Self {
        GitReference {
            tag: Some(name.to_owned()),
            ..Default::default()
        }
    }

    pub fn semver(range: &str) -> Self {
        GitReference {
            semver: Some(range.to_owned()),
            ..Default::default()
        }
    }

    pub fn name(name: &str) -> Self {
        GitReference {
            name: Some(name.to_owned()),
            ..Default::default()
        }
    }

    pub fn commit(sha: &str) -> Self {
        GitReference {
            commit: Some(sha.to_owned()),
            ..Default::default()
        }
    }

    /// The strategy Flux's precedence picks.
    pub(crate) fn strategy(&self) -> Strategy {
        let set = |v: &Option<String>| v.as_deref().filter(|s| !s.is_empty()).map(str::to_owned);
        if let Some(commit) = set(&self.commit) {
            return Strategy::Commit {
                sha: commit,
                branch: set(&self.branch),
                name: set(&self.name),
            };
        }
        if let Some(name) = set(&self.name) {
            return Strategy::Name(name);
        }
        if let Some(tag) = set(&self.tag) {
            return Strategy::Tag(tag);
        }
        if let Some(range) = set(&self.semver) {
            return Strategy::Semver(range);
        }
        Strategy::Branch(set(&self.branch).unwrap_or_else(|| DEFAULT_BRANCH.to_owned()))
    }

    /// How errors name this reference: `branch 'main'`, `tag 'v1'`, `commit 'abc…'`.
    pub fn describe(&self) -> String {
        self.strategy().describe()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Strategy {
    Branch(String),
    Tag(String),
    Semver(String),
    Name(String),
    Commit {
        sha: String,
        branch: Option<String>,
        name: Option<String>,
    },
}

impl Strategy {
    pub(crate) fn describe(&self) -> String {
        match self {
            Strategy::Branch(b) => format!("branch '{b}'"),
            Strategy::Tag(t) => format!("tag '{t}'"),
            Strategy::Semver(r) => format!("semver '{r}'"),
            Strategy::Name(n) => format!("ref '{n}'"),
            Strategy::Commit {
                sha,
                branch: Some(b),
                ..
            } => format!("commit '{sha}' on branch '{b}'"),
            Strategy::Commit { sha, .. } => format!("commit '{sha}'"),
        }
    }
}

/// The revision string Flux writes in `status.artifact.revision`.
///
/// `main@sha1:<sha>` for a branch, `v1.2.3@sha1:<sha>` for a tag or semver (the tag's short name,
/// the commit it peels to), `refs/pull/1/head@sha1:<sha>` for `name` (the full ref name), and
/// `sha1:<sha>` for a commit without a branch.
pub(crate) fn revision(strategy: &Strategy, resolved_ref: &str, commit: &str) -> String {
    match strategy {
        Strategy::Name(name) => format!("{name}@sha1:{commit}"),
        Strategy::Commit {
            name: Some(name), ..
        } => format!("{name}@sha1:{commit}"),
        Strategy::Commit {
            branch: Some(branch),
            ..
        } => format!("{branch}@sha1:{commit}"),
        Strategy::Commit { .. } => format!("sha1:{commit}"),
        Strategy::Branch(_) | Strategy::Tag(_) | Strategy::Semver(_) => {
            format!("{resolved_ref}@sha1:{commit}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flux_precedence() {
        let all = GitReference {
            branch: Some("dev".into()),
            tag: Some("v1".into()),
            semver: Some(">=1".into()),
            name: Some("refs/pull/1/head".into()),
            commit: Some("a".repeat(40)),
        };
        assert!(matches!(all.strategy(), Strategy::Commit { .. }));
        let no_commit = GitReference {
            commit: None,
            ..all.clone()
        };
        assert_eq!(
            no_commit.strategy(),
            Strategy::Name("refs/pull/1/head".into())
        );
        let no_name = GitReference {
            name: None,
            ..no_commit
        };
        assert_eq!(no_name.strategy(), Strategy::Tag("v1".into()));
        let no_tag = GitReference {
            tag: None,
            ..no_name
        };
        assert_eq!(no_tag.strategy(), Strategy::Semver(">=1".into()));
        let branch_only = GitReference {
            semver: None,
            ..no_tag
        };
        assert_eq!(branch_only.strategy(), Strategy::Branch("dev".into()));
        assert_eq!(
            GitReference::default().strategy(),
            Strategy::Branch("master".into())
        );
    }

    #[test]
    fn revisions_as_flux_writes_them() {
        let sha = "0123456789abcdef0123456789abcdef01234567";
        assert_eq!(
            revision(&Strategy::Branch("main".into()), "main", sha),
            format!("main@sha1:{sha}")
        );
        assert_eq!(
            revision(&Strategy::Semver("1.x".into()), "v1.2.3", sha),
            format!("v1.2.3@sha1:{sha}")
        );
        assert_eq!(
            revision(&Strategy::Name("refs/pull/1/head".into()), "", sha),
            format!("refs/pull/1/head@sha1:{sha}")
        );
        let bare = Strategy::Commit {
            sha: sha.into(),
            branch: None,
            name: None,
        };
        assert_eq!(revision(&bare, "", sha), format!("sha1:{sha}"));
        let on_branch = Strategy::Commit {
            sha: sha.into(),
            branch: Some("main".into()),
            name: None,
        };
        assert_eq!(revision(&on_branch, "", sha), format!("main@sha1:{sha}"));
    }
}
