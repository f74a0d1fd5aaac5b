//! Running the reconcilers: kube-runtime controllers over GitRepositories and Kustomizations,
//! with the triggers Flux uses plus one it lacks.
//!
//! - A Kustomization reconciles when its generation or its `reconcile.fluxcd.io/requestedAt`
//!   annotation changes (not on its own status writes), on deletion, and on its requeue timer.
//! - A GitRepository whose artifact revision changes triggers the Kustomizations that use it.
//! - A Kustomization that becomes Ready, or applies a new revision, triggers the Kustomizations
//!   that depend on it (Flux only polls every `--requeue-dependency`).
//! - Same for GitRepositories: generation and requestedAt changes, deletion, the interval; and a
//!   GitRepository whose artifact changes triggers the GitRepositories that `include` it.
//! - Receivers: generation and requestedAt changes, deletion, the interval (and a retry while
//!   their token Secret is missing).

use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Arc;
use std::time::Duration;

use futures::{FutureExt as _, StreamExt as _};
use kube::api::Api;
use kube::runtime::controller::{Action, Config, Controller};
use kube::runtime::reflector::{self, ObjectRef, Store};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Resource, ResourceExt};
use tether_api::{GitRepository, Kustomization, Receiver, keys};

use crate::context::Context;
use crate::gitrepository;
use crate::kustomization;
use crate::receiver;

/// How many objects of each kind reconcile at once.
#[derive(Debug, Clone, Copy)]
pub struct Concurrency {
    pub git_repositories: u16,
    pub kustomizations: u16,
}

impl Concurrency {
    /// Receivers only read a Secret and write a status: a couple at a time is plenty.
    const RECEIVERS: u16 = 2;
}

/// What makes an object worth reconciling again: its generation, the requestedAt annotation,
/// deletion and finalizers (not status writes).
fn spec_or_request(obj: &impl Resource) -> Option<u64> {
    let mut h = DefaultHasher::new();
    obj.meta().generation.hash(&mut h);
    obj.meta()
        .annotations
        .as_ref()
        .and_then(|a| a.get(keys::RECONCILE_REQUESTED_AT_ANNOTATION))
        .hash(&mut h);
    obj.meta().deletion_timestamp.is_some().hash(&mut h);
    obj.meta().finalizers.hash(&mut h);
    Some(h.finish())
}

fn artifact_revision(repo: &GitRepository) -> Option<u64> {
    let mut h = DefaultHasher::new();
    repo.artifact()
        .map(|a| (&a.revision, &a.digest))
        .hash(&mut h);
    Some(h.finish())
}

/// What dependents care about: readiness at the current generation and the applied revision.
fn readiness(ks: &Kustomization) -> Option<u64> {
    let mut h = DefaultHasher::new();
    tether_api::conditions::is_ready(ks.conditions()).hash(&mut h);
    ks.status
        .as_ref()
        .map(|s| s.observed_generation)
        .hash(&mut h);
    ks.status
        .as_ref()
        .and_then(|s| s.last_applied_revision.as_deref())
        .hash(&mut h);
    Some(h.finish())
}

fn users_of(store: &Store<Kustomization>, repo: &GitRepository) -> Vec<ObjectRef<Kustomization>> {
    let ns = repo.namespace();
    let name = repo.name_any();
    store
        .state()
        .iter()
        .filter(|ks| {
            ks.spec.source_ref.kind == tether_api::GIT_REPOSITORY_KIND
                && ks.spec.source_ref.name == name
                && ks.source_namespace() == ns.as_deref()
        })
        .map(|ks| ObjectRef::from_obj(ks.as_ref()))
        .collect()
}

fn includers_of(
    store: &Store<GitRepository>,
    included: &GitRepository,
) -> Vec<ObjectRef<GitRepository>> {
    let ns = included.namespace();
    let name = included.name_any();
    store
        .state()
        .iter()
        .filter(|repo| {
            repo.namespace() == ns && repo.spec.include.iter().any(|i| i.repository.name == name)
        })
        .map(|repo| ObjectRef::from_obj(repo.as_ref()))
        .collect()
}

fn dependents_of(
    store: &Store<Kustomization>,
    dep: &Kustomization,
) -> Vec<ObjectRef<Kustomization>> {
    let ns = dep.namespace().unwrap_or_default();
    let name = dep.name_any();
    store
        .state()
        .iter()
        .filter(|ks| {
            kustomization::deps::dependency_keys(ks)
                .iter()
                .any(|(n, m)| *n == ns && *m == name)
        })
        .map(|ks| ObjectRef::from_obj(ks.as_ref()))
        .collect()
}

