//! Field specs: "this field of these kinds" (kustomize's `types.FieldSpec`), and the walk that
//! finds (or creates) those fields in an object (kustomize's `filters/fieldspec`).
//!
//! A path is `/`-separated (`spec/template/metadata/labels`); a `[]` suffix marks a field that
//! holds a list (`spec/containers[]/image`); lists met along the way are walked element by
//! element whether marked or not.

use std::borrow::Cow;

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
        // Field by field rather than through `self.gvk()`: this runs for every spec of every
        // resource, and should not allocate.
        (self.group.is_empty() || self.group == gvk.group)
            && (self.version.is_empty() || self.version == gvk.version)
            && (self.kind.is_empty() || self.kind == gvk.kind)
    }

    /// Same GVK and path (kustomize merges field spec lists by this).
    pub fn same_target(&self, other: &FieldSpec) -> bool {
        self.group == other.group
            && self.version == other.version
            && self.kind == other.kind
            && self.path == other.path
    }
}

/// A field spec as kustomize's lenient decoder reads plugin configs and `configurations:` files
/// (sigs.k8s.io/yaml's `Unmarshal`): unknown keys are ignored, where a kustomization's own
/// `fields:` are strict ([`FieldSpec`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct LenientFieldSpec {
    #[serde(default)]
    pub group: String,
    #[serde(default)]
    pub version: String,
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub path: String,
    #[serde(default)]
    pub create: bool,
}

impl From<LenientFieldSpec> for FieldSpec {
    fn from(l: LenientFieldSpec) -> Self {
        FieldSpec {
            group: l.group,
            version: l.version,
            kind: l.kind,
            path: l.path,
            create: l.create,
        }
    }
}

/// Converts leniently read field specs.
pub fn from_lenient(specs: Option<Vec<LenientFieldSpec>>) -> Option<Vec<FieldSpec>> {
    specs.map(|v| v.into_iter().map(FieldSpec::from).collect())
}

/// kustomize's `effectivelyEquals`: `existing` counts as the same field as `incoming` when the
/// incoming GVK (empty fields are wildcards) selects the existing one and the paths are equal.
/// Asymmetric on purpose: an incoming `metadata/name` for all kinds matches an existing
/// `Deployment` one, but not the other way round.
pub fn effectively_equals(existing: &FieldSpec, incoming: &FieldSpec) -> bool {
    existing.path == incoming.path && incoming.applies_to(&existing.gvk())
}

/// Merges `extra` into `base`, skipping specs `base` already has (kustomize's `MergeAll`,
/// ignoring conflicts; see [`try_merge_field_specs`]).
pub fn merge_field_specs(base: &mut Vec<FieldSpec>, extra: &[FieldSpec]) {
    for fs in extra {
        if !base.iter().any(|b| effectively_equals(b, fs)) {
            base.push(fs.clone());
        }
    }
}

/// kustomize's `FsSlice.MergeAll`: adds the specs of `extra` that `base` lacks; a spec `base`
/// already has with a different `create` is an error ("conflicting fieldspecs").
pub fn try_merge_field_specs(base: &mut Vec<FieldSpec>, extra: &[FieldSpec]) -> Result<()> {
    for fs in extra {
        match base.iter().find(|b| effectively_equals(b, fs)) {
            Some(b) if b.create != fs.create => {
                return Err(Error::msg("conflicting fieldspecs"));
            }
            Some(_) => {}
            None => base.push(fs.clone()),
        }
    }
    Ok(())
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
    let create = if spec.create {
        create
    } else {
        CreateKind::None
    };
    visit_path(object, &spec.path, create, leaf)
        .map_err(|e| e.context(format!("considering field '{}'", spec.path)))
}

