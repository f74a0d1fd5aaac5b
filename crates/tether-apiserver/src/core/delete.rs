//! Delete: immediate when nothing holds the object, otherwise graceful: `deletionTimestamp` is set
//! and the object stays until its finalizers are removed (the update that removes the last one
//! deletes it).

use std::sync::Arc;

use serde_json::{Value, json};
use tether_store::{WriteError, WriteOp};

use super::{Core, Output, present, store_write_error};
use crate::object;
use crate::registry::{Origin, Resource};
use crate::status::ApiError;

/// How dependents are treated (garbage collection).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Propagation {
    Orphan,
    Background,
    Foreground,
}

/// `DeleteOptions`, from the body or the query.
#[derive(Debug, Clone, Default)]
pub struct DeleteOptions {
    pub dry_run: bool,
    pub propagation: Option<Propagation>,
    pub precondition_uid: Option<String>,
    pub precondition_resource_version: Option<String>,
    /// The legacy `orphanDependents`, as given (it decides 200 or 202 for a pending delete).
    pub orphan_dependents: Option<bool>,
}

impl DeleteOptions {
    /// Reads a `DeleteOptions` body (may be empty) over query defaults.
    pub fn from_body(mut self, body: &Value) -> Result<DeleteOptions, ApiError> {
        let set = |key: &str| body.get(key).is_some_and(|v| !v.is_null());
        if set("propagationPolicy") && set("orphanDependents") {
            let shown = body["propagationPolicy"].as_str().unwrap_or_default();
            return Err(ApiError::invalid(
                "meta.k8s.io",
                "DeleteOptions",
                "",
                vec![crate::status::Cause::new(
                    "FieldValueInvalid",
                    "propagationPolicy",
                    format!(
                        "Invalid value: {shown:?}: orphanDependents and deletionPropagation cannot be both set"
                    ),
                )],
            ));
        }
        if let Some(policy) = body.get("propagationPolicy").and_then(Value::as_str) {
            self.propagation = Some(parse_propagation(policy)?);
        } else if let Some(orphan) = body.get("orphanDependents").and_then(Value::as_bool) {
            self.orphan_dependents = Some(orphan);
            self.propagation = Some(if orphan {
                Propagation::Orphan
            } else {
                Propagation::Background
            });
        }
        if let Some(uid) = body.pointer("/preconditions/uid").and_then(Value::as_str) {
            self.precondition_uid = Some(uid.to_owned());
        }
        if let Some(rv) = body
            .pointer("/preconditions/resourceVersion")
            .and_then(Value::as_str)
        {
            self.precondition_resource_version = Some(rv.to_owned());
        }
        if let Some(dry) = body.get("dryRun").and_then(Value::as_array) {
            for value in dry {
                match value.as_str() {
                    Some("All") => self.dry_run = true,
                    other => {
                        return Err(ApiError::bad_request(format!(
                            "invalid dry run option: {other:?}: supported values are \"All\""
                        )));
                    }
                }
            }
        }
        Ok(self)
    }
}

pub fn parse_propagation(policy: &str) -> Result<Propagation, ApiError> {
    match policy {
        "Orphan" => Ok(Propagation::Orphan),
        "Background" => Ok(Propagation::Background),
        "Foreground" => Ok(Propagation::Foreground),
        other => Err(ApiError::invalid(
            "meta.k8s.io",
            "DeleteOptions",
            "",
            vec![crate::status::Cause::new(
                "FieldValueNotSupported",
                "propagationPolicy",
                format!(
                    "Unsupported value: {other:?}: supported values: \"Foreground\", \"Background\", \"Orphan\", \"nil\""
                ),
            )],
        )),
    }
}

/// What a delete did.
#[derive(Debug, Clone)]
pub enum DeleteOutcome {
    /// The object is gone; its last state.
    Deleted(Output),
    /// The object is being deleted and waits for finalizers.
    Pending(Output),
}

/// The finalizer the CRD controller removes once a CRD's objects are gone.
pub const CRD_CLEANUP_FINALIZER: &str = "customresourcecleanup.apiextensions.k8s.io";
/// The garbage collector removes the owner's references from its dependents, then this.
pub const ORPHAN_FINALIZER: &str = "orphan";
/// The garbage collector deletes the dependents that block the owner's deletion, then this.
pub const FOREGROUND_FINALIZER: &str = "foregroundDeletion";

