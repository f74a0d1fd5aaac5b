//! The Kustomization reconciler (kustomize-controller's): one reconcile is
//!
//! 1. deletion → [`finalize`] (prune the inventory per `deletionPolicy`, drop the finalizer);
//! 2. add the finalizer; stop here when `suspend`;
//! 3. find the source and its artifact ([`source_artifact`]) → `ArtifactFailed`;
//! 4. check `dependsOn` ([`deps::check`]) → `DependencyNotReady`, retried soon;
//! 5. build the path of the artifact with the spec's overlay and post-build substitution
//!    ([`build::Builds`], shared between Kustomizations of one artifact) → `BuildFailed`;
//! 6. server-side apply in stages ([`tether_apply`]) on the target cluster with the target
//!    identity ([`target`]: `kubeConfig`, `serviceAccountName`) → `ReconciliationFailed`;
//!    objects it creates or changes are annotated `tether.dev/last-changed-revision` with the
//!    revision, unchanged ones are not written (the audit trail `tether trace` reads);
//! 7. prune what left the inventory → `PruneFailed`;
//! 8. health checks (`wait` or `healthChecks`) until `timeout` → `HealthCheckFailed`;
//! 9. status (`Ready` with Flux's reasons, `lastAppliedRevision`, `lastAttemptedRevision`,
//!    inventory) and a Kubernetes Event for the outcome; requeue after `interval` (success) or
//!    `retryInterval` (failure), jittered.
//!
//! A failing step leaves the objects of earlier revisions as they are: nothing of a revision
//! that does not build is applied, and a failed apply keeps the previous inventory, so its
//! objects are pruned only by a later successful reconcile.

pub mod build;
pub mod deps;
mod finalize;
mod status;
pub mod target;

use std::sync::Arc;
use std::time::{Duration, Instant};

use kube::api::Api;
use kube::runtime::controller::Action;
use kube::{Resource, ResourceExt};
use tether_api::conditions::{self, ConditionType, Reason};
use tether_api::keys;
use tether_api::{
    GitRepository, Kustomization, KustomizationStatus, ResourceInventory, ResourceRef,
};
use tether_apply::{ChangeSet, Inventory, InventoryEntry, ObjectRef, WaitOptions};

use crate::context::{Context, jittered};
use crate::metrics::ReconcileResult;

pub use finalize::finalize;

/// A reconcile that could not even write its status (the controller retries with backoff).
#[derive(Debug, thiserror::Error)]
pub enum ReconcileError {
    #[error("Kustomization {namespace}/{name}: {source}")]
    Api {
        namespace: String,
        name: String,
        #[source]
        source: kube::Error,
    },
    #[error("Kustomization {namespace}/{name}: {message}")]
    Finalize {
        namespace: String,
        name: String,
        message: String,
    },
}

/// How a reconcile ended, before it is written to the status.
#[derive(Debug)]
pub(crate) enum Outcome {
    /// Applied and healthy.
    Succeeded {
        revision: String,
        changes: ChangeSet,
        inventory: ResourceInventory,
        health: Option<String>,
    },
    /// A step failed; `inventory` is set when objects were applied before the failure.
    Failed {
        reason: Reason,
        message: String,
        revision: Option<String>,
        inventory: Option<ResourceInventory>,
        healthy: Option<bool>,
        requeue: Duration,
    },
}

fn key(ks: &Kustomization) -> (String, String) {
    (ks.namespace().unwrap_or_default(), ks.name_any())
}

