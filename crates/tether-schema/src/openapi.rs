//! Conversion of Kubernetes OpenAPI schemas to the smd model, following kube-openapi's
//! `schemaconv` (`ToSchemaFromOpenAPI`), which kube-apiserver uses for server-side apply:
//!
//! * `type: object` → map: `properties` become fields; `additionalProperties` (a schema, or
//!   `true` for deduced content) types the other entries; an object without properties, or under
//!   `x-kubernetes-preserve-unknown-fields`, takes deduced entries; `x-kubernetes-map-type`
//!   `atomic`/`granular` sets the relationship (also as an override on `$ref` fields).
//! * `type: array` → list: `x-kubernetes-list-type` `atomic`/`set`/`map` (with
//!   `x-kubernetes-list-map-keys`); without it, `x-kubernetes-patch-strategy` `merge` with a
//!   `x-kubernetes-patch-merge-key` is keyed by it, `merge` without a key is a set, anything else
//!   is atomic.
//! * scalars: integer and number → numeric, boolean, string → string (formats other than `byte`
//!   and the empty one, e.g. `int-or-string` and `date-time`, → untyped); no `type` → untyped
//!   scalar, list or map; `x-kubernetes-int-or-string` → untyped scalar.
//! * `Quantity` is an untyped scalar and `RawExtension` untyped atomic content, as upstream
//!   hard-codes them.
//!
//! Each field also keeps its `x-kubernetes-patch-strategy` and `x-kubernetes-patch-merge-key`.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::schema::{
    AtomDef, ElementRelationship, FieldDef, ListDef, MapDef, Scalar, SchemaDef, TypeDef,
    TypeRefDef, UNTYPED_ATOMIC, UNTYPED_DEDUCED, common_types,
};

const QUANTITY: &str = "io.k8s.apimachinery.pkg.api.resource.Quantity";
const RAW_EXTENSION: &str = "io.k8s.apimachinery.pkg.runtime.RawExtension";

/// Why an OpenAPI schema could not be converted. `at` names the definition and the property
/// path inside it.
#[derive(Debug, thiserror::Error)]
pub enum OpenApiError {
    #[error("{at}: unrecognized type {ty:?}")]
    UnknownType { at: String, ty: String },
    #[error("{at}: `items` must be a single schema on arrays")]
    BadItems { at: String },
    #[error("{at}: {extension} has unsupported value {value}")]
    BadExtension {
        at: String,
        extension: &'static str,
        value: String,
    },
    #[error("the OpenAPI document has no `definitions` object")]
    NoDefinitions,
}

/// A Kubernetes kind and the schema type of its objects.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GvkType {
    pub group: String,
    pub version: String,
    pub kind: String,
    #[serde(rename = "type")]
    pub type_name: String,
}

/// The converted model of an OpenAPI v2 document: types and the kinds that use them.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct KubeModel {
    pub types: Vec<TypeDef>,
    pub gvks: Vec<GvkType>,
}

/// Converts the `definitions` of a Kubernetes OpenAPI v2 document (types sorted by name, the
/// two untyped types appended, kinds indexed by `x-kubernetes-group-version-kind`).
pub fn convert_swagger(doc: &Value) -> Result<KubeModel, OpenApiError> {
    let defs = doc
        .get("definitions")
        .and_then(Value::as_object)
        .ok_or(OpenApiError::NoDefinitions)?;
    let mut names: Vec<&String> = defs.keys().collect();
    names.sort();
    let mut model = KubeModel::default();
    for name in names {
        let def = &defs[name.as_str()];
        if def.get("$ref").is_some() {
            continue;
        }
        let atom = match name.as_str() {
            QUANTITY => AtomDef {
                scalar: Some(Scalar::Untyped),
                ..Default::default()
            },
            RAW_EXTENSION => common_types()[0].atom.clone(),
            _ => Converter::default().atom(def, name)?,
        };
        model.types.push(TypeDef {
            name: name.clone(),
            atom,
        });
        for gvk in def
            .get("x-kubernetes-group-version-kind")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let s = |k: &str| {
                gvk.get(k)
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned()
            };
            model.gvks.push(GvkType {
                group: s("group"),
                version: s("version"),
                kind: s("kind"),
                type_name: name.clone(),
            });
        }
    }
    model.types.extend(common_types());
    Ok(model)
}

