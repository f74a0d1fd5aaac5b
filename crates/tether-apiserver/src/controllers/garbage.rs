//! Garbage collection (kube-controller-manager's garbage collector): dependents whose owners
//! are all gone are deleted, and the `orphan` and `foregroundDeletion` finalizers the delete
//! path puts on owners are carried out.
//!
//! Each pass looks at the whole store, as it is then:
//! 1. An owner being deleted with `orphan` loses its references from its dependents, then the
//!    finalizer. One with `foregroundDeletion` loses the finalizer once no dependent with
//!    `blockOwnerDeletion: true` on its reference to it is left.
//! 2. A dependent not itself being deleted has its owner references classified like upstream's
//!    `classifyReferences`: *dangling* (no object of that kind and name, or another uid; a
//!    namespaced owner of a cluster-scoped dependent), *waiting* (the owner is being deleted in
//!    the foreground) or *solid*. With a solid owner it only loses its dangling and waiting
//!    references; without one it is deleted: in the foreground when an owner waits and it has
//!    dependents of its own (so the wait is recursive), otherwise as its own GC finalizers say,
//!    by default in the background. Deletes carry a uid precondition.
//!
//! A pass runs after events that can matter (an object with owner references or a GC
//! finalizer changes, anything is deleted), coalesced, and again shortly after a pass whose
//! writes failed. Owner references to kinds the server does not serve are left alone until a CRD
//! changes (upstream retries those until the kind appears). Foreground cycles (a dependent waiting in the foreground
//! for a dependent of its own that waits for it) are broken as upstream breaks them: the object
//! about to be deleted in the foreground first stops blocking its owners.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use tether_store::{EventKind, Filter, ListRequest, Object};
use tokio::sync::Notify;

use super::RETRY;
use crate::core::{Core, DeleteOptions, FOREGROUND_FINALIZER, ORPHAN_FINALIZER, Propagation};
use crate::object;
use crate::registry::Resource;
use crate::status::ApiError;

const MANAGER: &str = "kube-controller-manager";
/// Lets a burst of writes (a namespace's content going) settle into one pass.
const COALESCE: Duration = Duration::from_millis(10);

pub async fn run(core: Core, mut shutdown: tokio::sync::watch::Receiver<bool>) {
    let wake = Arc::new(Notify::new());
    let follower = {
        let (core, wake, shutdown) = (core.clone(), wake.clone(), shutdown.clone());
        tokio::spawn(async move { follow(&core, &wake, shutdown).await })
    };
    // A store opened from disk may hold unfinished work.
    wake.notify_one();
    loop {
        tokio::select! {
            _ = wake.notified() => {}
            _ = shutdown.changed() => break,
        }
        tokio::time::sleep(COALESCE).await;
        let settled = sweep(&core).await.unwrap_or_else(|err| {
            tracing::warn!(%err, "garbage collection pass failed; retrying");
            false
        });
        if !settled {
            let wake = wake.clone();
            tokio::spawn(async move {
                tokio::time::sleep(RETRY).await;
                wake.notify_one();
            });
        }
    }
    follower.abort();
}

/// Watches every key and wakes the sweeper for events that can matter to it.
async fn follow(core: &Core, wake: &Notify, mut shutdown: tokio::sync::watch::Receiver<bool>) {
    let mut revision = core.store.revision();
    loop {
        let mut watch = match core.store.watch(revision, Filter::all()) {
            Ok(w) => w,
            Err(err) => {
                // Fell behind the history: a fresh pass covers what was missed.
                tracing::warn!(%err, "garbage collector rewatches");
                revision = core.store.revision();
                wake.notify_one();
                tokio::select! {
                    _ = tokio::time::sleep(RETRY) => continue,
                    _ = shutdown.changed() => return,
                }
            }
        };
        loop {
            tokio::select! {
                event = watch.next() => match event {
                    Some(Ok(event)) => {
                        revision = event.revision;
                        // A CRD's change may serve the kind of an owner left alone so far.
                        let matters = event.kind == EventKind::Deleted
                            || event.object.value.get("kind")
                                == Some(&Value::String("CustomResourceDefinition".into()))
                            || concerns_gc(&event.object.value)
                            || event.previous.as_ref().is_some_and(|p| concerns_gc(&p.value));
                        if matters {
                            wake.notify_one();
                        }
                    }
                    Some(Err(_)) => break,
                    None => return,
                },
                _ = shutdown.changed() => return,
            }
        }
    }
}

