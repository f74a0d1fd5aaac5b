//! The dry-run diff (fluxcd/pkg `ssa.ResourceManager.Diff`, as `flux diff kustomization` uses
//! it): what an apply and a prune would change, read from the API server without writing.
//!
//! A manifest gets the apply path's preparation (checks, normalization, owner labels); the live
//! object is read and the manifest is server-side applied as a dry run with the same field
//! manager and force. The dry-run result is what the object would become, and it is compared with
//! the live object by the apply path's rule ([`has_drifted`]), so an object a staged apply would
//! not write is Unchanged here. Both sides are then cleaned for reading: server bookkeeping
//! (`managedFields`, `resourceVersion`, `generation`, `uid`, `creationTimestamp`, `status`) goes,
//! and Secret values are masked.

use std::collections::HashSet;
use std::fmt;
use std::sync::Arc;

use futures::{StreamExt, stream};
use json_patch::PatchOperation;
use serde_json::{Map, Value};

use crate::changeset::Action;
use crate::cleanup::{LAST_APPLIED_ANNOTATION, cleanup_patch};
use crate::client;
use crate::delete::is_prunable;
use crate::error::{Error, is_immutable_error};
use crate::manager::{ApplyOptions, DeleteOptions, Desired, ResourceManager, fit_scope, prepare};
use crate::normalize::has_drifted;
use crate::object::ObjectRef;
use crate::sort::{Stage, compare, sort_objects};
use crate::stamp;

/// What a Secret value is shown as when it is the same on both sides, or on one side only.
pub const SECRET_MASK: &str = "***";
/// What a changed Secret value is shown as on the live side.
pub const SECRET_MASK_BEFORE: &str = "*** (before)";
/// What a changed Secret value is shown as on the desired side.
pub const SECRET_MASK_AFTER: &str = "*** (after)";

/// Metadata the API server maintains; it differs between a live object and its dry-run result
/// without anyone having changed anything.
const SERVER_METADATA: &[&str] = &[
    "managedFields",
    "resourceVersion",
    "generation",
    "uid",
    "creationTimestamp",
    "selfLink",
];

/// What an apply (or a prune) would do to one object, with both sides cleaned for display.
#[derive(Debug, Clone, PartialEq)]
pub struct ObjectDiff {
    pub object: ObjectRef,
    /// [`Action::Created`], [`Action::Configured`] (drifted), [`Action::Unchanged`],
    /// [`Action::Skipped`] (an `ssa: Ignore`/`IfNotPresent` object, or one a prune keeps), or
    /// [`Action::Deleted`] (pruned).
    pub action: Action,
    /// The live object; `None` when it does not exist yet.
    pub live: Option<Value>,
    /// What the object would become (the dry-run result); `None` for a pruned or skipped object.
    pub desired: Option<Value>,
    /// An immutable field changed and the apply would delete and recreate the object (the
    /// Kustomization's `force`, or the `force: Enabled` annotation). The server cannot dry-run
    /// the replacement, so [`ObjectDiff::desired`] is then the manifest itself, without the
    /// server's defaults.
    pub recreate: bool,
    /// The apply would first take over the fields of kubectl's managers (see
    /// [`crate::CleanupOptions::flux`]), and so remove the fields they added that the manifest
    /// does not declare. The dry run cannot show that removal: [`ObjectDiff::desired`] still has
    /// those fields. The object counts as [`Action::Configured`], as the apply reports it.
    pub takeover: bool,
}

impl ObjectDiff {
    /// Cleans both sides for display (no server bookkeeping, no `status`) and masks Secret
    /// values.
    fn new(
        object: ObjectRef,
        action: Action,
        live: Option<Value>,
        desired: Option<Value>,
    ) -> ObjectDiff {
        let mut live = live.map(for_display);
        let mut desired = desired.map(for_display);
        mask_secret_values(live.as_mut(), desired.as_mut());
        ObjectDiff {
            object,
            action,
            live,
            desired,
            recreate: false,
            takeover: false,
        }
    }

    /// Whether the cluster would change (created, drifted or pruned).
    pub fn changed(&self) -> bool {
        self.action.changed()
    }
}

