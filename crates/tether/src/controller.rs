//! `tether controller`: the GitRepository and Kustomization reconcilers against any cluster
//! (kubeconfig or in-cluster config), until SIGINT or SIGTERM.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use tether_controller::{Concurrency, ControllerConfig, LeaderConfig, ReconcileOptions};

/// Flags shared by `tether controller` and `tether dev`.
#[derive(Debug, Clone, clap::Args)]
pub struct Flags {
    /// Reconciles that run at once, per kind (Flux's `--concurrent`).
    #[arg(long, default_value_t = 4)]
    concurrent: u16,
    /// Where artifacts are stored; a temporary directory when not given.
    #[arg(long, value_name = "DIR")]
    storage_path: Option<PathBuf>,
    /// Where the artifact server listens (port 0 picks one).
    #[arg(long, default_value = "127.0.0.1:0")]
    storage_addr: SocketAddr,
    /// The host:port artifact URLs name (e.g. a Service address); the bound address by default.
    #[arg(long, value_name = "HOST:PORT")]
    storage_adv_addr: Option<String>,
    /// Where `/metrics`, `/healthz` and `/readyz` are served [default: 127.0.0.1:8080 for
    /// `tether controller`, a free port for `tether dev`, so several can run on one machine].
    #[arg(long, value_name = "ADDR")]
    metrics_addr: Option<SocketAddr>,
    /// How soon a Kustomization waiting on dependencies is retried.
    #[arg(long, default_value = "30s", value_parser = parse_duration)]
    requeue_dependency: Duration,
    /// Random spread of reconcile intervals, in percent either way.
    #[arg(long, default_value_t = 5)]
    interval_jitter_percentage: u8,
    /// ServiceAccount (in the Kustomization's namespace) to impersonate when a Kustomization
    /// sets no `spec.serviceAccountName`, so tenants get only what RBAC grants them.
    #[arg(long, value_name = "NAME")]
    default_service_account: Option<String>,
    /// Where Flux's Receiver webhooks are answered (`/hook/…`; Flux's notification-controller
    /// uses :9292); port 0 picks a free port, printed at start.
    #[arg(long, default_value = "127.0.0.1:0", value_name = "ADDR")]
    receiver_addr: SocketAddr,
}

/// `tether controller` flags.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Kubeconfig to use; the in-cluster config or `KUBECONFIG` when not given.
    #[arg(long, env = "KUBECONFIG", value_name = "FILE")]
    kubeconfig: Option<PathBuf>,
    #[command(flatten)]
    flags: Flags,
    /// Hold a Lease before reconciling, so only one replica works at a time.
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    enable_leader_election: bool,
    /// Namespace of the leader Lease (`tether check` looks for it there).
    #[arg(long, default_value = "tether-system")]
    leader_election_namespace: String,
    /// Name of the leader Lease.
    #[arg(long, default_value = "tether-controller-leader-election")]
    leader_election_name: String,
    /// How long a leader's lease lasts without renewal (a killed leader is replaced after it).
    #[arg(long, default_value = "15s", value_parser = parse_duration)]
    leader_election_lease_duration: Duration,
    /// How long before expiry the leader renews.
    #[arg(long, default_value = "5s", value_parser = parse_duration)]
    leader_election_renew_before: Duration,
}

pub fn parse_duration(text: &str) -> Result<Duration, String> {
    tether_api::Duration::parse(text)
        .map(|d| d.as_std())
        .map_err(|e| e.to_string())
}

impl Flags {
    /// The controller configuration; `storage` is the directory to use when none was given.
    pub fn config(&self, storage: PathBuf) -> ControllerConfig {
        ControllerConfig {
            concurrency: Concurrency {
                git_repositories: self.concurrent.max(1),
                kustomizations: self.concurrent.max(1),
            },
            options: ReconcileOptions {
                requeue_dependency: self.requeue_dependency,
                interval_jitter_percent: self.interval_jitter_percentage,
                default_service_account: self.default_service_account.clone(),
                ..ReconcileOptions::default()
            },
            storage_path: self.storage_path.clone().unwrap_or(storage),
            storage_addr: self.storage_addr,
            storage_adv_addr: self.storage_adv_addr.clone(),
            metrics_addr: Some(
                self.metrics_addr
                    .unwrap_or(SocketAddr::from(([127, 0, 0, 1], 8080))),
            ),
            leader_election: None,
            receiver_addr: Some(self.receiver_addr),
        }
    }

    /// Whether `--metrics-addr` was given.
    pub fn has_metrics_addr(&self) -> bool {
        self.metrics_addr.is_some()
    }

    pub fn has_storage_path(&self) -> bool {
        self.storage_path.is_some()
    }
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(serve(args))
}

/// The cluster of `kubeconfig`, or of `KUBECONFIG` / the in-cluster config when `None`.
pub async fn cluster(kubeconfig: Option<&PathBuf>) -> anyhow::Result<kube::Config> {
    match kubeconfig {
        Some(path) => {
            let kc = kube::config::Kubeconfig::read_from(path)
                .with_context(|| format!("cannot read kubeconfig {}", path.display()))?;
            kube::Config::from_custom_kubeconfig(kc, &kube::config::KubeConfigOptions::default())
                .await
                .with_context(|| format!("invalid kubeconfig {}", path.display()))
        }
        None => kube::Config::infer()
            .await
            .context("no kubeconfig given and no in-cluster config found"),
    }
}

pub async fn client(kubeconfig: Option<&PathBuf>) -> anyhow::Result<kube::Client> {
    kube::Client::try_from(cluster(kubeconfig).await?).context("cannot build a Kubernetes client")
}

/// Resolves on SIGINT or SIGTERM; the handlers exist once this returns.
pub fn shutdown_signal() -> anyhow::Result<impl std::future::Future<Output = ()> + Send + Sync> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).context("cannot handle SIGTERM")?;
    let mut int = signal(SignalKind::interrupt()).context("cannot handle SIGINT")?;
    Ok(async move {
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
        }
        tracing::info!("shutting down");
    })
}

async fn serve(args: Args) -> anyhow::Result<()> {
    let shutdown = shutdown_signal()?;
    let cluster = cluster(args.kubeconfig.as_ref()).await?;
    let temp = tempfile::tempdir().context("cannot create a storage directory")?;
    let mut config = args.flags.config(temp.path().to_path_buf());
    if !args.flags.has_storage_path() {
        tracing::info!(path = %temp.path().display(), "storing artifacts in a temporary directory (--storage-path to keep them)");
    }
    if args.enable_leader_election {
        config.leader_election = Some(LeaderConfig {
            namespace: args.leader_election_namespace,
            lease_name: args.leader_election_name,
            identity: tether_controller::leader::default_identity(),
            lease_duration: args.leader_election_lease_duration,
            renew_before: args.leader_election_renew_before,
        });
    }
    tether_controller::run(cluster, config, shutdown, |served| {
        // One line scripts can wait for (metrics last: tests read up to its end).
        println!(
            "artifacts on http://{}, webhooks on {}, metrics on {}",
            served.artifacts,
            served
                .receiver
                .map_or_else(|| "-".to_owned(), |r| format!("http://{r}/hook/")),
            served
                .metrics
                .map_or_else(|| "-".to_owned(), |m| format!("http://{m}/metrics"))
        );
    })
    .await
    .context("controller stopped")
}
