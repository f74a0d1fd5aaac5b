//! Kubernetes schema knowledge for tether (WIP docs).

mod builtin;
mod crd;
mod fieldpath;
mod merge;
pub mod openapi;
mod resources;
mod schema;
mod typed;
mod value;

pub use builtin::{OBJECT_META, builtin_schema, type_for_gvk};
pub use crd::{CRD_ROOT, CrdSchemaError, ObjectSchema, crd_version_schema, openapi_v3_schema};
pub use fieldpath::{
    FieldsV1Error, Path, PathElement, Set, deserialize_path_element, serialize_path_element,
};
pub use merge::{
    Conflict, Conflicts, ConversionError, Converter, Filter, IdentityConverter, ManagedFields,
    MergeError, Updater, VersionedSet, ensure_named_fields_are_members,
};
pub use resources::{BuiltinResource, Subresource, builtin_resources};
pub use schema::{
    Atom, AtomDef, ElementRelationship, FieldDef, ListDef, ListType, MapDef, MapType, Scalar,
    Schema, SchemaDef, SchemaError, StructField, TypeDef, TypeId, TypeRefDef, UNTYPED_ATOMIC,
    UNTYPED_DEDUCED,
};
pub use typed::{
    Comparison, TypedValue, ValidationError, ValidationErrors, ValidationOptions,
    prune_unknown_fields, reconcile_field_set_with_schema, unknown_fields,
};
