//! The transformer and generator stages of one kustomization level, in kustomize's order.

use crate::accumulate::{Accumulator, Target};
use crate::error::{Error, Result};

/// The built-in transformers configured by kustomization fields, then `transformers:` entries,
/// then `validators:` (kustomize's `runTransformers` and `runValidators`).
pub fn run_transformers(target: &Target, acc: &mut Accumulator) -> Result<()> {
    let _ = (target, acc);
    Ok(())
}

/// One `generators:` entry (inline YAML or a file of built-in generator configs).
pub fn run_generator_entry(target: &Target, acc: &mut Accumulator, entry: &str) -> Result<()> {
    let _ = (target, acc);
    Err(Error::msg(format!(
        "generators: entry {entry:?} is not supported yet"
    )))
}