/// Some objects could not be diffed; the others were.
#[derive(Debug)]
pub struct DiffError {
    /// The objects that were diffed.
    pub diffs: Vec<ObjectDiff>,
    pub errors: Vec<Error>,
}

impl fmt::Display for DiffError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.errors.as_slice() {
            [one] => write!(f, "{one}"),
            many => {
                write!(f, "{} objects cannot be diffed:", many.len())?;
                for e in many {
                    write!(f, "\n- {e}")?;
                }
                Ok(())
            }
        }
    }
}

impl std::error::Error for DiffError {}

/// One prepared manifest: to dry-run, or to report as created without asking the server
/// because its kind comes from a CustomResourceDefinition of the same set, not served yet.
enum Todo {
    DryRun(Desired),
    Unserved(ObjectRef, Value),
}

impl Todo {
    fn object(&self) -> &ObjectRef {
        match self {
            Todo::DryRun(d) => &d.object,
            Todo::Unserved(o, _) => o,
        }
    }
}

impl ResourceManager {
    /// What [`ResourceManager::apply_all_staged`] with `options` would do to each of `objects`,
    /// without writing anything: one GET and one dry-run apply per object, in Flux's staged
    /// order.
    ///
    /// Where an apply depends on an earlier stage, the diff assumes that stage succeeds: an object
    /// whose Namespace is created by the same set, or whose kind a CRD of the same set defines,
    /// is Created with its manifest as the desired side. An object whose immutable fields changed
    /// is an error ([`Error::Immutable`]) unless it would be recreated
    /// ([`ObjectDiff::recreate`]).
    ///
    /// An object whose fields kubectl's managers own is Configured, as the apply would take them
    /// over ([`ObjectDiff::takeover`]); the fields kubectl added that the apply would then remove
    /// do not show (the server cannot dry-run the two steps together), the last-applied
    /// annotation the takeover removes does.
    ///
    /// A failure does not stop the others: every error comes back with the diffs of the rest.
    pub async fn diff(
        &self,
        objects: Vec<Value>,
        options: &ApplyOptions,
    ) -> Result<Vec<ObjectDiff>, DiffError> {
        let mut errors = vec![];
        let mut prepared = vec![];
        for (index, manifest) in objects.into_iter().enumerate() {
            match prepare(index, manifest, options) {
                Ok(p) => prepared.push(p),
                Err(e) => errors.push(e),
            }
        }
        let new_namespaces: HashSet<String> = prepared
            .iter()
            .filter(|(o, _)| o.group.is_empty() && o.kind == "Namespace")
            .map(|(o, _)| o.name.clone())
            .collect();
        let new_kinds: HashSet<(String, String)> = prepared
            .iter()
            .filter(|(o, _)| {
                o.group == "apiextensions.k8s.io" && o.kind == "CustomResourceDefinition"
            })
            .filter_map(|(_, body)| {
                let s = |p: &str| body.pointer(p).and_then(Value::as_str).map(str::to_owned);
                Some((s("/spec/group")?, s("/spec/names/kind")?))
            })
            .collect();

        let mut todo = vec![];
        let mut seen = HashSet::new();
        for (mut object, mut body) in prepared {
            let item = match self.resolve(&object).await {
                Ok(resolved) => match fit_scope(&mut object, &mut body, &resolved) {
                    Ok(()) => Todo::DryRun(Desired {
                        object: object.clone(),
                        body,
                        resolved,
                    }),
                    Err(e) => {
                        errors.push(e);
                        continue;
                    }
                },
                Err(Error::UnknownKind { .. })
                    if new_kinds.contains(&(object.group.clone(), object.kind.clone())) =>
                {
                    Todo::Unserved(object.clone(), body)
                }
                Err(e) => {
                    errors.push(e);
                    continue;
                }
            };
            if !seen.insert(object.clone()) {
                errors.push(Error::Duplicate { object });
                continue;
            }
            todo.push(item);
        }
        todo.sort_by(|a, b| {
            let (a, b) = (a.object(), b.object());
            Stage::of(a).cmp(&Stage::of(b)).then_with(|| compare(a, b))
        });

        // Owned items keep the future `Send` for callers that spawn it (see `wait::poll`).
        let new_namespaces = Arc::new(new_namespaces);
        let results: Vec<Result<ObjectDiff, Error>> = stream::iter(todo)
            .map(|item| {
                let new_namespaces = Arc::clone(&new_namespaces);
                async move {
                    match item {
                        Todo::Unserved(object, body) => {
                            Ok(ObjectDiff::new(object, Action::Created, None, Some(body)))
                        }
                        Todo::DryRun(desired) => {
                            self.diff_one(desired, options, &new_namespaces).await
                        }
                    }
                }
            })
            .buffered(options.concurrency.max(1))
            .collect()
            .await;
        // The stamp is bookkeeping, like `resourceVersion`: an apply changes it on whatever it
        // writes, so it is no part of what a diff shows.
        let unstamped = results.into_iter().map(|r| {
            r.map(|mut d| {
                if let Some(stamp) = &options.stamp {
                    for side in [d.live.as_mut(), d.desired.as_mut()].into_iter().flatten() {
                        stamp.remove_from(side);
                    }
                }
                Some(d)
            })
        });
        gather(unstamped, errors)
    }

