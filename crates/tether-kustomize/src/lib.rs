//! A native kustomize engine, byte-identical to kustomize v5.6.0.
//!
//! Builds from a read-only file-system trait (disk or an in-memory artifact tree).

pub mod accumulate;
pub mod build;
pub mod config;
mod crds;
pub mod error;
pub mod fieldspec;
pub mod fs;
pub mod generators;
mod hash;
pub mod kustomization;
pub mod loader;
pub mod nameref;
pub mod patch;
pub mod patches;
mod pipeline;
pub mod remote;
pub mod replacements;
pub mod resmap;
pub mod resource;
mod scope;
pub mod selector;
pub mod transform;
pub mod vars;

pub use build::{BuildOptions, BuildOutput, build};
pub use error::{Error, Result};
pub use fs::{DiskFs, FileSystem, MemFs};
pub use loader::LoadRestrictor;
pub use remote::{RemoteBase, RemoteFetcher};
pub use resmap::ResMap;
pub use resource::{Gvk, ResId, Resource};
