//! Establishes CRDs (their versions become served resources, their status says so) and, when a
//! CRD is deleted, deletes its objects, stops serving it and removes the cleanup finalizer.

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use super::RETRY;
use super::queue::Queue;
use crate::core::{CRD_CLEANUP_FINALIZER, Core};
use crate::registry::{Origin, Resource};
use crate::status::ApiError;
use crate::{crd, object};

const MANAGER: &str = "kube-apiserver";

pub fn crd_resource(core: &Core) -> Option<Arc<Resource>> {
    core.registry
        .get("apiextensions.k8s.io", "v1", "customresourcedefinitions")
}

/// Serves the stored, established CRDs before the server takes requests, so a restarted server
/// answers for custom resources at once.
pub fn install_stored(core: &Core) {
    let Some(r) = crd_resource(core) else { return };
    let Ok(page) = core
        .store
        .list(tether_store::ListRequest::new(&r.prefix(None)))
    else {
        return;
    };
    for item in page.items {
        if conflict(core, &item.value).is_none() && crd::validate(&item.value).is_empty() {
            core.registry
                .install_custom(object::name(&item.value), crd::resources(&item.value));
        }
    }
}

pub async fn run(core: Core, shutdown: tokio::sync::watch::Receiver<bool>) {
    let Some(r) = crd_resource(&core) else { return };
    let (c, cr) = (core.clone(), r.clone());
    super::run_controller(
        core,
        r,
        shutdown,
        Duration::ZERO,
        |_, _| true,
        move |key, queue| {
            let (core, r) = (c.clone(), cr.clone());
            async move { reconcile(&core, &r, &key.1, &queue).await }
        },
    )
    .await;
}

/// Another CRD or a built-in already serving this CRD's group and plural (or kind).
fn conflict(core: &Core, crd: &Value) -> Option<String> {
    let name = object::name(crd);
    let group = crd
        .pointer("/spec/group")
        .and_then(Value::as_str)
        .unwrap_or("");
    let plural = crd
        .pointer("/spec/names/plural")
        .and_then(Value::as_str)
        .unwrap_or("");
    let kind = crd
        .pointer("/spec/names/kind")
        .and_then(Value::as_str)
        .unwrap_or("");
    core.registry
        .groups()
        .iter()
        .filter(|g| g.group == group)
        .find_map(|g| {
            g.versions
                .iter()
                .flat_map(|v| core.registry.resources_in(group, v))
                .find_map(|r| {
                    let owner = match &r.origin {
                        Origin::Custom { crd, .. } if crd == name => return None,
                        Origin::Custom { crd, .. } => crd.clone(),
                        Origin::Builtin => "a built-in resource".into(),
                    };
                    if r.resource == plural {
                        Some(format!("\"{plural}\" is already in use by {owner}"))
                    } else if r.kind == kind {
                        Some(format!("\"{kind}\" is already in use by {owner}"))
                    } else {
                        None
                    }
                })
        })
}

async fn reconcile(
    core: &Core,
    r: &Arc<Resource>,
    name: &str,
    queue: &Queue,
) -> Result<(), ApiError> {
    let Some(stored) = core.store.get(&r.key(None, name)) else {
        core.registry.remove_custom(name);
        return Ok(());
    };
    let crd = &stored.value;
    if object::deletion_timestamp(crd).is_some() {
        return clean_up(core, r, name, crd, queue).await;
    }
    if let Some(message) = conflict(core, crd) {
        core.update_with(r, None, name, Some("status"), MANAGER, |o| {
            crd::reject_names(o, &message);
            Ok(())
        })
        .await?;
        return Ok(());
    }
    core.registry.install_custom(name, crd::resources(crd));
    core.update_with(r, None, name, Some("status"), MANAGER, |o| {
        crd::establish(o);
        Ok(())
    })
    .await?;
    Ok(())
}

/// Deletes every object of the CRD (all versions share storage); once none is left, stops
/// serving it and lets the CRD go.
async fn clean_up(
    core: &Core,
    r: &Arc<Resource>,
    name: &str,
    crd: &Value,
    queue: &Queue,
) -> Result<(), ApiError> {
    let group = crd
        .pointer("/spec/group")
        .and_then(Value::as_str)
        .unwrap_or("");
    let plural = crd
        .pointer("/spec/names/plural")
        .and_then(Value::as_str)
        .unwrap_or("");
    let served = core.registry.versions_of(group, plural);
    if let Some(custom) = served
        .iter()
        .find(|v| matches!(&v.origin, Origin::Custom { crd, .. } if crd == name))
    {
        let page = core
            .store
            .list(tether_store::ListRequest::new(&custom.prefix(None)))
            .map_err(|e| ApiError::internal(e.to_string()))?;
        if !page.items.is_empty() {
            for item in &page.items {
                if object::deletion_timestamp(&item.value).is_none() {
                    let ns = object::namespace(&item.value);
                    match core
                        .delete(custom, ns, object::name(&item.value), &Default::default())
                        .await
                    {
                        Ok(_) => {}
                        Err(e) if e.code == 404 => {}
                        Err(e) => return Err(e),
                    }
                }
            }
            queue.add_after((None, name.to_owned()), RETRY);
            return Ok(());
        }
    }
    core.registry.remove_custom(name);
    core.update_with(r, None, name, None, MANAGER, |o| {
        let left: Vec<String> = object::finalizers(o)
            .into_iter()
            .filter(|f| f != CRD_CLEANUP_FINALIZER)
            .collect();
        object::set_finalizers(o, &left);
        Ok(())
    })
    .await?;
    Ok(())
}
