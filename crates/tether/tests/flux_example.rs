//! The Flux example layout end to end: the fixture tree of
//! `crates/tether-controller/tests/fixtures/flux-example/` is pushed to a basic-auth smart-HTTP
//! remote (with `${REPO_URL}` filled in and tether's CRDs as `gotk-components.yaml`, as
//! `flux bootstrap` would write them), `tether dev --empty` runs as a process, and only
//! `clusters/staging/flux-system` is applied with kubectl. The `flux-system` Kustomization then
//! creates `infra-controllers` → `infra-configs` → `apps`, and everything converges on the same
//! revision, with the staging patch and the post-build substitutions in place.
#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests: a panic is a failed assertion.

mod common;

use std::ffi::OsStr;
use std::path::Path;
use std::time::Duration;

use common::{Proc, run_kubectl, wait_ready};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::api::networking::v1::Ingress;
use kube::api::{Api, PostParams};
use tether_api::Kustomization;
use tether_testkit::{GitHttpConfig, GitHttpServer, WorkRepo, init_bare};

const FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../tether-controller/tests/fixtures/flux-example"
);
const SYNC: &str = "clusters/staging/flux-system/gotk-sync.yaml";
const COMPONENTS: &str = "clusters/staging/flux-system/gotk-components.yaml";

/// Copies every file under `dir` into the work repository, at its path relative to `root`.
fn copy_tree(root: &Path, dir: &Path, work: &WorkRepo) -> usize {
    let mut copied = 0;
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    for entry in entries {
        let path = entry.unwrap().path();
        if path.is_dir() {
            copied += copy_tree(root, &path, work);
        } else {
            let rel = path.strip_prefix(root).unwrap().to_str().unwrap();
            work.write(rel, std::fs::read(&path).unwrap()).unwrap();
            copied += 1;
        }
    }
    copied
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_flux_example_layout_converges() {
    // The remote, holding the fixture as bootstrap would have pushed it.
    let root = tempfile::tempdir().unwrap();
    init_bare(&root.path().join("fleet.git")).unwrap();
    let git =
        GitHttpServer::start(GitHttpConfig::new(root.path()).with_basic_auth("flux", "s3cret"))
            .unwrap();
    let mut work = WorkRepo::new().unwrap();
    let fixture = Path::new(FIXTURE);
    assert!(
        fixture.join(SYNC).is_file(),
        "{} is missing",
        fixture.join(SYNC).display()
    );
    assert!(
        copy_tree(fixture, fixture, &work) >= 10,
        "fixture files copied"
    );
    let sync = std::fs::read_to_string(fixture.join(SYNC)).unwrap();
    assert!(sync.contains("${REPO_URL}"), "{SYNC} has no ${{REPO_URL}}");
    work.write(SYNC, sync.replace("${REPO_URL}", &git.url("fleet.git")))
        .unwrap();
    work.write(COMPONENTS, tether_api::crds_yaml()).unwrap();
    let sha = work.commit("flux bootstrap").unwrap();
    work.push(&git.url_with_credentials("fleet.git"), &["main"])
        .unwrap();

    // The cluster: tether dev, holding nothing yet.
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    let dev = Proc::spawn(
        "dev",
        &[
            OsStr::new("dev"),
            OsStr::new("--empty"),
            OsStr::new("--listen=127.0.0.1:0"),
            OsStr::new("--metrics-addr=127.0.0.1:0"),
            OsStr::new("--requeue-dependency=1s"),
            OsStr::new("--kubeconfig-out"),
            kubeconfig.as_os_str(),
        ],
        &[],
        dir.path(),
    );
    dev.wait_line("serving on ", Duration::from_secs(30));
    let client = common::client(&kubeconfig).await;

    // What `flux bootstrap` does on the cluster: the auth Secret, then the sync manifests.
    let secret: Secret = serde_json::from_value(serde_json::json!({
        "apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": "flux-system", "namespace": "flux-system"},
        "stringData": {"username": "flux", "password": "s3cret"}
    }))
    .unwrap();
    Api::<Secret>::namespaced(client.clone(), "flux-system")
        .create(&PostParams::default(), &secret)
        .await
        .unwrap();
    let sync_dir = work.path().join("clusters/staging/flux-system");
    // OpenAPI: issue 6 (kubectl's client-side validation needs /openapi/v3 or /openapi/v2).
    let applied = run_kubectl(
        &kubeconfig,
        &[
            "apply",
            "--validate=false",
            "-k",
            sync_dir.to_str().unwrap(),
        ],
    );
    assert!(
        applied.contains("kustomization.kustomize.toolkit.fluxcd.io/flux-system"),
        "{applied}"
    );

    let kss = Api::<Kustomization>::namespaced(client.clone(), "flux-system");
    let revision = format!("Applied revision: main@sha1:{sha}");
    for name in ["flux-system", "infra-controllers", "infra-configs", "apps"] {
        wait_ready(&kss, name, &revision, Duration::from_secs(90)).await;
    }

    // The staging overlay's patch and the post-build substitutions (inline and from the
    // cluster-settings ConfigMap that infra-configs applies).
    let podinfo = Api::<Deployment>::namespaced(client.clone(), "podinfo")
        .get("podinfo")
        .await
        .unwrap();
    let spec = podinfo.spec.unwrap();
    assert_eq!(spec.replicas, Some(2));
    let container = &spec.template.spec.unwrap().containers[0];
    let env = container.env.as_ref().unwrap();
    let message = env
        .iter()
        .find(|e| e.name == "PODINFO_UI_MESSAGE")
        .and_then(|e| e.value.as_deref());
    assert_eq!(message, Some("Hello from staging"));
    let labels = podinfo.metadata.labels.unwrap();
    assert_eq!(labels["kustomize.toolkit.fluxcd.io/name"], "apps");
    let ingress = Api::<Ingress>::namespaced(client.clone(), "podinfo")
        .get("podinfo")
        .await
        .unwrap();
    let host = ingress.spec.unwrap().rules.unwrap()[0].host.clone();
    assert_eq!(host.as_deref(), Some("podinfo.staging.example.com"));

    // The chain was applied by the sync objects themselves: flux-system owns the others.
    let apps = kss.get("apps").await.unwrap();
    let owner = apps.metadata.labels.unwrap_or_default();
    assert_eq!(
        owner
            .get("kustomize.toolkit.fluxcd.io/name")
            .map(String::as_str),
        Some("flux-system")
    );
}