/// The reconcile entry point for `kube::runtime::Controller`.
pub async fn reconcile(
    ks: Arc<Kustomization>,
    ctx: Arc<Context>,
) -> Result<Action, ReconcileError> {
    let started = Instant::now();
    let (namespace, name) = key(&ks);
    let labels = ("Kustomization", namespace.as_str(), name.as_str());
    let api: Api<Kustomization> = Api::namespaced(ctx.client.clone(), &namespace);
    let api_err = |source| ReconcileError::Api {
        namespace: namespace.clone(),
        name: name.clone(),
        source,
    };

    if ks.meta().deletion_timestamp.is_some() {
        let result = finalize(&ks, &ctx, &api).await;
        ctx.metrics.forget(labels);
        return result.map(|()| Action::await_change());
    }
    if !crate::finalizer::has(ks.as_ref()) {
        crate::finalizer::set(&api, ks.as_ref(), true)
            .await
            .map_err(api_err)?;
    }
    ctx.metrics.record_suspend(labels, ks.spec.suspend);
    if ks.spec.suspend {
        tracing::info!(kustomization = %format!("{namespace}/{name}"), "reconciliation is suspended for this object");
        return Ok(Action::await_change());
    }

    let mut status = ks.status.clone().unwrap_or_default();
    if let Some(requested) = ks
        .annotations()
        .get(keys::RECONCILE_REQUESTED_AT_ANNOTATION)
    {
        status.last_handled_reconcile_at = Some(requested.clone());
    }
    let outcome = run(&ks, &ctx, &api, &mut status).await;
    let (action, result) = match &outcome {
        Ok(Outcome::Succeeded { .. }) => (
            Action::requeue(jittered(
                ks.spec.interval.as_std(),
                ctx.options.interval_jitter_percent,
            )),
            ReconcileResult::Success,
        ),
        Ok(Outcome::Failed { requeue, .. }) => (
            Action::requeue(jittered(*requeue, ctx.options.interval_jitter_percent)),
            ReconcileResult::Requeue,
        ),
        Err(_) => (Action::await_change(), ReconcileResult::Error),
    };
    let outcome = outcome.map_err(api_err)?;
    let took = started.elapsed();
    status::record(&ks, &ctx, &api, status, outcome, took)
        .await
        .map_err(api_err)?;
    ctx.metrics
        .record_reconcile("kustomization", labels, took, result);
    Ok(action)
}

