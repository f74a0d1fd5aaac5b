//! Custom resources are defaulted and validated against their CRD's schema, as kube-apiserver
//! does it: Flux's own CRDs (`crates/tether-api/crds/crds.yaml`), through kube-rs and kubectl.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests: a panic is a failed assertion.

#[allow(dead_code)] // This suite uses a few of the kubectl helpers.
mod support;

use std::path::PathBuf;
use std::time::Duration;

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind, PostParams};
use kube::{Client, ResourceExt};
use serde_json::{Value, json};
use support::Cluster;

const INTERVAL_PATTERN: &str = r"^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$";

fn crds_file() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tether-api/crds/crds.yaml")
}

fn flux_crds() -> Vec<Value> {
    let path = crds_file();
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    text.split("\n---\n")
        .map(|doc| serde_saphyr::from_str::<Value>(doc).unwrap())
        .collect()
}

async fn install_flux_crds(client: &Client) {
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    for crd in flux_crds() {
        let created = crds
            .create(
                &PostParams::default(),
                &serde_json::from_value(crd).unwrap(),
            )
            .await
            .unwrap();
        let name = created.name_any();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
        loop {
            let crd = crds.get(&name).await.unwrap();
            let established = crd.status.and_then(|s| s.conditions).is_some_and(|cs| {
                cs.iter()
                    .any(|c| c.type_ == "Established" && c.status == "True")
            });
            if established {
                break;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "CRD {name} not established"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

fn api(client: &Client, group: &str, version: &str, kind: &str) -> Api<DynamicObject> {
    let resource = ApiResource::from_gvk(&GroupVersionKind::gvk(group, version, kind));
    Api::namespaced_with(client.clone(), "default", &resource)
}

fn object(api_version: &str, kind: &str, name: &str, spec: Value) -> DynamicObject {
    serde_json::from_value(json!({
        "apiVersion": api_version, "kind": kind, "metadata": {"name": name}, "spec": spec,
    }))
    .unwrap()
}

#[tokio::test]
async fn kube_rs_sees_defaults_and_invalid_errors() {
    let server = tether_apiserver::start(tether_apiserver::ServerConfig::ephemeral())
        .await
        .unwrap();
    let client = server.client().await.unwrap();
    install_flux_crds(&client).await;
    let repos = api(&client, "source.toolkit.fluxcd.io", "v1", "GitRepository");
    let kss = api(
        &client,
        "kustomize.toolkit.fluxcd.io",
        "v1",
        "Kustomization",
    );

    // A GitRepository without `timeout` gets the schema's 60s, on create and on update.
    let spec = json!({"url": "https://example.com/podinfo", "interval": "1m"});
    let created = repos
        .create(
            &PostParams::default(),
            &object(
                "source.toolkit.fluxcd.io/v1",
                "GitRepository",
                "podinfo",
                spec,
            ),
        )
        .await
        .unwrap();
    assert_eq!(created.data["spec"]["timeout"], "60s");
    let mut edited = repos.get("podinfo").await.unwrap();
    edited.data["spec"]["timeout"] = Value::Null;
    edited.data["spec"]["interval"] = json!("5m");
    let replaced = repos
        .replace("podinfo", &PostParams::default(), &edited)
        .await
        .unwrap();
    assert_eq!(replaced.data["spec"]["timeout"], "60s");
    assert_eq!(replaced.data["spec"]["interval"], "5m");

    // A bad interval is a 422 Invalid naming the field, its value and the pattern.
    let bad = object(
        "kustomize.toolkit.fluxcd.io/v1",
        "Kustomization",
        "bad",
        json!({"interval": "1d", "prune": true,
               "sourceRef": {"kind": "GitRepository", "name": "podinfo"}}),
    );
    let err = kss.create(&PostParams::default(), &bad).await.unwrap_err();
    let kube::Error::Api(status) = err else {
        panic!("not an API error: {err}");
    };
    assert_eq!((status.code, status.reason.as_str()), (422, "Invalid"));
    assert_eq!(
        status.message,
        format!(
            r#"Kustomization.kustomize.toolkit.fluxcd.io "bad" is invalid: spec.interval: Invalid value: "1d": spec.interval in body should match '{INTERVAL_PATTERN}'"#
        )
    );

    // Several violations are all reported, each with upstream's reason.
    let bad = object(
        "kustomize.toolkit.fluxcd.io/v1",
        "Kustomization",
        "worse",
        json!({"interval": "1m", "prune": "yes", "deletionPolicy": "Keep", "namePrefix": ""}),
    );
    let response = kss.create(&PostParams::default(), &bad).await.unwrap_err();
    let kube::Error::Api(status) = response else {
        panic!("not an API error: {response}");
    };
    assert_eq!(status.code, 422, "{}", status.message);
    for wanted in [
        r#"spec.prune: Invalid value: "yes": spec.prune in body must be of type boolean: "string""#,
        r#"spec.deletionPolicy: Unsupported value: "Keep": supported values: "MirrorPrune", "Delete", "WaitForTermination", "Orphan""#,
        r#"spec.namePrefix: Invalid value: "": spec.namePrefix in body should be at least 1 chars long"#,
        "spec.sourceRef: Required value",
    ] {
        assert!(
            status.message.contains(wanted),
            "{wanted}\nnot in\n{}",
            status.message
        );
    }
    assert!(kss.get_opt("worse").await.unwrap().is_none());
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_sees_defaults_and_invalid_errors() {
    let cluster = Cluster::start("1.33").await;
    let crds = crds_file();
    cluster.ok(&["apply", "-f", crds.to_str().unwrap()]).await;
    cluster
        .ok(&[
            "wait",
            "--for=condition=Established",
            "crd/gitrepositories.source.toolkit.fluxcd.io",
            "crd/kustomizations.kustomize.toolkit.fluxcd.io",
        ])
        .await;
    let good = cluster.file(
        "repo.yaml",
        "apiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\nmetadata:\n  name: podinfo\n  namespace: default\nspec:\n  url: https://example.com/podinfo\n  interval: 1m\n",
    );
    cluster.ok(&["apply", "-f", good.to_str().unwrap()]).await;
    let timeout = cluster
        .ok(&[
            "get",
            "gitrepository",
            "podinfo",
            "-n",
            "default",
            "-o",
            "jsonpath={.spec.timeout}",
        ])
        .await;
    assert_eq!(timeout, "60s");

    let bad = cluster.file(
        "ks.yaml",
        "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: bad\n  namespace: default\nspec:\n  interval: 1d\n  prune: true\n  sourceRef:\n    kind: GitRepository\n    name: podinfo\n",
    );
    let run = cluster.run(&["apply", "-f", bad.to_str().unwrap()]).await;
    assert_eq!(run.code(), Some(1), "{run:?}");
    assert_eq!(
        run.stderr.trim(),
        format!(
            r#"The Kustomization "bad" is invalid: spec.interval: Invalid value: "1d": spec.interval in body should match '{INTERVAL_PATTERN}'"#
        ),
        "{run:?}"
    );
    cluster.shutdown().await;
}
