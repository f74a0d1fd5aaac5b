//! Patch metadata from OpenAPI documents: v2 `definitions` (read like kube-openapi's `proto`
//! models, as apimachinery's `PatchMetaFromOpenAPI`) and v3 `components.schemas` (as
//! `PatchMetaFromOpenAPIV3`). Fields keep `x-kubernetes-patch-strategy` and
//! `x-kubernetes-patch-merge-key` on the property that references the field's type.

use std::collections::HashMap;

use serde_json::{Map, Value};

use super::meta::{LookupError, LookupPatchMeta, PatchMeta};

const STRATEGY_EXT: &str = "x-kubernetes-patch-strategy";
const MERGE_KEY_EXT: &str = "x-kubernetes-patch-merge-key";
const GVK_EXT: &str = "x-kubernetes-group-version-kind";
/// Bounds chains of `$ref` to `$ref`, which a valid document never cycles through.
const MAX_HOPS: usize = 64;

/// Why an OpenAPI document cannot serve patch metadata.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OpenApiDocumentError {
    #[error("the OpenAPI document has no object at {0}")]
    MissingSchemas(&'static str),
}

type Gvks = HashMap<(String, String, String), String>;

fn index_gvks(schemas: &Map<String, Value>) -> Gvks {
    let mut gvks = HashMap::new();
    for (name, schema) in schemas {
        let Some(list) = schema.get(GVK_EXT).and_then(Value::as_array) else {
            continue;
        };
        for gvk in list {
            let field = |k: &str| gvk.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
            gvks.insert(
                (field("group"), field("version"), field("kind")),
                name.clone(),
            );
        }
    }
    gvks
}

/// The patch metadata of a property: its extensions must be strings.
fn field_meta<'a>(field: &'a Value, key: &str) -> Result<PatchMeta<'a>, LookupError> {
    let ext = |name: &'static str| -> Result<&'a str, LookupError> {
        match field.get(name) {
            None => Ok(""),
            Some(Value::String(s)) => Ok(s),
            Some(other) => Err(LookupError::BadExtension {
                field: key.to_owned(),
                extension: name,
                found: super::gofmt::go_type(other).to_owned(),
            }),
        }
    };
    Ok(PatchMeta::new(ext(STRATEGY_EXT)?, ext(MERGE_KEY_EXT)?))
}

/// An OpenAPI v2 (Swagger) document's `definitions`.
#[derive(Debug, Clone)]
pub struct OpenApiV2Schemas {
    definitions: Map<String, Value>,
    gvks: Gvks,
}

impl OpenApiV2Schemas {
    /// Reads `definitions` of a Swagger 2.0 document.
    pub fn from_document(mut doc: Value) -> Result<Self, OpenApiDocumentError> {
        let Some(Value::Object(definitions)) =
            doc.as_object_mut().and_then(|d| d.remove("definitions"))
        else {
            return Err(OpenApiDocumentError::MissingSchemas("definitions"));
        };
        let gvks = index_gvks(&definitions);
        Ok(OpenApiV2Schemas { definitions, gvks })
    }

    /// Patch metadata rooted at definition `name`.
    pub fn definition(&self, name: &str) -> Option<OpenApiV2PatchMeta<'_>> {
        let (name, schema) = self.definitions.get_key_value(name)?;
        Some(OpenApiV2PatchMeta {
            definitions: &self.definitions,
            schema: Some(schema),
            definition: name,
        })
    }

    /// Patch metadata of the definition whose `x-kubernetes-group-version-kind` names this
    /// kind.
    pub fn for_gvk(
        &self,
        group: &str,
        version: &str,
        kind: &str,
    ) -> Option<OpenApiV2PatchMeta<'_>> {
        let name = self
            .gvks
            .get(&(group.to_owned(), version.to_owned(), kind.to_owned()))?;
        self.definition(name)
    }
}

/// A position in an [`OpenApiV2Schemas`] document. A schema without type or properties
/// (kube-openapi's "arbitrary" value) has no patch metadata below it.
#[derive(Debug, Clone, Copy)]
pub struct OpenApiV2PatchMeta<'a> {
    definitions: &'a Map<String, Value>,
    schema: Option<&'a Value>,
    /// The definition the schema belongs to, for messages.
    definition: &'a str,
}

