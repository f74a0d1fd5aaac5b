//! The built-in transformers. Each one is configured either from kustomization fields (the
//! accumulator builds them) or from a `transformers:` entry (see `pipeline.rs`).

pub mod annotations;
pub mod defaults;
pub mod images;
pub mod labels;
pub mod namespace;
pub mod prefix_suffix;
pub mod replicas;

use crate::error::Result;
use crate::resmap::ResMap;

/// Changes the resources of a build in place.
pub trait Transformer: std::fmt::Debug {
    fn transform(&self, resources: &mut ResMap) -> Result<()>;
}
