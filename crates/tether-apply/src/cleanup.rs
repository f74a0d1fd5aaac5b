//! Taking fields over from kubectl before applying (Flux's `ApplyCleanupOptions`): a JSON patch
//! that removes kubectl's bookkeeping annotation and renames the managed-fields entries of the
//! managers Flux takes over to the applier's own `Apply` entry, merging their field sets into it.
//!
//! Why: server-side apply only removes a field when the applier owned it and no longer declares
//! it, and a forced apply only takes back the fields it declares. Once the fields written by
//! `kubectl edit`/`patch`/`apply` are owned by the applier, the next apply resets edited values
//! and removes the fields someone added by hand.

use std::collections::BTreeMap;

use json_patch::{Patch, PatchOperation, RemoveOperation, ReplaceOperation};
use serde_json::{Map, Value};

use crate::object;

/// The annotation `kubectl apply` (client-side) keeps its last configuration in.
pub const LAST_APPLIED_ANNOTATION: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// A managed-fields entry's operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    Apply,
    Update,
}

impl Operation {
    fn as_str(self) -> &'static str {
        match self {
            Operation::Apply => "Apply",
            Operation::Update => "Update",
        }
    }
}

/// Managers whose name starts with `prefix` and that wrote with `operation` (main resource only,
/// not a subresource such as `status`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldManager {
    pub prefix: String,
    pub operation: Operation,
}

impl FieldManager {
    pub fn new(prefix: &str, operation: Operation) -> FieldManager {
        FieldManager {
            prefix: prefix.to_owned(),
            operation,
        }
    }

    fn matches(&self, entry: &Value) -> bool {
        let s = |f: &str| entry.get(f).and_then(Value::as_str).unwrap_or("");
        s("manager").starts_with(&self.prefix)
            && s("operation") == self.operation.as_str()
            && s("subresource").is_empty()
    }
}

/// What to clean up on live objects before applying.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CleanupOptions {
    /// Annotation keys to remove.
    pub annotations: Vec<String>,
    /// Label keys to remove.
    pub labels: Vec<String>,
    /// Managers whose fields the applier takes over.
    pub field_managers: Vec<FieldManager>,
    /// Objects (desired or live) with any of these labels or annotations are left alone.
    pub exclusions: BTreeMap<String, String>,
}

impl CleanupOptions {
    /// kustomize-controller's cleanup for the field manager `own`: kubectl's `Apply` and `Update`
    /// entries (the `kubectl` prefix covers `kubectl-edit`, `kubectl-patch`,
    /// `kubectl-client-side-apply`, ...), `before-first-apply`, and `own`'s `Update` entries (written
    /// before it used server-side apply); the last-applied annotation and Flux v1's checksum
    /// marks; objects annotated `<group>/ssa: Merge` are excluded.
    pub fn flux(own: &str, group: &str) -> CleanupOptions {
        CleanupOptions {
            annotations: vec![
                LAST_APPLIED_ANNOTATION.to_owned(),
                format!("{group}/checksum"),
                "fluxcd.io/sync-checksum".to_owned(),
            ],
            labels: vec!["fluxcd.io/sync-gc-mark".to_owned()],
            field_managers: vec![
                FieldManager::new("kubectl", Operation::Apply),
                FieldManager::new("kubectl", Operation::Update),
                FieldManager::new("before-first-apply", Operation::Update),
                FieldManager::new(own, Operation::Update),
            ],
            exclusions: BTreeMap::from([(format!("{group}/ssa"), "Merge".to_owned())]),
        }
    }
}