/// [`visit_field`] without the error context, with `create` already decided (the caller passes
/// [`CreateKind::None`] for a spec without `create`).
///
/// As kustomize's `fieldspec.Filter`: the path splits on `/` (`\/` keeps a slash in a field
/// name; empty segments are field names too); a `[]` suffix only looks the field up; lists met
/// anywhere are walked element by element (null elements skipped, other scalars are an error); a
/// missing field ends the walk unless created; an existing null becomes a map on the way
/// (when creating) or an empty list (`[]` fields), and is otherwise left alone, or handed to
/// `leaf` when it is the last segment.
pub fn visit_path(
    object: &mut Value,
    path: &str,
    create: CreateKind,
    leaf: &mut dyn FnMut(&mut Value) -> Result<()>,
) -> Result<()> {
    let parts = path_segments(path);
    let parts: Vec<&str> = parts.iter().map(|p| p.as_ref()).collect();
    walk(object, &parts, create, leaf)
}

/// kustomize's `splitPath`: `/`-separated, a backslash before `/` escapes it.
fn path_segments(path: &str) -> Vec<Cow<'_, str>> {
    let mut parts: Vec<Cow<'_, str>> = Vec::new();
    for piece in path.split('/') {
        match parts.last_mut() {
            Some(last) if last.ends_with('\\') => {
                let mut joined = last[..last.len() - 1].to_owned();
                joined.push('/');
                joined.push_str(piece);
                *last = Cow::Owned(joined);
            }
            _ => parts.push(Cow::Borrowed(piece)),
        }
    }
    parts
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

/// The YAML node kind kyaml names in its errors.
pub fn node_kind_name(value: &Value) -> &'static str {
    match value {
        Value::Object(_) => "MappingNode",
        Value::Array(_) => "SequenceNode",
        _ => "ScalarNode",
    }
}

/// kyaml's `ErrorIfInvalid` message for a node of the wrong kind.
pub fn wrong_node_kind(expected: &str, found: &Value) -> Error {
    Error::msg(format!(
        "wrong node kind: expected {expected} but got {}: node contents:\n{}",
        node_kind_name(found),
        tether_yaml::to_yaml(found)
    ))
}

/// The text of a scalar as YAML wrote it (`None` for maps and lists; null is empty).
pub fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Null => Some(String::new()),
        Value::Object(_) | Value::Array(_) => None,
    }
}

/// Replaces a scalar with `text` as kyaml's `SetScalar` does: the new node is untagged and keeps
/// the old node's quoting, so a quoted string stays a string (`"3"` → `"5"`) while a plain scalar
/// is resolved again (`replicas: 3` → `5`, `name: 123` + suffix `0` → `1230`). A string that
/// would not read back as itself when plain must have been quoted.
pub fn set_scalar_keeping_style(node: &mut Value, text: String) {
    let was_quoted = match node {
        Value::String(s) => !reads_back_as_string(s),
        _ => false,
    };
    *node = if was_quoted {
        Value::String(text)
    } else {
        resolve_plain(text)
    };
}

/// Whether a plain scalar with this text reads as a string (not a number, bool or null).
fn reads_back_as_string(text: &str) -> bool {
    resolve_plain_ref(text).is_none()
}

/// The value a plain (unquoted, untagged) scalar with this text reads as.
pub fn resolve_plain(text: String) -> Value {
    resolve_plain_ref(&text).unwrap_or(Value::String(text))
}

/// `Some` when the plain scalar is not a string. Only texts that can possibly be numbers,
/// bools or null go to the YAML parser.
fn resolve_plain_ref(text: &str) -> Option<Value> {
    let Some(first) = text.chars().next() else {
        return Some(Value::Null);
    };
    let maybe_special = first.is_ascii_digit()
        || matches!(
            first,
            '-' | '+' | '.' | '~' | 't' | 'T' | 'f' | 'F' | 'n' | 'N'
        );
    if !maybe_special || text.contains([':', '#', '\n', ' ']) {
        return None;
    }
    match tether_yaml::parse_document(text) {
        Ok(Value::String(_)) | Err(_) => None,
        Ok(Value::Object(_) | Value::Array(_)) => None,
        Ok(v) => Some(v),
    }
}

