//! Writing a reconcile's outcome the way kustomize-controller does: conditions with Flux's reasons
//! and messages, revisions, inventory, observedGeneration (only after a success), metrics and an
//! Event.

use std::time::Duration;

use kube::api::{Api, Patch, PatchParams};
use kube::runtime::events::EventType;
use kube::{Resource, ResourceExt};
use serde_json::json;
use tether_api::conditions::{self, ConditionType, Reason};
use tether_api::{Kustomization, KustomizationStatus};

use super::Outcome;
use crate::context::Context;

/// Replaces the status (merge patch of the status subresource).
pub(crate) async fn patch(
    api: &Api<Kustomization>,
    name: &str,
    status: &KustomizationStatus,
) -> Result<(), kube::Error> {
    api.patch_status(
        name,
        &PatchParams::default(),
        &Patch::Merge(json!({ "status": status })),
    )
    .await
    .map(|_| ())
}

/// Folds `outcome` into `status`, writes it, and records metrics and an event.
pub(crate) async fn record(
    ks: &Kustomization,
    ctx: &Context,
    api: &Api<Kustomization>,
    mut status: KustomizationStatus,
    outcome: Outcome,
    took: Duration,
) -> Result<(), kube::Error> {
    let generation = ks.meta().generation;
    let name = ks.name_any();
    let namespace = ks.namespace().unwrap_or_default();
    let mut events: Vec<(EventType, Reason, String)> = Vec::new();
    match outcome {
        Outcome::Succeeded {
            revision,
            changes,
            inventory,
            health,
        } => {
            let c = &mut status.conditions;
            conditions::mark_true(
                c,
                ConditionType::Ready,
                Reason::ReconciliationSucceeded,
                format!("Applied revision: {revision}"),
                generation,
            );
            match health {
                Some(message) => conditions::mark_true(
                    c,
                    ConditionType::Healthy,
                    Reason::Succeeded,
                    message,
                    generation,
                ),
                None => {
                    conditions::remove(c, ConditionType::Healthy);
                }
            }
            conditions::remove(c, ConditionType::Reconciling);
            conditions::remove(c, ConditionType::Stalled);
            status.observed_generation = generation.unwrap_or(0);
            status.last_applied_revision = Some(revision.clone());
            status.last_attempted_revision = Some(revision);
            status.inventory = Some(inventory);
            let summary = changes.changes_summary();
            if !summary.is_empty() {
                events.push((EventType::Normal, Reason::Progressing, summary));
            }
            events.push((
                EventType::Normal,
                Reason::ReconciliationSucceeded,
                format!(
                    "Reconciliation finished in {}, next run in {}",
                    short(took),
                    ks.spec.interval
                ),
            ));
        }
        Outcome::Failed {
            reason,
            message,
            revision,
            inventory,
            healthy,
            ..
        } => {
            let c = &mut status.conditions;
            conditions::mark_false(c, ConditionType::Ready, reason, &message, generation);
            if let Some(false) = healthy {
                conditions::mark_false(
                    c,
                    ConditionType::Healthy,
                    Reason::HealthCheckFailed,
                    &message,
                    generation,
                );
            }
            if let Some(mut reconciling) = conditions::find(c, ConditionType::Reconciling).cloned()
            {
                reconciling.reason = Reason::ProgressingWithRetry.as_str().to_owned();
                conditions::set_at(c, reconciling);
            }
            if let Some(r) = revision {
                status.last_attempted_revision = Some(r);
            }
            if let Some(i) = inventory {
                status.inventory = Some(i);
            }
            let severity = if reason == Reason::DependencyNotReady {
                EventType::Normal
            } else {
                EventType::Warning
            };
            events.push((severity, reason, message));
        }
    }
    if let Some(ready) = conditions::find(&status.conditions, ConditionType::Ready) {
        ctx.metrics
            .record_condition(("Kustomization", &namespace, &name), "Ready", &ready.status);
    }
    patch(api, &name, &status).await?;
    let regarding = ks.object_ref(&());
    for (type_, reason, note) in events {
        crate::events::publish(
            &ctx.kustomize_events,
            &regarding,
            type_,
            reason.as_str(),
            "Reconcile",
            note,
        )
        .await;
    }
    Ok(())
}

/// A duration in Go's format, to the millisecond (`1.234s`, `2m3.5s`).
pub(crate) fn short(d: Duration) -> tether_api::Duration {
    tether_api::Duration::from_std(Duration::from_millis(
        u64::try_from(d.as_millis()).unwrap_or(u64::MAX),
    ))
}
