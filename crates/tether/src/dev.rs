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
        },
    )
    .await;
    server
        .shutdown()
        .await
        .context("the store did not close cleanly")?;
    result.context("controllers stopped")
}