/// The steps after the finalizer and suspend checks. `Err` only for API failures that keep the
/// status from being written at all.
async fn run(
    ks: &Kustomization,
    ctx: &Context,
    api: &Api<Kustomization>,
    status: &mut KustomizationStatus,
) -> Result<Outcome, kube::Error> {
    let (namespace, name) = key(ks);
    let retry = ks.retry_interval();

    // Fields whose checks tether cannot run yet fail the reconcile rather than pass unchecked.
    if let Some(message) = unsupported(ks) {
        return Ok(Outcome::Failed {
            reason: Reason::ReconciliationFailed,
            message,
            revision: None,
            inventory: None,
            healthy: None,
            requeue: ks.spec.interval.as_std(),
        });
    }

    // 3. The source and its artifact.
    let artifact = match source_artifact(ks, ctx).await? {
        Ok(a) => a,
        Err(message) => {
            return Ok(Outcome::Failed {
                reason: Reason::ArtifactFailed,
                message,
                revision: None,
                inventory: None,
                healthy: None,
                requeue: ctx.options.requeue_artifact,
            });
        }
    };
    let revision = artifact.revision.clone();

    // 4. Dependencies.
    let mut deps: Vec<Kustomization> = Vec::new();
    for (dep_ns, dep_name) in deps::dependency_keys(ks) {
        let api: Api<Kustomization> = Api::namespaced(ctx.client.clone(), &dep_ns);
        deps.extend(api.get_opt(&dep_name).await?);
    }
    let lookup = |ns: &str, n: &str| {
        deps.iter()
            .find(|k| k.namespace().as_deref() == Some(ns) && k.name_any() == n)
            .cloned()
    };
    if let Err(e) = deps::check(ks, &revision, lookup) {
        let wait = ctx.options.requeue_dependency;
        return Ok(Outcome::Failed {
            reason: Reason::DependencyNotReady,
            message: format!(
                "Dependencies do not meet ready condition ({e}), retrying in {}",
                tether_api::Duration::from_std(wait)
            ),
            revision: None,
            inventory: None,
            healthy: None,
            requeue: wait,
        });
    }

    // Say what is happening when this is new work (a new revision or generation).
    let generation = ks.meta().generation;
    let new_work = status.last_applied_revision.as_deref() != Some(revision.as_str())
        || status.observed_generation != generation.unwrap_or(0);
    if new_work {
        let message = format!(
            "Fetching manifests for revision {revision} with a timeout of {}",
            tether_api::Duration::from_std(ks.timeout())
        );
        conditions::mark_reconciling(
            &mut status.conditions,
            Reason::Progressing,
            &message,
            generation,
        );
        conditions::mark_unknown(
            &mut status.conditions,
            ConditionType::Ready,
            Reason::Progressing,
            "Reconciliation in progress",
            generation,
        );
        status::patch(api, &name, status).await?;
    }

    // 5. Build.
    let variables = match build::substitution_variables(ks, &ctx.client).await? {
        Ok(v) => v,
        Err(message) => {
            return Ok(Outcome::Failed {
                reason: Reason::BuildFailed,
                message,
                revision: Some(revision),
                inventory: None,
                healthy: None,
                requeue: retry,
            });
        }
    };
    let objects = match ctx.builds.build(ks, &artifact, &variables).await {
        Ok(objects) => objects,
        Err(message) => {
            return Ok(Outcome::Failed {
                reason: Reason::BuildFailed,
                message,
                revision: Some(revision),
                inventory: None,
                healthy: None,
                requeue: retry,
            });
        }
    };

    // 6. Apply, on the target cluster with the target identity.
    let applier = match ctx.targets.applier(&ctx.client, ks).await? {
        Ok(applier) => applier,
        Err(message) => {
            return Ok(Outcome::Failed {
                reason: Reason::ReconciliationFailed,
                message,
                revision: Some(revision),
                inventory: None,
                healthy: None,
                requeue: retry,
            });
        }
    };
    // First record in the status what is about to be applied (with what was there), so
    // a controller killed mid-apply leaves no object outside every inventory: the next reconcile
    // prunes whatever of it Git no longer has. Costs a write only when new objects appear.
    let previous = from_api_inventory(status.inventory.as_ref());
    let pending: Vec<ObjectRef> = objects.iter().map(ObjectRef::from_object).collect();
    let widened = union(&previous, &Inventory::from_objects(pending.iter()));
    if widened.entries.len() != previous.entries.len() {
        status.inventory = Some(to_api_inventory(&widened));
        status::patch(api, &name, status).await?;
    }
    let mut options = applier.apply_options(&name, &namespace);
    options.force = ks.spec.force;
    options.concurrency = ctx.options.apply_concurrency;
    // The audit trail: what this apply creates or changes names the revision it came from;
    // what it leaves unchanged keeps naming the revision that last changed it.
    options.stamp = Some(tether_apply::Stamp {
        annotation: keys::LAST_CHANGED_REVISION_ANNOTATION.to_owned(),
        value: Some(revision.clone()),
    });
    let changes = match applier
        .apply_all_staged(objects.as_ref().clone(), &options)
        .await
    {
        Ok(changes) => changes,
        Err(e) => {
            // What was applied before the failure joins the inventory so it is not orphaned.
            let partial = merged_inventory(Some(&to_api_inventory(&previous)), &e.applied);
            return Ok(Outcome::Failed {
                reason: Reason::ReconciliationFailed,
                message: e.to_string(),
                revision: Some(revision),
                inventory: Some(partial),
                healthy: None,
                requeue: retry,
            });
        }
    };
    let new_inventory = Inventory::from_change_set(&changes);
    let inventory = to_api_inventory(&new_inventory);

    // 7. Prune.
    let mut all_changes = changes;
    if ks.spec.prune {
        let old = previous;
        match old.diff(&new_inventory) {
            Ok(stale) if !stale.is_empty() => {
                let options = applier.delete_options(&name, &namespace);
                match applier.delete_all(&stale, &options).await {
                    Ok(deleted) => all_changes.append(deleted),
                    Err(e) => {
                        let message = e.to_string();
                        return Ok(Outcome::Failed {
                            reason: Reason::PruneFailed,
                            message,
                            revision: Some(revision),
                            // Keep the stale objects listed so the next attempt prunes them.
                            inventory: Some(to_api_inventory(&union(&old, &new_inventory))),
                            healthy: None,
                            requeue: retry,
                        });
                    }
                }
            }
            Ok(_) => {}
            Err(e) => {
                return Ok(Outcome::Failed {
                    reason: Reason::PruneFailed,
                    message: format!("invalid inventory in status: {e}"),
                    revision: Some(revision),
                    inventory: Some(inventory),
                    healthy: None,
                    requeue: retry,
                });
            }
        }
    }

    // 8. Health.
    let to_check: Vec<ObjectRef> = if ks.spec.wait {
        all_changes
            .entries
            .iter()
            .filter(|e| {
                !matches!(
                    e.action,
                    tether_apply::Action::Deleted | tether_apply::Action::Skipped
                )
            })
            .map(|e| e.object.clone())
            .collect()
    } else {
        ks.spec
            .health_checks
            .iter()
            .map(|h| {
                ObjectRef::new(
                    h.api_version.as_deref().unwrap_or(""),
                    &h.kind,
                    h.namespace.as_deref().unwrap_or(&namespace),
                    &h.name,
                )
            })
            .collect()
    };
    let mut health = None;
    if !to_check.is_empty() {
        let started = Instant::now();
        let wait = WaitOptions {
            interval: ctx.options.health_poll,
            timeout: ks.timeout(),
            fail_fast: true,
        };
        if let Err(e) = applier.wait(&to_check, &wait).await {
            return Ok(Outcome::Failed {
                reason: Reason::HealthCheckFailed,
                message: e.to_string(),
                revision: Some(revision),
                inventory: Some(inventory),
                healthy: Some(false),
                requeue: retry,
            });
        }
        health = Some(format!(
            "Health check passed in {}",
            status::short(started.elapsed())
        ));
    }
    Ok(Outcome::Succeeded {
        revision,
        changes: all_changes,
        inventory,
        health,
    })
}

