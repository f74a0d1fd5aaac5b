//! `tether bench gitops`: shaped like fluxcd/flux-benchmark. N Kustomizations over one
//! GitRepository, each applying a Namespace, Deployment, ServiceAccount, Service and Ingress (its
//! own namespace through post-build substitution, so all share one kustomize build), with
//! `wait: true`. The control plane (`tether apiserver`) and the controllers
//! (`tether controller`) run as separate processes; the figures are the time from "all
//! Kustomizations created" to "all Ready" and the controller's peak RSS.

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use kube::api::{Api, ListParams, PostParams};
use tether_api::{GitRepository, Kustomization};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Numbers of Kustomizations, one run each.
    #[arg(long, value_delimiter = ',', default_value = "100,500,1000")]
    count: Vec<usize>,
    /// The controller's `--concurrent`.
    #[arg(long, default_value_t = 20)]
    concurrent: u16,
    /// Give up on a run after this many seconds.
    #[arg(long, default_value_t = 600)]
    timeout_seconds: u64,
}

const APP: &str = r#"apiVersion: v1
kind: Namespace
metadata:
  name: bench-${id}
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: podinfo
  namespace: bench-${id}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: podinfo
  namespace: bench-${id}
spec:
  replicas: 1
  selector:
    matchLabels: {app: podinfo}
  template:
    metadata:
      labels: {app: podinfo}
    spec:
      serviceAccountName: podinfo
      containers:
      - name: podinfo
        image: ghcr.io/stefanprodan/podinfo:6.7.0
        ports:
        - containerPort: 9898
          name: http
---
apiVersion: v1
kind: Service
metadata:
  name: podinfo
  namespace: bench-${id}
spec:
  selector: {app: podinfo}
  ports:
  - name: http
    port: 9898
    targetPort: http
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: podinfo
  namespace: bench-${id}
spec:
  rules:
  - host: podinfo-${id}.example.com
    http:
      paths:
      - path: /
        pathType: Prefix
        backend:
          service:
            name: podinfo
            port:
              name: http
"#;

pub fn run(args: Args) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async {
        println!(
            "{:>6}  {:>14}  {:>12}  {:>16}",
            "N", "created→Ready", "per object", "controller RSS"
        );
        for &n in &args.count {
            let (took, rss) = one_run(n, &args).await?;
            println!(
                "{n:>6}  {:>13.1}s  {:>10.1}ms  {:>12.1} MiB",
                took.as_secs_f64(),
                took.as_secs_f64() * 1000.0 / n as f64,
                rss as f64 / 1024.0
            );
        }
        Ok(())
    })
}

async fn one_run(n: usize, args: &Args) -> anyhow::Result<(Duration, u64)> {
    let dir = tempfile::tempdir()?;
    // The repository: one path, used by every Kustomization.
    let work = dir.path().join("work");
    std::fs::create_dir_all(work.join("app"))?;
    std::fs::write(work.join("app/podinfo.yaml"), APP)?;
    git(&work, &["init", "-q", "-b", "main"])?;
    git(&work, &["add", "."])?;
    git(&work, &["commit", "-q", "-m", "podinfo"])?;

    let server = super::start_server(dir.path(), "none", true).await?;
    let client = super::client(dir.path()).await?;
    tether_controller::install_crds(&client)
        .await
        .context("cannot install tether's CRDs")?;
    let exe = std::env::current_exe().context("cannot find the tether binary")?;
    let mut controller = tokio::process::Command::new(&exe)
        .arg("controller")
        .arg("--kubeconfig")
        .arg(dir.path().join("kubeconfig"))
        .arg("--storage-path")
        .arg(dir.path().join("artifacts"))
        .arg("--metrics-addr=127.0.0.1:0")
        .arg("--enable-leader-election=false")
        .arg(format!("--concurrent={}", args.concurrent))
        .env("TETHER_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .context("cannot start `tether controller`")?;
    let controller_pid = controller.id().context("controller has no pid")?;

    let repos: Api<GitRepository> = Api::namespaced(client.clone(), "flux-system");
    let repo: GitRepository = serde_json::from_value(serde_json::json!({
        "apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "GitRepository",
        "metadata": {"name": "bench", "namespace": "flux-system"},
        "spec": {"url": format!("file://{}", work.display()), "interval": "1h", "ref": {"branch": "main"}}
    }))?;
    repos.create(&PostParams::default(), &repo).await?;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let r = repos.get("bench").await?;
        if tether_api::conditions::is_ready(r.conditions()) {
            break;
        }
        if Instant::now() > deadline {
            bail!("the GitRepository did not become Ready in 60s");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    let kss: Api<Kustomization> = Api::namespaced(client.clone(), "flux-system");
    for i in 0..n {
        let ks: Kustomization = serde_json::from_value(serde_json::json!({
            "apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
            "metadata": {"name": format!("podinfo-{i}"), "namespace": "flux-system"},
            "spec": {"interval": "1h", "path": "./app", "prune": true, "wait": true,
                     "timeout": "5m", "sourceRef": {"kind": "GitRepository", "name": "bench"},
                     "postBuild": {"substitute": {"id": i.to_string()}}}
        }))?;
        kss.create(&PostParams::default(), &ks).await?;
    }
    let created = Instant::now();
    let deadline = created + Duration::from_secs(args.timeout_seconds);
    loop {
        let list = kss.list(&ListParams::default()).await?;
        let ready = list
            .items
            .iter()
            .filter(|k| tether_api::conditions::is_ready(k.conditions()))
            .count();
        if ready == n {
            break;
        }
        if Instant::now() > deadline {
            bail!(
                "{ready}/{n} Kustomizations Ready after {}s",
                args.timeout_seconds
            );
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let took = created.elapsed();
    let rss = super::peak_rss_kib(controller_pid).unwrap_or(0);
    controller.kill().await.ok();
    drop(server);
    Ok((took, rss))
}

fn git(dir: &Path, args: &[&str]) -> anyhow::Result<()> {
    crate::git::run(dir, args, crate::git::COMMITTER).map(drop)
}
