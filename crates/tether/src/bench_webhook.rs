//! `tether bench webhook`: commit-to-applied latency of a one-object change. A `tether dev
//! --empty` child process syncs a local bare repository (GitRepository + Kustomization); each
//! iteration commits a new ConfigMap value, pushes, and measures from `git push` returning to
//! the new value being visible through the API (a watch on the ConfigMap), either
//! (a) `webhook`: GitRepository and Kustomization at `interval: 1h`, a GitHub Receiver on the
//!     GitRepository, and a signed `push` webhook posted right after the push, or
//! (b) `poll`: GitRepository `interval: 1s` (Kustomizations follow new artifacts at once).
//! Commits are spaced by a pause spread evenly over 0–1 s, so polling is measured at every
//! phase of its interval rather than always right after the previous reconcile.

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use futures::StreamExt as _;
use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use kube::api::{Api, PostParams};
use kube::runtime::{WatchStreamExt as _, watcher};
use tether_api::{GitRepository, Kustomization, Receiver};
use tokio::io::{AsyncBufReadExt, BufReader};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Measured commits per mode (after one warm-up commit).
    #[arg(long, default_value_t = 20)]
    iterations: usize,
    /// Modes to run: `webhook`, `poll`.
    #[arg(long, value_delimiter = ',', default_value = "webhook,poll")]
    modes: Vec<String>,
    /// Give up on one commit after this many seconds.
    #[arg(long, default_value_t = 30)]
    timeout_seconds: u64,
}

const NS: &str = "flux-system";
const TOKEN: &str = "bench-token";

pub fn run(args: Args) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async {
        println!(
            "{:>8}  {:>5}  {:>9}  {:>9}  {:>9}  {:>9}",
            "mode", "N", "median", "p90", "min", "max"
        );
        for mode in &args.modes {
            let webhook = match mode.as_str() {
                "webhook" => true,
                "poll" => false,
                other => bail!("unknown mode '{other}' (webhook, poll)"),
            };
            let mut took = one_mode(webhook, &args).await?;
            took.sort();
            let pick = |q: f64| {
                let i = ((took.len() as f64 - 1.0) * q).round() as usize;
                took[i.min(took.len() - 1)].as_secs_f64() * 1000.0
            };
            println!(
                "{mode:>8}  {:>5}  {:>7.0}ms  {:>7.0}ms  {:>7.0}ms  {:>7.0}ms",
                took.len(),
                pick(0.5),
                pick(0.9),
                pick(0.0),
                pick(1.0)
            );
        }
        Ok(())
    })
}

fn git(dir: &Path, args: &[&str]) -> anyhow::Result<()> {
    crate::git::run(dir, args, crate::git::COMMITTER).map(drop)
}

fn config_map(value: usize) -> String {
    format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: default\ndata:\n  value: \"{value}\"\n"
    )
}

/// `tether dev --empty` as a child: its client and webhook address.
async fn start_dev(dir: &Path) -> anyhow::Result<(tokio::process::Child, kube::Client, String)> {
    let exe = std::env::current_exe().context("cannot find the tether binary")?;
    let kubeconfig = dir.join("kubeconfig");
    let mut dev = tokio::process::Command::new(&exe)
        .args([
            "dev",
            "--empty",
            "--listen=127.0.0.1:0",
            "--metrics-addr=127.0.0.1:0",
            "--receiver-addr=127.0.0.1:0",
        ])
        .arg("--kubeconfig-out")
        .arg(&kubeconfig)
        // Quiet unless asked (`TETHER_LOG=info tether bench webhook` shows where time goes).
        .env(
            "TETHER_LOG",
            std::env::var("TETHER_LOG").unwrap_or_else(|_| "warn".to_owned()),
        )
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .context("cannot start `tether dev`")?;
    let stderr = dev.stderr.take().context("no stderr from tether dev")?;
    let mut lines = BufReader::new(stderr).lines();
    let receiver = tokio::time::timeout(Duration::from_secs(60), async {
        while let Some(line) = lines.next_line().await? {
            if let Some(rest) = line.strip_prefix("receiver webhooks on http://") {
                return Ok(rest.trim_end_matches("/hook/").to_owned());
            }
        }
        bail!("tether dev exited before serving webhooks")
    })
    .await
    .context("tether dev did not serve webhooks within 60s")??;
    // Keep draining stderr so the child never blocks on a full pipe.
    tokio::spawn(async move {
        while let Ok(Some(line)) = lines.next_line().await {
            eprintln!("dev: {line}");
        }
    });
    let client = super::client(dir).await?;
    Ok((dev, client, receiver))
}

