//! The server-side apply engine of tether: Flux's `fluxcd/pkg/ssa` and the apply, prune and
//! health steps of kustomize-controller, over kube-rs, against any cluster.
//!
//! It takes plain inputs (manifests as JSON, object references, options) and knows nothing of the
//! Kustomization API: the controller maps its spec to [`ApplyOptions`] and [`DeleteOptions`] and
//! stores the [`Inventory`] in its status.
//!
//! # Expected flow (one Kustomization reconcile)
//!
//! 1. [`ResourceManager::apply_all_staged`] with the built manifests and
//!    [`ResourceManager::apply_options`] (owner labels of the Kustomization, `force` from its spec):
//!    1. every manifest is checked (`apiVersion`, `kind`, `metadata.name`), normalized (default
//!       port protocols, Secret `stringData` into `data`, no `status`) and given the owner labels
//!       `kustomize.toolkit.fluxcd.io/name` and `/namespace`, and the audit [`Stamp`] when the
//!       options carry one (the controller's: `tether.dev/last-changed-revision` = the source
//!       revision);
//!    2. the objects are split into Flux's stages: cluster definitions (CustomResourceDefinitions,
//!       Namespaces, ClusterRoles), then every `*Class` kind, then the rest; each stage is sorted
//!       in Flux's kind order ([`sort`]);
//!    3. per stage, for each object (concurrently): read the live object; skip it when annotated
//!       `kustomize.toolkit.fluxcd.io/ssa: Ignore` (or `reconcile: disabled`), or when it exists and
//!       the manifest says `ssa: IfNotPresent`; server-side apply it as a dry run (field manager
//!       `kustomize-controller`, forced); on an immutable-field error recreate it when `force` or
//!       `kustomize.toolkit.fluxcd.io/force: Enabled` (delete in the foreground, wait until gone,
//!       dry-run again), else fail naming it; take over the fields of kubectl and of
//!       `before-first-apply` with a JSON patch of `metadata.managedFields` and drop the
//!       last-applied annotation (unless `ssa: Merge`); compare the dry-run result with the live
//!       object ([`normalize`], leaving the stamp out) to decide Created, Configured or
//!       Unchanged;
//!    4. then the Created and Configured objects are applied for real (forced), kind rank by kind
//!       rank; Unchanged objects are not written (their resourceVersion stays, and so does their
//!       stamp, which keeps naming the revision that last changed them);
//!    5. after the first two stages, wait until their objects are Current (CRDs Established) and,
//!       when CRDs were applied, refresh discovery so their custom resources resolve.
//! 2. [`Inventory::from_change_set`] of the result; [`Inventory::diff`] of the previous inventory
//!    against it gives the stale objects.
//! 3. [`ResourceManager::delete_all`] with [`ResourceManager::delete_options`] prunes them:
//!    objects already gone count as deleted; objects without the owner labels or annotated
//!    `kustomize.toolkit.fluxcd.io/prune: disabled` are skipped.
//! 4. [`ResourceManager::wait`] checks health with kstatus rules ([`compute_status`]) until the
//!    timeout; the error lists every object that is not Current with its status and message.
//!
//! # Dry-run diff (`flux diff kustomization`)
//!
//! [`ResourceManager::diff`] answers "what would step 1 do?" without writing: each manifest is
//! prepared as in 1.1, read live and applied as a dry run (1.3 without the recreate and the
//! takeover patch), and compared by the same drift rule, giving an [`ObjectDiff`] per object
//! (Created, Configured, Unchanged or Skipped) with the live object and the dry-run result; an
//! object whose fields kubectl owns is Configured, as the apply would take them over and write
//! it ([`ObjectDiff::takeover`]).
//! [`ResourceManager::diff_prune`] does the same for step 3 with the stale objects of
//! [`Inventory::diff`] (Deleted or Skipped, with the live object). Both sides come without
//! server bookkeeping ([`for_display`]: `managedFields`, `resourceVersion`, `generation`, `uid`,
//! timestamps, `status`), so an object an apply would not write shows no difference, and Secret
//! values are masked ([`mask_secret_values`]: `***`, or `*** (before)` / `*** (after)` when a
//! value changed). The options' [`Stamp`] annotation ([`ApplyOptions::stamp`],
//! [`DeleteOptions::stamp`]) is left out of the comparison and of what is shown, so a diff never
//! shows it. Errors do not stop the other objects: [`DiffError`] carries
//! both.
//!
//! # Guarantees
//!
//! - An object whose dry-run result equals the live object apart from the stamp (and that had
//!   nothing to take over from kubectl) is not written: a new revision that does not change it
//!   leaves its stamp naming the revision that last did.
//! - Nothing is applied after the first failure; [`ApplyError`] says which object failed, with
//!   the API server's message, and lists what was applied before it.
//! - Objects of a stage reach the cluster in Flux's kind order; a later stage starts only once
//!   the earlier stage's objects are Current.
//! - A prune never deletes an object that does not carry all the owner labels.
//! - A diff writes nothing (GETs and dry-run applies only) and never returns a Secret value.
//! - Every wait has a deadline and polls with a growing pause (no busy loop).
//!
//! # Performance
//!
//! Per object: one GET and one dry-run apply, plus one apply when it changed and one JSON patch
//! when kubectl's fields are taken over. Requests run [`ApplyOptions::concurrency`] at a time.
//! `cargo bench -p tether-apply --bench apply` applies 1,000 objects to the embedded control
//! plane (first apply and no-op re-apply) at several concurrency limits.
//!
//! # Caveats
//!
//! - Immutable-field errors are recognized by message (422 with "field is immutable", "may not
//!   change once set", ...), narrower than Flux, which treats every 409/422 as immutable.
//! - Recreation deletes in the foreground (Flux uses background propagation) so dependents of
//!   the old object are gone before the new one appears.
//! - Drift is what a forced dry-run changes: a field set by another manager that our manifest
//!   does not declare is only removed once taken over (kubectl's managers are; others, such as an
//!   HPA's `replicas`, are left alone, as in Flux).
//! - The health rules are kstatus' (a LoadBalancer Service is Current once it has a cluster IP;
//!   `Ready=False` is InProgress, only `Stalled=True` is Failed) plus Flux's Job rule (Current
//!   once complete).