/// The propagation of a delete that names none: batch/v1 Jobs orphan their pods for backwards
/// compatibility (kube-apiserver's `jobStrategy.DefaultGarbageCollectionPolicy`); the other
/// served versions with such a default (extensions/v1beta1, apps/v1beta1, apps/v1beta2,
/// batch/v1beta1 CronJobs) are not served, so everything else cascades in the background.
fn default_propagation(r: &Resource) -> Propagation {
    if r.origin.is_builtin() && r.group == "batch" && r.version == "v1" && r.resource == "jobs" {
        Propagation::Orphan
    } else {
        Propagation::Background
    }
}

/// The object's finalizers with the garbage collector's set as the delete asks: an explicit
/// policy wins, then a GC finalizer the object already has, then the resource's default
/// (kube-apiserver's `deletionFinalizersForGarbageCollection`).
fn with_gc_finalizers(
    r: &Resource,
    existing: &[String],
    requested: Option<Propagation>,
) -> Vec<String> {
    let has = |f: &str| existing.iter().any(|e| e == f);
    let policy = requested.unwrap_or_else(|| {
        if has(ORPHAN_FINALIZER) {
            Propagation::Orphan
        } else if has(FOREGROUND_FINALIZER) {
            Propagation::Foreground
        } else {
            default_propagation(r)
        }
    });
    let mut out: Vec<String> = existing
        .iter()
        .filter(|f| *f != ORPHAN_FINALIZER && *f != FOREGROUND_FINALIZER)
        .cloned()
        .collect();
    match policy {
        Propagation::Orphan => out.push(ORPHAN_FINALIZER.to_owned()),
        Propagation::Foreground => out.push(FOREGROUND_FINALIZER.to_owned()),
        Propagation::Background => {}
    }
    // Unchanged membership keeps the stored order (no needless write).
    if out.len() == existing.len() && out.iter().all(|f| has(f)) {
        return existing.to_vec();
    }
    out
}

impl Core {
    pub async fn delete(
        &self,
        r: &Arc<Resource>,
        namespace: Option<&str>,
        name: &str,
        opts: &DeleteOptions,
    ) -> Result<DeleteOutcome, ApiError> {
        let key = r.key(namespace, name);
        loop {
            let current = self.get(r, namespace, name)?;
            let cur = &current.value;
            if let Some(uid) = opts
                .precondition_uid
                .as_ref()
                .filter(|uid| *uid != object::uid(cur))
            {
                return Err(ApiError::conflict_because(
                    &r.qualified(),
                    name,
                    &format!(
                        "Precondition failed: UID in precondition: {uid}, UID in object meta: {}",
                        object::uid(cur)
                    ),
                ));
            }
            let revision = current.revision.to_string();
            if let Some(rv) = opts
                .precondition_resource_version
                .as_ref()
                .filter(|rv| **rv != revision)
            {
                return Err(ApiError::conflict_because(
                    &r.qualified(),
                    name,
                    &format!(
                        "Precondition failed: ResourceVersion in precondition: {rv}, ResourceVersion in object meta: {revision}"
                    ),
                ));
            }
            let stored = object::finalizers(cur);
            let mut finalizers = with_gc_finalizers(r, &stored, opts.propagation);
            let is_crd = r.origin.is_builtin()
                && r.group == "apiextensions.k8s.io"
                && r.resource == "customresourcedefinitions";
            if is_crd && !finalizers.iter().any(|f| f == CRD_CLEANUP_FINALIZER) {
                finalizers.push(CRD_CLEANUP_FINALIZER.to_owned());
            }
            let is_namespace =
                r.origin.is_builtin() && r.group.is_empty() && r.resource == "namespaces";
            let spec_finalizers = is_namespace
                && cur
                    .pointer("/spec/finalizers")
                    .and_then(Value::as_array)
                    .is_some_and(|a| !a.is_empty());
            let graceful = !finalizers.is_empty() || spec_finalizers;
            if graceful && object::deletion_timestamp(cur).is_some() {
                // Already being deleted: a new delete may still change the propagation
                // (kube-apiserver updates the GC finalizers then too).
                let gc = with_gc_finalizers(r, &stored, opts.propagation);
                if gc == stored {
                    return Ok(DeleteOutcome::Pending(present(r, current)));
                }
                if !gc.is_empty() || spec_finalizers {
                    let mut new = cur.clone();
                    object::set_finalizers(&mut new, &gc);
                    match self
                        .write_pending(r, name, &key, new, current.revision, opts)
                        .await?
                    {
                        Some(outcome) => return Ok(outcome),
                        None => continue,
                    }
                }
                // Only a GC finalizer held it and the new policy drops it: it goes now.
            } else if graceful {
                let mut new = cur.clone();
                object::set_finalizers(&mut new, &finalizers);
                object::set_meta(&mut new, "deletionTimestamp", Value::String(object::now()));
                object::set_meta(&mut new, "deletionGracePeriodSeconds", Value::from(0));
                if object::generation(cur) > 0 {
                    object::set_meta(
                        &mut new,
                        "generation",
                        Value::from(object::generation(cur) + 1),
                    );
                }
                if is_namespace {
                    new["status"] = json!({"phase": "Terminating"});
                }
                if is_crd {
                    crate::crd::mark_terminating(&mut new);
                }
                match self
                    .write_pending(r, name, &key, new, current.revision, opts)
                    .await?
                {
                    Some(outcome) => return Ok(outcome),
                    None => continue,
                }
            }
            if opts.dry_run {
                return Ok(DeleteOutcome::Deleted(present(r, current)));
            }
            let op = WriteOp::Delete {
                key: key.clone(),
                expected_revision: Some(current.revision),
            };
            match self.commit(op).await {
                Ok(last) => return Ok(DeleteOutcome::Deleted(present(r, last))),
                Err(WriteError::Conflict { .. }) => continue,
                Err(err) => return Err(store_write_error(r, name, err)),
            }
        }
    }
}

