//! Deleting a Kustomization: prune its inventory as `deletionPolicy` says (on its target
//! cluster, with its identity), then drop the finalizer. When the kubeconfig Secret or the
//! ServiceAccount is gone, the objects are left with a Warning event, as Flux does. A failed prune keeps the finalizer, so the object stays until its objects are gone
//! (the reconcile is retried with backoff).

use kube::api::Api;
use kube::runtime::events::EventType;
use kube::{Resource, ResourceExt};
use tether_api::conditions::Reason;
use tether_api::{DeletionPolicy, Kustomization};
use tether_apply::WaitOptions;

use super::{ReconcileError, from_api_inventory};
use crate::context::Context;

pub async fn finalize(
    ks: &Kustomization,
    ctx: &Context,
    api: &Api<Kustomization>,
) -> Result<(), ReconcileError> {
    let namespace = ks.namespace().unwrap_or_default();
    let name = ks.name_any();
    let fail = |message: String| ReconcileError::Finalize {
        namespace: namespace.clone(),
        name: name.clone(),
        message,
    };
    let policy = ks.deletion_policy();
    let prune = match policy {
        DeletionPolicy::MirrorPrune => ks.spec.prune,
        DeletionPolicy::Delete | DeletionPolicy::WaitForTermination => true,
        DeletionPolicy::Orphan => false,
    };
    // Flux leaves the objects of a suspended Kustomization alone, even on deletion.
    if prune && !ks.spec.suspend {
        let objects = from_api_inventory(ks.status.as_ref().and_then(|s| s.inventory.as_ref()))
            .objects()
            .map_err(|e| fail(format!("invalid inventory in status: {e}")))?;
        let reachable = objects.is_empty()
            || ctx
                .targets
                .reachable(&ctx.client, ks)
                .await
                .map_err(|e| fail(format!("checking the target cluster: {e}")))?;
        if !reachable {
            // Flux's behaviour: with the kubeconfig Secret or the ServiceAccount gone nothing
            // can delete the objects, and blocking deletion forever helps no one.
            let message = format!(
                "{} object(s) not garbage collected: the kubeconfig Secret or ServiceAccount                  to apply with is gone",
                objects.len()
            );
            publish(ctx, ks, EventType::Warning, Reason::PruneFailed, message).await;
        } else if !objects.is_empty() {
            let applier = match ctx.targets.applier(&ctx.client, ks).await {
                Ok(Ok(applier)) => applier,
                Ok(Err(message)) => return Err(fail(message)),
                Err(e) => return Err(fail(format!("reading the target cluster: {e}"))),
            };
            let options = applier.delete_options(&name, &namespace);
            match applier.delete_all(&objects, &options).await {
                Ok(changes) => {
                    let summary = changes.changes_summary();
                    if !summary.is_empty() {
                        publish(ctx, ks, EventType::Normal, Reason::Progressing, summary).await;
                    }
                }
                Err(e) => {
                    let message = format!("pruning on deletion failed: {e}");
                    publish(
                        ctx,
                        ks,
                        EventType::Warning,
                        Reason::PruneFailed,
                        message.clone(),
                    )
                    .await;
                    return Err(fail(message));
                }
            }
            if policy == DeletionPolicy::WaitForTermination {
                let wait = WaitOptions {
                    interval: ctx.options.health_poll,
                    timeout: ks.timeout(),
                    fail_fast: false,
                };
                applier
                    .wait_for_termination(&objects, &wait)
                    .await
                    .map_err(|e| fail(format!("waiting for pruned objects to go: {e}")))?;
            }
        }
    }
    crate::finalizer::set(api, ks, false)
        .await
        .map_err(|source| ReconcileError::Api {
            namespace,
            name,
            source,
        })
}

async fn publish(
    ctx: &Context,
    ks: &Kustomization,
    type_: EventType,
    reason: Reason,
    note: String,
) {
    let regarding = ks.object_ref(&());
    crate::events::publish(
        &ctx.kustomize_events,
        &regarding,
        type_,
        reason.as_str(),
        "Finalize",
        note,
    )
    .await;
}
