//! `tether bench apiserver`: throughput of server-side apply against a durable control plane,
//! alone and with many watchers, measured from outside the server like any client would.
//!
//! The server runs as a child process (`tether apiserver --data-dir <tmp>`), pinned to one CPU
//! with `taskset` when available, so the figure is "applies per second on one core" with every
//! write fsynced. The load comes from this process over HTTPS with kube-rs.

use std::path::Path;
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use futures::{AsyncBufReadExt as _, StreamExt as _};
use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use kube::api::{Api, Patch, PatchParams};
use tokio::io::{AsyncBufReadExt, BufReader};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Concurrent appliers.
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    /// Seconds of load per phase.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Watchers in the fan-out phase.
    #[arg(long, default_value_t = 100)]
    watchers: usize,
    /// CPU to pin the server to (`taskset -c`); `none` to leave it unpinned.
    #[arg(long, default_value = "0")]
    server_cpu: String,
}

#[derive(Debug, clap::Subcommand)]
pub enum Target {
    /// Server-side applies per second and watch fan-out against `tether apiserver`.
    Apiserver(Args),
    /// `tether kustomize build` against `kubectl kustomize`: wall time and peak memory.
    Kustomize(kustomize::Args),
    /// N Kustomizations over one GitRepository: created → all Ready, controller peak RSS.
    Gitops(gitops::Args),
    /// Listing N objects: `kubectl get -A` and a JSON list, timed, and the server's memory.
    List(list::Args),
    /// Commit-to-applied latency of a one-object change: Receiver webhook vs 1s polling.
    Webhook(webhook::Args),
}

#[path = "bench_kustomize.rs"]
mod kustomize;

#[path = "bench_gitops.rs"]
mod gitops;

#[path = "bench_list.rs"]
mod list;

#[path = "bench_webhook.rs"]
mod webhook;

/// Set in the re-executed, pinned benchmark process.
const PINNED_ENV: &str = "TETHER_BENCH_CLIENT_PINNED";

pub fn run(target: Target) -> anyhow::Result<()> {
    let args = match target {
        Target::Apiserver(args) => args,
        Target::Kustomize(args) => return kustomize::run(args),
        Target::Gitops(args) => return gitops::run(args),
        Target::List(args) => return list::run(args),
        Target::Webhook(args) => return webhook::run(args),
    };
    if let Some(status) = pin_client(&args.server_cpu)? {
        return if status.success() {
            Ok(())
        } else {
            bail!("the benchmark failed ({status})")
        };
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(apiserver(args))
}

/// Keeps the load generator off the server's CPU: re-runs this command under `taskset` on the
/// other CPUs. Returns the child's exit status, or `None` when this process should run the
/// benchmark itself (already pinned, nothing to pin, or no `taskset`).
fn pin_client(server_cpu: &str) -> anyhow::Result<Option<std::process::ExitStatus>> {
    let cpus = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let others: Vec<String> = (0..cpus)
        .map(|c| c.to_string())
        .filter(|c| c != server_cpu)
        .collect();
    if std::env::var_os(PINNED_ENV).is_some()
        || server_cpu == "none"
        || others.is_empty()
        || !which("taskset")
    {
        return Ok(None);
    }
    let exe = std::env::current_exe().context("cannot find the tether binary")?;
    let status = std::process::Command::new("taskset")
        .arg("-c")
        .arg(others.join(","))
        .arg(exe)
        .args(std::env::args_os().skip(1))
        .env(PINNED_ENV, "1")
        .status()
        .context("cannot run the benchmark under taskset")?;
    Ok(Some(status))
}

struct Child {
    process: tokio::process::Child,
    url: String,
}

async fn start_server(dir: &Path, cpu: &str, simulate: bool) -> anyhow::Result<Child> {
    let exe = std::env::current_exe().context("cannot find the tether binary")?;
    let mut command = if cpu != "none" && which("taskset") {
        let mut c = tokio::process::Command::new("taskset");
        c.arg("-c").arg(cpu).arg(&exe);
        c
    } else {
        tokio::process::Command::new(&exe)
    };
    command
        .arg("apiserver")
        .arg("--listen=127.0.0.1:0")
        .arg("--data-dir")
        .arg(dir.join("data"))
        .arg("--kubeconfig-out")
        .arg(dir.join("kubeconfig"))
        .arg(format!("--simulate-workloads={simulate}"))
        .env("TETHER_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true);
    let mut process = command.spawn().context("cannot start `tether apiserver`")?;
    let stdout = process.stdout.take().context("no stdout from the server")?;
    let mut lines = BufReader::new(stdout).lines();
    let line = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
        .await
        .context("the server did not start within 30s")??
        .context("the server exited before serving")?;
    let url = line
        .strip_prefix("serving on ")
        .context("unexpected first line from the server")?
        .to_owned();
    Ok(Child { process, url })
}

fn which(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|p| p.join(program).is_file()))
}

