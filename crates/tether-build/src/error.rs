//! What a build can fail with. Messages follow kustomize-controller's wording where users
//! know it (`kustomization path not found`, `kustomize build failed`, `post build failed`) and
//! name the artifact entry, file, object or variable at fault.

/// Everything unpacking, building and post-building can fail with. `Clone`, so a cached
/// failure can be handed to every Kustomization that asks for the same build.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The artifact is not a gzip-compressed tar stream.
    #[error("artifact is not a readable .tar.gz: {0}")]
    Archive(String),
    /// One entry of the artifact is refused (absolute path, `..`, escaping symlink, device).
    #[error("artifact entry {entry:?}: {reason}")]
    Entry { entry: String, reason: String },
    /// `spec.path` does not exist in the artifact.
    #[error("kustomization path not found: {path}")]
    PathNotFound { path: String },
    /// `spec.path` is a file.
    #[error("kustomization path is not a directory: {path}")]
    PathNotDirectory { path: String },
    /// A manifest found while generating a kustomization is not YAML.
    #[error("failed to decode Kubernetes YAML from {file}: {message}")]
    ManifestDecode { file: String, message: String },
    /// The kustomization file at `spec.path` cannot be read as one.
    #[error("{file}: {message}")]
    KustomizationFile { file: String, message: String },
    /// A `spec.components` entry is a URL or an absolute path.
    #[error("component path '{0}' must be local and relative")]
    ComponentPath(String),
    /// The kustomize engine failed; the message names the file, object or field.
    #[error("kustomize build failed: {0}")]
    Kustomize(String),
    /// A built object lacks `apiVersion`, `kind` or `metadata.name`.
    #[error("failed to decode Kubernetes apiVersion, kind and name from: {0}")]
    ObjectIdentity(String),
    /// Post-build substitution failed for `object` (`Kind/namespace/name`).
    #[error("post build failed for '{object}': {message}")]
    Substitution { object: String, message: String },
}