// Errors carry the object they name (five strings); they are rare and end a reconcile, so their
// size on the error path does not matter.
#![allow(clippy::result_large_err)]

mod changeset;
mod cleanup;
mod client;
mod delete;
mod diff;
mod discovery;
mod error;
mod inventory;
mod manager;
pub mod normalize;
mod object;
pub mod sort;
mod stamp;
mod status;
mod wait;

pub use changeset::{Action, ChangeSet, ChangeSetEntry};
pub use cleanup::{
    CleanupOptions, FieldManager, LAST_APPLIED_ANNOTATION, Operation, cleanup_patch,
};
pub use delete::DeleteError;
pub use diff::{
    DiffError, ObjectDiff, SECRET_MASK, SECRET_MASK_AFTER, SECRET_MASK_BEFORE, for_display,
    mask_secret_values,
};
pub use error::{ApiFailure, ApplyError, Error, is_immutable_error};
pub use inventory::{Inventory, InventoryEntry};
pub use manager::{ApplyOptions, DeleteOptions, Owner, ResourceManager};
pub use object::{ObjectRef, ParseIdError};
pub use stamp::Stamp;
pub use status::{Status, compute_status, compute_status_json};
pub use wait::{HealthError, ObjectHealth, WaitOptions};

// So callers can name the propagation policy without depending on kube directly.
pub use kube::api::PropagationPolicy;

#[cfg(test)]
mod tests {
    use super::*;

    fn spawnable<F: std::future::Future + Send + 'static>(_: F) {}

    /// The controller runs these on spawned tasks: they must be `Send` (checked at compile time;
    /// a stream of borrowed items once made `wait` unspawnable).
    #[allow(dead_code)]
    fn engine_futures_can_be_spawned(
        m: ResourceManager,
        apply: ApplyOptions,
        delete: DeleteOptions,
        wait: WaitOptions,
    ) {
        let (m1, m2, m3, w2) = (m.clone(), m.clone(), m.clone(), wait.clone());
        let (m4, m5, a2, d2) = (m.clone(), m.clone(), apply.clone(), delete.clone());
        spawnable(async move { m4.diff(vec![], &a2).await });
        spawnable(async move { m5.diff_prune(&[], &d2).await });
        spawnable(async move { m1.apply_all_staged(vec![], &apply).await });
        spawnable(async move { m2.delete_all(&[], &delete).await });
        spawnable(async move { m3.wait(&[], &wait).await });
        spawnable(async move { m.wait_for_termination(&[], &w2).await });
    }
}
