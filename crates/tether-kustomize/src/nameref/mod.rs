//! Name references: after renames, fields that refer to a resource by name follow it.
//! TODO(helper).

pub mod defaults;

use crate::config::NameBackReferences;
use crate::error::Result;
use crate::resmap::ResMap;

/// Placeholder until the name reference filter lands.
pub fn fix_back_references(_resources: &mut ResMap, _refs: &[NameBackReferences]) -> Result<()> {
    Ok(())
}