/// How kube-openapi's `proto` package reads a v2 schema.
enum Shape<'a> {
    Reference(&'a str),
    Kind(&'a Map<String, Value>),
    Map,
    Array(Option<&'a Value>),
    Primitive,
    Arbitrary,
}

fn shape(schema: &Value) -> Shape<'_> {
    let Some(obj) = schema.as_object() else {
        return Shape::Arbitrary;
    };
    if let Some(r) = obj.get("$ref").and_then(Value::as_str) {
        return Shape::Reference(r);
    }
    let properties = obj.get("properties").and_then(Value::as_object);
    let types: Vec<&str> = match obj.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    match types.as_slice() {
        [] => properties.map_or(Shape::Arbitrary, Shape::Kind),
        ["object"] => properties.map_or(Shape::Map, Shape::Kind),
        ["array"] => Shape::Array(obj.get("items")),
        [_] => Shape::Primitive,
        // proto rejects several types; reading them as arbitrary keeps the rest usable.
        _ => Shape::Arbitrary,
    }
}

impl<'a> OpenApiV2PatchMeta<'a> {
    fn at(&self, schema: Option<&'a Value>, definition: &'a str) -> Self {
        OpenApiV2PatchMeta {
            definitions: self.definitions,
            schema,
            definition,
        }
    }

    fn resolve(&self, reference: &'a str) -> Result<(&'a str, &'a Value), LookupError> {
        let name = reference
            .strip_prefix("#/definitions/")
            .unwrap_or(reference);
        self.definitions
            .get_key_value(name)
            .map(|(k, v)| (k.as_str(), v))
            .ok_or_else(|| LookupError::UnresolvedReference(reference.to_owned()))
    }
}

impl<'a> LookupPatchMeta for OpenApiV2PatchMeta<'a> {
    fn lookup_struct(&self, key: &str) -> Result<(Self, PatchMeta<'_>), LookupError> {
        let Some(mut schema) = self.schema else {
            return Ok((*self, PatchMeta::default()));
        };
        let mut definition = self.definition;
        for _ in 0..MAX_HOPS {
            match shape(schema) {
                Shape::Reference(r) => (definition, schema) = self.resolve(r)?,
                Shape::Kind(properties) => {
                    let Some(field) = properties.get(key) else {
                        return Err(LookupError::FieldNotFound {
                            field: key.to_owned(),
                            schema: definition.to_owned(),
                        });
                    };
                    return Ok((self.at(Some(field), definition), field_meta(field, key)?));
                }
                Shape::Map => return Err(LookupError::ExpectedKind("map")),
                Shape::Array(_) => return Err(LookupError::ExpectedKind("slice")),
                Shape::Primitive => return Err(LookupError::ExpectedKind("primitive")),
                Shape::Arbitrary => return Ok((self.at(None, definition), PatchMeta::default())),
            }
        }
        Err(LookupError::ReferenceCycle(key.to_owned()))
    }

    fn lookup_slice(&self, key: &str) -> Result<(Self, PatchMeta<'_>), LookupError> {
        let Some(mut schema) = self.schema else {
            return Ok((*self, PatchMeta::default()));
        };
        let mut definition = self.definition;
        let mut meta = PatchMeta::default();
        let mut seen_kind = false;
        for _ in 0..MAX_HOPS {
            match shape(schema) {
                Shape::Primitive => return Err(LookupError::ExpectedSlice("primitive")),
                Shape::Map => return Err(LookupError::ExpectedSlice("map")),
                Shape::Array(items) => {
                    if !seen_kind {
                        return Err(LookupError::ArrayWithoutKind);
                    }
                    return Ok((self.at(items, definition), meta));
                }
                Shape::Reference(r) => {
                    (definition, schema) = self.resolve(r)?;
                    if seen_kind {
                        // A field referencing an object type: the items are of that type.
                        return Ok((self.at(Some(schema), definition), meta));
                    }
                }
                Shape::Kind(properties) => {
                    let Some(field) = properties.get(key) else {
                        return Err(LookupError::FieldNotFound {
                            field: key.to_owned(),
                            schema: definition.to_owned(),
                        });
                    };
                    meta = field_meta(field, key)?;
                    seen_kind = true;
                    schema = field;
                }
                Shape::Arbitrary => {
                    return Ok((self.at(None, definition), meta));
                }
            }
        }
        Err(LookupError::ReferenceCycle(key.to_owned()))
    }

    fn name(&self) -> String {
        match self.schema.map(shape) {
            None | Some(Shape::Arbitrary) => "Arbitrary value (primitive, object or array)".into(),
            Some(Shape::Reference(r)) => format!("Reference to {r}"),
            Some(Shape::Kind(_)) => format!("Kind {}", self.definition),
            Some(Shape::Map) => "Map".into(),
            Some(Shape::Array(_)) => "Array".into(),
            Some(Shape::Primitive) => "Primitive".into(),
        }
    }
}

/// An OpenAPI v3 document's `components.schemas`.
#[derive(Debug, Clone)]
pub struct OpenApiV3Schemas {
    schemas: Map<String, Value>,
    gvks: Gvks,
}

impl OpenApiV3Schemas {
    /// Reads `components.schemas` of an OpenAPI 3 document.
    pub fn from_document(mut doc: Value) -> Result<Self, OpenApiDocumentError> {
        let Some(Value::Object(schemas)) = doc
            .get_mut("components")
            .and_then(|c| c.as_object_mut())
            .and_then(|c| c.remove("schemas"))
        else {
            return Err(OpenApiDocumentError::MissingSchemas("components.schemas"));
        };
        let gvks = index_gvks(&schemas);
        Ok(OpenApiV3Schemas { schemas, gvks })
    }

    /// Patch metadata rooted at schema `name`.
    pub fn schema(&self, name: &str) -> Option<OpenApiV3PatchMeta<'_>> {
        let (name, schema) = self.schemas.get_key_value(name)?;
        Some(OpenApiV3PatchMeta {
            schemas: &self.schemas,
            schema: Some(schema),
            name,
        })
    }

    /// Patch metadata of the schema whose `x-kubernetes-group-version-kind` names this kind.
    pub fn for_gvk(
        &self,
        group: &str,
        version: &str,
        kind: &str,
    ) -> Option<OpenApiV3PatchMeta<'_>> {
        let name = self
            .gvks
            .get(&(group.to_owned(), version.to_owned(), kind.to_owned()))?;
        self.schema(name)
    }
}