fn concerns_gc(o: &Value) -> bool {
    !owner_refs(o).is_empty()
        || (object::deletion_timestamp(o).is_some()
            && (has_finalizer(o, ORPHAN_FINALIZER) || has_finalizer(o, FOREGROUND_FINALIZER)))
}

/// One `metadata.ownerReferences` entry.
#[derive(Debug, Clone)]
struct OwnerRef<'a> {
    api_version: &'a str,
    kind: &'a str,
    name: &'a str,
    uid: &'a str,
    block: bool,
}

fn owner_refs(o: &Value) -> Vec<OwnerRef<'_>> {
    let Some(refs) = object::meta(o)
        .and_then(|m| m.get("ownerReferences"))
        .and_then(Value::as_array)
    else {
        return vec![];
    };
    refs.iter()
        .filter_map(|r| {
            Some(OwnerRef {
                api_version: r.get("apiVersion")?.as_str()?,
                kind: r.get("kind")?.as_str()?,
                name: r.get("name")?.as_str()?,
                uid: r.get("uid")?.as_str()?,
                block: r.get("blockOwnerDeletion").and_then(Value::as_bool) == Some(true),
            })
        })
        .collect()
}

fn has_finalizer(o: &Value, finalizer: &str) -> bool {
    object::meta(o)
        .and_then(|m| m.get("finalizers"))
        .and_then(Value::as_array)
        .is_some_and(|a| a.iter().any(|f| f.as_str() == Some(finalizer)))
}

/// What an owner reference points at, as the garbage collector sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OwnerState {
    /// Exists with the referenced uid and is not waiting for its dependents.
    Solid,
    /// Absent, or another object by that name.
    Dangling,
    /// Being deleted in the foreground.
    Waiting,
    /// Of a kind the server does not serve: left alone.
    Unknown,
}

/// The served resource of a kind in an `apiVersion`, or of the kind in any version of the group.
fn resource_of(core: &Core, api_version: &str, kind: &str) -> Option<Arc<Resource>> {
    let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
    core.registry.by_kind(group, version, kind).or_else(|| {
        let groups = core.registry.groups();
        let versions = groups.iter().find(|g| g.group == group)?;
        versions
            .versions
            .iter()
            .find_map(|v| core.registry.by_kind(group, v, kind))
    })
}

fn owner_state(core: &Core, dependent: &Value, owner: &OwnerRef<'_>) -> OwnerState {
    let Some(r) = resource_of(core, owner.api_version, owner.kind) else {
        return OwnerState::Unknown;
    };
    let namespace = match (r.namespaced, object::namespace(dependent)) {
        (true, Some(ns)) => Some(ns),
        // A cluster-scoped dependent cannot have a namespaced owner: upstream resolves the
        // reference as absent.
        (true, None) => return OwnerState::Dangling,
        (false, _) => None,
    };
    match core.store.get(&r.key(namespace, owner.name)) {
        Some(o) if object::uid(&o.value) == owner.uid => {
            if object::deletion_timestamp(&o.value).is_some()
                && has_finalizer(&o.value, FOREGROUND_FINALIZER)
            {
                OwnerState::Waiting
            } else {
                OwnerState::Solid
            }
        }
        _ => OwnerState::Dangling,
    }
}

/// The served resource an object is stored as.
fn resource_of_object(core: &Core, o: &Value) -> Option<Arc<Resource>> {
    let api_version = o.get("apiVersion").and_then(Value::as_str)?;
    let kind = o.get("kind").and_then(Value::as_str)?;
    resource_of(core, api_version, kind)
}

