//! `tether dev`: the embedded control plane with tether's CRDs installed and the controllers
//! running, in one process. `--empty` starts with no sync objects; the default (syncing the
//! example fleet) comes with issue 7.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context as _;

use crate::controller::{Flags, shutdown_signal};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Start with no GitRepository or Kustomization (required until the example fleet lands).
    #[arg(long)]
    empty: bool,
    /// Address to serve the Kubernetes API on; port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:6443")]
    listen: SocketAddr,
    /// Keep state (objects, artifacts, CA, token) here; without it, state lives in memory.
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Write a kubeconfig for the control plane to FILE.
    #[arg(long, value_name = "FILE")]
    kubeconfig_out: Option<PathBuf>,
    #[command(flatten)]
    flags: Flags,
}

/// Where the embedded controllers hold their leader Lease.
const DEV_NAMESPACE: &str = "tether-system";

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

pub fn run(args: Args) -> anyhow::Result<()> {
    if !args.empty {
        anyhow::bail!(
            "`tether dev` without --empty will sync the example fleet, which is not there yet; \
             run `tether dev --empty` and create GitRepositories and Kustomizations yourself"
        );
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(serve(args))
}

async fn serve(args: Args) -> anyhow::Result<()> {
    let shutdown = shutdown_signal()?;
    let config = tether_apiserver::ServerConfig {
        listen: args.listen,
        data_dir: args.data_dir.as_ref().map(|d| d.join("apiserver")),
        kubeconfig_out: args.kubeconfig_out.clone(),
        ..Default::default()
    };
    let server = tether_apiserver::start(config)
        .await
        .with_context(|| format!("cannot start the control plane on {}", args.listen))?;
    let kubeconfig = kube::config::Kubeconfig::from_yaml(server.kubeconfig())
        .context("the control plane wrote an unreadable kubeconfig")?;
    let cluster = kube::Config::from_custom_kubeconfig(kubeconfig, &Default::default())
        .await
        .context("the control plane wrote an unusable kubeconfig")?;
    let client =
        kube::Client::try_from(cluster.clone()).context("cannot connect to the control plane")?;
    tether_controller::install_crds(&client)
        .await
        .context("cannot install tether's CRDs")?;
    let temp = tempfile::tempdir().context("cannot create a storage directory")?;
    let storage = match &args.data_dir {
        Some(d) => d.join("artifacts"),
        None => temp.path().to_path_buf(),
    };
    let controller = args.flags.config(storage);
    // The embedded controllers announce themselves as an installed controller does, with the
    // leader Lease in tether's namespace, so `tether check`, `install` and `bootstrap` see them.
    // Not leader election: losing the lease (say, `tether uninstall` deleted the namespace)
    // must not stop `tether dev`.
    ensure_namespace(&client, DEV_NAMESPACE).await?;
    let heartbeat = tokio::spawn(announce(client.clone()));
    println!("serving on {}", server.url());
    if let Some(path) = &args.kubeconfig_out {
        eprintln!(
            "kubeconfig written to {} (export KUBECONFIG={})",
            path.display(),
            path.display()
        );
    }
    let stop = server.stop_handle();
    let result = tether_controller::run(
        cluster,
        controller,
        async move {
            tokio::select! {
                () = shutdown => {}
                () = stop.stopped() => {}
            }
        },
        |served| {
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
        },
    )
    .await;
    heartbeat.abort();
    server
        .shutdown()
        .await
        .context("the store did not close cleanly")?;
    result.context("controllers stopped")
}
