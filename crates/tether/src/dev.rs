//! `tether dev`: the embedded control plane with tether's CRDs installed and the controllers
//! running, in one process, syncing a fleet repository.
//!
//! - no arguments: the example fleet (embedded in the binary) is published as a local bare
//!   repository (`<data-dir>/fleet.git`, or a temporary one), cluster `clusters/local` is
//!   bootstrapped from it by `tether bootstrap git`'s own code, and progress is shown until every
//!   GitRepository and Kustomization is Ready; then it keeps reconciling until SIGINT/SIGTERM.
//! - `--repo URL [--branch B] --path P`: the user's repository instead, synced by a
//!   GitRepository and a Kustomization created directly (nothing is pushed to it).
//! - `--once`: exit when everything is Ready (0), or name what failed (non-zero).
//! - `--check`: every cluster path of the repository on a fresh in-memory control plane each,
//!   with a table of results (for a fleet repository's CI).
//! - `--empty`: no sync objects at all.

mod check;
mod fleet;
mod plane;
mod status;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context as _, bail};
use kube::api::{Api, DynamicObject, Patch, PatchParams};

use crate::controller::{Flags, parse_duration, shutdown_signal};
use plane::{Plane, PlaneConfig};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Start with no GitRepository or Kustomization.
    #[arg(long, conflicts_with_all = ["once", "repo", "check", "path"])]
    empty: bool,
    /// Exit 0 once everything is Ready; exit non-zero naming the object that failed.
    #[arg(long)]
    once: bool,
    /// How long `--once` and `--check` wait for everything to be Ready (per cluster path).
    #[arg(long, default_value = "5m", value_parser = parse_duration)]
    timeout: Duration,
    /// Sync this repository (any URL the GitRepository controller fetches, or a local path)
    /// instead of the example fleet.
    #[arg(long, value_name = "URL")]
    repo: Option<String>,
    /// Branch of `--repo` to follow.
    #[arg(long, default_value = "main", requires = "repo")]
    branch: String,
    /// Cluster path of the repository to sync (repeat with --check; default with --check:
    /// every directory under clusters/; default without: clusters/local).
    #[arg(long, value_name = "PATH")]
    path: Vec<String>,
    /// Sync every cluster path on a fresh in-memory control plane each and require that it
    /// converges (for CI of a fleet repository).
    #[arg(long, conflicts_with_all = ["data_dir", "kubeconfig_out"])]
    check: bool,
    /// Address to serve the Kubernetes API on; port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:6443")]
    listen: SocketAddr,
    /// Keep state (objects, artifacts, CA, token, the example fleet's repository) here;
    /// without it, state lives in memory.
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Write a kubeconfig for the control plane to FILE (default with a data dir:
    /// DATA_DIR/kubeconfig; otherwise a temporary file).
    #[arg(long, value_name = "FILE")]
    kubeconfig_out: Option<PathBuf>,
    #[command(flatten)]
    flags: Flags,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    for path in &args.path {
        crate::cli::bootstrap::validate_path(path)?;
    }
    if args.path.len() > 1 && !args.check {
        bail!("--path: give one cluster path (several only with --check)");
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    if args.check {
        return runtime.block_on(check::run(&args));
    }
    runtime.block_on(serve(args))
}

/// What the control plane syncs.
enum Source {
    Nothing,
    /// The embedded example fleet, bootstrapped at `clusters/local`.
    Example,
    /// The user's repository at one path.
    Repo {
        url: String,
        branch: String,
        path: String,
    },
}

async fn serve(mut args: Args) -> anyhow::Result<()> {
    let shutdown = shutdown_signal()?;
    // `file://` URLs and the printed `export KUBECONFIG=` need absolute paths: `--data-dir .tether`
    // is what users type.
    if let Some(dir) = &args.data_dir {
        let absolute = std::path::absolute(dir)
            .with_context(|| format!("cannot resolve --data-dir {}", dir.display()))?;
        args.data_dir = Some(absolute);
    }
    let scratch = tempfile::Builder::new()
        .prefix("tether-dev-")
        .tempdir()
        .context("cannot create a temporary directory")?;
    let state_dir = args
        .data_dir
        .clone()
        .unwrap_or(scratch.path().to_path_buf());
    let source = if args.empty {
        Source::Nothing
    } else if let Some(url) = &args.repo {
        let path = args
            .path
            .first()
            .cloned()
            .unwrap_or(fleet::LOCAL_PATH.into());
        Source::Repo {
            url: url.clone(),
            branch: args.branch.clone(),
            path,
        }
    } else {
        if !args.path.is_empty() {
            bail!("--path chooses a path of --repo; the example fleet syncs clusters/local");
        }
        Source::Example
    };
    // Bootstrap and the user's kubectl need a kubeconfig file; `--empty` writes one only when asked.
    let kubeconfig_out = match (&args.kubeconfig_out, &source, &args.data_dir) {
        (Some(path), _, _) => Some(path.clone()),
        (None, Source::Nothing, _) => None,
        (None, _, Some(dir)) => Some(dir.join("kubeconfig")),
        (None, _, None) => Some(scratch.path().join("kubeconfig")),
    };
    let storage = match &args.data_dir {
        Some(d) => d.join("artifacts"),
        None => scratch.path().join("artifacts"),
    };
    let mut controller = args.flags.config(storage);
    if !args.flags.has_metrics_addr() {
        controller.metrics_addr = Some(SocketAddr::from(([127, 0, 0, 1], 0)));
    }
    let artifacts_addr_file = args.data_dir.as_ref().map(|d| d.join("artifacts.addr"));
    if controller.storage_addr.port() == 0
        && let Some(addr) = artifacts_addr_file
            .as_deref()
            .and_then(plane::reuse_artifact_addr)
    {
        controller.storage_addr = addr;
    }
    let plane = Plane::start(PlaneConfig {
        listen: args.listen,
        data_dir: args.data_dir.clone(),
        kubeconfig_out: kubeconfig_out.clone(),
        controller,
        announce: true,
        artifacts_addr_file,
    })
    .await?;
    let stop = plane.stop_handle();
    let stopped = async move {
        tokio::select! {
            () = shutdown => {}
            () = stop.stopped() => {}
        }
    };
    tokio::pin!(stopped);

    let synced = tokio::select! {
        result = sync(&plane, &source, &state_dir, kubeconfig_out.as_deref(), &args) => Some(result),
        () = &mut stopped => None,
    };
    match synced {
        Some(Err(e)) => {
            let _ = plane.shutdown().await;
            return Err(e);
        }
        Some(Ok(())) if args.once => return plane.shutdown().await,
        Some(Ok(())) => {
            if !matches!(source, Source::Nothing) {
                eprintln!("✔ everything is Ready; reconciling until interrupted (Ctrl-C)");
            }
            (&mut stopped).await;
        }
        None => {}
    }
    plane.shutdown().await
}

/// Sets up the sync of `source` and, unless there is none, waits until it converged.
async fn sync(
    plane: &Plane,
    source: &Source,
    state_dir: &Path,
    kubeconfig: Option<&Path>,
    args: &Args,
) -> anyhow::Result<()> {
    let kubeconfig = match (source, kubeconfig) {
        (Source::Nothing, _) => return Ok(()),
        (_, Some(path)) => path,
        (_, None) => bail!("no kubeconfig written"),
    };
    match source {
        Source::Nothing => return Ok(()),
        Source::Example => {
            let bare = state_dir.join("fleet.git");
            let created = fleet::local_remote(&bare)?;
            let url = fleet::file_url(
                &std::fs::canonicalize(&bare)
                    .with_context(|| format!("cannot resolve {}", bare.display()))?,
            );
            if created {
                eprintln!("✔ published the example fleet as {url} (branch main)");
            } else {
                eprintln!("✔ using the existing fleet repository {url} (branch main)");
            }
            bootstrap_local(&url, kubeconfig, args.timeout).await?;
        }
        Source::Repo { url, branch, path } => {
            create_sync(&plane.client, url, branch, path).await?;
        }
    }
    let mut board = status::Board::new(false);
    let rows = status::wait_converged(&plane.client, &mut board, args.timeout)
        .await?
        .into_result(args.timeout)?;
    eprintln!(
        "✔ {} GitRepositories and Kustomizations are Ready",
        rows.len()
    );
    // With --once in memory the kubeconfig goes away with the process: nothing to export.
    if args.once && args.data_dir.is_none() && args.kubeconfig_out.is_none() {
        println!("ready");
    } else {
        println!("ready: export KUBECONFIG={}", kubeconfig.display());
    }
    if !args.once {
        eprintln!(
            "  then try: kubectl get kustomizations -A; kubectl get deploy,svc,ingress -n web; \
             tether get all -A"
        );
    }
    Ok(())
}

/// `tether bootstrap git --url URL --path clusters/local` against the embedded control plane.
async fn bootstrap_local(url: &str, kubeconfig: &Path, timeout: Duration) -> anyhow::Result<()> {
    use crate::cli::bootstrap::{self, CommonArgs, Plan};
    let common = CommonArgs {
        cluster: crate::cli::ClusterArgs {
            kubeconfig: Some(kubeconfig.to_path_buf()),
            context: None,
            namespace: plane::DEV_NAMESPACE.into(),
            all_namespaces: false,
            timeout,
        },
        components: crate::cli::components::ComponentFlags {
            image: crate::cli::components::DEFAULT_IMAGE.into(),
            image_pull_secret: None,
            concurrent: 4,
            log_level: "info".into(),
            cluster_domain: "cluster.local".into(),
        },
        branch: "main".into(),
        path: fleet::LOCAL_PATH.into(),
        interval: "1m".into(),
        author_name: "tether".into(),
        author_email: "tether@users.noreply.localhost".into(),
        silent: true,
    };
    bootstrap::bootstrap(&common, Plan::local(url))
        .await
        .context("cannot bootstrap clusters/local from the example fleet")
}

/// What `flux create source git` and `flux create kustomization` would create for `path` of
/// `url`, named as the path's own sync objects (if it has any) so they do not compete.
async fn create_sync(
    client: &kube::Client,
    url: &str,
    branch: &str,
    path: &str,
) -> anyhow::Result<()> {
    let clone = tokio::task::block_in_place(|| fleet::Clone::fetch(url, branch))?;
    if !clone.has_dir(path) {
        bail!("--path {path}: no such directory on branch '{branch}' of {url}");
    }
    let names = clone.sync_names(path);
    let url = fetch_url(url)?;
    apply_sync(client, &names, &url, branch, path).await
}

/// The URL the GitRepository fetches: a local path becomes `file://`.
fn fetch_url(url: &str) -> anyhow::Result<String> {
    if url.contains("://") || url.contains('@') {
        return Ok(url.to_owned());
    }
    let path =
        std::fs::canonicalize(url).with_context(|| format!("--repo {url}: no such repository"))?;
    Ok(fleet::file_url(&path))
}

/// Applies the GitRepository and Kustomization syncing `path` (server-side apply, as `tether`).
async fn apply_sync(
    client: &kube::Client,
    names: &fleet::SyncNames,
    url: &str,
    branch: &str,
    path: &str,
) -> anyhow::Result<()> {
    use k8s_openapi::api::core::v1::Namespace;
    let namespaces: Api<Namespace> = Api::all(client.clone());
    let namespace = serde_json::json!({"apiVersion": "v1", "kind": "Namespace",
        "metadata": {"name": names.namespace}});
    let params = PatchParams::apply("tether").force();
    namespaces
        .patch(&names.namespace, &params, &Patch::Apply(&namespace))
        .await
        .with_context(|| format!("cannot create namespace {}", names.namespace))?;
    let objects = [
        (
            kube::core::ApiResource::erase::<tether_api::GitRepository>(&()),
            names.source(url, branch),
            &names.source,
        ),
        (
            kube::core::ApiResource::erase::<tether_api::Kustomization>(&()),
            names.kustomization(url, branch, path),
            &names.kustomization,
        ),
    ];
    for (resource, object, name) in objects {
        let api: Api<DynamicObject> =
            Api::namespaced_with(client.clone(), &names.namespace, &resource);
        api.patch(name, &params, &Patch::Apply(&object))
            .await
            .with_context(|| {
                format!("cannot apply {} {}/{name}", resource.kind, names.namespace)
            })?;
    }
    eprintln!(
        "✔ syncing {path} of {url} (branch {branch}) as GitRepository and Kustomization {}/{}",
        names.namespace, names.kustomization
    );
    Ok(())
}
