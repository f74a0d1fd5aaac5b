//! Build errors. Messages follow kustomize's where users know them (tests compare substrings),
//! with the file, resource or field at fault.

/// Everything a build can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file could not be read.
    #[error("{path}: {message}")]
    Io { path: String, message: String },
    /// A YAML document is malformed.
    #[error("MalformedYAMLError: {error} in File: {path}")]
    Yaml {
        path: String,
        error: tether_yaml::Error,
    },
    /// A kustomization file is invalid (unknown field, wrong type, conflicting fields).
    #[error("invalid Kustomization: {message}")]
    Kustomization { message: String },
    /// A path escapes the kustomization root under the default load restrictor.
    #[error("security; file '{path}' is not in or below '{root}'")]
    OutsideRoot { path: String, root: String },
    /// Any other failure, with kustomize's wording.
    #[error("{0}")]
    Message(String),
    /// A failure with the step or object it happened in.
    // `inner`, not `source`: the message already holds the whole chain, so error reporters
    // that append sources (anyhow's `{:#}`) must not print it twice.
    #[error("{context}: {inner}")]
    Context { context: String, inner: Box<Error> },
}

impl Error {
    pub fn msg(message: impl Into<String>) -> Self {
        Error::Message(message.into())
    }

    /// Wraps the error with the step or object it happened in.
    /// Whether the error (or one it wraps) is a malformed YAML document.
    pub fn is_malformed_yaml(&self) -> bool {
        match self {
            Error::Yaml { .. } => true,
            Error::Context { inner, .. } => inner.is_malformed_yaml(),
            _ => false,
        }
    }

    pub fn context(self, context: impl Into<String>) -> Self {
        Error::Context {
            context: context.into(),
            inner: Box::new(self),
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Adds context to results, like anyhow's `Context`.
pub trait ResultExt<T> {
    fn context(self, context: impl FnOnce() -> String) -> Result<T>;
}

impl<T> ResultExt<T> for Result<T> {
    fn context(self, context: impl FnOnce() -> String) -> Result<T> {
        self.map_err(|e| e.context(context()))
    }
}
