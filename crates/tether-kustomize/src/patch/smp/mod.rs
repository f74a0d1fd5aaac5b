//! Strategic merge patches as kustomize v5.6.0 applies them: kyaml's `merge2.Merge(patch,
//! resource, {ListIncreaseDirection: Prepend})`, a walk over the resource and the patch
//! together, not apimachinery's `strategicpatch`.
//!
//! # What the walk does
//!
//! - **Maps** merge field by field. A `null` in the patch removes the field; a `null` in the
//!   resource that the patch does not mention stays.
//! - **Lists** whose schema field has a `merge` patch strategy merge element-wise by their keys
//!   (`x-kubernetes-list-map-keys`, else `x-kubernetes-patch-merge-key`); lists of scalars with a
//!   `merge` strategy and no key (`finalizers`) merge as sets. The patch's elements come first,
//!   in the patch's order, then the resource's other elements in their order; with two or more
//!   keys (container and service ports) the resource's elements move behind the new ones. Every
//!   other list, and every list of a kind without a schema (custom resources), is replaced.
//! - **Directives**: `$patch: delete` on the patch removes the resource ([`SmpOutcome::Deleted`]),
//!   on a map removes the map, on a list element removes the element. `$patch: replace` replaces
//!   a map, but is ignored on list elements and on the whole patch (kyaml keeps the resource's
//!   node); `$patch: merge` is the default. Any other `$patch` value is an error where the
//!   resource has the map, and is kept as a field where it does not. `$retainKeys`,
//!   `$setElementOrder/...` and `$deleteFromPrimitiveList/...` are not directives for kyaml: they
//!   are merged into the resource like any field.
//! - The resource's lists that merge are rebuilt even where the patch does not touch them, with
//!   kyaml's side effects: `{}` and `null` elements disappear, elements sharing a key collapse,
//!   and an element missing its key field drops its neighbours (see the tests).
//!
//! Maps are walked in place; only what the patch adds is cloned.

mod list;
pub(crate) mod text;

use serde_json::{Map, Value};

use super::error::{NodeKind, PatchError};
use super::schema::{PatchSchema, Sch};

/// What a strategic merge patch did to its target.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SmpOutcome {
    /// The target was merged with the patch (possibly unchanged).
    Patched,
    /// The patch said `$patch: delete` at its top: the caller removes the resource. The target
    /// value is left as it was.
    Deleted,
}

/// How kustomize's patch transformer applies a strategic merge patch.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SmpOptions {
    /// `options: allowNameChange: true`: the patch's `metadata.name` renames the resource.
    pub allow_name_change: bool,
    /// `options: allowKindChange: true`: the patch's `kind` changes the resource's kind.
    pub allow_kind_change: bool,
    /// The `patches:` entry selects its resources with `target:`. kustomize then merges a copy
    /// of the patch that has the target's `apiVersion`, and whose `metadata.labels` and
    /// `metadata.annotations` were read back as strings (`null` becomes `"null"`, `true`
    /// becomes `"true"`, an empty map disappears). Without `target:` the patch names its
    /// resource and is merged as it is.
    pub targeted: bool,
}

/// Merges `patch` into `target` exactly as kyaml's `merge2.Merge` does (with kustomize's
/// prepend list order), including the patch's `apiVersion`, `kind` and `metadata`.
///
/// The schema of the target is looked up by the target's `apiVersion`/`kind` in `schema`, then by
/// the patch's. kustomize's patch transformer also keeps the resource's identity; use
/// [`apply_strategic_merge_resource`] for that.
pub fn apply_strategic_merge(
    target: &mut Value,
    patch: &Value,
    schema: &PatchSchema,
) -> Result<SmpOutcome, PatchError> {
    Merger { schema }.root(target, patch)
}

