//! One embedded control plane: the API server, tether's CRDs, the controllers' Lease in
//! `tether-system`, and the controllers running as a task of this process.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context as _;
use tether_controller::ControllerConfig;
use tokio::task::JoinHandle;

/// Where the embedded controllers hold their leader Lease.
pub const DEV_NAMESPACE: &str = "tether-system";

pub struct PlaneConfig {
    pub listen: SocketAddr,
    /// Durable state; in memory when `None`.
    pub data_dir: Option<PathBuf>,
    /// Where the kubeconfig is written, if anywhere.
    pub kubeconfig_out: Option<PathBuf>,
    pub controller: ControllerConfig,
    /// Print where the server, kubeconfig and controllers are (not for `--check`).
    pub announce: bool,
    /// Remember the artifact server's address here (see [`reuse_artifact_addr`]).
    pub artifacts_addr_file: Option<PathBuf>,
}

/// The artifact address of the previous run over this data dir, when it is free again.
/// Stored GitRepositories name their artifact by URL, and one already at its revision is not
/// rewritten, so a restart on a new port would leave Kustomizations fetching a dead URL.
pub fn reuse_artifact_addr(file: &std::path::Path) -> Option<SocketAddr> {
    let addr: SocketAddr = std::fs::read_to_string(file).ok()?.trim().parse().ok()?;
    std::net::TcpListener::bind(addr).ok().map(|_| addr)
}

pub struct Plane {
    pub server: tether_apiserver::RunningServer,
    pub client: kube::Client,
    stop: tokio::sync::watch::Sender<bool>,
    controllers: JoinHandle<Result<(), tether_controller::RunError>>,
    heartbeat: JoinHandle<()>,
}

impl Plane {
    /// Starts the server, installs the CRDs and the Lease, and starts the controllers.
    pub async fn start(config: PlaneConfig) -> anyhow::Result<Plane> {
        let server_config = tether_apiserver::ServerConfig {
            listen: config.listen,
            data_dir: config.data_dir.as_ref().map(|d| d.join("apiserver")),
            kubeconfig_out: config.kubeconfig_out.clone(),
            ..Default::default()
        };
        let server = tether_apiserver::start(server_config)
            .await
            .with_context(|| format!("cannot start the control plane on {}", config.listen))?;
        let kubeconfig = kube::config::Kubeconfig::from_yaml(server.kubeconfig())
            .context("the control plane wrote an unreadable kubeconfig")?;
        let cluster = kube::Config::from_custom_kubeconfig(kubeconfig, &Default::default())
            .await
            .context("the control plane wrote an unusable kubeconfig")?;
        let client = kube::Client::try_from(cluster.clone())
            .context("cannot connect to the control plane")?;
        tether_controller::install_crds(&client)
            .await
            .context("cannot install tether's CRDs")?;
        // The embedded controllers announce themselves as an installed controller does, with the
        // leader Lease in tether's namespace, so `tether check`, `install` and `bootstrap` see
        // them. Not leader election: losing the lease (say, `tether uninstall` deleted the
        // namespace) must not stop `tether dev`.
        ensure_namespace(&client, DEV_NAMESPACE).await?;
        let heartbeat = tokio::spawn(announce(client.clone()));
        if config.announce {
            println!("serving on {}", server.url());
            if let Some(path) = &config.kubeconfig_out {
                eprintln!(
                    "kubeconfig written to {} (export KUBECONFIG={})",
                    path.display(),
                    path.display()
                );
            }
        }
        let (stop, mut stopped) = tokio::sync::watch::channel(false);
        let server_stop = server.stop_handle();
        let announce = config.announce;
        let addr_file = config.artifacts_addr_file.clone();
        let on_failure = server.stop_handle();
        let run = tether_controller::run(
            cluster,
            config.controller,
            async move {
                tokio::select! {
                    _ = stopped.wait_for(|s| *s) => {}
                    () = server_stop.stopped() => {}
                }
            },
            move |served| {
                if let Some(file) = &addr_file
                    && let Err(e) = std::fs::write(file, served.artifacts.to_string())
                {
                    tracing::warn!(error = %e, file = %file.display(), "cannot remember the artifact address");
                }
                if announce {
                    eprintln!(
                        "controllers running; artifacts on http://{}, metrics on {}",
                        served.artifacts,
                        served
                            .metrics
                            .map_or_else(|| "-".to_owned(), |m| format!("http://{m}/metrics"))
                    );
                    if let Some(addr) = served.receiver {
                        eprintln!("receiver webhooks on http://{addr}/hook/");
                    }
                }
            },
        );
        // Controllers that cannot run (a metrics port in use, say) stop `tether dev` with their
        // error instead of leaving a control plane that never reconciles anything.
        let controllers = tokio::spawn(async move {
            let result = run.await;
            if result.is_err() {
                on_failure.stop();
            }
            result
        });
        Ok(Plane {
            server,
            client,
            stop,
            controllers,
            heartbeat,
        })
    }

    /// Resolves when the server was asked to stop from elsewhere.
    pub fn stop_handle(&self) -> tether_apiserver::StopHandle {
        self.server.stop_handle()
    }

    /// Stops the controllers, then the server, closing the store after its last commit.
    pub async fn shutdown(self) -> anyhow::Result<()> {
        let _ = self.stop.send(true);
        let controllers = self.controllers.await;
        self.heartbeat.abort();
        self.server
            .shutdown()
            .await
            .context("the store did not close cleanly")?;
        match controllers {
            Ok(result) => result.context("controllers stopped"),
            Err(e) => Err(anyhow::anyhow!("the controllers' task failed: {e}")),
        }
    }
}

async fn ensure_namespace(client: &kube::Client, name: &str) -> anyhow::Result<()> {
    use k8s_openapi::api::core::v1::Namespace;
    let api: kube::Api<Namespace> = kube::Api::all(client.clone());
    let namespace =
        serde_json::json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}});
    api.patch(
        name,
        &kube::api::PatchParams::apply("tether"),
        &kube::api::Patch::Apply(&namespace),
    )
    .await
    .with_context(|| format!("cannot create namespace {name}"))?;
    Ok(())
}

/// Renews the Lease `tether-system/tether-controller-leader-election` every 5 s as `tether-dev`,
/// recreating it while the namespace exists.
async fn announce(client: kube::Client) {
    use k8s_openapi::api::coordination::v1::Lease;
    let leases: kube::Api<Lease> = kube::Api::namespaced(client, DEV_NAMESPACE);
    let name = crate::cli::components::LEADER_LEASE;
    let now = || {
        jiff::Timestamp::now()
            .strftime("%Y-%m-%dT%H:%M:%S%.6fZ")
            .to_string()
    };
    let acquired = now();
    loop {
        let lease = serde_json::json!({
            "apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
            "metadata": {"name": name, "namespace": DEV_NAMESPACE},
            "spec": {
                "holderIdentity": "tether-dev",
                "leaseDurationSeconds": 15,
                "acquireTime": acquired,
                "renewTime": now(),
            },
        });
        let params = kube::api::PatchParams::apply("tether-dev").force();
        if let Err(e) = leases
            .patch(name, &params, &kube::api::Patch::Apply(&lease))
            .await
        {
            tracing::debug!(error = %e, "cannot renew the dev controller's lease");
        }
        tokio::time::sleep(std::time::Duration::from_secs(5)).await;
    }
}
