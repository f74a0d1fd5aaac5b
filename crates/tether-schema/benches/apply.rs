//! Server-side apply of a typical Deployment (two containers, about 80 fields) that three
//! managers share: `cargo bench -p tether-schema --bench apply`.
//!
//! `apply_request` is what kube-apiserver's field manager does per apply request: decode the
//! managers' FieldsV1, type and validate the live object and the configuration, apply, encode
//! the managers' FieldsV1 again. `apply_only` is the updater alone.

// A benchmark panics on a broken fixture like a test does.
#![allow(clippy::unwrap_used)]

use serde_json::{Value, json};
use tether_schema::{
    ManagedFields, Set, TypedValue, Updater, ValidationOptions, VersionedSet, builtin_schema,
    type_for_gvk,
};

fn main() {
    divan::main();
}

fn deployment(image: &str, replicas: u32) -> Value {
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
            "replicas": replicas,
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

struct Fixture {
    live: Value,
    config: Value,
    managed_json: Vec<(String, String, String)>,
}

/// A live Deployment applied by `kubectl`, scaled by an HPA and with status written by the
/// controller; the configuration changes the image.
fn fixture() -> Fixture {
    let schema = builtin_schema();
    let ty = type_for_gvk("apps", "v1", "Deployment").unwrap();
    let updater = Updater::default();
    let empty = TypedValue::new(schema, ty, Value::Null);
    let first = TypedValue::new(schema, ty, deployment("shop/web:1.0", 3));
    let (live, managers) = updater
        .apply(
            &empty,
            &first,
            "apps/v1",
            ManagedFields::new(),
            "kubectl",
            false,
        )
        .unwrap();
    let mut scaled = live.clone();
    scaled["spec"]["replicas"] = json!(5);
    let managers = updater
        .update(
            &TypedValue::new(schema, ty, live),
            &TypedValue::new(schema, ty, scaled.clone()),
            "apps/v1",
            managers,
            "hpa-controller",
        )
        .unwrap();
    let mut with_status = scaled.clone();
    with_status["status"] = json!({
        "observedGeneration": 2, "replicas": 5, "readyReplicas": 5, "updatedReplicas": 5,
        "availableReplicas": 5,
        "conditions": [
            {"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable", "message": "ok",
             "lastUpdateTime": "2026-01-01T00:00:00Z", "lastTransitionTime": "2026-01-01T00:00:00Z"},
            {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable", "message": "ok",
             "lastUpdateTime": "2026-01-01T00:00:00Z", "lastTransitionTime": "2026-01-01T00:00:00Z"}
        ]
    });
    let managers = updater
        .update(
            &TypedValue::new(schema, ty, scaled),
            &TypedValue::new(schema, ty, with_status.clone()),
            "apps/v1",
            managers,
            "kube-controller-manager",
        )
        .unwrap();
    let mut config = deployment("shop/web:1.1", 3);
    config["spec"].as_object_mut().unwrap().remove("replicas");
    Fixture {
        live: with_status,
        config,
        managed_json: managers
            .iter()
            .map(|(m, v)| (m.clone(), v.api_version.clone(), v.set.to_fields_v1_json()))
            .collect(),
    }
}

#[divan::bench]
fn apply_request(bencher: divan::Bencher) {
    let f = fixture();
    let schema = builtin_schema();
    let ty = type_for_gvk("apps", "v1", "Deployment").unwrap();
    let updater = Updater::default();
    bencher.bench_local(|| {
        let mut managers = ManagedFields::new();
        for (name, version, json) in &f.managed_json {
            managers.insert(
                name.clone(),
                VersionedSet {
                    set: Set::from_fields_v1_json(json).unwrap(),
                    api_version: version.clone(),
                    applied: name == "kubectl",
                },
            );
        }
        let live = TypedValue::validated(
            schema,
            ty,
            f.live.clone(),
            ValidationOptions {
                allow_duplicates: true,
            },
        )
        .unwrap();
        let config =
            TypedValue::validated(schema, ty, f.config.clone(), ValidationOptions::default())
                .unwrap();
        let (object, managers) = updater
            .apply(&live, &config, "apps/v1", managers, "kubectl", false)
            .unwrap();
        let encoded: Vec<String> = managers
            .values()
            .map(|v| v.set.to_fields_v1_json())
            .collect();
        divan::black_box((object, encoded))
    });
}

#[divan::bench]
fn apply_only(bencher: divan::Bencher) {
    let f = fixture();
    let schema = builtin_schema();
    let ty = type_for_gvk("apps", "v1", "Deployment").unwrap();
    let updater = Updater::default();
    let managers: ManagedFields = f
        .managed_json
        .iter()
        .map(|(name, version, json)| {
            (
                name.clone(),
                VersionedSet {
                    set: Set::from_fields_v1_json(json).unwrap(),
                    api_version: version.clone(),
                    applied: name == "kubectl",
                },
            )
        })
        .collect();
    let live = TypedValue::new(schema, ty, f.live.clone());
    let config = TypedValue::new(schema, ty, f.config.clone());
    bencher.bench_local(|| {
        divan::black_box(
            updater
                .apply(
                    &live,
                    &config,
                    "apps/v1",
                    managers.clone(),
                    "kubectl",
                    false,
                )
                .unwrap(),
        )
    });
}

/// The walkers an apply runs, alone: merge of the configuration, comparison of the live and
/// merged objects, field set of the configuration.
#[divan::bench]
fn walkers(bencher: divan::Bencher) {
    let f = fixture();
    let schema = builtin_schema();
    let ty = type_for_gvk("apps", "v1", "Deployment").unwrap();
    let live = TypedValue::new(schema, ty, f.live.clone());
    let config = TypedValue::new(schema, ty, f.config.clone());
    let merged = live.merge(&config).unwrap();
    bencher.bench_local(|| {
        let m = live.merge(&config).unwrap();
        let c = live.compare(&merged).unwrap();
        let s = config.to_field_set().unwrap();
        divan::black_box((m, c, s))
    });
}
