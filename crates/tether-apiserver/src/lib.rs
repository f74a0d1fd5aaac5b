//! tether's embedded control plane: a Kubernetes API server for everything that needs no pods.
//!
//! Clients (kubectl, kube-rs, client-go, the Python client) talk to it over HTTPS with a bearer
//! token, exactly as to a cluster. A request goes through these steps:
//!
//! 1. [`http`]: TLS (HTTP/1.1 or HTTP/2), bearer-token authentication, impersonation and RBAC
//!    authorization ([`auth`]), the path parsed into group/version/namespace/resource/name/
//!    subresource and verb, content negotiation, the 3 MiB body limit.
//! 2. [`registry`]: which resource that is — the built-ins generated from the Kubernetes
//!    OpenAPI document by `tether-schema`, plus those established CRDs serve.
//! 3. [`core`]: the generic registry semantics — strategies (status subresources, generation,
//!    immutable metadata and immutable fields of built-in kinds, namespace lifecycle), managed fields and server-side apply,
//!    validation, optimistic concurrency, selectors and paging, watch.
//! 4. `tether-store`: one global resourceVersion, each write durable before it is answered,
//!    watch history for resuming clients.
//!
//! At start the default RBAC policy (`cluster-admin`, `admin`, `edit`, `view`, discovery) is
//! created where missing ([`auth::bootstrap`]). The admin token is `system:masters`, which
//! authorization does not restrict; other users (impersonated ones, such as a GitOps
//! controller acting as a tenant's service account) get what RBAC objects grant them.
//!
//! [`openapi`] serves `/openapi/v2` and `/openapi/v3` (built-in and CRD schemas, kept current as
//! CRDs change), which `kubectl explain` and kubectl's default validation read.
//!
//! Controllers that kube-apiserver and kube-controller-manager would run ([`controllers`]:
//! CRD establishment and cleanup, namespace deletion, garbage collection of owned objects,
//! workload readiness simulation) run in-process on the same [`core::Core`].
//!
//! Guarantees: every acknowledged write survives a crash (with a data dir); a watch from a
//! revision still in the history sees every later event in order; errors carry upstream's
//! `Status` codes, reasons and messages.
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! let server = tether_apiserver::start(tether_apiserver::ServerConfig::ephemeral()).await?;
//! let client = server.client().await?;
//! // ... use `client` like any cluster's ...
//! server.shutdown().await?;
//! # Ok(()) }
//! ```

pub mod auth;
pub mod controllers;
pub mod core;
mod crd;
mod crformat;
mod crvalidation;
pub mod discovery;
pub mod fieldmanager;
pub mod http;
pub mod jsonpath;
mod kubeconfig;
pub mod object;
pub mod openapi;
mod pki;
pub mod protobuf;
pub mod registry;
mod scale;
pub mod selector;
mod server;
pub mod status;
pub mod validation;

pub use server::{RunningServer, ServerConfig, StartError, StopHandle, start};
