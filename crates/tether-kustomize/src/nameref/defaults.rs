//! kustomize's built-in name reference specs. TODO(helper).

use crate::config::NameBackReferences;

pub fn builtin_name_references() -> Vec<NameBackReferences> {
    Vec::new()
}