/// A process's peak resident memory, from /proc.
fn peak_rss_kib(pid: u32) -> Option<u64> {
    status_kib(pid, "VmHWM:")
}

/// A `kB` field (`VmRSS:`, `VmHWM:`, …) of `/proc/<pid>/status`.
fn status_kib(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

async fn client(dir: &Path) -> anyhow::Result<kube::Client> {
    super::controller::client(Some(&dir.join("kubeconfig"))).await
}

struct LoadResult {
    applies: u64,
    elapsed: Duration,
    latencies: Vec<Duration>,
}

/// `concurrency` workers apply ConfigMaps (each apply changes a value, so each is a real write)
/// for `seconds`.
async fn apply_load(
    client: &kube::Client,
    ns: &str,
    concurrency: usize,
    seconds: u64,
) -> anyhow::Result<LoadResult> {
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), ns);
    let stop = Arc::new(AtomicBool::new(false));
    let counter = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let mut workers = vec![];
    for worker in 0..concurrency {
        let (api, stop, counter) = (api.clone(), stop.clone(), counter.clone());
        workers.push(tokio::spawn(async move {
            let params = PatchParams::apply("bench").force();
            let mut latencies = vec![];
            let mut i = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let name = format!("bench-{worker}-{}", i % 20);
                let body = serde_json::json!({
                    "apiVersion": "v1", "kind": "ConfigMap",
                    "metadata": {"name": name, "labels": {"app": "bench", "worker": worker.to_string()},
                                 "annotations": {"tether.dev/sent": now_micros().to_string()}},
                    "data": {"iteration": i.to_string(), "payload": "x".repeat(512)},
                });
                let t = Instant::now();
                api.patch(&name, &params, &Patch::Apply(&body)).await?;
                latencies.push(t.elapsed());
                counter.fetch_add(1, Ordering::Relaxed);
                i += 1;
            }
            anyhow::Ok(latencies)
        }));
    }
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    stop.store(true, Ordering::Relaxed);
    let mut latencies = vec![];
    for w in workers {
        latencies.extend(w.await??);
    }
    let elapsed = start.elapsed();
    latencies.sort();
    Ok(LoadResult {
        applies: counter.load(Ordering::Relaxed),
        elapsed,
        latencies,
    })
}

/// The send time an applier stamped into the object, found in a raw watch event line.
fn sent_stamp(line: &str) -> Option<u128> {
    const KEY: &str = "\"tether.dev/sent\":\"";
    let start = line.find(KEY)? + KEY.len();
    let digits = &line[start..];
    digits[..digits.find('"')?].parse().ok()
}

fn now_micros() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_micros())
        .unwrap_or(0)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn report(label: &str, r: &LoadResult) {
    let rate = r.applies as f64 / r.elapsed.as_secs_f64();
    println!(
        "{label}: {} applies in {:.1}s = {rate:.0} applies/s; latency p50 {:.2} ms, p99 {:.2} ms",
        r.applies,
        r.elapsed.as_secs_f64(),
        percentile(&r.latencies, 0.5).as_secs_f64() * 1e3,
        percentile(&r.latencies, 0.99).as_secs_f64() * 1e3,
    );
}