async fn one_mode(webhook: bool, args: &Args) -> anyhow::Result<Vec<Duration>> {
    let dir = tempfile::tempdir()?;
    let bare = dir.path().join("fleet.git");
    std::fs::create_dir_all(&bare)?;
    git(&bare, &["init", "-q", "--bare", "-b", "main"])?;
    let work = dir.path().join("work");
    std::fs::create_dir_all(work.join("app"))?;
    git(&work, &["init", "-q", "-b", "main"])?;
    std::fs::write(work.join("app/settings.yaml"), config_map(0))?;
    git(&work, &["add", "."])?;
    git(&work, &["commit", "-q", "-m", "0"])?;
    let bare_str = bare.to_string_lossy().into_owned();
    git(&work, &["push", "-q", &bare_str, "main"])?;

    let (dev, client, receiver_addr) = start_dev(dir.path()).await?;
    let interval = if webhook { "1h" } else { "1s" };
    let repos: Api<GitRepository> = Api::namespaced(client.clone(), NS);
    repos
        .create(
            &PostParams::default(),
            &serde_json::from_value(serde_json::json!({
                "apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "GitRepository",
                "metadata": {"name": "fleet", "namespace": NS},
                "spec": {"url": format!("file://{bare_str}"), "interval": interval, "ref": {"branch": "main"}},
            }))?,
        )
        .await?;
    let kss: Api<Kustomization> = Api::namespaced(client.clone(), NS);
    kss.create(
        &PostParams::default(),
        &serde_json::from_value(serde_json::json!({
            "apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
            "metadata": {"name": "app", "namespace": NS},
            "spec": {"interval": "1h", "path": "./app", "prune": true,
                     "sourceRef": {"kind": "GitRepository", "name": "fleet"}},
        }))?,
    )
    .await?;
    let mut hook_url = None;
    if webhook {
        Api::<Secret>::namespaced(client.clone(), NS)
            .create(
                &PostParams::default(),
                &serde_json::from_value(serde_json::json!({
                    "apiVersion": "v1", "kind": "Secret",
                    "metadata": {"name": "hook-token", "namespace": NS},
                    "stringData": {"token": TOKEN},
                }))?,
            )
            .await?;
        let receivers: Api<Receiver> = Api::namespaced(client.clone(), NS);
        receivers
            .create(
                &PostParams::default(),
                &serde_json::from_value(serde_json::json!({
                    "apiVersion": "notification.toolkit.fluxcd.io/v1", "kind": "Receiver",
                    "metadata": {"name": "github", "namespace": NS},
                    "spec": {"type": "github", "events": ["push"],
                             "secretRef": {"name": "hook-token"},
                             "resources": [{"kind": "GitRepository", "name": "fleet"}]},
                }))?,
            )
            .await?;
        let deadline = Instant::now() + Duration::from_secs(30);
        let path = loop {
            if let Some(p) = receivers.get("github").await?.webhook_path() {
                break p.to_owned();
            }
            if Instant::now() > deadline {
                bail!("the Receiver published no webhook path in 30s");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        hook_url = Some(format!("http://{receiver_addr}{path}"));
    }

    // Every value the ConfigMap takes, as soon as the API server says so.
    let (seen_tx, mut seen) = tokio::sync::watch::channel(None::<String>);
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    let watch = tokio::spawn(async move {
        let stream = watcher(
            cms,
            watcher::Config::default().fields("metadata.name=settings"),
        )
        .default_backoff()
        .applied_objects();
        futures::pin_mut!(stream);
        while let Some(event) = stream.next().await {
            if let Ok(cm) = event {
                let value = cm.data.and_then(|d| d.get("value").cloned());
                let _ = seen_tx.send(value);
            }
        }
    });
    let timeout = Duration::from_secs(args.timeout_seconds);
    wait_value(&mut seen, "0", Duration::from_secs(60)).await?;

    let http = reqwest::Client::new();
    let mut took = Vec::new();
    for i in 1..=args.iterations + 1 {
        // Commits land at evenly spread phases of the 1s poll (a polled change waits half an
        // interval on average); without this pause each push would follow the reconcile that
        // applied the previous one, and wait a whole interval every time.
        tokio::time::sleep(Duration::from_millis((i as u64 * 370) % 1000)).await;
        std::fs::write(work.join("app/settings.yaml"), config_map(i))?;
        git(&work, &["commit", "-q", "-am", &i.to_string()])?;
        git(&work, &["push", "-q", &bare_str, "main"])?;
        let pushed = Instant::now();
        if let Some(url) = &hook_url {
            let body = format!(r#"{{"ref":"refs/heads/main","after":"{i}"}}"#);
            let signature =
                tether_controller::receiver::sign_sha256(TOKEN.as_bytes(), body.as_bytes());
            let answer = http
                .post(url)
                .header("X-GitHub-Event", "push")
                .header("X-Hub-Signature-256", signature)
                .header("Content-Type", "application/json")
                .body(body)
                .send()
                .await
                .context("cannot post the webhook")?;
            if !answer.status().is_success() {
                bail!("the webhook answered {}", answer.status());
            }
        }
        wait_value(&mut seen, &i.to_string(), timeout).await?;
        // The first commit warms caches (connections, the build cache): not measured.
        if i > 1 {
            took.push(pushed.elapsed());
        }
    }
    watch.abort();
    drop(dev);
    Ok(took)
}

async fn wait_value(
    seen: &mut tokio::sync::watch::Receiver<Option<String>>,
    want: &str,
    timeout: Duration,
) -> anyhow::Result<()> {
    tokio::time::timeout(timeout, seen.wait_for(|v| v.as_deref() == Some(want)))
        .await
        .with_context(|| format!("the ConfigMap did not take value {want} within {timeout:?}"))?
        .context("the ConfigMap watch stopped")?;
    Ok(())
}