/// The JSON patch that cleans `live` up for `own` (the applier's field manager), or `None` when
/// there is nothing to clean or either object is excluded.
pub fn cleanup_patch(
    desired: &Value,
    live: &Value,
    options: &CleanupOptions,
    own: &str,
) -> Option<Patch> {
    if object::any_in_metadata(desired, &options.exclusions)
        || object::any_in_metadata(live, &options.exclusions)
    {
        return None;
    }
    let mut ops = vec![];
    for (field, keys) in [
        ("annotations", &options.annotations),
        ("labels", &options.labels),
    ] {
        let present = object::string_map(live, field);
        for key in keys.iter().filter(|k| present.contains_key(*k)) {
            ops.push(PatchOperation::Remove(RemoveOperation {
                path: pointer(&["metadata", field, key]),
            }));
        }
    }
    if let Some(entries) = take_over(live, &options.field_managers, own) {
        ops.push(PatchOperation::Replace(ReplaceOperation {
            path: pointer(&["metadata", "managedFields"]),
            value: Value::Array(entries),
        }));
    }
    (!ops.is_empty()).then_some(Patch(ops))
}

fn pointer(segments: &[&str]) -> json_patch::jsonptr::PointerBuf {
    json_patch::jsonptr::PointerBuf::from_tokens(segments.iter().copied())
}

/// The managed fields with every entry of `managers` folded into `own`'s `Apply` entry, or `None`
/// when no entry matches. The existing `own` `Apply` entry (or, without one, the first matching
/// entry renamed) receives the union of the matching entries' field sets and goes last.
fn take_over(live: &Value, managers: &[FieldManager], own: &str) -> Option<Vec<Value>> {
    let entries = live.pointer("/metadata/managedFields")?.as_array()?;
    let is_own_apply = |e: &Value| {
        e.get("manager").and_then(Value::as_str) == Some(own)
            && e.get("operation").and_then(Value::as_str) == Some("Apply")
            && e.get("subresource")
                .and_then(Value::as_str)
                .unwrap_or("")
                .is_empty()
    };
    let own_index = entries.iter().rposition(is_own_apply);
    let mut target: Option<Value> = own_index.map(|i| entries[i].clone());
    let mut kept = vec![];
    let mut edited = false;
    for (i, entry) in entries.iter().enumerate() {
        if Some(i) == own_index {
            continue;
        }
        if !managers.iter().any(|m| m.matches(entry)) {
            kept.push(entry.clone());
            continue;
        }
        edited = true;
        match &mut target {
            None => {
                let mut renamed = entry.clone();
                if let Some(map) = renamed.as_object_mut() {
                    map.insert("manager".into(), Value::String(own.to_owned()));
                    map.insert("operation".into(), Value::String("Apply".into()));
                }
                target = Some(renamed);
            }
            Some(target) => {
                let fields = entry.get("fieldsV1").cloned().unwrap_or(Value::Null);
                match target.get_mut("fieldsV1") {
                    Some(into) => union_fields(into, &fields),
                    None => {
                        if let Some(map) = target.as_object_mut() {
                            map.insert("fieldsV1".into(), fields);
                            map.insert("fieldsType".into(), Value::String("FieldsV1".into()));
                        }
                    }
                }
            }
        }
    }
    if !edited {
        return None;
    }
    kept.extend(target);
    Some(kept)
}