    /// What [`ResourceManager::delete_all`] with `options` would do to the `stale` objects (those
    /// [`crate::Inventory::diff`] found), without deleting anything, in Flux's apply order:
    /// [`Action::Deleted`] with the live object, or [`Action::Skipped`] when the prune would keep
    /// it (not carrying the owner labels, or protected by an annotation). Objects already gone
    /// (or whose kind is no longer served) are left out: pruning them changes nothing.
    pub async fn diff_prune(
        &self,
        stale: &[ObjectRef],
        options: &DeleteOptions,
    ) -> Result<Vec<ObjectDiff>, DiffError> {
        let mut sorted = stale.to_vec();
        sort_objects(&mut sorted);
        let results: Vec<Result<Option<ObjectDiff>, Error>> = stream::iter(sorted)
            .map(|object| async move { self.diff_prune_one(object, options).await })
            .buffered(options.concurrency.max(1))
            .collect()
            .await;
        gather(results, vec![])
    }

    async fn diff_one(
        &self,
        desired: Desired,
        options: &ApplyOptions,
        new_namespaces: &HashSet<String>,
    ) -> Result<ObjectDiff, Error> {
        let object = desired.object.clone();
        let live = client::get(&self.client, &desired.resolved, &object)
            .await
            .map_err(|f| Error::Get {
                object: object.clone(),
                message: f.message,
            })?;
        if self.should_skip(&desired.body, live.as_ref(), options) {
            return Ok(ObjectDiff::new(object, Action::Skipped, live, None));
        }
        let dry_run = match self.dry_run(&desired).await {
            Ok(v) => v,
            Err(f)
                if live.is_none()
                    && f.is_not_found()
                    && new_namespaces.contains(&object.namespace) =>
            {
                // Its Namespace comes with the set: the apply creates that first.
                return Ok(ObjectDiff::new(
                    object,
                    Action::Created,
                    None,
                    Some(desired.body),
                ));
            }
            Err(f) => {
                let Some(current) = live.filter(|_| is_immutable_error(&f)) else {
                    return Err(Error::DryRun {
                        object,
                        message: f.message,
                    });
                };
                if !self.should_force(&desired.body, &current, options) {
                    return Err(Error::Immutable {
                        object,
                        message: f.message,
                    });
                }
                let mut diff = ObjectDiff::new(
                    object,
                    Action::Configured,
                    Some(current),
                    Some(desired.body),
                );
                diff.recreate = true;
                return Ok(diff);
            }
        };
        let Some(live) = live else {
            return Ok(ObjectDiff::new(
                object,
                Action::Created,
                None,
                Some(dry_run),
            ));
        };
        // The apply first removes what its takeover patch names (kubectl's last-applied
        // annotation, Flux v1's marks); the dry-run cannot know, so remove it here.
        let mut after = dry_run;
        let mut takeover = false;
        if let Some(patch) = cleanup_patch(
            &desired.body,
            &live,
            &options.cleanup,
            &self.owner.field_manager,
        ) {
            takeover = patch.0.iter().any(|op| {
                matches!(op, PatchOperation::Replace(r) if r.path.as_str() == "/metadata/managedFields")
            });
            let mut patched = after.clone();
            if json_patch::patch(&mut patched, &patch).is_ok() {
                after = patched;
            }
        }
        // As the apply path decides: a takeover is a write even when the dry run shows no drift.
        let ignored = stamp::ignored(options.stamp.as_ref());
        let action = if takeover || has_drifted(&live, &after, &ignored) {
            Action::Configured
        } else {
            Action::Unchanged
        };
        let mut diff = ObjectDiff::new(object, action, Some(live), Some(after));
        diff.takeover = takeover;
        Ok(diff)
    }