/// One pass over the store; `Ok(false)` when some write failed and a pass should follow soon.
async fn sweep(core: &Core) -> Result<bool, ApiError> {
    let page = core
        .store
        .list(ListRequest::new(""))
        .map_err(|e| ApiError::internal(format!("garbage collector cannot list: {e}")))?;
    let mut dependents: HashMap<&str, Vec<&Arc<Object>>> = HashMap::new();
    for item in &page.items {
        for owner in owner_refs(&item.value) {
            dependents.entry(owner.uid).or_default().push(item);
        }
    }
    let mut settled = true;
    for item in &page.items {
        let o = &item.value;
        if object::deletion_timestamp(o).is_none() {
            continue;
        }
        let uid = object::uid(o);
        let own = dependents.get(uid).map(Vec::as_slice).unwrap_or_default();
        let done = if has_finalizer(o, ORPHAN_FINALIZER) {
            orphan(core, uid, own).await && remove_finalizer(core, o, ORPHAN_FINALIZER).await
        } else if has_finalizer(o, FOREGROUND_FINALIZER) {
            let blocked = own
                .iter()
                .any(|d| owner_refs(&d.value).iter().any(|r| r.uid == uid && r.block));
            blocked || remove_finalizer(core, o, FOREGROUND_FINALIZER).await
        } else {
            true
        };
        settled &= done;
    }
    for item in &page.items {
        if owner_refs(&item.value).is_empty() {
            continue;
        }
        // The first step may have changed it (orphaned it, say): judge it as it is now.
        let Some(current) = core.store.get(&item.key) else {
            continue;
        };
        let o = &current.value;
        let refs = owner_refs(o);
        if refs.is_empty()
            || object::deletion_timestamp(o).is_some()
            || object::uid(o) != object::uid(&item.value)
        {
            continue;
        }
        let states: Vec<OwnerState> = refs.iter().map(|r| owner_state(core, o, r)).collect();
        let solid = states
            .iter()
            .any(|s| matches!(s, OwnerState::Solid | OwnerState::Unknown));
        let waiting = states.contains(&OwnerState::Waiting);
        let dangling = states.contains(&OwnerState::Dangling);
        let done = if solid {
            if !(waiting || dangling) {
                continue;
            }
            let drop: Vec<String> = refs
                .iter()
                .zip(&states)
                .filter(|(_, s)| matches!(s, OwnerState::Dangling | OwnerState::Waiting))
                .map(|(r, _)| r.uid.to_owned())
                .collect();
            remove_refs(core, o, &drop).await
        } else {
            let own = dependents.get(object::uid(o)).map(Vec::as_slice);
            let has_dependents = own.is_some_and(|d| !d.is_empty());
            let policy = if waiting && has_dependents {
                // A dependent that itself waits for its dependents may be waiting for this
                // object's owner: a cycle. As upstream, unblock this object's references first,
                // so the owner stops waiting for it.
                let cycle = own.unwrap_or_default().iter().any(|d| {
                    object::deletion_timestamp(&d.value).is_some()
                        && has_finalizer(&d.value, FOREGROUND_FINALIZER)
                });
                if cycle && !unblock_owner_refs(core, o).await {
                    settled = false;
                    continue;
                }
                Propagation::Foreground
            } else if has_finalizer(o, ORPHAN_FINALIZER) {
                Propagation::Orphan
            } else if has_finalizer(o, FOREGROUND_FINALIZER) {
                Propagation::Foreground
            } else {
                Propagation::Background
            };
            delete(core, o, policy).await
        };
        settled &= done;
    }
    Ok(settled)
}

/// Removes references to `owner_uid` from `dependents`; true when all went through.
async fn orphan(core: &Core, owner_uid: &str, dependents: &[&Arc<Object>]) -> bool {
    let mut done = true;
    for d in dependents {
        done &= remove_refs(core, &d.value, &[owner_uid.to_owned()]).await;
    }
    done
}

/// Applies one write to the object `o` (by uid); true when it went through or the object is
/// gone, false (logged) when it should be tried again.
fn outcome(o: &Value, what: &str, result: Result<(), ApiError>) -> bool {
    match result {
        Ok(()) => true,
        Err(e) if e.code == 404 => true,
        Err(e) => {
            tracing::debug!(name = object::name(o), namespace = ?object::namespace(o), what, %e, "garbage collector write failed");
            false
        }
    }
}

