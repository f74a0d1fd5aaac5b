use std::path::PathBuf;
use std::time::Duration;

/// A fetch that failed, with the URL and the reference it was fetching (`branch 'main'`,
/// `tag 'v1'`, `semver '>=1.0.0'`, …) and what went wrong.
#[derive(Debug)]
pub struct FetchError {
    pub url: String,
    pub reference: String,
    pub kind: FetchErrorKind,
}

impl std::fmt::Display for FetchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "fetching {} from '{}': {}",
            self.reference, self.url, self.kind
        )
    }
}

impl std::error::Error for FetchError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        std::error::Error::source(&self.kind)
    }
}

/// What went wrong in a fetch. The controller maps these to condition reasons
/// (`GitOperationFailed`, `AuthenticationFailed`, …).
#[derive(Debug, thiserror::Error)]
pub enum FetchErrorKind {
    #[error("authentication failed: {0}")]
    Authentication(String),
    #[error(
        "host key verification failed (the Secret's known_hosts does not hold this host's key): {0}"
    )]
    HostKeyVerification(String),
    #[error("TLS certificate verification failed: {0}")]
    Tls(String),
    #[error("{0} not found on the remote")]
    ReferenceNotFound(String),
    #[error("no tag matches the semver range '{range}' ({tags} tags on the remote)")]
    NoSemverMatch { range: String, tags: usize },
    #[error("invalid source specification: {0}")]
    InvalidSpec(String),
    #[error("invalid credentials: {0}")]
    Auth(#[from] AuthError),
    #[error("timed out after {0:?}")]
    Timeout(Duration),
    #[error("{0}")]
    Transport(String),
    #[error("{what} {}: {source}", path.display())]
    Io {
        what: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("submodule '{path}': {detail}")]
    Submodule { path: String, detail: String },
}

/// The Secret's data does not fit the URL's scheme.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("the Secret is missing the key '{key}' needed for {scheme} URLs")]
    MissingKey { key: &'static str, scheme: String },
    #[error("the Secret's key '{key}' is not valid UTF-8")]
    NotUtf8 { key: &'static str },
    #[error("the Secret sets both basic auth (username/password) and bearerToken; use one")]
    BasicAndBearer,
    #[error("the Secret's key '{key}' holds no PEM certificate: {detail}")]
    BadCertificate { key: &'static str, detail: String },
}

/// Packing, storing or serving an artifact failed.
#[derive(Debug, thiserror::Error)]
pub enum ArtifactError {
    #[error("{what} {}: {source}", path.display())]
    Io {
        what: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("reading {what} from the fetched repository: {detail}")]
    Git { what: String, detail: String },
    #[error("invalid ignore rules in {origin}: {detail}")]
    Ignore { origin: String, detail: String },
    #[error("invalid artifact path '{0}': it must stay inside the store")]
    BadPath(String),
    #[error("downloading artifact {url}: {detail}")]
    Download { url: String, detail: String },
    #[error("artifact {url} has digest {actual}, expected {expected}")]
    DigestMismatch {
        url: String,
        expected: String,
        actual: String,
    },
    #[error("artifact archive entry '{entry}': {detail}")]
    BadArchive { entry: String, detail: String },
    #[error("serving artifacts on {addr}: {source}")]
    Serve {
        addr: String,
        #[source]
        source: std::io::Error,
    },
    #[error("the packing task failed: {0}")]
    Task(String),
    #[error("invalid include: {0}")]
    BadInclude(String),
}

impl ArtifactError {
    pub(crate) fn io(what: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        ArtifactError::Io {
            what,
            path: path.into(),
            source,
        }
    }
}
