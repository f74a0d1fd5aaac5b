//! Namespace lifecycle: the namespaces every cluster has, and the deletion of a terminating
//! namespace's content before the namespace itself goes.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};

use super::RETRY;
use super::queue::Queue;
use crate::core::{Core, WriteOptions};
use crate::object;
use crate::registry::Resource;
use crate::status::ApiError;

const MANAGER: &str = "kube-controller-manager";
/// Namespaces kube-apiserver creates at start.
pub const SYSTEM_NAMESPACES: &[&str] =
    &["default", "kube-system", "kube-public", "kube-node-lease"];

fn namespaces(core: &Core) -> Option<Arc<Resource>> {
    core.registry.get("", "v1", "namespaces")
}

/// Creates the system namespaces that are missing.
pub async fn ensure_system_namespaces(core: &Core) -> Result<(), ApiError> {
    let Some(r) = namespaces(core) else {
        return Ok(());
    };
    for name in SYSTEM_NAMESPACES {
        if core.store.get(&r.key(None, name)).is_some() {
            continue;
        }
        let body = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}});
        let opts = WriteOptions {
            field_manager: Some("kube-apiserver".into()),
            ..Default::default()
        };
        match core.create(&r, None, body, &opts).await {
            Ok(_) => {}
            Err(e) if e.reason == "AlreadyExists" => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

pub async fn run(core: Core, shutdown: tokio::sync::watch::Receiver<bool>) {
    let Some(r) = namespaces(&core) else { return };
    let (c, nr) = (core.clone(), r.clone());
    let terminating =
        |o: &Value, deleted: bool| !deleted && object::deletion_timestamp(o).is_some();
    super::run_controller(
        core,
        r,
        shutdown,
        Duration::ZERO,
        terminating,
        move |key, queue| {
            let (core, r) = (c.clone(), nr.clone());
            async move { reconcile(&core, &r, &key.1, &queue).await }
        },
    )
    .await;
}

/// Every namespaced resource once (one version per group/resource: they share storage).
fn namespaced_resources(core: &Core) -> Vec<Arc<Resource>> {
    let mut seen = BTreeSet::new();
    let mut out = vec![];
    for group in core.registry.groups() {
        for version in &group.versions {
            for r in core.registry.resources_in(&group.group, version) {
                if r.namespaced && seen.insert((r.group.clone(), r.resource.clone())) {
                    out.push(r);
                }
            }
        }
    }
    out
}

async fn reconcile(
    core: &Core,
    r: &Arc<Resource>,
    name: &str,
    queue: &Queue,
) -> Result<(), ApiError> {
    let Some(ns) = core.store.get(&r.key(None, name)) else {
        return Ok(());
    };
    if object::deletion_timestamp(&ns.value).is_none() {
        return Ok(());
    }
    let mut remaining = 0usize;
    for content in namespaced_resources(core) {
        let page = core
            .store
            .list(tether_store::ListRequest::new(&content.prefix(Some(name))))
            .map_err(|e| ApiError::internal(e.to_string()))?;
        for item in &page.items {
            remaining += 1;
            if object::deletion_timestamp(&item.value).is_some() {
                continue;
            }
            match core
                .delete(
                    &content,
                    Some(name),
                    object::name(&item.value),
                    &Default::default(),
                )
                .await
            {
                Ok(crate::core::DeleteOutcome::Deleted(_)) => remaining -= 1,
                Ok(crate::core::DeleteOutcome::Pending(_)) => {}
                Err(e) if e.code == 404 => remaining -= 1,
                Err(e) => return Err(e),
            }
        }
    }
    if remaining > 0 {
        // Content waits for its finalizers; look again shortly.
        queue.add_after((None, name.to_owned()), RETRY);
        return Ok(());
    }
    core.update_with(r, None, name, Some("finalize"), MANAGER, |o| {
        let left: Vec<Value> = o
            .pointer("/spec/finalizers")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter(|f| f.as_str() != Some("kubernetes"))
                    .cloned()
                    .collect()
            })
            .unwrap_or_default();
        o["spec"]["finalizers"] = Value::Array(left);
        Ok(())
    })
    .await?;
    Ok(())
}
