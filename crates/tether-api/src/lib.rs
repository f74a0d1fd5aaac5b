//! Rust types and CRD manifests of the Flux APIs tether serves (GitRepository, Kustomization, ...).
//!
//! Owns condition helpers, the Flux inventory id format and the CRD YAML.
//!
//! Not built yet: issue 4 brings it. The crate exists so the workspace has the shape of
//! `ARCHITECTURE.md` from the start.