async fn apiserver(args: Args) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let mut server = start_server(dir.path(), &args.server_cpu, false).await?;
    let pid = server.process.id().unwrap_or(0);
    println!(
        "server: {} (durable data dir, pinned to cpu {}), {} appliers, {}s per phase",
        server.url, args.server_cpu, args.concurrency, args.seconds
    );
    let client = client(dir.path()).await?;
    let namespaces: Api<Namespace> = Api::all(client.clone());
    let ns =
        serde_json::json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "bench"}});
    namespaces
        .patch("bench", &PatchParams::apply("bench"), &Patch::Apply(&ns))
        .await?;

    let alone = apply_load(&client, "bench", args.concurrency, args.seconds).await?;
    report("apply (no watchers)", &alone);

    // Fan-out: watchers on the ConfigMaps, each measuring how long after the write it sees it.
    let received = Arc::new(AtomicU64::new(0));
    let lags = Arc::new(std::sync::Mutex::new(Vec::<u64>::new()));
    let mut watchers = vec![];
    for _ in 0..args.watchers {
        let api: Api<ConfigMap> = Api::namespaced(client.clone(), "bench");
        let rv = api
            .list_metadata(&Default::default())
            .await?
            .metadata
            .resource_version
            .unwrap_or_default();
        let (client, received, lags) = (client.clone(), received.clone(), lags.clone());
        watchers.push(tokio::spawn(async move {
            // Reads event lines without deserializing them, so the watchers cost this process
            // little and the figure is the server's.
            let request = http::Request::get(format!(
                "/api/v1/namespaces/bench/configmaps?watch=true&resourceVersion={rv}&timeoutSeconds=290"
            ))
            .body(vec![])?;
            let mut lines = std::pin::pin!(client.request_stream(request).await?.lines());
            let mut mine = vec![];
            while let Some(line) = lines.next().await.transpose()? {
                received.fetch_add(1, Ordering::Relaxed);
                if let Some(sent) = sent_stamp(&line) {
                    mine.push(now_micros().saturating_sub(sent) as u64);
                }
                if mine.len() >= 1024 {
                    lags.lock().map_err(|_| anyhow::anyhow!("poisoned"))?.append(&mut mine);
                }
            }
            lags.lock().map_err(|_| anyhow::anyhow!("poisoned"))?.append(&mut mine);
            anyhow::Ok(())
        }));
    }
    let fanned = apply_load(&client, "bench", args.concurrency, args.seconds).await?;
    report(&format!("apply with {} watchers", args.watchers), &fanned);
    // Let the watchers drain what is in flight.
    let expected = fanned.applies * args.watchers as u64;
    let deadline = Instant::now() + Duration::from_secs(30);
    while received.load(Ordering::Relaxed) < expected && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let got = received.load(Ordering::Relaxed);
    for w in &watchers {
        w.abort();
    }
    let mut lag = std::mem::take(&mut *lags.lock().map_err(|_| anyhow::anyhow!("poisoned"))?);
    lag.sort_unstable();
    let pick = |p: f64| {
        lag.get(((lag.len().max(1) - 1) as f64 * p) as usize)
            .copied()
            .unwrap_or(0) as f64
            / 1e3
    };
    println!(
        "fan-out: {got} of {expected} events delivered to {} watchers ({:.0} events/s); write-to-watcher lag p50 {:.2} ms, p99 {:.2} ms",
        args.watchers,
        got as f64 / fanned.elapsed.as_secs_f64(),
        pick(0.5),
        pick(0.99)
    );
    if got < expected {
        bail!("watchers missed {} events", expected - got);
    }
    match peak_rss_kib(pid) {
        Some(kib) => println!("server peak RSS: {:.1} MiB", kib as f64 / 1024.0),
        None => println!("server peak RSS: unavailable"),
    }
    server.process.start_kill()?;
    let _ = server.process.wait().await;
    Ok(())
}