/// Applies `patch` to the resource `target` as kustomize's patch transformer does
/// (`resWrangler.ApplySmPatch` with `target:`, `Resource.ApplySmPatch` without): prepares the
/// patch as [`SmpOptions::targeted`] says, merges it, then restores the target's
/// `metadata.namespace`, and its `kind` and `metadata.name` unless `options` allow the patch to
/// change them.
pub fn apply_strategic_merge_resource(
    target: &mut Value,
    patch: &Value,
    schema: &PatchSchema,
    options: SmpOptions,
) -> Result<SmpOutcome, PatchError> {
    let identity = Identity::of(target);
    let merger = Merger { schema };
    let outcome = if options.targeted {
        let copy = targeted_copy(patch, target.get("apiVersion"))?;
        merger.root(target, &copy)?
    } else {
        merger.root(target, patch)?
    };
    if outcome == SmpOutcome::Patched {
        identity.restore(target, options);
    }
    Ok(outcome)
}

/// The patch as `resWrangler.ApplySmPatch` merges it: `CopyMergeMetaDataFieldsFrom` (labels
/// and annotations as string maps, name and namespace set again) and `SetGvk` (the target's
/// apiVersion, the patch's kind). kustomize crashes on labels or annotations that are lists;
/// this reports them.
fn targeted_copy(patch: &Value, api_version: Option<&Value>) -> Result<Value, PatchError> {
    let mut copy = patch.clone();
    let Some(object) = copy.as_object_mut() else {
        return Ok(copy);
    };
    let text_of = |v: Option<&Value>| -> String {
        match v {
            Some(Value::String(s)) => s.clone(),
            Some(v @ (Value::Number(_) | Value::Bool(_))) => text::node_text(v).into_owned(),
            _ => String::new(),
        }
    };
    let kind = text_of(object.get("kind"));
    let meta = object
        .entry("metadata")
        .or_insert_with(|| Value::Object(Map::new()));
    if let Some(meta) = meta.as_object_mut() {
        for field in ["labels", "annotations"] {
            let strings: Map<String, Value> = match meta.get(field) {
                Some(Value::Object(m)) => m
                    .iter()
                    .map(|(k, v)| (k.clone(), Value::String(text::node_text(v).into_owned())))
                    .collect(),
                Some(list @ Value::Array(_)) => {
                    return Err(PatchError::wrong_kind(NodeKind::Mapping, list)
                        .within(field)
                        .within("metadata"));
                }
                _ => Map::new(),
            };
            meta.shift_remove(field);
            if !strings.is_empty() {
                meta.insert(field.to_owned(), Value::Object(strings));
            }
        }
        let name = text_of(meta.get("name"));
        meta.insert("name".to_owned(), Value::String(name));
        let namespace = text_of(meta.get("namespace"));
        if namespace.is_empty() {
            meta.shift_remove("namespace");
        } else {
            meta.insert("namespace".to_owned(), Value::String(namespace));
        }
    }
    match api_version {
        Some(v) => {
            object.insert("apiVersion".to_owned(), v.clone());
        }
        None => {
            object.shift_remove("apiVersion");
        }
    }
    object.insert("kind".to_owned(), Value::String(kind));
    Ok(copy)
}

/// What `ApplySmPatch` puts back after the merge.
struct Identity {
    kind: Option<Value>,
    name: Option<Value>,
    namespace: Option<Value>,
}

impl Identity {
    fn of(target: &Value) -> Identity {
        let meta = target.get("metadata");
        Identity {
            kind: target.get("kind").cloned(),
            name: meta.and_then(|m| m.get("name")).cloned(),
            namespace: meta.and_then(|m| m.get("namespace")).cloned(),
        }
    }

    fn restore(self, target: &mut Value, options: SmpOptions) {
        let Some(object) = target.as_object_mut() else {
            return;
        };
        if !options.allow_kind_change {
            set_or_remove(object, "kind", self.kind);
        }
        let restore_name = !options.allow_name_change;
        let meta = object
            .entry("metadata")
            .or_insert_with(|| Value::Object(Map::new()));
        if let Some(meta) = meta.as_object_mut() {
            if restore_name {
                set_or_remove(meta, "name", self.name);
            }
            set_or_remove(meta, "namespace", self.namespace);
        }
    }
}

fn set_or_remove(object: &mut Map<String, Value>, key: &str, value: Option<Value>) {
    match value {
        Some(v) => {
            object.insert(key.to_owned(), v);
        }
        None => {
            object.shift_remove(key);
        }
    }
}

