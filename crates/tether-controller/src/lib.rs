//! tether's controllers: Flux's source-controller (GitRepository) and kustomize-controller
//! (Kustomization) in one process, against any cluster kube-rs can reach.
//!
//! [`run`] does, in order:
//! 1. start the artifact server over the storage directory (GitRepository artifacts are
//!    downloaded from it by URL, as Flux's controllers do, so the Kubernetes API stays the only
//!    shared state) and the metrics server (`/metrics`, `/healthz`, `/readyz`);
//! 2. with leader election, wait until this replica holds the Lease;
//!    and, with `receiver_addr`, the webhook server of Flux's Receivers ([`receiver`]), which
//!    answers on every replica, leader or not (it only annotates objects);
//! 3. run the reconcilers ([`gitrepository`], [`kustomization`], [`receiver`]) until shutdown, or until the
//!    lease is lost (then return [`RunError::LeadershipLost`]: the process should exit, as
//!    controller-runtime's managers do, and a standby takes over);
//! 4. on shutdown, let running reconciles finish, then release the Lease.
//!
//! A Kustomization applies, prunes and health-checks on its target (`spec.kubeConfig`) with its
//! identity (`spec.serviceAccountName`, or the default ServiceAccount): see
//! [`kustomization::target`]. Everything else uses the controller's own client.
//!
//! Guarantees: one reconcile at a time per object; at most `concurrency` per kind; objects are
//! reconciled again on spec changes, `reconcile.fluxcd.io/requestedAt`, their interval, their
//! source's new artifact, and (Kustomizations) their dependencies becoming ready.

pub mod context;
mod events;
mod finalizer;
pub mod gitrepository;
mod install;
pub mod kustomization;
pub mod leader;
pub mod metrics;
pub mod receiver;
mod run;

use std::net::SocketAddr;
use std::path::PathBuf;

use futures::FutureExt as _;
use kube::Client;

pub use context::{Context, ReconcileOptions};
pub use install::{InstallError, install_crds};
pub use leader::{LeaderConfig, Leadership};
pub use metrics::Metrics;
pub use run::{Concurrency, run_controllers};

/// How `tether controller` runs.
#[derive(Debug, Clone)]
pub struct ControllerConfig {
    pub concurrency: Concurrency,
    pub options: ReconcileOptions,
    /// Where artifacts are stored.
    pub storage_path: PathBuf,
    /// Where the artifact server listens (port 0 picks one).
    pub storage_addr: SocketAddr,
    /// The `host:port` artifact URLs name; the bound address when `None`.
    pub storage_adv_addr: Option<String>,
    /// Where `/metrics` is served; `None` serves no metrics.
    pub metrics_addr: Option<SocketAddr>,
    /// Lease to hold before reconciling; `None` reconciles at once.
    pub leader_election: Option<LeaderConfig>,
    /// Where Receiver webhooks are served (port 0 picks one); `None` serves none.
    pub receiver_addr: Option<SocketAddr>,
}

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("cannot start the artifact server on {addr}: {source}")]
    ArtifactServer {
        addr: SocketAddr,
        #[source]
        source: tether_source::ArtifactError,
    },
    #[error("cannot serve metrics on {addr}: {source}")]
    Metrics {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot serve Receiver webhooks on {addr}: {source}")]
    Receiver {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Leader(#[from] leader::LeaderError),
    #[error("cannot build a Kubernetes client: {0}")]
    Client(#[source] kube::Error),
    #[error("lost the leader lease; stopping so a standby can take over")]
    LeadershipLost,
}

/// Addresses the controller ended up serving on.
#[derive(Debug, Clone)]
pub struct Served {
    pub artifacts: SocketAddr,
    pub metrics: Option<SocketAddr>,
    /// Where Receiver webhooks are answered (`http://<addr>/hook/…`).
    pub receiver: Option<SocketAddr>,
}

/// Runs the controllers against `cluster` until `shutdown` resolves (see the crate docs).
/// `on_serving` is called once the servers are bound, before leader election.
pub async fn run(
    cluster: kube::Config,
    config: ControllerConfig,
    shutdown: impl std::future::Future<Output = ()> + Send + Sync + 'static,
    on_serving: impl FnOnce(&Served),
) -> Result<(), RunError> {
    let shutdown = shutdown.boxed().shared();
    let client = Client::try_from(cluster.clone()).map_err(RunError::Client)?;
    let server = tether_source::ArtifactServer::start(&config.storage_path, config.storage_addr)
        .await
        .map_err(|source| RunError::ArtifactServer {
            addr: config.storage_addr,
            source,
        })?;
    let advertised = config
        .storage_adv_addr
        .clone()
        .unwrap_or_else(|| server.addr().to_string());
    let store =
        tether_source::ArtifactStore::new(&config.storage_path, advertised).map_err(|source| {
            RunError::ArtifactServer {
                addr: config.storage_addr,
                source,
            }
        })?;
    let metrics = Metrics::new();
    let mut served = Served {
        artifacts: server.addr(),
        metrics: None,
        receiver: None,
    };
    if let Some(addr) = config.metrics_addr {
        let listener = metrics::bind(addr)
            .await
            .map_err(|source| RunError::Metrics { addr, source })?;
        served.metrics = listener.local_addr().ok();
        let m = metrics.clone();
        let stop = shutdown.clone();
        tokio::spawn(async move {
            if let Err(e) = m.serve(listener, stop).await {
                tracing::error!(error = %e, "metrics server stopped");
            }
        });
    }
    if let Some(addr) = config.receiver_addr {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|source| RunError::Receiver { addr, source })?;
        served.receiver = listener.local_addr().ok();
        let (receivers, watch) = receiver::watch(client.clone());
        let watch = tokio::spawn(watch);
        let stop = shutdown.clone();
        let client = client.clone();
        tokio::spawn(async move {
            if let Err(e) = receiver::serve(listener, client, receivers, stop).await {
                tracing::error!(error = %e, "receiver server stopped");
            }
            watch.abort();
        });
    }
    on_serving(&served);

    let mut leadership = match config.leader_election.clone() {
        None => None,
        Some(lc) => {
            tokio::select! {
                held = Leadership::acquire(client.clone(), lc) => Some(held?),
                () = shutdown.clone() => return Ok(()),
            }
        }
    };
    let ctx = Context::new(cluster, client, metrics, config.options.clone(), store);
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let controllers = tokio::spawn(run_controllers(ctx, config.concurrency, async move {
        let _ = stop_rx.await;
    }));
    let lost = async {
        match leadership.as_mut() {
            Some(l) => l.lost().await,
            None => std::future::pending().await,
        }
    };
    let result = tokio::select! {
        () = shutdown.clone() => Ok(()),
        () = lost => Err(RunError::LeadershipLost),
    };
    let _ = stop_tx.send(());
    if let Err(e) = controllers.await {
        tracing::error!(error = %e, "controllers task failed");
    }
    if let Some(l) = leadership
        && result.is_ok()
    {
        l.release().await?;
    }
    drop(server);
    result
}