/// Why `ks` asks for a check tether does not implement, if it does.
fn unsupported(ks: &Kustomization) -> Option<String> {
    if ks.spec.decryption.is_some() {
        return Some(
            "spec.decryption (SOPS) is not supported by tether yet: encrypted Secrets would be \
             applied undecrypted; remove spec.decryption or decrypt them another way"
                .into(),
        );
    }
    if !ks.spec.health_check_exprs.is_empty() {
        return Some(
            "spec.healthCheckExprs (CEL health checks) is not supported by tether yet; remove \
             it or list the objects in spec.healthChecks"
                .into(),
        );
    }
    if ks.spec.depends_on.iter().any(|d| d.ready_expr.is_some()) {
        return Some(
            "spec.dependsOn[].readyExpr (CEL readiness) is not supported by tether yet; remove \
             it to wait for the dependency's Ready condition"
                .into(),
        );
    }
    None
}

/// The artifact of the Kustomization's source, or the message of `ArtifactFailed`.
async fn source_artifact(
    ks: &Kustomization,
    ctx: &Context,
) -> Result<Result<tether_api::Artifact, String>, kube::Error> {
    let source_ns = ks.source_namespace().unwrap_or_default().to_owned();
    let src = &ks.spec.source_ref;
    if src.kind != tether_api::GIT_REPOSITORY_KIND {
        return Ok(Err(format!(
            "source kind '{}' is not supported by tether yet; use GitRepository",
            src.kind
        )));
    }
    let api: Api<GitRepository> = Api::namespaced(ctx.client.clone(), &source_ns);
    let Some(repo) = api.get_opt(&src.name).await? else {
        return Ok(Err(format!(
            "Source '{}/{}/{}' not found",
            src.kind, source_ns, src.name
        )));
    };
    match repo.artifact() {
        Some(a) => Ok(Ok(a.clone())),
        None => Ok(Err(format!(
            "Source artifact not found, retrying in {}",
            tether_api::Duration::from_std(ctx.options.requeue_artifact)
        ))),
    }
}

fn to_api_inventory(inventory: &Inventory) -> ResourceInventory {
    ResourceInventory {
        entries: inventory
            .entries
            .iter()
            .map(|e| ResourceRef {
                id: e.id.clone(),
                v: e.v.clone(),
            })
            .collect(),
    }
}

fn from_api_inventory(inventory: Option<&ResourceInventory>) -> Inventory {
    Inventory {
        entries: inventory
            .map(|i| {
                i.entries
                    .iter()
                    .map(|e| InventoryEntry {
                        id: e.id.clone(),
                        v: e.v.clone(),
                    })
                    .collect()
            })
            .unwrap_or_default(),
    }
}

/// Entries of `a` then those of `b` not in `a`.
fn union(a: &Inventory, b: &Inventory) -> Inventory {
    let mut out = a.clone();
    for e in &b.entries {
        if !out.entries.iter().any(|x| x.id == e.id) {
            out.entries.push(e.clone());
        }
    }
    out
}

fn merged_inventory(old: Option<&ResourceInventory>, applied: &ChangeSet) -> ResourceInventory {
    to_api_inventory(&union(
        &from_api_inventory(old),
        &Inventory::from_change_set(applied),
    ))
}
