//! A native kustomize engine, byte-identical to kustomize v5.6.0.
//!
//! Builds from a read-only file-system trait (disk or an in-memory artifact tree).

pub mod config;
pub mod error;
pub mod fieldspec;
pub mod nameref;
pub mod replacements;
pub mod resmap;
pub mod resource;
mod scope;
pub mod selector;
pub mod transform;
pub mod vars;

pub use error::{Error, Result};
pub use resmap::ResMap;
pub use resource::{Gvk, ResId, Resource};
