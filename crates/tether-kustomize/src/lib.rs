//! A native kustomize engine, byte-identical to kustomize v5.6.0.
//!
//! Builds from a read-only file-system trait (disk or an in-memory artifact tree).
//!
//! Not built yet: issue 3 brings it. The crate exists so the workspace has the shape of
//! `ARCHITECTURE.md` from the start.

pub mod patch;
