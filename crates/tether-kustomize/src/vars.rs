//! `vars`: `$(NAME)` references resolved from fields of other resources. TODO(helper).

use crate::fieldspec::FieldSpec;

pub fn builtin_var_references() -> Vec<FieldSpec> {
    Vec::new()
}