/// Converts one inline schema (a CRD's `openAPIV3Schema`); `at` names it in errors.
pub fn convert_schema(node: &Value, at: &str) -> Result<AtomDef, OpenApiError> {
    Converter::default().atom(node, at)
}

impl KubeModel {
    pub fn schema_def(&self) -> SchemaDef {
        SchemaDef {
            types: self.types.clone(),
        }
    }
}

#[derive(Clone, Copy, Default)]
struct Converter {
    preserve_unknown: bool,
}

fn str_ext<'a>(node: &'a Value, key: &str) -> Option<&'a str> {
    node.get(key).and_then(Value::as_str)
}

fn bad(at: &str, extension: &'static str, value: &Value) -> OpenApiError {
    OpenApiError::BadExtension {
        at: at.to_owned(),
        extension,
        value: value.to_string(),
    }
}

fn map_relationship(node: &Value, at: &str) -> Result<Option<ElementRelationship>, OpenApiError> {
    match node.get("x-kubernetes-map-type") {
        None => Ok(None),
        Some(v) => match v.as_str() {
            Some("atomic") => Ok(Some(ElementRelationship::Atomic)),
            Some("granular") => Ok(Some(ElementRelationship::Separable)),
            _ => Err(bad(at, "x-kubernetes-map-type", v)),
        },
    }
}

fn list_relationship(
    node: &Value,
    at: &str,
) -> Result<(ElementRelationship, Vec<String>), OpenApiError> {
    if let Some(v) = node.get("x-kubernetes-list-type") {
        return match v.as_str() {
            Some("atomic") => Ok((ElementRelationship::Atomic, vec![])),
            Some("set") => Ok((ElementRelationship::Associative, vec![])),
            Some("map") => {
                let keys = node
                    .get("x-kubernetes-list-map-keys")
                    .and_then(Value::as_array)
                    .ok_or_else(|| bad(at, "x-kubernetes-list-map-keys", &Value::Null))?;
                let keys = keys
                    .iter()
                    .map(|k| {
                        k.as_str()
                            .map(str::to_owned)
                            .ok_or_else(|| bad(at, "x-kubernetes-list-map-keys", k))
                    })
                    .collect::<Result<_, _>>()?;
                Ok((ElementRelationship::Associative, keys))
            }
            _ => Err(bad(at, "x-kubernetes-list-type", v)),
        };
    }
    if let Some(v) = node.get("x-kubernetes-patch-strategy") {
        return match v.as_str() {
            Some("merge" | "merge,retainKeys") => match node.get("x-kubernetes-patch-merge-key") {
                Some(Value::String(key)) => {
                    Ok((ElementRelationship::Associative, vec![key.clone()]))
                }
                Some(other) => Err(bad(at, "x-kubernetes-patch-merge-key", other)),
                None => Ok((ElementRelationship::Associative, vec![])),
            },
            Some("retainKeys") => Ok((ElementRelationship::Atomic, vec![])),
            _ => Err(bad(at, "x-kubernetes-patch-strategy", v)),
        };
    }
    Ok((ElementRelationship::Atomic, vec![]))
}

impl Converter {
    fn atom(mut self, node: &Value, at: &str) -> Result<AtomDef, OpenApiError> {
        if node.get("x-kubernetes-preserve-unknown-fields") == Some(&Value::Bool(true)) {
            self.preserve_unknown = true;
        }
        if node.get("x-kubernetes-int-or-string") == Some(&Value::Bool(true)) {
            return Ok(AtomDef {
                scalar: Some(Scalar::Untyped),
                ..Default::default()
            });
        }
        let ty = match node.get("type") {
            Some(Value::String(s)) => s.as_str(),
            Some(Value::Array(types)) => types.first().and_then(Value::as_str).unwrap_or(""),
            _ => "",
        };
        let scalar = |s| AtomDef {
            scalar: Some(s),
            ..Default::default()
        };
        Ok(match ty {
            "" => AtomDef {
                scalar: Some(Scalar::Untyped),
                list: Some(Box::new(self.list(node, at)?)),
                map: Some(Box::new(self.object(node, at)?)),
            },
            "object" => AtomDef {
                map: Some(Box::new(self.object(node, at)?)),
                ..Default::default()
            },
            "array" => AtomDef {
                list: Some(Box::new(self.list(node, at)?)),
                ..Default::default()
            },
            "integer" | "number" => scalar(Scalar::Numeric),
            "boolean" => scalar(Scalar::Boolean),
            "string" => match str_ext(node, "format").unwrap_or("") {
                "" | "byte" => scalar(Scalar::String),
                _ => scalar(Scalar::Untyped),
            },
            other => {
                return Err(OpenApiError::UnknownType {
                    at: at.to_owned(),
                    ty: other.to_owned(),
                });
            }
        })
    }

