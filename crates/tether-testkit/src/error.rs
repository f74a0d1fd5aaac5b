use std::path::PathBuf;

/// Everything that can go wrong while starting a test remote or driving a work repository.
#[derive(Debug, thiserror::Error)]
pub enum TestkitError {
    #[error("{what} {}: {source}", path.display())]
    Io {
        what: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("could not run `{command}`: {source}")]
    Spawn {
        command: String,
        #[source]
        source: std::io::Error,
    },
    #[error("`{command}` failed ({status}): {stderr}")]
    Command {
        command: String,
        status: String,
        stderr: String,
    },
    #[error(
        "{program} is missing: install the Debian package `{package}` (apt-get install -y {package})"
    )]
    MissingProgram {
        program: String,
        package: &'static str,
    },
    #[error("{what} did not become ready on 127.0.0.1:{port}: {detail}")]
    NotReady {
        what: &'static str,
        port: u16,
        detail: String,
    },
    #[error("binding 127.0.0.1:{port}: {source}")]
    Bind {
        port: u16,
        #[source]
        source: std::io::Error,
    },
    #[error("generating the test TLS certificates: {0}")]
    Certificate(String),
}

impl TestkitError {
    pub(crate) fn io(what: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        TestkitError::Io {
            what,
            path: path.into(),
            source,
        }
    }
}