/// A position in an [`OpenApiV3Schemas`] document. Object schemas need `properties`; a field
/// typed by `allOf: [{$ref}]` or `$ref` resolves to the referenced schema.
#[derive(Debug, Clone, Copy)]
pub struct OpenApiV3PatchMeta<'a> {
    schemas: &'a Map<String, Value>,
    schema: Option<&'a Value>,
    /// The component the schema belongs to, for messages.
    name: &'a str,
}

impl<'a> OpenApiV3PatchMeta<'a> {
    fn property(&self, key: &str) -> Result<Option<&'a Value>, LookupError> {
        let Some(schema) = self.schema else {
            return Ok(None);
        };
        schema
            .get("properties")
            .and_then(Value::as_object)
            .and_then(|p| p.get(key))
            .map(Some)
            .ok_or_else(|| LookupError::FieldNotFound {
                field: key.to_owned(),
                schema: self.name.to_owned(),
            })
    }

    /// The first `allOf` entry, then one `$ref` hop.
    fn resolve(&self, mut schema: &'a Value) -> Result<Self, LookupError> {
        if let Some(first) = schema
            .get("allOf")
            .and_then(Value::as_array)
            .and_then(|a| a.first())
        {
            schema = first;
        }
        let mut name = self.name;
        if let Some(reference) = schema.get("$ref").and_then(Value::as_str)
            && !reference.is_empty()
        {
            let key = reference
                .strip_prefix("#/components/schemas/")
                .unwrap_or(reference);
            let (k, target) = self
                .schemas
                .get_key_value(key)
                .ok_or_else(|| LookupError::UnresolvedReferenceV3(reference.to_owned()))?;
            name = k;
            schema = target;
        }
        Ok(OpenApiV3PatchMeta {
            schemas: self.schemas,
            schema: Some(schema),
            name,
        })
    }

    fn none(&self) -> Self {
        OpenApiV3PatchMeta {
            schema: None,
            ..*self
        }
    }
}

