//! The GitRepository and Kustomization reconcilers.
//!
//! Runs on kube-runtime against any cluster, real or embedded.
//!
//! Not built yet: issue 4 brings it. The crate exists so the workspace has the shape of
//! `ARCHITECTURE.md` from the start.