    async fn diff_prune_one(
        &self,
        object: ObjectRef,
        options: &DeleteOptions,
    ) -> Result<Option<ObjectDiff>, Error> {
        let resolved = match self.resolve(&object).await {
            Ok(r) => r,
            // Its CRD is gone, and so are its objects.
            Err(Error::UnknownKind { .. }) => return Ok(None),
            Err(e) => return Err(e),
        };
        let Some(live) = client::get(&self.client, &resolved, &object)
            .await
            .map_err(|f| Error::Get {
                object: object.clone(),
                message: f.message,
            })?
        else {
            return Ok(None);
        };
        let action = if is_prunable(&live, options) {
            Action::Deleted
        } else {
            Action::Skipped
        };
        let mut diff = ObjectDiff::new(object, action, Some(live), None);
        if let (Some(stamp), Some(live)) = (&options.stamp, diff.live.as_mut()) {
            stamp.remove_from(live);
        }
        Ok(Some(diff))
    }
}

fn gather(
    results: impl IntoIterator<Item = Result<Option<ObjectDiff>, Error>>,
    mut errors: Vec<Error>,
) -> Result<Vec<ObjectDiff>, DiffError> {
    let mut diffs = vec![];
    for result in results {
        match result {
            Ok(diff) => diffs.extend(diff),
            Err(e) => errors.push(e),
        }
    }
    if errors.is_empty() {
        Ok(diffs)
    } else {
        Err(DiffError { diffs, errors })
    }
}

/// The object without `status` and the metadata the server maintains; empty label and
/// annotation maps go too (the drift rule counts them as absent).
pub fn for_display(mut object: Value) -> Value {
    if let Some(map) = object.as_object_mut() {
        map.remove("status");
        if let Some(meta) = map.get_mut("metadata").and_then(Value::as_object_mut) {
            for field in SERVER_METADATA {
                meta.remove(*field);
            }
            for field in ["labels", "annotations"] {
                if meta
                    .get(field)
                    .is_some_and(|m| m.as_object().is_some_and(Map::is_empty) || m.is_null())
                {
                    meta.remove(field);
                }
            }
        }
    }
    object
}

/// Masks the values of a Secret's `data` and `stringData` (and of kubectl's last-applied
/// annotation, which holds them in clear) on both sides of a diff, as Flux's
/// `SanitizeUnstructuredData` does: a value present on both sides is [`SECRET_MASK`] when equal
/// and [`SECRET_MASK_BEFORE`] / [`SECRET_MASK_AFTER`] when it changed; a key on one side only
/// is [`SECRET_MASK`]. Objects other than core Secrets are left alone.
pub fn mask_secret_values(mut before: Option<&mut Value>, mut after: Option<&mut Value>) {
    let is_secret = |v: Option<&Value>| {
        v.is_some_and(|v| {
            v.get("kind").and_then(Value::as_str) == Some("Secret")
                && v.get("apiVersion").and_then(Value::as_str) == Some("v1")
        })
    };
    if !is_secret(before.as_deref()) && !is_secret(after.as_deref()) {
        return;
    }
    let annotation = format!(
        "/metadata/annotations/{}",
        LAST_APPLIED_ANNOTATION.replace('/', "~1")
    );
    for pointer in ["/data", "/stringData"] {
        let old = string_map(before.as_deref(), pointer);
        let new = string_map(after.as_deref(), pointer);
        for (side, own, other, changed) in [
            (before.as_deref_mut(), &old, &new, SECRET_MASK_BEFORE),
            (after.as_deref_mut(), &new, &old, SECRET_MASK_AFTER),
        ] {
            if let (Some(side), Some(own)) = (side, own)
                && let Some(slot) = side.pointer_mut(pointer)
            {
                *slot = Value::Object(masked(own, other.as_ref(), changed));
            }
        }
    }
    let old = before
        .as_deref()
        .and_then(|v| v.pointer(&annotation))
        .cloned();
    let new = after
        .as_deref()
        .and_then(|v| v.pointer(&annotation))
        .cloned();
    for (side, own, other, changed) in [
        (before, &old, &new, SECRET_MASK_BEFORE),
        (after, &new, &old, SECRET_MASK_AFTER),
    ] {
        if let (Some(side), Some(own)) = (side, own)
            && let Some(slot) = side.pointer_mut(&annotation)
        {
            let mask = match other {
                Some(o) if o != own => changed,
                _ => SECRET_MASK,
            };
            *slot = Value::String(mask.to_owned());
        }
    }
}