async fn update(core: &Core, o: &Value, what: &str, mut modify: impl FnMut(&mut Value)) -> bool {
    let Some(r) = resource_of_object(core, o) else {
        return true;
    };
    let uid = object::uid(o).to_owned();
    let result = core
        .update_with(
            &r,
            object::namespace(o),
            object::name(o),
            None,
            MANAGER,
            |current| {
                // The name may have been reused by a new object meanwhile: leave that one alone.
                if object::uid(current) != uid {
                    return Err(ApiError::not_found(&r.qualified(), object::name(current)));
                }
                modify(current);
                Ok(())
            },
        )
        .await
        .map(|_| ());
    outcome(o, what, result)
}

async fn remove_refs(core: &Core, o: &Value, uids: &[String]) -> bool {
    update(core, o, "remove owner references", |current| {
        let meta = object::meta_mut(current);
        let left: Vec<Value> = meta
            .get("ownerReferences")
            .and_then(Value::as_array)
            .map(|refs| {
                refs.iter()
                    .filter(|r| {
                        let uid = r.get("uid").and_then(Value::as_str).unwrap_or_default();
                        !uids.iter().any(|u| u == uid)
                    })
                    .cloned()
                    .collect()
            })
            .unwrap_or_default();
        if left.is_empty() {
            meta.remove("ownerReferences");
        } else {
            meta.insert("ownerReferences".into(), Value::Array(left));
        }
    })
    .await
}

/// Sets `blockOwnerDeletion: false` on every owner reference that blocks.
async fn unblock_owner_refs(core: &Core, o: &Value) -> bool {
    update(core, o, "unblock owner references", |current| {
        let refs = object::meta_mut(current)
            .get_mut("ownerReferences")
            .and_then(Value::as_array_mut);
        for reference in refs.into_iter().flatten() {
            if reference.get("blockOwnerDeletion") == Some(&Value::Bool(true)) {
                reference["blockOwnerDeletion"] = Value::Bool(false);
            }
        }
    })
    .await
}

async fn remove_finalizer(core: &Core, o: &Value, finalizer: &str) -> bool {
    update(core, o, "remove finalizer", |current| {
        let left: Vec<String> = object::finalizers(current)
            .into_iter()
            .filter(|f| f != finalizer)
            .collect();
        object::set_finalizers(current, &left);
    })
    .await
}

async fn delete(core: &Core, o: &Value, policy: Propagation) -> bool {
    let Some(r) = resource_of_object(core, o) else {
        return true;
    };
    let opts = DeleteOptions {
        propagation: Some(policy),
        precondition_uid: Some(object::uid(o).to_owned()),
        ..Default::default()
    };
    let result = core
        .delete(&r, object::namespace(o), object::name(o), &opts)
        .await
        .map(|_| ());
    // A uid precondition that fails means the object is already gone.
    let result = result.or_else(|e| if e.code == 409 { Ok(()) } else { Err(e) });
    outcome(o, "delete", result)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn owner_refs_read_block_and_skip_incomplete_entries() {
        let o = json!({"metadata": {"ownerReferences": [
            {"apiVersion": "v1", "kind": "ConfigMap", "name": "a", "uid": "1",
             "blockOwnerDeletion": true},
            {"apiVersion": "apps/v1", "kind": "Deployment", "name": "b", "uid": "2"},
            {"apiVersion": "v1", "kind": "ConfigMap", "name": "no-uid"},
        ]}});
        let refs = owner_refs(&o);
        let seen: Vec<(&str, &str, bool)> = refs.iter().map(|r| (r.kind, r.uid, r.block)).collect();
        assert_eq!(seen, [("ConfigMap", "1", true), ("Deployment", "2", false)]);
    }

    #[test]
    fn only_owned_objects_and_deleting_owners_concern_the_collector() {
        assert!(!concerns_gc(&json!({"metadata": {"name": "plain"}})));
        assert!(concerns_gc(&json!({"metadata": {"ownerReferences": [
            {"apiVersion": "v1", "kind": "ConfigMap", "name": "a", "uid": "1"}]}})));
        // A GC finalizer matters only once the deletion started.
        assert!(!concerns_gc(
            &json!({"metadata": {"finalizers": ["orphan"]}})
        ));
        assert!(concerns_gc(&json!({"metadata": {
            "finalizers": ["foregroundDeletion"], "deletionTimestamp": "2026-01-01T00:00:00Z"}})));
    }
}
