//! `vars`: `$(NAME)` references resolved from fields of other resources. TODO(helper).

use crate::fieldspec::FieldSpec;

pub fn builtin_var_references() -> Vec<FieldSpec> {
    Vec::new()
}

/// Placeholder until vars land.
pub fn resolve_vars(
    _resources: &mut crate::resmap::ResMap,
    _vars: &[serde_json::Value],
    _var_refs: &[FieldSpec],
) -> crate::error::Result<()> {
    Ok(())
}
