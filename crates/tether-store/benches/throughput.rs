//! Durable write throughput and watch fan-out, with a plain harness: each figure is one timed
//! run on a fresh store in a temporary directory (same disk as the work tree).
//!
//! `cargo bench -p tether-store` (optionally `TETHER_STORE_BENCH_SECS=10` per write run).

// Test code: a panic is a failed assertion with a backtrace (clippy.toml allows this only
// inside #[test] functions, not in their helpers).
#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tether_store::{Filter, Store, StoreConfig, WriteOp};

/// Keys per writer; every write is an update of one of them (the common case: status updates).
const KEYS_PER_WRITER: u64 = 64;

/// A Deployment-like object of about 2 KiB when serialized.
fn object(key: &str, n: u64) -> Value {
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": key,
            "namespace": "bench",
            "labels": {"app.kubernetes.io/name": "bench", "app.kubernetes.io/part-of": "tether"},
            "annotations": {"tether.dev/note": "x".repeat(1390)},
            "generation": n,
        },
        "spec": {
            "replicas": 3,
            "selector": {"matchLabels": {"app": "bench"}},
            "template": {
                "metadata": {"labels": {"app": "bench"}},
                "spec": {"containers": [{
                    "name": "app",
                    "image": "registry.example/bench/app:1.2.3",
                    "args": ["--listen=:8080", "--log-level=info"],
                    "ports": [{"containerPort": 8080, "protocol": "TCP"}],
                    "resources": {"limits": {"cpu": "500m", "memory": "256Mi"}},
                }]},
            },
        },
        "status": {"observedGeneration": n, "replicas": 3, "readyReplicas": 3},
    })
}

fn key(writer: u64, i: u64) -> String {
    format!("apps/deployments/bench/w{writer}-{i}")
}

async fn preload(store: &Store, writers: u64) {
    for w in 0..writers {
        let writes: Vec<_> = (0..KEYS_PER_WRITER)
            .map(|i| {
                store.write(WriteOp::Create {
                    key: key(w, i),
                    value: object(&key(w, i), 0),
                })
            })
            .collect();
        for write in writes {
            write.await.unwrap();
        }
    }
}

/// One writer task: updates its keys round-robin until `until`; returns each write's latency.
async fn writer(store: Store, w: u64, until: Instant) -> Vec<Duration> {
    let mut latencies = Vec::new();
    let mut n = 1;
    while Instant::now() < until {
        let key = key(w, n % KEYS_PER_WRITER);
        let started = Instant::now();
        store
            .write(WriteOp::Update {
                value: object(&key, n),
                key,
                expected_revision: None,
            })
            .await
            .unwrap();
        latencies.push(started.elapsed());
        n += 1;
    }
    latencies
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p) as usize]
}

async fn write_run(writers: u64, secs: u64, durable: bool) {
    let dir = tempfile::tempdir().unwrap();
    let config = StoreConfig {
        path: durable.then(|| dir.path().join("bench.redb")),
        ..StoreConfig::in_memory()
    };
    let store = Store::open(config).unwrap();
    preload(&store, writers).await;
    let before = store.stats();
    let started = Instant::now();
    let until = started + Duration::from_secs(secs);
    let tasks: Vec<_> = (0..writers)
        .map(|w| tokio::spawn(writer(store.clone(), w, until)))
        .collect();
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await.unwrap());
    }
    let elapsed = started.elapsed();
    let after = store.stats();
    latencies.sort();
    let writes = latencies.len() as f64;
    let commits = (after.commits - before.commits) as f64;
    let commit_time = (after.commit_time - before.commit_time).as_secs_f64();
    println!(
        "{:<9} {:>3} writers: {:>6.0} writes/s  batch {:>4.1}  commit {:>5.2} ms  latency p50 {:>6.2} ms  p99 {:>6.2} ms  ({} writes in {:.1} s)",
        if durable { "durable" } else { "in-memory" },
        writers,
        writes / elapsed.as_secs_f64(),
        writes / commits.max(1.0),
        commit_time / commits.max(1.0) * 1e3,
        percentile(&latencies, 0.5).as_secs_f64() * 1e3,
        percentile(&latencies, 0.99).as_secs_f64() * 1e3,
        latencies.len(),
        elapsed.as_secs_f64(),
    );
    store.close().await.unwrap();
}

/// `watchers` watchers of everything; `writers` writers make `events` updates; the clock stops
/// when the last watcher has received the last event.
async fn fanout_run(watchers: usize, writers: u64, events: u64, durable: bool) {
    let dir = tempfile::tempdir().unwrap();
    let config = StoreConfig {
        path: durable.then(|| dir.path().join("bench.redb")),
        ..StoreConfig::in_memory()
    };
    let store = Store::open(config).unwrap();
    preload(&store, writers).await;
    let start = store.revision();
    let end = start + events;
    let watch_tasks: Vec<_> = (0..watchers)
        .map(|_| {
            let mut watch = store
                .watch(start, Filter::prefix("apps/deployments/"))
                .unwrap();
            tokio::spawn(async move {
                let mut bytes = 0usize;
                let mut received = 0u64;
                while received < events {
                    let event = watch.next().await.unwrap().unwrap();
                    bytes += event.object.json.len();
                    received += 1;
                }
                (received, bytes)
            })
        })
        .collect();
    let started = Instant::now();
    let per_writer = events / writers;
    let write_tasks: Vec<_> = (0..writers)
        .map(|w| {
            let store = store.clone();
            tokio::spawn(async move {
                for n in 1..=per_writer {
                    let key = key(w, n % KEYS_PER_WRITER);
                    store
                        .write(WriteOp::Update {
                            value: object(&key, n),
                            key,
                            expected_revision: None,
                        })
                        .await
                        .unwrap();
                }
            })
        })
        .collect();
    for task in write_tasks {
        task.await.unwrap();
    }
    let written = started.elapsed();
    assert_eq!(store.revision(), end);
    let mut delivered = 0u64;
    let mut bytes = 0usize;
    for task in watch_tasks {
        let (received, b) = task.await.unwrap();
        delivered += received;
        bytes += b;
    }
    let elapsed = started.elapsed();
    println!(
        "fan-out {watchers} watchers, {writers} {} writers: {events} events written in {:.2} s ({:.0} writes/s), all delivered after {:.2} s: {:.0} deliveries/s ({:.0} MiB/s of JSON)",
        if durable { "durable" } else { "in-memory" },
        written.as_secs_f64(),
        events as f64 / written.as_secs_f64(),
        elapsed.as_secs_f64(),
        delivered as f64 / elapsed.as_secs_f64(),
        bytes as f64 / elapsed.as_secs_f64() / (1 << 20) as f64,
    );
    store.close().await.unwrap();
}

fn main() {
    // `cargo test --benches` runs this binary too: keep that short.
    let quick = !std::env::args().any(|a| a == "--bench");
    let secs = std::env::var("TETHER_STORE_BENCH_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(if quick { 1 } else { 5 });
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let size = serde_json::to_vec(&object(&key(0, 0), 1)).unwrap().len();
    println!(
        "object size {size} bytes; {} cores",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    runtime.block_on(async {
        for writers in [1, 16, 64] {
            write_run(writers, secs, true).await;
        }
        write_run(16, secs, false).await;
        let events = if quick { 2_000 } else { 20_000 };
        fanout_run(100, 16, events, true).await;
        fanout_run(100, 16, events * 2, false).await;
    });
}
