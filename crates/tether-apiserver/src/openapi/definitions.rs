//! The built-in schema definitions (`definitions.json`, the `definitions` of
//! `shared/kubernetes/swagger-1.36.json`, descriptions included: `kubectl explain` shows them),
//! indexed by group/version/kind, and the reference closure a document needs.

use std::collections::{BTreeSet, HashMap};
use std::sync::LazyLock;

use serde_json::{Map, Value};

/// Swagger definitions by name, and the definition of each group/version/kind.
pub struct Definitions {
    pub schemas: Map<String, Value>,
    by_gvk: HashMap<(String, String, String), String>,
}

static DEFINITIONS: LazyLock<Definitions> =
    LazyLock::new(|| Definitions::parse(include_str!("definitions.json")));

pub fn builtin() -> &'static Definitions {
    &DEFINITIONS
}

/// The definition prefix of a swagger reference.
pub const V2_REF: &str = "#/definitions/";
/// The definition prefix of an OpenAPI v3 reference.
pub const V3_REF: &str = "#/components/schemas/";

pub const OBJECT_META: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta";
pub const LIST_META: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta";
pub const STATUS: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.Status";
pub const DELETE_OPTIONS: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions";
pub const PATCH: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.Patch";

impl Definitions {
    fn parse(text: &str) -> Definitions {
        // The file is generated and checked by a test; an unparsable one serves no built-ins
        // rather than failing every request.
        let schemas: Map<String, Value> = serde_json::from_str(text).unwrap_or_default();
        let mut by_gvk = HashMap::new();
        for (name, schema) in &schemas {
            for gvk in gvks(schema) {
                by_gvk.insert(gvk, name.clone());
            }
        }
        Definitions { schemas, by_gvk }
    }

    /// The definition serving `kind` in `group`/`version`.
    pub fn for_kind(&self, group: &str, version: &str, kind: &str) -> Option<&str> {
        self.by_gvk
            .get(&(group.to_owned(), version.to_owned(), kind.to_owned()))
            .map(String::as_str)
    }
}

/// The group/version/kinds a definition's `x-kubernetes-group-version-kind` names.
fn gvks(schema: &Value) -> Vec<(String, String, String)> {
    let Some(list) = schema
        .get("x-kubernetes-group-version-kind")
        .and_then(Value::as_array)
    else {
        return vec![];
    };
    list.iter()
        .map(|gvk| {
            let s = |k: &str| gvk.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
            (s("group"), s("version"), s("kind"))
        })
        .collect()
}

/// Every definition `roots` reference, directly or not, found in `extra` first, then among the
/// built-ins (names with a definition nowhere are left out).
pub fn closure<'a>(
    roots: impl IntoIterator<Item = &'a str>,
    extra: &'a Map<String, Value>,
) -> BTreeSet<String> {
    let builtin = builtin();
    let mut seen = BTreeSet::new();
    let mut pending: Vec<String> = roots.into_iter().map(str::to_owned).collect();
    while let Some(name) = pending.pop() {
        if seen.contains(&name) {
            continue;
        }
        let Some(schema) = extra.get(&name).or_else(|| builtin.schemas.get(&name)) else {
            continue;
        };
        seen.insert(name);
        collect_refs(schema, &mut pending);
    }
    seen
}

/// The definition names `value` references (in either reference form).
pub fn collect_refs(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, v) in map {
                if key == "$ref"
                    && let Some(r) = v.as_str()
                {
                    let name = r
                        .strip_prefix(V2_REF)
                        .or_else(|| r.strip_prefix(V3_REF))
                        .unwrap_or(r);
                    out.push(name.to_owned());
                } else {
                    collect_refs(v, out);
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect_refs(v, out)),
        _ => {}
    }
}

/// `schema` with swagger references rewritten as OpenAPI v3 ones.
pub fn to_v3(schema: &Value) -> Value {
    match schema {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(key, v)| {
                    let v = match (key.as_str(), v.as_str()) {
                        ("$ref", Some(r)) => match r.strip_prefix(V2_REF) {
                            Some(name) => Value::String(format!("{V3_REF}{name}")),
                            None => v.clone(),
                        },
                        _ => to_v3(v),
                    };
                    (key.clone(), v)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(to_v3).collect()),
        other => other.clone(),
    }
}