fn string_map(object: Option<&Value>, pointer: &str) -> Option<Map<String, Value>> {
    object?.pointer(pointer)?.as_object().cloned()
}

fn masked(
    own: &Map<String, Value>,
    other: Option<&Map<String, Value>>,
    changed: &str,
) -> Map<String, Value> {
    own.iter()
        .map(|(key, value)| {
            let mask = match other.and_then(|o| o.get(key)) {
                Some(o) if o != value => changed,
                _ => SECRET_MASK,
            };
            (key.clone(), Value::String(mask.to_owned()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn secret(data: Value) -> Value {
        json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, "data": data})
    }

    #[test]
    fn secret_values_are_masked_and_changes_still_show() {
        let mut live = secret(json!({"same": "YQ==", "changed": "Yg==", "gone": "Yw=="}));
        let mut desired = secret(json!({"same": "YQ==", "changed": "ZA==", "new": "ZQ=="}));
        mask_secret_values(Some(&mut live), Some(&mut desired));
        assert_eq!(
            live["data"],
            json!({"same": "***", "changed": "*** (before)", "gone": "***"})
        );
        assert_eq!(
            desired["data"],
            json!({"same": "***", "changed": "*** (after)", "new": "***"})
        );
    }

    #[test]
    fn one_sided_secrets_and_string_data_and_last_applied_are_masked() {
        let mut created = json!({"apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": "s", "annotations": {LAST_APPLIED_ANNOTATION: "{\"data\":{\"k\":\"c2VjcmV0\"}}"}},
            "data": {"k": "c2VjcmV0"}, "stringData": {"p": "secret"}});
        mask_secret_values(None, Some(&mut created));
        assert_eq!(created["data"], json!({"k": "***"}));
        assert_eq!(created["stringData"], json!({"p": "***"}));
        assert_eq!(
            created["metadata"]["annotations"][LAST_APPLIED_ANNOTATION],
            "***"
        );
        assert!(!created.to_string().contains("c2VjcmV0"));
        assert!(!created.to_string().contains("secret\""));
    }

    #[test]
    fn other_kinds_keep_their_data() {
        let mut cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"},
                            "data": {"k": "v"}});
        let before = cm.clone();
        mask_secret_values(Some(&mut cm), None);
        assert_eq!(cm, before);
    }

    #[test]
    fn display_form_drops_server_bookkeeping() {
        let live = json!({
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "c", "namespace": "d", "uid": "u", "resourceVersion": "7",
                         "generation": 2, "creationTimestamp": "2026-01-01T00:00:00Z",
                         "managedFields": [{"manager": "m"}], "labels": {}, "annotations": {"a": "b"}},
            "data": {"k": "v"}, "status": {"x": 1}
        });
        assert_eq!(
            for_display(live),
            json!({"apiVersion": "v1", "kind": "ConfigMap",
                   "metadata": {"name": "c", "namespace": "d", "annotations": {"a": "b"}},
                   "data": {"k": "v"}})
        );
    }

    #[test]
    fn several_errors_are_listed() {
        let err = DiffError {
            diffs: vec![],
            errors: vec![
                Error::Duplicate {
                    object: ObjectRef::new("v1", "ConfigMap", "a", "c"),
                },
                Error::NamespaceRequired {
                    object: ObjectRef::new("v1", "ConfigMap", "", "d"),
                },
            ],
        };
        assert_eq!(
            err.to_string(),
            "2 objects cannot be diffed:\n- ConfigMap/a/c appears more than once in the set to apply\n- ConfigMap/d: the resource is namespaced but the object has no namespace"
        );
    }
}