/// Runs both controllers until `shutdown` resolves; returns once they have drained.
pub async fn run_controllers(
    ctx: Arc<Context>,
    concurrency: Concurrency,
    shutdown: impl std::future::Future<Output = ()> + Send + Sync + 'static,
) {
    let client = ctx.client.clone();
    let shutdown = shutdown.shared();

    // Kustomizations: the reflector's store answers the triggers' lookups.
    let ks_api: Api<Kustomization> = Api::all(client.clone());
    let (ks_store, ks_writer) = reflector::store();
    let ks_changes = watcher(ks_api.clone(), watcher::Config::default())
        .default_backoff()
        .modify(strip_managed_fields)
        .reflect(ks_writer)
        .applied_objects()
        .predicate_filter(spec_or_request, Default::default());
    let repo_changes = watcher(
        Api::<GitRepository>::all(client.clone()),
        watcher::Config::default(),
    )
    .default_backoff()
    .applied_objects()
    .predicate_filter(artifact_revision, Default::default());
    let readiness_changes = watcher(ks_api, watcher::Config::default())
        .default_backoff()
        .applied_objects()
        .predicate_filter(readiness, Default::default());
    let ks_store_ready = ks_store.clone();
    let users_store = ks_store.clone();
    let dependents_store = ks_store.clone();
    let kustomizations = Controller::for_stream(ks_changes, ks_store)
        .with_config(Config::default().concurrency(concurrency.kustomizations))
        .watches_stream(repo_changes, move |repo| users_of(&users_store, &repo))
        .watches_stream(readiness_changes, move |dep| {
            dependents_of(&dependents_store, &dep)
        })
        .graceful_shutdown_on(shutdown.clone())
        .run(kustomization::reconcile, error_policy, ctx.clone())
        .for_each(|result| async move {
            if let Err(e) = result {
                tracing::warn!(error = %e, "kustomization controller");
            }
        });

    let repo_api: Api<GitRepository> = Api::all(client);
    let (repo_store, repo_writer) = reflector::store();
    let repo_store_ready = repo_store.clone();
    let repo_triggers = watcher(repo_api, watcher::Config::default())
        .default_backoff()
        .modify(strip_managed_fields)
        .reflect(repo_writer)
        .applied_objects()
        .predicate_filter(spec_or_request, Default::default());
    let included_changes = watcher(
        Api::<GitRepository>::all(ctx.client.clone()),
        watcher::Config::default(),
    )
    .default_backoff()
    .applied_objects()
    .predicate_filter(artifact_revision, Default::default());
    let includers_store = repo_store.clone();
    let repositories = Controller::for_stream(repo_triggers, repo_store)
        .with_config(Config::default().concurrency(concurrency.git_repositories))
        .watches_stream(included_changes, move |repo| {
            includers_of(&includers_store, &repo)
        })
        .graceful_shutdown_on(shutdown.clone())
        .run(gitrepository::reconcile, error_policy, ctx.clone())
        .for_each(|result| async move {
            if let Err(e) = result {
                tracing::warn!(error = %e, "gitrepository controller");
            }
        });

    let (rcv_store, rcv_writer) = reflector::store();
    let rcv_store_ready = rcv_store.clone();
    let rcv_triggers = watcher(
        Api::<Receiver>::all(ctx.client.clone()),
        watcher::Config::default(),
    )
    .default_backoff()
    .modify(strip_managed_fields)
    .reflect(rcv_writer)
    .applied_objects()
    .predicate_filter(spec_or_request, Default::default());
    let receivers = Controller::for_stream(rcv_triggers, rcv_store)
        .with_config(Config::default().concurrency(Concurrency::RECEIVERS))
        .graceful_shutdown_on(shutdown.clone())
        .run(receiver::reconcile, error_policy, ctx)
        .for_each(|result| async move {
            if let Err(e) = result {
                tracing::warn!(error = %e, "receiver controller");
            }
        });
    // kube-runtime starts reconciling only once a store has listed, and drains only after that:
    // with a CRD missing (never listed) a graceful shutdown would wait forever. Nothing can be
    // reconciling then, so stop at once; otherwise give running reconciles a bounded grace.
    let stores = (ks_store_ready, repo_store_ready, rcv_store_ready);
    let deadline = async move {
        shutdown.await;
        let listed = stores.0.wait_until_ready().now_or_never().is_some()
            && stores.1.wait_until_ready().now_or_never().is_some()
            && stores.2.wait_until_ready().now_or_never().is_some();
        if listed {
            tokio::time::sleep(SHUTDOWN_GRACE).await;
            tracing::warn!(grace = ?SHUTDOWN_GRACE, "reconciles still running after the shutdown grace period; stopping them");
        }
    };
    tokio::select! {
        _ = futures::future::join3(kustomizations, repositories, receivers) => {}
        () = deadline => {}
    }
}

/// How long running reconciles may take to finish after shutdown (controller-runtime's
/// default `GracefulShutdownTimeout`).
const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

/// The caches never read managedFields, which are often the larger half of an object (as
/// controller-runtime's `TransformStripManagedFields`, which Flux uses).
fn strip_managed_fields<K: Resource>(obj: &mut K) {
    obj.meta_mut().managed_fields = None;
}

/// Failures that kept a reconcile from writing its status: retry with a short backoff.
fn error_policy<K, E: std::fmt::Display>(_obj: Arc<K>, error: &E, _ctx: Arc<Context>) -> Action {
    tracing::warn!(error = %error, "reconcile failed; retrying in 5s");
    Action::requeue(Duration::from_secs(5))
}