/// The result of walking one position.
enum Walked {
    /// The resource's node, merged in place (or left alone).
    InPlace,
    /// A resource `null` the patch does not mention: kyaml keeps it as a new, untagged node.
    KeptNull,
    /// A new node (from the patch) replaces the resource's.
    New(Value),
    /// The position is cleared.
    Gone,
}

pub(super) struct Merger<'s> {
    schema: &'s PatchSchema,
}

impl<'s> Merger<'s> {
    fn root(&self, target: &mut Value, patch: &Value) -> Result<SmpOutcome, PatchError> {
        // kyaml looks the type up by the resource's apiVersion and kind, then the patch's.
        let sch = [&*target, patch]
            .into_iter()
            .filter_map(Value::as_object)
            .find_map(|o| self.schema.for_object(o));
        match self.walk(Some(target), Some(patch), sch)? {
            // `$patch: replace` at the top: kyaml returns the patch, kustomize keeps its node.
            Walked::InPlace | Walked::KeptNull | Walked::New(_) => Ok(SmpOutcome::Patched),
            Walked::Gone => Ok(SmpOutcome::Deleted),
        }
    }

    /// kyaml's `Walker.Walk` with the resource's node as the destination and the patch's as
    /// the origin.
    fn walk(
        &self,
        dest: Option<&mut Value>,
        origin: Option<&Value>,
        sch: Option<Sch<'s>>,
    ) -> Result<Walked, PatchError> {
        let Some(origin) = origin else {
            return Ok(match dest {
                None => Walked::Gone,
                Some(Value::Null) => Walked::KeptNull,
                Some(dest) => {
                    self.normalize(dest, sch)?;
                    Walked::InPlace
                }
            });
        };
        let live_dest = dest.as_deref().filter(|d| !d.is_null());
        let kind = match (live_dest, origin) {
            (Some(d), _) => NodeKind::of(d),
            (None, Value::Null) => return Ok(Walked::Gone),
            (None, o) => NodeKind::of(o),
        };
        if let Some(d) = live_dest
            && NodeKind::of(d) != kind
        {
            return Err(PatchError::wrong_kind(kind, d));
        }
        if !origin.is_null() && NodeKind::of(origin) != kind {
            return Err(PatchError::wrong_kind(kind, origin));
        }
        let dest = dest.filter(|d| !d.is_null());
        match kind {
            NodeKind::Mapping => self.walk_map(dest, origin, sch),
            NodeKind::Sequence => self.walk_list(dest, origin, sch),
            NodeKind::Scalar => Ok(match origin {
                Value::Null => Walked::Gone,
                o => Walked::New(o.clone()),
            }),
        }
    }

    /// A map position where the patch has something (a map or a null). `dest` is `None` when
    /// the resource has no map here.
    fn walk_map(
        &self,
        dest: Option<&mut Value>,
        origin: &Value,
        sch: Option<Sch<'s>>,
    ) -> Result<Walked, PatchError> {
        let sch = sch.or_else(|| {
            let from_dest = dest.as_deref().and_then(Value::as_object);
            from_dest
                .and_then(|d| self.schema.for_object(d))
                .or_else(|| origin.as_object().and_then(|o| self.schema.for_object(o)))
        });
        let Some(patch) = origin.as_object() else {
            // The patch says null: clear.
            return Ok(Walked::Gone);
        };
        let Some(Value::Object(dest)) = dest else {
            return Ok(match self.add_map(patch, sch)? {
                Some(v) => Walked::New(v),
                None => Walked::Gone,
            });
        };
        let directive = patch.get(PATCH_DIRECTIVE).map(|v| text::node_text(v));
        match directive.as_deref() {
            None | Some("merge") => {}
            Some("delete") => return Ok(Walked::Gone),
            Some("replace") => {
                return Ok(match self.add_map(patch, sch)? {
                    Some(v) => Walked::New(v),
                    None => Walked::Gone,
                });
            }
            Some(other) => {
                return Err(PatchError::UnknownPatchStrategy {
                    path: String::new(),
                    value: other.to_owned(),
                });
            }
        }
        for (key, value) in patch {
            if directive.is_some() && key == PATCH_DIRECTIVE {
                continue;
            }
            let child = if is_container(value) || text::field(dest, key).is_some_and(is_container) {
                sch.and_then(|s| s.field(key))
            } else {
                None
            };
            let walked = self
                .walk(dest.get_mut(key), Some(value), child)
                .map_err(|e| e.within(key))?;
            match walked {
                Walked::InPlace | Walked::KeptNull => {}
                Walked::New(v) => {
                    dest.insert(key.clone(), v);
                }
                Walked::Gone => {
                    dest.shift_remove(key);
                }
            }
        }
        for (key, value) in dest.iter_mut() {
            if !is_container(value) || text::field(patch, key).is_some() {
                continue;
            }
            self.normalize(value, sch.and_then(|s| s.field(key)))
                .map_err(|e| e.within(key))?;
        }
        Ok(Walked::InPlace)
    }

