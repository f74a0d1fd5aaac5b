//! Schemas of custom resources, converted at runtime from a CRD version's `openAPIV3Schema` as
//! kube-apiserver does for server-side apply: the structural schema goes through the OpenAPI
//! rules of [`crate::openapi`] (lists atomic unless `x-kubernetes-list-type` says otherwise,
//! `x-kubernetes-preserve-unknown-fields` content deduced, embedded resources given type meta),
//! the root's `metadata` is the built-in `ObjectMeta` and `apiVersion`/`kind` are strings. A
//! version without a schema is deduced throughout.

use std::collections::{HashMap, HashSet};

use serde_json::Value;

use crate::builtin::{OBJECT_META, builtin};
use crate::openapi::{OpenApiError, convert_schema};
use crate::schema::{
    AtomDef, FieldDef, Scalar, Schema, SchemaDef, SchemaError, TypeDef, TypeId, TypeRefDef,
};

/// The name of the root type in a custom resource's schema.
pub const CRD_ROOT: &str = "tether.io.CustomResource";

/// A compiled schema and the type of its objects.
#[derive(Clone, Debug)]
pub struct ObjectSchema {
    pub schema: Schema,
    pub root: TypeId,
}

/// Why a CRD's schema could not be converted.
#[derive(Debug, thiserror::Error)]
pub enum CrdSchemaError {
    #[error("CRD version {version:?}: {source}")]
    OpenApi {
        version: String,
        #[source]
        source: OpenApiError,
    },
    #[error("CRD version {version:?}: {source}")]
    Schema {
        version: String,
        #[source]
        source: SchemaError,
    },
    #[error("the CRD does not serve version {0:?}")]
    NoSuchVersion(String),
}

/// The schema of version `version` of `crd` (an `apiextensions.k8s.io/v1`
/// CustomResourceDefinition object).
pub fn crd_version_schema(crd: &Value, version: &str) -> Result<ObjectSchema, CrdSchemaError> {
    let spec = &crd["spec"];
    let entry = spec["versions"]
        .as_array()
        .and_then(|vs| vs.iter().find(|v| v["name"].as_str() == Some(version)))
        .ok_or_else(|| CrdSchemaError::NoSuchVersion(version.to_owned()))?;
    let schema = entry
        .pointer("/schema/openAPIV3Schema")
        // Pre-v1 CRDs kept one schema for every version.
        .or_else(|| spec.pointer("/validation/openAPIV3Schema"));
    openapi_v3_schema(schema, version)
}

/// The schema of custom resources described by `schema` (`None`: no schema, deduced).
/// `version` only names the version in errors.
pub fn openapi_v3_schema(
    schema: Option<&Value>,
    version: &str,
) -> Result<ObjectSchema, CrdSchemaError> {
    let Some(node) = schema.filter(|s| !s.is_null()) else {
        let schema = Schema::deduced();
        let root = schema.deduced_type();
        return Ok(ObjectSchema { schema, root });
    };
    let mut root =
        convert_schema(node, "openAPIV3Schema").map_err(|source| CrdSchemaError::OpenApi {
            version: version.to_owned(),
            source,
        })?;
    if let Some(map) = root.map.as_mut() {
        for (name, ty) in [
            ("apiVersion", TypeRefDef::scalar(Scalar::String)),
            ("kind", TypeRefDef::scalar(Scalar::String)),
            ("metadata", TypeRefDef::named(OBJECT_META)),
        ] {
            map.fields.retain(|f| f.name != name);
            map.fields.push(FieldDef {
                name: name.to_owned(),
                ty,
                ..Default::default()
            });
        }
        map.fields.sort_by(|a, b| a.name.cmp(&b.name));
    }
    let mut types = vec![TypeDef {
        name: CRD_ROOT.to_owned(),
        atom: root,
    }];
    types.extend(closure(OBJECT_META));
    let schema =
        Schema::compile(&SchemaDef { types }).map_err(|source| CrdSchemaError::Schema {
            version: version.to_owned(),
            source,
        })?;
    let root = schema
        .type_id(CRD_ROOT)
        .ok_or_else(|| CrdSchemaError::Schema {
            version: version.to_owned(),
            source: SchemaError::UnknownType {
                from: CRD_ROOT.to_owned(),
                name: CRD_ROOT.to_owned(),
            },
        })?;
    Ok(ObjectSchema { schema, root })
}

/// The built-in type `name` and every built-in type it refers to.
fn closure(name: &str) -> Vec<TypeDef> {
    let by_name: HashMap<&str, &TypeDef> = builtin()
        .model
        .types
        .iter()
        .map(|t| (t.name.as_str(), t))
        .collect();
    let mut seen = HashSet::new();
    let mut queue = vec![name.to_owned()];
    let mut out = Vec::new();
    while let Some(next) = queue.pop() {
        if !seen.insert(next.clone()) {
            continue;
        }
        if let Some(def) = by_name.get(next.as_str()) {
            refs(&def.atom, &mut queue);
            out.push((*def).clone());
        }
    }
    out
}