/// Adds the field set `from` to `into` (both `FieldsV1` tries: nested objects whose keys are
/// path elements; a union is a deep merge).
fn union_fields(into: &mut Value, from: &Value) {
    let Some(from) = from.as_object() else {
        return;
    };
    if !into.is_object() {
        *into = Value::Object(Map::new());
    }
    if let Some(into) = into.as_object_mut() {
        for (key, child) in from {
            match into.get_mut(key) {
                Some(existing) => union_fields(existing, child),
                None => {
                    into.insert(key.clone(), child.clone());
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const OWN: &str = "kustomize-controller";

    fn options() -> CleanupOptions {
        CleanupOptions::flux(OWN, "kustomize.toolkit.fluxcd.io")
    }

    fn entry(manager: &str, operation: &str, fields: Value) -> Value {
        json!({"manager": manager, "operation": operation, "apiVersion": "apps/v1",
               "time": "2026-01-01T00:00:00Z", "fieldsType": "FieldsV1", "fieldsV1": fields})
    }

    #[test]
    fn kubectl_entries_fold_into_the_own_apply_entry() {
        let live = json!({"metadata": {
            "annotations": {LAST_APPLIED_ANNOTATION: "{}", "keep": "x"},
            "managedFields": [
                entry(OWN, "Apply", json!({"f:spec": {"f:replicas": {}}})),
                entry("kube-controller-manager", "Update", json!({"f:status": {".": {}}})),
                entry("kubectl-edit", "Update", json!({"f:spec": {"f:paused": {}}})),
                entry("kubectl-client-side-apply", "Update", json!({"f:metadata": {"f:labels": {"f:x": {}}}})),
            ]
        }});
        let patch = cleanup_patch(&json!({}), &live, &options(), OWN).unwrap();
        let ops = serde_json::to_value(&patch).unwrap();
        assert_eq!(
            ops[0],
            json!({"op": "remove",
            "path": "/metadata/annotations/kubectl.kubernetes.io~1last-applied-configuration"})
        );
        assert_eq!(ops[1]["op"], "replace");
        assert_eq!(ops[1]["path"], "/metadata/managedFields");
        let entries = ops[1]["value"].as_array().unwrap();
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0]["manager"], "kube-controller-manager");
        assert_eq!(entries[1]["manager"], OWN);
        assert_eq!(entries[1]["operation"], "Apply");
        assert_eq!(
            entries[1]["fieldsV1"],
            json!({"f:spec": {"f:replicas": {}, "f:paused": {}}, "f:metadata": {"f:labels": {"f:x": {}}}})
        );
    }

    #[test]
    fn without_an_own_entry_the_first_match_is_renamed() {
        let live = json!({"metadata": {"managedFields": [
            entry("kubectl-client-side-apply", "Update", json!({"f:data": {"f:a": {}}})),
            entry("kubectl-edit", "Update", json!({"f:data": {"f:b": {}}})),
        ]}});
        let patch =
            serde_json::to_value(cleanup_patch(&json!({}), &live, &options(), OWN).unwrap())
                .unwrap();
        let entries = patch[0]["value"].as_array().unwrap();
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0]["manager"], OWN);
        assert_eq!(entries[0]["operation"], "Apply");
        assert_eq!(entries[0]["apiVersion"], "apps/v1");
        assert_eq!(
            entries[0]["fieldsV1"],
            json!({"f:data": {"f:a": {}, "f:b": {}}})
        );
    }

    #[test]
    fn nothing_to_do_or_excluded_gives_no_patch() {
        let clean = json!({"metadata": {"managedFields": [
            entry(OWN, "Apply", json!({"f:data": {}})),
            entry("kubectl-edit", "Update", json!({"f:status": {}})).as_object().map(|m| {
                let mut m = m.clone();
                m.insert("subresource".into(), json!("status"));
                Value::Object(m)
            }).unwrap(),
        ]}});
        assert!(cleanup_patch(&json!({}), &clean, &options(), OWN).is_none());

        let drifted =
            json!({"metadata": {"managedFields": [entry("kubectl-edit", "Update", json!({}))]}});
        let merge =
            json!({"metadata": {"annotations": {"kustomize.toolkit.fluxcd.io/ssa": "merge"}}});
        assert!(cleanup_patch(&merge, &drifted, &options(), OWN).is_none());
        assert!(cleanup_patch(&json!({}), &drifted, &options(), OWN).is_some());
    }

    #[test]
    fn own_update_entries_are_taken_over_too() {
        let live =
            json!({"metadata": {"managedFields": [entry(OWN, "Update", json!({"f:data": {}}))]}});
        let patch =
            serde_json::to_value(cleanup_patch(&json!({}), &live, &options(), OWN).unwrap())
                .unwrap();
        assert_eq!(patch[0]["value"][0]["operation"], "Apply");
    }
}
