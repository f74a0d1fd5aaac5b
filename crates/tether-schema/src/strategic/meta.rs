//! Patch metadata lookup: what a strategic merge patch needs to know about a field (its patch
//! strategy, its merge key, and the schema of its value), independent of where that knowledge
//! comes from. Mirrors apimachinery's `LookupPatchMeta`.

use crate::builtin::builtin_schema;
use crate::schema::{Schema, TypeId};

/// The patch strategy and merge key of one field.
///
/// `strategy` is the raw `x-kubernetes-patch-strategy` (or Go `patchStrategy` tag) value, such as
/// `merge`, `replace`, `retainKeys` or `merge,retainKeys`; empty when the field has none.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PatchMeta<'a> {
    strategy: &'a str,
    merge_key: &'a str,
}

impl<'a> PatchMeta<'a> {
    pub fn new(strategy: &'a str, merge_key: &'a str) -> Self {
        PatchMeta {
            strategy,
            merge_key,
        }
    }

    /// The raw patch strategy (`""` when the field has none).
    pub fn strategy(&self) -> &'a str {
        self.strategy
    }

    /// The merge key (`""` when the field has none).
    pub fn merge_key(&self) -> &'a str {
        self.merge_key
    }
}

/// Why patch metadata could not be found. The messages are apimachinery's, which clients match.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LookupError {
    /// An OpenAPI object schema has no property of that name.
    #[error("unable to find api field {field:?} in {schema}")]
    FieldNotFound { field: String, schema: String },
    /// A Go struct has no field with that JSON name.
    #[error("unable to find api field in struct {schema} for the json field {field:?}")]
    StructFieldNotFound { field: String, schema: String },
    /// An object was found where the schema has another shape.
    #[error("expected kind, but got {0}")]
    ExpectedKind(&'static str),
    /// A list was found where the schema has another shape.
    #[error("expected slice, but got {0}")]
    ExpectedSlice(&'static str),
    #[error("expected visit kind first, then visit array")]
    ArrayWithoutKind,
    #[error("merging an object in json but data type is not map or struct, instead is: {0}")]
    NotMapOrStruct(String),
    #[error("expected slice or array type, but got: {0}")]
    NotSliceOrArray(String),
    #[error("unexpected slice of slice")]
    SliceOfSlice,
    #[error("unable to resolve {0} in OpenAPI V3")]
    UnresolvedReferenceV3(String),
    #[error("unable to resolve reference {0} in the OpenAPI definitions")]
    UnresolvedReference(String),
    #[error("expected a string, but received a {found} in the {extension} of field {field:?}")]
    BadExtension {
        field: String,
        extension: &'static str,
        found: String,
    },
    #[error("reference cycle while resolving field {0:?}")]
    ReferenceCycle(String),
}

/// A source of patch metadata positioned at one schema node (an object type, usually).
///
/// Implementations are cheap handles (a reference and an index); a lookup returns the handle of
/// the field's value schema together with the field's [`PatchMeta`].
pub trait LookupPatchMeta: Sized {
    /// The schema and patch metadata of field `key` of the object this handle describes.
    fn lookup_struct(&self, key: &str) -> Result<(Self, PatchMeta<'_>), LookupError>;
    /// Like [`LookupPatchMeta::lookup_struct`] for a list field: the returned handle describes
    /// the list's items.
    fn lookup_slice(&self, key: &str) -> Result<(Self, PatchMeta<'_>), LookupError>;
    /// A name of the described type, for error messages.
    fn name(&self) -> String;
}

/// No schema: every field has no patch strategy, so maps merge recursively, lists are replaced
/// and `null` deletes, as in JSON merge patch (RFC 7386). The `$patch`, `$retainKeys`,
/// `$setElementOrder` and `$deleteFromPrimitiveList` directives still apply.
#[derive(Clone, Copy, Debug, Default)]
pub struct JsonMergePatchMeta;

impl LookupPatchMeta for JsonMergePatchMeta {
    fn lookup_struct(&self, _key: &str) -> Result<(Self, PatchMeta<'_>), LookupError> {
        Ok((JsonMergePatchMeta, PatchMeta::default()))
    }

    fn lookup_slice(&self, _key: &str) -> Result<(Self, PatchMeta<'_>), LookupError> {
        Ok((JsonMergePatchMeta, PatchMeta::default()))
    }

    fn name(&self) -> String {
        "unknown".to_owned()
    }
}

/// Patch metadata from a compiled [`Schema`] (the built-in types, or any schema whose fields
/// carry `patch_strategy`/`patch_merge_key`).
///
/// Untyped content (smd's deduced and atomic untyped types, e.g. `RawExtension` or
/// `x-kubernetes-preserve-unknown-fields`) has no patch metadata below it: it merges like JSON
/// merge patch. (apimachinery, which reads Go structs, rejects nested maps there instead.)
#[derive(Clone, Copy, Debug)]
pub struct SchemaPatchMeta<'s> {
    schema: &'s Schema,
    ty: TypeId,
}

impl<'s> SchemaPatchMeta<'s> {
    pub fn new(schema: &'s Schema, ty: TypeId) -> Self {
        SchemaPatchMeta { schema, ty }
    }

    /// The built-in kind `group/version, kind` (`""` for the core group) in
    /// [`builtin_schema`]: `SchemaPatchMeta::for_gvk("apps", "v1", "Deployment")`.
    pub fn for_gvk(group: &str, version: &str, kind: &str) -> Option<SchemaPatchMeta<'static>> {
        let ty = crate::builtin::type_for_gvk(group, version, kind)?;
        Some(SchemaPatchMeta {
            schema: builtin_schema(),
            ty,
        })
    }

    /// The type this handle describes.
    pub fn type_id(&self) -> TypeId {
        self.ty
    }

    fn shape(&self, ty: TypeId) -> &'static str {
        let atom = self.schema.atom(ty);
        if atom.map.is_some() {
            "map"
        } else if atom.list.is_some() {
            "slice"
        } else {
            "primitive"
        }
    }
}