fn refs(atom: &AtomDef, out: &mut Vec<String>) {
    let mut visit = |r: &TypeRefDef| {
        if let Some(n) = &r.named_type {
            out.push(n.clone());
        }
        refs(&r.inlined, out);
    };
    if let Some(l) = &atom.list {
        visit(&l.element_type);
    }
    if let Some(m) = &atom.map {
        for f in &m.fields {
            visit(&f.ty);
        }
        if let Some(e) = &m.element_type {
            visit(e);
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::schema::ElementRelationship;

    fn widget_crd() -> Value {
        json!({
            "apiVersion": "apiextensions.k8s.io/v1",
            "kind": "CustomResourceDefinition",
            "spec": {"versions": [{"name": "v1", "schema": {"openAPIV3Schema": {
                "type": "object",
                "properties": {
                    "spec": {"type": "object", "properties": {
                        "tags": {"type": "array", "items": {"type": "string"}},
                        "ports": {"type": "array", "x-kubernetes-list-type": "map",
                            "x-kubernetes-list-map-keys": ["port"],
                            "items": {"type": "object", "properties": {
                                "port": {"type": "integer"}, "name": {"type": "string"}}}},
                        "aliases": {"type": "array", "x-kubernetes-list-type": "set",
                            "items": {"type": "string"}},
                        "size": {"x-kubernetes-int-or-string": true,
                            "anyOf": [{"type": "integer"}, {"type": "string"}]},
                        "config": {"type": "object", "x-kubernetes-map-type": "atomic",
                            "properties": {"a": {"type": "string"}}},
                        "extra": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
                        "template": {"type": "object", "x-kubernetes-embedded-resource": true,
                            "x-kubernetes-preserve-unknown-fields": true},
                        "labels": {"type": "object", "additionalProperties": {"type": "string"}}
                    }},
                    "metadata": {"type": "object", "properties": {"name": {"type": "string"}}}
                }
            }}}]}
        })
    }

    #[test]
    fn crd_schema_follows_structural_rules() {
        let ObjectSchema { schema: s, root } = crd_version_schema(&widget_crd(), "v1").unwrap();
        let spec = s.lookup(root, &["spec"]).unwrap();
        let list = |name: &str| s.list(s.lookup(spec, &[name]).unwrap()).unwrap();
        assert_eq!(list("tags").relationship, Some(ElementRelationship::Atomic));
        assert!(list("ports").is_associative());
        assert_eq!(
            list("ports").keys.iter().map(|k| &**k).collect::<Vec<_>>(),
            ["port"]
        );
        assert!(list("aliases").is_associative() && list("aliases").keys.is_empty());
        let size = s.lookup(spec, &["size"]).unwrap();
        assert_eq!(s.atom(size).scalar, Some(Scalar::Untyped));
        assert!(
            s.map(s.lookup(spec, &["config"]).unwrap())
                .unwrap()
                .is_atomic()
        );
        // Unknown content under preserve-unknown-fields is deduced.
        let extra = s.map(s.lookup(spec, &["extra"]).unwrap()).unwrap();
        assert_eq!(extra.element, Some(s.deduced_type()));
        // Embedded resources carry type meta.
        let template = s.lookup(spec, &["template"]).unwrap();
        assert!(
            s.field(template, "apiVersion").is_some() && s.field(template, "metadata").is_some()
        );
        // The root's metadata is the built-in ObjectMeta, whatever the CRD says.
        let meta = s.lookup(root, &["metadata"]).unwrap();
        assert_eq!(s.type_name(meta), Some(OBJECT_META));
        assert!(s.lookup(root, &["metadata", "labels"]).is_some());
        let owners = s
            .list(s.lookup(root, &["metadata", "ownerReferences"]).unwrap())
            .unwrap();
        assert_eq!(
            owners.keys.iter().map(|k| &**k).collect::<Vec<_>>(),
            ["uid"]
        );
        assert_eq!(
            s.atom(s.lookup(root, &["kind"]).unwrap()).scalar,
            Some(Scalar::String)
        );
    }

    #[test]
    fn crd_without_schema_is_deduced_and_errors_name_the_version() {
        let ObjectSchema { schema, root } = openapi_v3_schema(None, "v1").unwrap();
        assert_eq!(root, schema.deduced_type());
        let err = crd_version_schema(&widget_crd(), "v2").unwrap_err();
        assert_eq!(err.to_string(), "the CRD does not serve version \"v2\"");
        let bad = json!({"type": "object", "properties": {"a": {"type": "array"}}});
        let err = openapi_v3_schema(Some(&bad), "v1beta1").unwrap_err();
        assert_eq!(
            err.to_string(),
            "CRD version \"v1beta1\": openAPIV3Schema.a: `items` must be a single schema on arrays"
        );
    }
}
