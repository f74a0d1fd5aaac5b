//! Field specs: "this field of these kinds" (kustomize's `types.FieldSpec`), and the walk that
//! finds (or creates) those fields in an object (kustomize's `filters/fieldspec`).
//!
//! A path is `/`-separated (`spec/template/metadata/labels`); a `[]` suffix marks a field that
//! holds a list (`spec/containers[]/image`); lists met along the way are walked element by
//! element whether marked or not.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::resource::Gvk;

/// One field of some kinds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldSpec {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub group: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub version: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub kind: String,
    #[serde(default)]
    pub path: String,
    /// Create the path when it is missing.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub create: bool,
}

impl FieldSpec {
    pub fn new(path: &str, create: bool) -> Self {
        FieldSpec {
            path: path.to_owned(),
            create,
            ..FieldSpec::default()
        }
    }

    pub fn gvk(&self) -> Gvk {
        Gvk::new(self.group.clone(), self.version.clone(), self.kind.clone())
    }

    /// Whether the spec applies to objects of `gvk`.
    pub fn applies_to(&self, gvk: &Gvk) -> bool {
        gvk.is_selected_by(&self.gvk())
    }

    /// Same GVK and path (kustomize merges field spec lists by this).
    pub fn same_target(&self, other: &FieldSpec) -> bool {
        self.group == other.group
            && self.version == other.version
            && self.kind == other.kind
            && self.path == other.path
    }
}

/// Merges `extra` into `base`, skipping specs `base` already has (by GVK and path).
pub fn merge_field_specs(base: &mut Vec<FieldSpec>, extra: &[FieldSpec]) {
    for fs in extra {
        if !base.iter().any(|b| b.same_target(fs)) {
            base.push(fs.clone());
        }
    }
}

/// What to create at the end of a missing path when the spec says `create`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CreateKind {
    /// Never create (lookups only).
    None,
    /// An empty map (labels, annotations, selectors).
    Map,
    /// A null scalar the callback then sets (names, namespaces).
    Scalar,
}

/// Splits a field-spec path on `/`, keeping `[...]` groups whole.
pub fn split_path(path: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut depth = 0usize;
    let mut start = 0;
    for (i, c) in path.char_indices() {
        match c {
            '[' => depth += 1,
            ']' => depth = depth.saturating_sub(1),
            '/' if depth == 0 => {
                parts.push(&path[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&path[start..]);
    parts.retain(|p| !p.is_empty());
    parts
}

/// Calls `leaf` on every value at `spec.path` in `object` (walking lists), creating the path
/// when `spec.create` and `create` allow it. The caller checks [`FieldSpec::applies_to`].
pub fn visit_field(
    object: &mut Value,
    spec: &FieldSpec,
    create: CreateKind,
    leaf: &mut dyn FnMut(&mut Value) -> Result<()>,
) -> Result<()> {
    let path = split_path(&spec.path);
    let create = if spec.create {
        create
    } else {
        CreateKind::None
    };
    walk(object, &path, create, leaf)
        .map_err(|e| e.context(format!("considering field '{}'", spec.path)))
}

fn walk(
    node: &mut Value,
    path: &[&str],
    create: CreateKind,
    leaf: &mut dyn FnMut(&mut Value) -> Result<()>,
) -> Result<()> {
    let Some((first, rest)) = path.split_first() else {
        return leaf(node);
    };
    match node {
        Value::Array(items) => {
            for item in items {
                walk(item, path, create, leaf)?;
            }
            Ok(())
        }
        Value::Object(map) => {
            let (field, is_seq) = match first.strip_suffix("[]") {
                Some(f) => (f, true),
                None => (*first, false),
            };
            let wanted = if is_seq || create == CreateKind::None {
                None
            } else if rest.is_empty() {
                match create {
                    CreateKind::Map => Some(Value::Object(Map::new())),
                    _ => Some(Value::Null),
                }
            } else {
                Some(Value::Object(Map::new()))
            };
            let child = match (map.contains_key(field), wanted) {
                (true, wanted) => {
                    let child = map
                        .get_mut(field)
                        .ok_or_else(|| Error::msg("vanished field"))?;
                    // A null where a map (or list) is expected becomes one, as kyaml does.
                    if child.is_null() {
                        if let Some(w @ Value::Object(_)) = wanted {
                            *child = w;
                        } else if is_seq {
                            *child = Value::Array(Vec::new());
                        }
                    }
                    child
                }
                (false, Some(w)) => map.entry(field.to_owned()).or_insert(w),
                (false, None) => return Ok(()),
            };
            walk(child, rest, create, leaf)
        }
        Value::Null => Ok(()),
        _ => Err(Error::msg("expected sequence or mapping node")),
    }
}
