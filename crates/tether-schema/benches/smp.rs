//! Strategic merge patch on a typical Deployment (two containers, about 80 fields):
//! `cargo bench -p tether-schema --bench smp`.
//!
//! The patch is what `kubectl edit` sends after changing one container's image, adding an
//! environment variable and a label: `$setElementOrder` lists included.
//!
//! - `apply`: the API server's step on decoded values (the live object and the patch are
//!   cloned each time, as the merge consumes them; `clone_inputs` is that share alone).
//! - `apply_json`: the same from request bytes to response bytes.
//! - `create_two_way` / `create_three_way`: building the patch, as kubectl does.

// A benchmark panics on a broken fixture like a test does.
#![allow(clippy::unwrap_used)]

use serde_json::{Value, json};
use tether_schema::{
    SchemaPatchMeta, create_three_way_merge_patch, create_two_way_merge_patch,
    strategic_merge_patch, strategic_merge_patch_json,
};

fn main() {
    divan::main();
}

fn deployment(image: &str) -> Value {
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": "web",
            "namespace": "shop",
            "labels": {"app": "web", "tier": "frontend", "team": "payments"},
            "annotations": {"example.com/owner": "payments"}
        },
        "spec": {
            "replicas": 3,
            "revisionHistoryLimit": 5,
            "selector": {"matchLabels": {"app": "web"}},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 0}},
            "template": {
                "metadata": {"labels": {"app": "web", "tier": "frontend"}, "annotations": {"prometheus.io/scrape": "true"}},
                "spec": {
                    "serviceAccountName": "web",
                    "terminationGracePeriodSeconds": 30,
                    "securityContext": {"runAsNonRoot": true, "fsGroup": 2000},
                    "containers": [
                        {
                            "name": "web",
                            "image": image,
                            "imagePullPolicy": "IfNotPresent",
                            "args": ["--port=8080", "--log-level=info"],
                            "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"},
                                      {"name": "metrics", "containerPort": 9090}],
                            "env": [
                                {"name": "MODE", "value": "production"},
                                {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
                                {"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "db", "key": "password"}}}
                            ],
                            "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"cpu": "1", "memory": "512Mi"}},
                            "readinessProbe": {"httpGet": {"path": "/healthz", "port": "http"}, "periodSeconds": 5},
                            "livenessProbe": {"httpGet": {"path": "/livez", "port": 8080}, "initialDelaySeconds": 10},
                            "volumeMounts": [{"name": "config", "mountPath": "/etc/web", "readOnly": true}]
                        },
                        {
                            "name": "proxy",
                            "image": "envoyproxy/envoy:v1.31.0",
                            "ports": [{"name": "proxy", "containerPort": 10000}],
                            "resources": {"requests": {"cpu": "50m", "memory": "64Mi"}},
                            "volumeMounts": [{"name": "envoy", "mountPath": "/etc/envoy"}]
                        }
                    ],
                    "volumes": [
                        {"name": "config", "configMap": {"name": "web-config"}},
                        {"name": "envoy", "configMap": {"name": "envoy-config", "defaultMode": 420}}
                    ],
                    "tolerations": [{"key": "dedicated", "operator": "Equal", "value": "web", "effect": "NoSchedule"}]
                }
            }
        }
    })
}

fn meta() -> SchemaPatchMeta<'static> {
    SchemaPatchMeta::for_gvk("apps", "v1", "Deployment").unwrap()
}

struct Fixture {
    live: Value,
    edited: Value,
    patch: Value,
}

fn fixture() -> Fixture {
    let live = deployment("shop/web:1.0");
    let mut edited = deployment("shop/web:1.1");
    edited["metadata"]["labels"]["release"] = json!("2026-11");
    edited["spec"]["template"]["spec"]["containers"][0]["env"]
        .as_array_mut()
        .unwrap()
        .push(json!({"name": "FEATURE_X", "value": "on"}));
    let patch = create_two_way_merge_patch(&live, &edited, &meta()).unwrap();
    // The patch must reproduce the edit, or the benchmark measures the wrong thing.
    assert_eq!(
        strategic_merge_patch(live.clone(), patch.clone(), &meta()).unwrap(),
        edited
    );
    Fixture {
        live,
        edited,
        patch,
    }
}

#[divan::bench]
fn apply(bencher: divan::Bencher) {
    let f = fixture();
    let meta = meta();
    bencher.bench_local(|| {
        divan::black_box(strategic_merge_patch(f.live.clone(), f.patch.clone(), &meta).unwrap())
    });
}

#[divan::bench]
fn apply_json(bencher: divan::Bencher) {
    let f = fixture();
    let meta = meta();
    let live = serde_json::to_vec(&f.live).unwrap();
    let patch = serde_json::to_vec(&f.patch).unwrap();
    bencher.bench_local(|| {
        divan::black_box(strategic_merge_patch_json(&live, &patch, &meta).unwrap())
    });
}

#[divan::bench]
fn create_two_way(bencher: divan::Bencher) {
    let f = fixture();
    let meta = meta();
    bencher.bench_local(|| {
        divan::black_box(create_two_way_merge_patch(&f.live, &f.edited, &meta).unwrap())
    });
}

#[divan::bench]
fn create_three_way(bencher: divan::Bencher) {
    let f = fixture();
    let meta = meta();
    // Last applied = live without status; current = live; modified = the edit.
    bencher.bench_local(|| {
        divan::black_box(
            create_three_way_merge_patch(&f.live, &f.edited, &f.live, &meta, false).unwrap(),
        )
    });
}

/// The share of `apply` spent cloning its inputs.
#[divan::bench]
fn clone_inputs(bencher: divan::Bencher) {
    let f = fixture();
    bencher.bench_local(|| divan::black_box((f.live.clone(), f.patch.clone())));
}