/// Runs `leaf` on `spec`'s field in a resource's `object` when the spec applies to `gvk` (the
/// resource's current GVK), with kustomize's error context ("considering field 'P' of object
/// ID: ...").
pub fn apply_field_spec(
    object: &mut Value,
    gvk: &Gvk,
    spec: &FieldSpec,
    create: CreateKind,
    leaf: &mut dyn FnMut(&mut Value) -> Result<()>,
) -> Result<()> {
    if !spec.applies_to(gvk) {
        return Ok(());
    }
    let create = if spec.create {
        create
    } else {
        CreateKind::None
    };
    visit_path(object, &spec.path, create, leaf).map_err(|e| {
        let id = crate::resource::Resource::new(object.clone()).cur_id();
        e.context(format!("considering field '{}' of object {id}", spec.path))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn collect(object: &mut Value, path: &str, create: CreateKind) -> Result<Vec<Value>> {
        let mut seen = Vec::new();
        visit_path(object, path, create, &mut |v| {
            seen.push(v.clone());
            Ok(())
        })?;
        Ok(seen)
    }

    #[test]
    fn escaped_slash_stays_in_the_field_name() {
        let mut o = json!({"metadata": {"annotations": {"a/b": "x"}}});
        let seen = collect(&mut o, "metadata/annotations/a\\/b", CreateKind::None).unwrap();
        assert_eq!(seen, [json!("x")]);
    }

    #[test]
    fn nulls_follow_kustomize() {
        // A null list marked `[]` becomes an empty list; a null map on the way is created only
        // when creating; a null leaf reaches the callback.
        let mut o = json!({"spec": {"containers": null, "sel": null}});
        assert!(
            collect(&mut o, "spec/containers[]/image", CreateKind::Scalar)
                .unwrap()
                .is_empty()
        );
        assert_eq!(o["spec"]["containers"], json!([]));
        assert!(
            collect(&mut o, "spec/sel/matchLabels", CreateKind::None)
                .unwrap()
                .is_empty()
        );
        assert_eq!(o["spec"]["sel"], Value::Null);
        assert_eq!(
            collect(&mut o, "spec/sel", CreateKind::None).unwrap(),
            [Value::Null]
        );
        collect(&mut o, "spec/sel/matchLabels", CreateKind::Map).unwrap();
        assert_eq!(o["spec"]["sel"], json!({"matchLabels": {}}));
    }

    #[test]
    fn scalars_in_lists_are_errors_nulls_are_not() {
        let mut o = json!({"spec": {"from": [null, {"a": 1}]}});
        assert_eq!(
            collect(&mut o, "spec/from/a", CreateKind::None).unwrap(),
            [json!(1)]
        );
        let mut o = json!({"spec": {"from": ["s"]}});
        let err = collect(&mut o, "spec/from/a", CreateKind::None).unwrap_err();
        assert_eq!(err.to_string(), "expected sequence or mapping node");
    }

    #[test]
    fn merge_is_asymmetric_and_checks_create() {
        let all = FieldSpec::new("metadata/name", false);
        let deploy = FieldSpec {
            kind: "Deployment".into(),
            ..all.clone()
        };
        let mut base = vec![deploy.clone()];
        merge_field_specs(&mut base, std::slice::from_ref(&all));
        assert_eq!(
            base.len(),
            1,
            "an all-kinds spec matches an existing Deployment one"
        );
        let mut base = vec![all.clone()];
        merge_field_specs(&mut base, std::slice::from_ref(&deploy));
        assert_eq!(
            base.len(),
            2,
            "a Deployment spec does not match an all-kinds one"
        );
        let mut base = vec![all];
        let err =
            try_merge_field_specs(&mut base, &[FieldSpec::new("metadata/name", true)]).unwrap_err();
        assert_eq!(err.to_string(), "conflicting fieldspecs");
    }

    #[test]
    fn set_scalar_keeps_quoting() {
        let cases = [
            (json!(3), "5", json!(5)),
            (json!("3"), "5", json!("5")),
            (json!("abc"), "5", json!(5)),
            (Value::Null, "5", json!(5)),
            (json!("x"), "p-x", json!("p-x")),
            (json!(""), "5", json!("5")),
        ];
        for (before, text, after) in cases {
            let mut v = before.clone();
            set_scalar_keeping_style(&mut v, text.to_owned());
            assert_eq!(v, after, "{before} + {text}");
        }
    }
}