    fn type_ref(self, node: &Value, at: &str) -> Result<TypeRefDef, OpenApiError> {
        let reference = str_ext(node, "$ref").or_else(|| {
            match node
                .get("allOf")
                .and_then(Value::as_array)
                .map(Vec::as_slice)
            {
                Some([only]) => str_ext(only, "$ref"),
                _ => None,
            }
        });
        if let Some(name) = reference
            .and_then(|r| r.rsplit('/').next())
            .filter(|n| !n.is_empty())
        {
            return Ok(TypeRefDef {
                named_type: Some(name.to_owned()),
                element_relationship: map_relationship(node, at)?,
                ..Default::default()
            });
        }
        Ok(TypeRefDef {
            inlined: self.atom(node, at)?,
            ..Default::default()
        })
    }

    fn object(self, node: &Value, at: &str) -> Result<MapDef, OpenApiError> {
        let props = node.get("properties").and_then(Value::as_object);
        let mut fields = Vec::new();
        if let Some(props) = props {
            let mut names: Vec<&String> = props.keys().collect();
            names.sort();
            for name in names {
                let prop = &props[name.as_str()];
                let field_at = format!("{at}.{name}");
                fields.push(FieldDef {
                    name: name.clone(),
                    ty: self.type_ref(prop, &field_at)?,
                    default: prop.get("default").cloned().filter(|d| !d.is_null()),
                    patch_strategy: str_ext(prop, "x-kubernetes-patch-strategy").map(str::to_owned),
                    patch_merge_key: str_ext(prop, "x-kubernetes-patch-merge-key")
                        .map(str::to_owned),
                });
            }
        }
        if node.get("x-kubernetes-embedded-resource") == Some(&Value::Bool(true)) {
            // kube-apiserver's CRD builder gives embedded objects their type meta.
            for (name, def) in [
                ("apiVersion", scalar_ref(Scalar::String)),
                ("kind", scalar_ref(Scalar::String)),
                ("metadata", deduced_map_ref()),
            ] {
                if !fields.iter().any(|f: &FieldDef| f.name == name) {
                    fields.push(FieldDef {
                        name: name.to_owned(),
                        ty: def,
                        ..Default::default()
                    });
                }
            }
            fields.sort_by(|a, b| a.name.cmp(&b.name));
        }
        let element_type = match node.get("additionalProperties") {
            None => {
                if self.preserve_unknown || props.is_none_or(Map::is_empty) {
                    Some(TypeRefDef::named(UNTYPED_DEDUCED))
                } else {
                    None
                }
            }
            Some(Value::Bool(true)) => Some(TypeRefDef::named(UNTYPED_DEDUCED)),
            Some(Value::Bool(false)) => None,
            Some(schema) => Some(self.type_ref(schema, &format!("{at}.additionalProperties"))?),
        };
        Ok(MapDef {
            fields,
            element_type,
            element_relationship: map_relationship(node, at)?,
        })
    }

    fn list(self, node: &Value, at: &str) -> Result<ListDef, OpenApiError> {
        let (relationship, keys) = list_relationship(node, at)?;
        let element_type = match node.get("items") {
            Some(items @ Value::Object(_)) => self.type_ref(items, &format!("{at}[]"))?,
            Some(Value::Array(items)) if items.len() == 1 => {
                self.type_ref(&items[0], &format!("{at}[]"))?
            }
            Some(_) => return Err(OpenApiError::BadItems { at: at.to_owned() }),
            None if node.get("type").is_some() => {
                return Err(OpenApiError::BadItems { at: at.to_owned() });
            }
            None => TypeRefDef::named(UNTYPED_ATOMIC),
        };
        Ok(ListDef {
            element_type,
            element_relationship: Some(relationship),
            keys,
        })
    }
}

fn scalar_ref(s: Scalar) -> TypeRefDef {
    TypeRefDef::scalar(s)
}

fn deduced_map_ref() -> TypeRefDef {
    TypeRefDef {
        inlined: AtomDef {
            map: Some(Box::new(MapDef {
                element_type: Some(TypeRefDef::named(UNTYPED_DEDUCED)),
                ..Default::default()
            })),
            ..Default::default()
        },
        ..Default::default()
    }
}
