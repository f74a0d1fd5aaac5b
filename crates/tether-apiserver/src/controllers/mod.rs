//! The control plane's own controllers, running in-process on the [`Core`]: what
//! kube-apiserver and kube-controller-manager do for objects that need no pods.
//!
//! - [`crds`]: establishes CustomResourceDefinitions (serving their resources) and cleans up
//!   their objects when they are deleted.
//! - [`garbage`]: the garbage collector: deletes dependents whose owners are gone and carries
//!   out foreground and orphan deletion of owners.
//! - [`namespaces`]: creates the default namespaces and deletes a terminating namespace's
//!   content, then the namespace.
//! - [`workloads`]: gives Deployments, StatefulSets, DaemonSets, ReplicaSets and Jobs the status
//!   a cluster would once their pods were ready.
//!
//! Each watches the store from a listed revision and re-examines objects that are waiting on
//! something (finalizers of content, a delay) on a short timer.

pub mod crds;
pub mod garbage;
pub mod namespaces;
mod queue;
pub mod workloads;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tether_store::{Event, Filter};

use crate::core::Core;
use crate::object;
use crate::registry::Resource;
use crate::status::ApiError;
use queue::{Key, Queue};

/// How soon a failed reconcile, or one waiting on something, runs again.
pub(super) const RETRY: Duration = Duration::from_millis(250);

/// One controller: follows `r`'s objects, queues those `wants` picks (after `delay`), and
/// reconciles queued keys one at a time until shutdown. A failed reconcile is retried shortly;
/// `reconcile` may also re-queue a key itself (an object waiting on something).
pub(crate) async fn run_controller<F, Fut>(
    core: Core,
    r: Arc<Resource>,
    shutdown: tokio::sync::watch::Receiver<bool>,
    delay: Duration,
    wants: impl Fn(&serde_json::Value, bool) -> bool + Send + Sync + 'static,
    mut reconcile: F,
) where
    F: FnMut(Key, Queue) -> Fut,
    Fut: Future<Output = Result<(), ApiError>>,
{
    let (queue, mut rx) = queue::queue();
    let follower = {
        let (core, r, queue, shutdown) = (core.clone(), r.clone(), queue.clone(), shutdown.clone());
        tokio::spawn(async move {
            follow(&core, &r, shutdown, |o, deleted| {
                if wants(o, deleted) {
                    let key: Key = (
                        object::namespace(o).map(str::to_owned),
                        object::name(o).to_owned(),
                    );
                    if delay.is_zero() {
                        queue.add(key);
                    } else {
                        queue.add_after(key, delay);
                    }
                }
            })
            .await;
        })
    };
    let mut stop = shutdown;
    loop {
        tokio::select! {
            key = rx.next() => {
                let Some(key) = key else { break };
                if let Err(err) = reconcile(key.clone(), queue.clone()).await {
                    tracing::warn!(resource = %r.resource, name = %key.1, %err, "reconcile failed; retrying");
                    queue.add_after(key, RETRY);
                }
            }
            _ = stop.changed() => break,
        }
    }
    follower.abort();
}

/// Lists `r` and yields its objects, then every later event of it, until shutdown.
pub(crate) async fn follow(
    core: &Core,
    r: &Resource,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
    mut on_object: impl FnMut(&serde_json::Value, bool),
) {
    let prefix = r.prefix(None);
    let page = match core.store.list(tether_store::ListRequest::new(&prefix)) {
        Ok(page) => page,
        Err(err) => {
            tracing::error!(%err, resource = %r.resource, "controller cannot list");
            return;
        }
    };
    for item in &page.items {
        on_object(&item.value, false);
    }
    let mut revision = page.revision;
    loop {
        let mut watch = match core.store.watch(revision, Filter::prefix(prefix.clone())) {
            Ok(w) => w,
            Err(err) => {
                // Fell behind the history: start over from a fresh list.
                tracing::warn!(%err, resource = %r.resource, "controller relists");
                let Ok(page) = core.store.list(tether_store::ListRequest::new(&prefix)) else {
                    return;
                };
                for item in &page.items {
                    on_object(&item.value, false);
                }
                revision = page.revision;
                continue;
            }
        };
        loop {
            tokio::select! {
                event = watch.next() => match event {
                    Some(Ok(event)) => {
                        revision = event.revision;
                        on_event(&event, &mut on_object);
                    }
                    Some(Err(_)) => break,
                    None => return,
                },
                _ = shutdown.changed() => return,
            }
        }
    }
}

fn on_event(event: &Arc<Event>, on_object: &mut impl FnMut(&serde_json::Value, bool)) {
    let deleted = event.kind == tether_store::EventKind::Deleted;
    on_object(&event.object.value, deleted);
}