impl Core {
    /// Writes `new`, the object as a pending delete leaves it (deletion timestamp, finalizers),
    /// unless a dry run; `None` when another write came first and the delete must look again.
    async fn write_pending(
        &self,
        r: &Resource,
        name: &str,
        key: &str,
        new: Value,
        revision: u64,
        opts: &DeleteOptions,
    ) -> Result<Option<DeleteOutcome>, ApiError> {
        if opts.dry_run {
            return Ok(Some(DeleteOutcome::Pending(Output::Value(new))));
        }
        let op = WriteOp::Update {
            key: key.to_owned(),
            value: new,
            expected_revision: Some(revision),
        };
        match self.commit(op).await {
            Ok(stored) => Ok(Some(DeleteOutcome::Pending(present(r, stored)))),
            Err(WriteError::Conflict { .. }) => Ok(None),
            Err(err) => Err(store_write_error(r, name, err)),
        }
    }
}

/// Whether a completed delete answers with the deleted object or with a `Status`
/// (`ReturnDeletedObject` of kube-apiserver's registries).
pub fn returns_deleted_object(r: &Resource) -> bool {
    match r.origin {
        Origin::Custom { .. } => true,
        Origin::Builtin => {
            r.group.is_empty() && matches!(r.resource.as_str(), "pods" | "services" | "namespaces")
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::registry::Registry;

    fn gc(resource: (&str, &str), existing: &[&str], policy: Option<Propagation>) -> Vec<String> {
        let r = Registry::with_builtins()
            .get(resource.0, "v1", resource.1)
            .unwrap();
        let existing: Vec<String> = existing.iter().map(|f| (*f).to_owned()).collect();
        with_gc_finalizers(&r, &existing, policy)
    }

    #[test]
    fn explicit_policy_replaces_the_gc_finalizers_and_keeps_others() {
        let cm = ("", "configmaps");
        assert_eq!(
            gc(cm, &["a/b", "orphan"], Some(Propagation::Foreground)),
            ["a/b", "foregroundDeletion"]
        );
        assert_eq!(
            gc(cm, &["foregroundDeletion"], Some(Propagation::Orphan)),
            ["orphan"]
        );
        assert!(gc(cm, &["orphan"], Some(Propagation::Background)).is_empty());
    }

    #[test]
    fn without_a_policy_existing_gc_finalizers_then_the_default_decide() {
        let cm = ("", "configmaps");
        assert!(gc(cm, &[], None).is_empty());
        assert_eq!(gc(cm, &["orphan", "a/b"], None), ["orphan", "a/b"]);
        assert_eq!(gc(("batch", "jobs"), &[], None), ["orphan"]);
        assert_eq!(
            gc(("batch", "jobs"), &["foregroundDeletion"], None),
            ["foregroundDeletion"]
        );
        assert!(gc(("batch", "jobs"), &[], Some(Propagation::Background)).is_empty());
    }
}