    /// A list position where the patch has a list (or a null over the resource's list).
    fn walk_list(
        &self,
        dest: Option<&mut Value>,
        origin: &Value,
        sch: Option<Sch<'s>>,
    ) -> Result<Walked, PatchError> {
        let Some(merge) = sch.and_then(|s| s.merge_list()) else {
            return Ok(match origin {
                Value::Null => Walked::Gone,
                o => Walked::New(o.clone()),
            });
        };
        let elements = sch.and_then(|s| s.elements());
        match (dest, origin) {
            (_, Value::Null) => Ok(Walked::Gone),
            (Some(Value::Array(dest)), Value::Array(patch)) => {
                match list_directive(patch)?.as_deref() {
                    None => {
                        self.merge_list(dest, list::Origin::Patch(patch), &merge.keys, elements)?;
                        Ok(Walked::InPlace)
                    }
                    Some("delete") => Ok(Walked::Gone),
                    Some("replace") => {
                        let mut replaced = patch.clone();
                        elide_list_directive(&mut replaced, "replace");
                        self.merge_list(&mut replaced, list::Origin::Same, &merge.keys, elements)?;
                        Ok(Walked::New(Value::Array(replaced)))
                    }
                    Some(_) => {
                        let mut merged = patch.clone();
                        elide_list_directive(&mut merged, "merge");
                        self.merge_list(dest, list::Origin::Patch(&merged), &merge.keys, elements)?;
                        Ok(Walked::InPlace)
                    }
                }
            }
            (_, Value::Array(patch)) => {
                // New content: kyaml does not look for a list directive here.
                let mut added = patch.clone();
                self.merge_list(&mut added, list::Origin::Same, &merge.keys, elements)?;
                Ok(Walked::New(Value::Array(added)))
            }
            // `walk` checked the kinds.
            (_, _) => Ok(Walked::InPlace),
        }
    }