impl LookupPatchMeta for SchemaPatchMeta<'_> {
    fn lookup_struct(&self, key: &str) -> Result<(Self, PatchMeta<'_>), LookupError> {
        let atom = self.schema.atom(self.ty);
        let Some(map) = atom.map.as_ref() else {
            return Err(LookupError::ExpectedKind(self.shape(self.ty)));
        };
        if let Some(field) = map.field(key) {
            let meta = PatchMeta::new(
                field.patch_strategy.as_deref().unwrap_or(""),
                field.patch_merge_key.as_deref().unwrap_or(""),
            );
            return Ok((SchemaPatchMeta::new(self.schema, field.ty), meta));
        }
        match map.element {
            Some(element) => Ok((
                SchemaPatchMeta::new(self.schema, element),
                PatchMeta::default(),
            )),
            None => Err(LookupError::FieldNotFound {
                field: key.to_owned(),
                schema: self.name(),
            }),
        }
    }

    fn lookup_slice(&self, key: &str) -> Result<(Self, PatchMeta<'_>), LookupError> {
        let (field, meta) = self.lookup_struct(key)?;
        match self.schema.list(field.ty) {
            Some(list) => Ok((SchemaPatchMeta::new(self.schema, list.element), meta)),
            None => Err(LookupError::ExpectedSlice(self.shape(field.ty))),
        }
    }

    fn name(&self) -> String {
        self.schema
            .type_name(self.ty)
            .unwrap_or("unnamed type")
            .to_owned()
    }
}

/// Splits a patch strategy into (has `retainKeys`, the other strategy), as apimachinery's
/// `extractRetainKeysPatchStrategy`: at most two strategies, one of them `retainKeys`.
pub(crate) fn split_strategy(raw: &str) -> Result<(bool, &str), Vec<String>> {
    if raw.is_empty() {
        return Ok((false, ""));
    }
    let parts: Vec<&str> = raw.split(',').collect();
    match parts.as_slice() {
        [one] if *one == "retainKeys" => Ok((true, "")),
        [one] => Ok((false, one)),
        [a, b] if *a == "retainKeys" => Ok((true, b)),
        [a, b] if *b == "retainKeys" => Ok((true, a)),
        _ => Err(parts.iter().map(|s| (*s).to_owned()).collect()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strategies_split_like_apimachinery() {
        assert_eq!(split_strategy(""), Ok((false, "")));
        assert_eq!(split_strategy("merge"), Ok((false, "merge")));
        assert_eq!(split_strategy("retainKeys"), Ok((true, "")));
        assert_eq!(split_strategy("merge,retainKeys"), Ok((true, "merge")));
        assert_eq!(split_strategy("retainKeys,replace"), Ok((true, "replace")));
        assert!(split_strategy("merge,replace").is_err());
        assert!(split_strategy("a,b,c").is_err());
    }

    #[test]
    fn builtin_lookups_follow_fields_maps_and_lists() {
        let deploy = SchemaPatchMeta::for_gvk("apps", "v1", "Deployment").unwrap();
        let (spec, _) = deploy.lookup_struct("spec").unwrap();
        let (template, _) = spec.lookup_struct("template").unwrap();
        let (pod, _) = template.lookup_struct("spec").unwrap();
        let (container, meta) = pod.lookup_slice("containers").unwrap();
        assert_eq!((meta.strategy(), meta.merge_key()), ("merge", "name"));
        let (_, ports) = container.lookup_slice("ports").unwrap();
        assert_eq!(
            (ports.strategy(), ports.merge_key()),
            ("merge", "containerPort")
        );
        let (_, volumes) = pod.lookup_slice("volumes").unwrap();
        assert_eq!(volumes.strategy(), "merge,retainKeys");
        let (_, tolerations) = pod.lookup_slice("tolerations").unwrap();
        assert_eq!(tolerations, PatchMeta::default());
        // Map entries have no metadata; unknown fields of structs are errors.
        let (meta, _) = deploy.lookup_struct("metadata").unwrap();
        let (labels, _) = meta.lookup_struct("labels").unwrap();
        assert!(labels.lookup_struct("app").is_ok());
        let err = spec.lookup_struct("nope").unwrap_err();
        assert_eq!(
            err.to_string(),
            "unable to find api field \"nope\" in io.k8s.api.apps.v1.DeploymentSpec"
        );
        assert_eq!(
            spec.lookup_slice("replicas").unwrap_err(),
            LookupError::ExpectedSlice("primitive")
        );
    }
}
