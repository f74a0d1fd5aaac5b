//! Field paths and sets of them (smd's `fieldpath` package), with the FieldsV1 wire codec.

mod element;
mod fieldsv1;
mod set;

pub use element::{Path, PathElement};
pub use fieldsv1::{FieldsV1Error, deserialize_path_element, serialize_path_element};
pub use set::Set;
pub(crate) use set::SetBuilder;