impl<'a> LookupPatchMeta for OpenApiV3PatchMeta<'a> {
    fn lookup_struct(&self, key: &str) -> Result<(Self, PatchMeta<'_>), LookupError> {
        let Some(field) = self.property(key)? else {
            return Ok((self.none(), PatchMeta::default()));
        };
        Ok((self.resolve(field)?, field_meta(field, key)?))
    }

    fn lookup_slice(&self, key: &str) -> Result<(Self, PatchMeta<'_>), LookupError> {
        let Some(field) = self.property(key)? else {
            return Ok((self.none(), PatchMeta::default()));
        };
        let meta = field_meta(field, key)?;
        let items = match field.get("items") {
            Some(items) if items.is_object() => items,
            _ => field,
        };
        Ok((self.resolve(items)?, meta))
    }

    fn name(&self) -> String {
        match self.schema.and_then(|s| s.get("type")) {
            Some(Value::String(t)) => t.clone(),
            Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
            _ => "unknown".to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn v2() -> OpenApiV2Schemas {
        OpenApiV2Schemas::from_document(json!({"definitions": {
            "item": {
                "properties": {
                    "name": {"type": "string"},
                    "list": {"type": "array", "items": {"$ref": "#/definitions/item"},
                        "x-kubernetes-patch-strategy": "merge",
                        "x-kubernetes-patch-merge-key": "name"},
                    "ptr": {"$ref": "#/definitions/item", "x-kubernetes-patch-strategy": "merge"},
                    "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                    "raw": {"description": "anything"}
                },
                "x-kubernetes-group-version-kind": [{"group": "g", "version": "v1", "kind": "Item"}]
            }
        }}))
        .unwrap()
    }

    #[test]
    fn v2_follows_references_and_reads_extensions() {
        let doc = v2();
        let root = doc.for_gvk("g", "v1", "Item").unwrap();
        let (item, meta) = root.lookup_slice("list").unwrap();
        assert_eq!((meta.strategy(), meta.merge_key()), ("merge", "name"));
        let (_, meta) = item.lookup_slice("ptr").unwrap();
        assert_eq!(meta.strategy(), "merge");
        assert_eq!(
            root.lookup_struct("labels")
                .unwrap()
                .0
                .lookup_struct("x")
                .unwrap_err(),
            LookupError::ExpectedKind("map")
        );
        // Arbitrary content has no metadata and no errors below it.
        let (raw, _) = root.lookup_struct("raw").unwrap();
        assert!(raw.lookup_struct("a").unwrap().0.lookup_slice("b").is_ok());
        assert_eq!(
            root.lookup_struct("nope").unwrap_err().to_string(),
            "unable to find api field \"nope\" in item"
        );
    }

    #[test]
    fn v3_resolves_all_of_and_refs() {
        let doc = OpenApiV3Schemas::from_document(json!({"components": {"schemas": {
            "item": {"properties": {
                "list": {"type": "array", "items": {"allOf": [{"$ref": "#/components/schemas/item"}]},
                    "x-kubernetes-patch-strategy": "merge", "x-kubernetes-patch-merge-key": "name"},
                "raw": {"description": "anything"}
            }}
        }}}))
        .unwrap();
        let root = doc.schema("item").unwrap();
        let (item, meta) = root.lookup_slice("list").unwrap();
        assert_eq!(meta.merge_key(), "name");
        assert!(item.lookup_slice("list").is_ok());
        let (raw, _) = root.lookup_struct("raw").unwrap();
        assert!(
            raw.lookup_struct("a")
                .unwrap_err()
                .to_string()
                .contains("unable to find api field")
        );
        assert!(OpenApiV3Schemas::from_document(json!({})).is_err());
    }
}
