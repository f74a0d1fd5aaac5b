//! Kubernetes schema knowledge for tether, generated once from the Kubernetes OpenAPI document
//! (`shared/kubernetes/swagger-1.36.json`) and used by both the kustomize engine and the embedded
//! API server.
//!
//! What lives here:
//! - [`builtin_resources`]: every built-in resource the API server serves (group, version, plural,
//!   kind, scope, verbs, subresources, short names, categories). Generated from the document's
//!   paths by `tests/generated_resources.rs` into `src/generated/resources.json`.
//!
//! The generated files are committed so a build needs nothing outside the crate; a test
//! regenerates them from the OpenAPI document and fails when they are stale
//! (`TETHER_BLESS=1 cargo test -p tether-schema` rewrites them).

mod resources;

pub use resources::{BuiltinResource, Subresource, builtin_resources};
