//! The server-side apply engine: staging, dry-run diff, inventory, prune and health.
//!
//! Applies with field manager `kustomize-controller` and Flux's owner labels.
//!
//! Not built yet: issue 4 brings it. The crate exists so the workspace has the shape of
//! `ARCHITECTURE.md` from the start.