    /// Walks a resource node the patch does not mention (kyaml walks the whole resource):
    /// maps are walked on, merging lists are rebuilt, the rest stays.
    fn normalize(&self, node: &mut Value, sch: Option<Sch<'s>>) -> Result<(), PatchError> {
        match node {
            Value::Object(map) => {
                let sch = sch.or_else(|| self.schema.for_object(map));
                for (key, value) in map.iter_mut() {
                    // Scalars stay as they are; only maps and lists need their schema.
                    if is_container(value) {
                        self.normalize(value, sch.and_then(|s| s.field(key)))
                            .map_err(|e| e.within(key))?;
                    }
                }
            }
            Value::Array(items) => {
                if let Some(merge) = sch.and_then(|s| s.merge_list()) {
                    let elements = sch.and_then(|s| s.elements());
                    self.merge_list(items, list::Origin::None, &merge.keys, elements)?;
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// The map of the patch where the resource has none: the patch's map, its `$patch` directive
    /// applied (an unknown one is kept as a field), walked against itself. `None` when the
    /// directive deletes it.
    fn add_map(
        &self,
        patch: &Map<String, Value>,
        sch: Option<Sch<'s>>,
    ) -> Result<Option<Value>, PatchError> {
        let mut added = patch.clone();
        match patch
            .get(PATCH_DIRECTIVE)
            .map(|v| text::node_text(v))
            .as_deref()
        {
            Some("delete") => return Ok(None),
            Some("replace" | "merge") => {
                added.shift_remove(PATCH_DIRECTIVE);
            }
            _ => {}
        }
        self.walk_same_fields(&mut added, sch)?;
        Ok(Some(Value::Object(added)))
    }

    /// kyaml walking new content with itself as both destination and origin: nested
    /// directives apply, nulls disappear, merging lists are rebuilt. Returns whether the node
    /// stays.
    fn walk_same(&self, node: &mut Value, sch: Option<Sch<'s>>) -> Result<bool, PatchError> {
        match node {
            Value::Null => Ok(false),
            Value::Object(map) => {
                let sch = sch.or_else(|| self.schema.for_object(map));
                let directive = map
                    .get(PATCH_DIRECTIVE)
                    .map(|v| text::node_text(v).into_owned());
                match directive.as_deref() {
                    None => {}
                    Some("delete") => {
                        map.shift_remove(PATCH_DIRECTIVE);
                        return Ok(false);
                    }
                    Some("replace" | "merge") => {
                        map.shift_remove(PATCH_DIRECTIVE);
                    }
                    Some(other) => {
                        return Err(PatchError::UnknownPatchStrategy {
                            path: String::new(),
                            value: other.to_owned(),
                        });
                    }
                }
                self.walk_same_fields(map, sch)?;
                Ok(true)
            }
            Value::Array(items) => {
                if let Some(merge) = sch.and_then(|s| s.merge_list()) {
                    if let Some(directive) = list_directive(items)? {
                        if directive == "delete" {
                            return Ok(false);
                        }
                        elide_list_directive(items, &directive);
                    }
                    let elements = sch.and_then(|s| s.elements());
                    self.merge_list(items, list::Origin::Same, &merge.keys, elements)?;
                }
                Ok(true)
            }
            _ => Ok(true),
        }
    }

    fn walk_same_fields(
        &self,
        map: &mut Map<String, Value>,
        sch: Option<Sch<'s>>,
    ) -> Result<(), PatchError> {
        let mut gone = Vec::new();
        for (key, value) in map.iter_mut() {
            let child = if is_container(value) {
                sch.and_then(|s| s.field(key))
            } else {
                None
            };
            let keep = self.walk_same(value, child).map_err(|e| e.within(key))?;
            if !keep {
                gone.push(key.clone());
            }
        }
        for key in gone {
            map.shift_remove(&key);
        }
        Ok(())
    }
}

const PATCH_DIRECTIVE: &str = "$patch";

/// Whether a value is a map or a list: the only values whose walk depends on the schema.
fn is_container(value: &Value) -> bool {
    matches!(value, Value::Object(_) | Value::Array(_))
}

/// kyaml's `determineSequenceNodePatchStrategy`: the first map element with a `$patch` key, if
/// that is its only key, is a directive for the whole list (`delete`, `replace` or `merge`).
fn list_directive(items: &[Value]) -> Result<Option<String>, PatchError> {
    let Some(first) = items
        .iter()
        .filter_map(Value::as_object)
        .find(|m| m.contains_key(PATCH_DIRECTIVE))
    else {
        return Ok(None);
    };
    if first.len() > 1 {
        return Ok(None);
    }
    let directive = first
        .get(PATCH_DIRECTIVE)
        .map(|v| text::node_text(v).into_owned())
        .unwrap_or_default();
    match directive.as_str() {
        "delete" | "replace" | "merge" => Ok(Some(directive)),
        _ => Err(PatchError::UnknownPatchStrategy {
            path: String::new(),
            value: directive,
        }),
    }
}

/// Removes a list directive as kyaml does (an `ElementSetter` deletion): every map element whose
/// `$patch` is `directive` goes, and so do `null` and `{}` elements.
fn elide_list_directive(items: &mut Vec<Value>, directive: &str) {
    items.retain(|item| match item {
        Value::Null => false,
        Value::Object(m) => {
            !m.is_empty()
                && m.get(PATCH_DIRECTIVE)
                    .is_none_or(|v| text::node_text(v) != directive)
        }
        _ => true,
    });
}

#[cfg(test)]
mod tests {
    //! Each expectation here was checked against `kubectl.1.33 kustomize` (kustomize v5.6.0);
    //! `tests/patch_differential.rs` runs many more against the binary itself.
    use super::*;
    use serde_json::json;

    fn deployment(spec: Value) -> Value {
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"}, "spec": spec})
    }

    fn merge(target: &mut Value, patch: Value) -> Result<SmpOutcome, PatchError> {
        apply_strategic_merge(target, &patch, &PatchSchema::Builtin)
    }

    fn pod_spec(containers: Value) -> Value {
        json!({"template": {"spec": {"containers": containers}}})
    }

    #[test]
    fn patch_elements_come_first_in_patch_order() {
        let mut d = deployment(pod_spec(json!([
            {"name": "a", "image": "a", "env": [{"name": "E1", "value": "1"}, {"name": "E2", "value": "2"}]},
            {"name": "b", "image": "b"},
            {"name": "c", "image": "c"},
        ])));
        let patch = deployment(pod_spec(json!([
            {"name": "c", "image": "c2"},
            {"name": "new", "image": "n"},
            {"name": "a", "env": [{"name": "E0", "value": "0"}, {"name": "E1", "value": "11"}]},
        ])));
        assert_eq!(merge(&mut d, patch), Ok(SmpOutcome::Patched));
        assert_eq!(
            d["spec"]["template"]["spec"]["containers"],
            json!([
                {"name": "c", "image": "c2"},
                {"name": "new", "image": "n"},
                {"name": "a", "image": "a", "env": [
                    {"name": "E0", "value": "0"}, {"name": "E1", "value": "11"}, {"name": "E2", "value": "2"}]},
                {"name": "b", "image": "b"},
            ])
        );
    }

    #[test]
    fn two_key_lists_move_the_resources_elements_last() {
        let ports = |p: Value| deployment(pod_spec(json!([{"name": "a", "ports": p}])));
        let mut d = ports(json!([
            {"containerPort": 80, "protocol": "TCP", "name": "http"},
            {"containerPort": 80, "protocol": "UDP", "name": "udp"},
            {"containerPort": 443},
        ]));
        let patch = ports(json!([
            {"containerPort": 80, "protocol": "UDP", "name": "udp2"},
            {"containerPort": 8080},
            {"containerPort": 443, "name": "https"},
        ]));
        merge(&mut d, patch).unwrap();
        assert_eq!(
            d["spec"]["template"]["spec"]["containers"][0]["ports"],
            json!([
                {"containerPort": 8080},
                {"containerPort": 80, "protocol": "TCP", "name": "http"},
                {"containerPort": 80, "protocol": "UDP", "name": "udp2"},
                {"containerPort": 443, "name": "https"},
            ])
        );
    }

    #[test]
    fn directives_at_the_top() {
        let original = deployment(json!({"replicas": 1}));
        let mut d = original.clone();
        let delete = json!({"kind": "Deployment", "metadata": {"name": "d"}, "$patch": "delete"});
        assert_eq!(merge(&mut d, delete), Ok(SmpOutcome::Deleted));
        let replace = json!({"kind": "Deployment", "$patch": "replace", "spec": {"paused": true}});
        assert_eq!(merge(&mut d, replace), Ok(SmpOutcome::Patched));
        assert_eq!(
            d, original,
            "kustomize keeps the resource's node on a top-level replace"
        );
    }

    #[test]
    fn map_and_list_directives() {
        let mut d = deployment(json!({
            "selector": {"matchLabels": {"a": "b"}},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1}},
            "template": {"spec": {
                "containers": [{"name": "a", "image": "a"}, {"name": "b", "image": "b"}],
                "volumes": [{"name": "v", "emptyDir": {}}],
            }},
        }));
        let patch = deployment(json!({
            "selector": {"$patch": "delete"},
            "strategy": {"$patch": "replace", "type": "Recreate"},
            "template": {"spec": {
                "containers": [{"name": "a", "$patch": "replace", "image": "ignored"},
                               {"name": "b", "$patch": "delete"}],
                "volumes": [{"$patch": "delete"}],
                "$setElementOrder/containers": [{"name": "a"}],
            }},
        }));
        merge(&mut d, patch).unwrap();
        assert_eq!(
            d["spec"],
            json!({
                "strategy": {"type": "Recreate"},
                "template": {"spec": {
                    "containers": [{"name": "a", "image": "a"}],
                    "$setElementOrder/containers": [{"name": "a"}],
                }},
            })
        );
    }

    #[test]
    fn nulls_in_the_patch_remove_nulls_in_the_resource_stay() {
        let mut d = deployment(json!({"replicas": null, "paused": true, "strategy": null,
                                      "template": {"metadata": {"labels": {"a": "b"}}}}));
        let patch = deployment(json!({"paused": null, "strategy": {"type": "Recreate"},
                                      "template": {"metadata": {"labels": {"a": null}}}}));
        merge(&mut d, patch).unwrap();
        assert_eq!(
            d["spec"],
            json!({"replicas": null, "strategy": {"type": "Recreate"},
                   "template": {"metadata": {"labels": {}}}})
        );
    }

    #[test]
    fn kinds_without_schema_replace_lists() {
        let cr = |spec: Value| json!({"apiVersion": "example.com/v1", "kind": "W", "metadata": {"name": "w"}, "spec": spec});
        let mut w = cr(json!({"items": [{"name": "a"}], "m": {"x": 1}}));
        merge(&mut w, cr(json!({"items": [{"name": "b"}], "m": {"y": 2}}))).unwrap();
        assert_eq!(
            w["spec"],
            json!({"items": [{"name": "b"}], "m": {"x": 1, "y": 2}})
        );
    }

    #[test]
    fn an_element_without_its_key_drops_its_neighbours() {
        let mut d = deployment(json!({"template": {"spec": {
            "volumes": [{}, {"name": "v1", "emptyDir": {}}],
        }}}));
        merge(&mut d, json!({"metadata": {"labels": {"x": "z"}}})).unwrap();
        assert_eq!(d["spec"]["template"]["spec"]["volumes"], json!([]));
    }

    #[test]
    fn errors_name_the_field() {
        let mut d = deployment(pod_spec(json!([{"name": "a"}])));
        let err = merge(&mut d, deployment(pod_spec(json!({"name": "a"})))).unwrap_err();
        assert_eq!(
            err.to_string(),
            "wrong node kind at spec.template.spec.containers: expected SequenceNode but got \
             MappingNode: node contents:\n{\"name\":\"a\"}"
        );
        let patch = deployment(pod_spec(
            json!([{"name": "a", "securityContext": {"$patch": "x"}}]),
        ));
        let mut d = deployment(pod_spec(json!([{"name": "a", "securityContext": {}}])));
        assert_eq!(
            merge(&mut d, patch).unwrap_err().to_string(),
            "unknown patch strategy 'x' at spec.template.spec.containers[name=a].securityContext"
        );
    }

    #[test]
    fn resource_patches_keep_the_identity_and_stringify_targeted_metadata() {
        let mut d = deployment(json!({"replicas": 1}));
        let patch = json!({"apiVersion": "apps/v2", "kind": "Other",
                           "metadata": {"name": "x", "namespace": "n", "labels": {"n": 1, "t": true}}});
        let targeted = SmpOptions {
            targeted: true,
            ..SmpOptions::default()
        };
        apply_strategic_merge_resource(&mut d, &patch, &PatchSchema::Builtin, targeted).unwrap();
        assert_eq!(
            d,
            json!({"apiVersion": "apps/v1", "kind": "Deployment",
                   "metadata": {"name": "d", "labels": {"n": "1", "t": "true"}},
                   "spec": {"replicas": 1}})
        );
        let renaming = SmpOptions {
            allow_name_change: true,
            allow_kind_change: true,
            targeted: false,
        };
        apply_strategic_merge_resource(&mut d, &patch, &PatchSchema::Builtin, renaming).unwrap();
        assert_eq!(d["metadata"]["name"], "x");
        assert_eq!(d["kind"], "Other");
        assert_eq!(d["apiVersion"], "apps/v2");
        assert_eq!(d["metadata"].get("namespace"), None);
    }
}
