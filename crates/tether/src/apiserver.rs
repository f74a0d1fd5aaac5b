//! `tether apiserver`: the control plane alone, until SIGINT or SIGTERM.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Address to serve HTTPS on; port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:6443")]
    listen: SocketAddr,
    /// Keep state (objects, CA, certificates, token) here; without it, state lives in memory.
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Write a kubeconfig for this server to FILE.
    #[arg(long, value_name = "FILE")]
    kubeconfig_out: Option<PathBuf>,
    /// Give Deployments, StatefulSets, DaemonSets, ReplicaSets and Jobs the status of ready pods.
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    simulate_workloads: bool,
    /// How long simulated workloads take to become ready, in milliseconds.
    #[arg(long, default_value_t = 500, value_name = "MS")]
    simulate_delay_ms: u64,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(serve(args))
}

async fn serve(args: Args) -> anyhow::Result<()> {
    // Handlers first: a script may signal as soon as it reads the "serving on" line, and a
    // SIGTERM before they exist would kill the process without closing the store.
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).context("cannot handle SIGTERM")?;
    let mut int = signal(SignalKind::interrupt()).context("cannot handle SIGINT")?;
    let config = tether_apiserver::ServerConfig {
        listen: args.listen,
        data_dir: args.data_dir.clone(),
        kubeconfig_out: args.kubeconfig_out.clone(),
        simulate_workloads: args.simulate_workloads,
        simulate_delay: Duration::from_millis(args.simulate_delay_ms),
        ..Default::default()
    };
    let server = tether_apiserver::start(config)
        .await
        .with_context(|| format!("cannot start the control plane on {}", args.listen))?;
    // One line on stdout that scripts can wait for: where it serves.
    println!("serving on {}", server.url());
    match &args.kubeconfig_out {
        Some(path) => eprintln!(
            "kubeconfig written to {} (export KUBECONFIG={})",
            path.display(),
            path.display()
        ),
        None => eprintln!("no --kubeconfig-out given: the token is only in memory"),
    }
    let stop = server.stop_handle();
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
        _ = stop.stopped() => {}
    }
    tracing::info!("shutting down");
    server
        .shutdown()
        .await
        .context("the store did not close cleanly")?;
    Ok(())
}
