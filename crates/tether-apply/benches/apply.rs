//! Staged apply of 1,000 objects (a Namespace and 999 ConfigMaps, ServiceAccounts, Services and
//! Deployments) against the embedded control plane over HTTPS: the first apply (everything
//! created) and a no-op re-apply (everything dry-run and found unchanged), at several
//! concurrency limits. The workload simulation is off so only the apply is measured.
//!
//! `cargo bench -p tether-apply --bench apply`

#![allow(clippy::unwrap_used, clippy::expect_used)] // A benchmark: a panic is a failed run.

use std::sync::LazyLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use divan::Bencher;
use serde_json::{Value, json};
use tether_apiserver::{RunningServer, ServerConfig};
use tether_apply::{Action, ApplyOptions, Owner, ResourceManager};
use tokio::runtime::Runtime;

const OBJECTS: usize = 1_000;

static RUNTIME: LazyLock<Runtime> = LazyLock::new(|| {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap()
});

struct Bench {
    _server: RunningServer,
    manager: ResourceManager,
}

/// One control plane for the whole run; every first-apply sample uses a new namespace.
static BENCH: LazyLock<Bench> = LazyLock::new(|| {
    RUNTIME.block_on(async {
        let server = tether_apiserver::start(ServerConfig {
            simulate_workloads: false,
            ..ServerConfig::ephemeral()
        })
        .await
        .unwrap();
        let client = server.client().await.unwrap();
        Bench {
            manager: ResourceManager::new(client, Owner::kustomize_controller()),
            _server: server,
        }
    })
});

static NEXT_NAMESPACE: AtomicUsize = AtomicUsize::new(0);

fn objects(ns: &str) -> Vec<Value> {
    let mut out = vec![json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})];
    for i in 0..OBJECTS - 1 {
        let name = format!("app-{i:04}");
        out.push(match i % 4 {
            0 => json!({"apiVersion": "v1", "kind": "ConfigMap",
                        "metadata": {"name": name, "namespace": ns},
                        "data": {"config.yaml": format!("replicas: {i}\nlevel: info\n")}}),
            1 => json!({"apiVersion": "v1", "kind": "ServiceAccount",
                        "metadata": {"name": name, "namespace": ns}}),
            2 => json!({"apiVersion": "v1", "kind": "Service",
                        "metadata": {"name": name, "namespace": ns},
                        "spec": {"selector": {"app": name}, "ports": [{"port": 80, "targetPort": 8080}]}}),
            _ => json!({"apiVersion": "apps/v1", "kind": "Deployment",
                        "metadata": {"name": name, "namespace": ns, "labels": {"app": name}},
                        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": name}},
                                 "template": {"metadata": {"labels": {"app": name}},
                                              "spec": {"containers": [{"name": "app", "image": "nginx:1.27",
                                                                       "ports": [{"containerPort": 8080}]}]}}}}),
        });
    }
    out
}

fn options(concurrency: usize) -> ApplyOptions {
    let mut options = BENCH.manager.apply_options("bench", "flux-system");
    options.concurrency = concurrency;
    options
}

#[divan::bench(args = [1, 4, 8, 16], sample_count = 3, sample_size = 1)]
fn first_apply(bencher: Bencher, concurrency: usize) {
    bencher
        .with_inputs(|| {
            let n = NEXT_NAMESPACE.fetch_add(1, Ordering::Relaxed);
            objects(&format!("first-{concurrency}-{n}"))
        })
        .bench_local_values(|objects| {
            let set = RUNTIME
                .block_on(
                    BENCH
                        .manager
                        .apply_all_staged(objects, &options(concurrency)),
                )
                .unwrap();
            assert!(set.entries.iter().all(|e| e.action == Action::Created));
        });
}

#[divan::bench(args = [1, 4, 8, 16], sample_count = 3, sample_size = 1)]
fn noop_reapply(bencher: Bencher, concurrency: usize) {
    let ns = format!("noop-{concurrency}");
    RUNTIME
        .block_on(
            BENCH
                .manager
                .apply_all_staged(objects(&ns), &options(concurrency)),
        )
        .unwrap();
    bencher
        .with_inputs(|| objects(&ns))
        .bench_local_values(|objects| {
            let set = RUNTIME
                .block_on(
                    BENCH
                        .manager
                        .apply_all_staged(objects, &options(concurrency)),
                )
                .unwrap();
            assert!(set.entries.iter().all(|e| e.action == Action::Unchanged));
        });
}

fn main() {
    divan::main();
}
