//! `tether bench list`: what listing a big cluster costs. A durable `tether apiserver` process is
//! filled with N ConfigMaps spread over namespaces; then, repeatedly, `kubectl get configmaps -A`
//! (server-side printing, as kubectl asks for tables) and a plain JSON list with kube-rs are timed,
//! and the server's resident memory is read from /proc.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use futures::StreamExt as _;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use kube::api::{Api, ListParams, Patch, PatchParams};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// ConfigMaps to create.
    #[arg(long, default_value_t = 10_000)]
    objects: usize,
    /// Namespaces to spread them over.
    #[arg(long, default_value_t = 10)]
    namespaces: usize,
    /// Timed repetitions of each list.
    #[arg(long, default_value_t = 5)]
    runs: usize,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    if args.objects == 0 || args.namespaces == 0 || args.runs == 0 {
        bail!("--objects, --namespaces and --runs must be at least 1");
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(bench(args))
}

async fn bench(args: Args) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let server = super::start_server(dir.path(), "none", false).await?;
    let pid = server.process.id().unwrap_or(0);
    let client = super::client(dir.path()).await?;
    println!(
        "server: {} (durable data dir), {} ConfigMaps in {} namespaces",
        server.url, args.objects, args.namespaces
    );

    let fill = Instant::now();
    let namespaces: Api<Namespace> = Api::all(client.clone());
    for n in 0..args.namespaces {
        let name = format!("bench-{n}");
        let ns = serde_json::json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}});
        namespaces
            .patch(&name, &PatchParams::apply("bench"), &Patch::Apply(&ns))
            .await?;
    }
    let value = "x".repeat(256);
    futures::stream::iter(0..args.objects)
        .map(|i| {
            let (client, value) = (client.clone(), value.clone());
            let ns = format!("bench-{}", i % args.namespaces);
            async move {
                let api: Api<ConfigMap> = Api::namespaced(client, &ns);
                let name = format!("cm-{i}");
                let cm = serde_json::json!({
                    "apiVersion": "v1", "kind": "ConfigMap",
                    "metadata": {"name": name, "labels": {"app": "bench", "shard": (i % 16).to_string()}},
                    "data": {"value": value, "index": i.to_string()},
                });
                api.patch(&name, &PatchParams::apply("bench"), &Patch::Apply(&cm))
                    .await
                    .map(drop)
            }
        })
        .buffer_unordered(32)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<Result<Vec<()>, _>>()?;
    println!(
        "filled in {:.1} s; server RSS {} MiB",
        fill.elapsed().as_secs_f64(),
        mib(super::status_kib(pid, "VmRSS:"))
    );

    let all: Api<ConfigMap> = Api::all(client.clone());
    let mut json = Vec::new();
    for _ in 0..args.runs {
        let start = Instant::now();
        let list = all.list(&ListParams::default()).await?;
        json.push(start.elapsed());
        if list.items.len() != args.objects {
            bail!(
                "listed {} ConfigMaps, created {}",
                list.items.len(),
                args.objects
            );
        }
    }
    report("kube-rs list (JSON, all namespaces)", &mut json);

    match kubectl_133() {
        Some(kubectl) => {
            let mut table = Vec::new();
            for _ in 0..args.runs {
                let start = Instant::now();
                let out = tokio::process::Command::new(&kubectl)
                    .arg(format!(
                        "--kubeconfig={}",
                        dir.path().join("kubeconfig").display()
                    ))
                    .args(["get", "configmaps", "-A", "--no-headers"])
                    .output()
                    .await
                    .with_context(|| format!("cannot run {}", kubectl.display()))?;
                table.push(start.elapsed());
                let rows = String::from_utf8_lossy(&out.stdout).lines().count();
                if !out.status.success() || rows != args.objects {
                    bail!(
                        "kubectl get -A printed {rows} rows for {} ConfigMaps: {}",
                        args.objects,
                        String::from_utf8_lossy(&out.stderr)
                    );
                }
            }
            report("kubectl.1.33 get configmaps -A (table)", &mut table);
        }
        None => println!("kubectl.1.33 not found beside `kubectl` on PATH: its row is skipped"),
    }
    println!(
        "server RSS after the lists {} MiB, peak {} MiB",
        mib(super::status_kib(pid, "VmRSS:")),
        mib(super::status_kib(pid, "VmHWM:"))
    );
    Ok(())
}

fn report(label: &str, times: &mut [Duration]) {
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!(
        "{label}: median {:.0} ms, min {:.0} ms, max {:.0} ms over {} runs",
        ms(times[times.len() / 2]),
        ms(times[0]),
        ms(times[times.len() - 1]),
        times.len()
    );
}

fn mib(kib: Option<u64>) -> String {
    kib.map_or_else(|| "?".to_owned(), |k| format!("{:.1}", k as f64 / 1024.0))
}

/// `kubectl.1.33` beside the real `kubectl` on PATH.
fn kubectl_133() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    let kubectl = std::env::split_paths(&path)
        .map(|d| d.join("kubectl"))
        .find(|p| p.is_file())?;
    let real = std::fs::canonicalize(kubectl).ok()?;
    let pinned = real.parent().map(|d: &Path| d.join("kubectl.1.33"))?;
    pinned.is_file().then_some(pinned)
}
