//! The CRDs work on tether's embedded API server as on a cluster: they are accepted and
//! established, GitRepositories and Kustomizations round-trip through kube-rs (spec and the
//! status subresource), and kubectl 1.33 lists them with Flux's printer columns, short names
//! and category.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests: a panic is a failed assertion.

use std::path::{Path, PathBuf};
use std::time::Duration as StdDuration;

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, Patch, PatchParams, PostParams};
use kube::{Client, ResourceExt};
use serde_json::json;
use tether_api::conditions::{self, ConditionType, Reason};
use tether_api::{
    Artifact, CrossNamespaceSourceReference, Duration, GitRepository, GitRepositoryRef,
    GitRepositorySpec, GitRepositoryStatus, InventoryId, Kustomization, KustomizationSpec,
    KustomizationStatus, PostBuild, ResourceInventory, Revision, SubstituteReference,
};

const DEADLINE: StdDuration = StdDuration::from_secs(15);
const SHA: &str = "5394cb7f48332b2de7c17dd8b8384bbc84b7e738";

/// `kubectl.1.33`, found beside the `kubectl` on PATH (or in `TETHER_KUBECTL_DIR`).
fn kubectl_133() -> PathBuf {
    let dir = match std::env::var_os("TETHER_KUBECTL_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => {
            let path = std::env::var_os("PATH").unwrap_or_default();
            let found = std::env::split_paths(&path)
                .map(|d| d.join("kubectl"))
                .find(|c| c.is_file())
                .expect("no `kubectl` on PATH: kubectl.1.33 is looked for beside it");
            std::fs::canonicalize(&found)
                .unwrap()
                .parent()
                .unwrap()
                .to_path_buf()
        }
    };
    let binary = dir.join("kubectl.1.33");
    assert!(binary.is_file(), "{} is missing", binary.display());
    binary
}

async fn kubectl(kubeconfig: &Path, home: &Path, args: &[&str]) -> String {
    // Async: the server runs on this test's runtime and must keep serving meanwhile.
    let out = tokio::process::Command::new(kubectl_133())
        .arg(format!("--kubeconfig={}", kubeconfig.display()))
        .arg(format!("--cache-dir={}", home.join("cache").display()))
        .args(args)
        .env_remove("KUBECONFIG")
        .env("HOME", home)
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "kubectl.1.33 {} failed:\n{}{}",
        args.join(" "),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

async fn install_crds(client: &Client) {
    let api: Api<CustomResourceDefinition> = Api::all(client.clone());
    for crd in tether_api::crds() {
        let name = crd.name_any();
        api.create(&PostParams::default(), &crd).await.unwrap();
        let deadline = tokio::time::Instant::now() + DEADLINE;
        loop {
            let got = api.get(&name).await.unwrap();
            let established = got
                .status
                .as_ref()
                .and_then(|s| s.conditions.as_ref())
                .is_some_and(|cs| {
                    cs.iter()
                        .any(|c| c.type_ == "Established" && c.status == "True")
                });
            if established {
                break;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "CRD {name} not established within {DEADLINE:?}"
            );
            tokio::time::sleep(StdDuration::from_millis(20)).await;
        }
    }
}

fn git_repository() -> GitRepository {
    GitRepository::new(
        "podinfo",
        GitRepositorySpec {
            url: "https://github.com/stefanprodan/podinfo".into(),
            interval: Duration::parse("1m").unwrap(),
            timeout: Some(Duration::parse("90s").unwrap()),
            reference: Some(GitRepositoryRef {
                branch: Some("master".into()),
                ..Default::default()
            }),
            ignore: Some("/*\n!/kustomize\n".into()),
            ..Default::default()
        },
    )
}

fn kustomization() -> Kustomization {
    Kustomization::new(
        "podinfo",
        KustomizationSpec {
            interval: Duration::parse("10m").unwrap(),
            path: Some("./kustomize".into()),
            prune: true,
            target_namespace: Some("apps".into()),
            source_ref: CrossNamespaceSourceReference {
                kind: "GitRepository".into(),
                name: "podinfo".into(),
                ..Default::default()
            },
            post_build: Some(PostBuild {
                substitute: [("cluster".to_owned(), "dev".to_owned())].into(),
                substitute_from: vec![SubstituteReference {
                    kind: "ConfigMap".into(),
                    name: "vars".into(),
                    optional: true,
                }],
            }),
            deletion_policy: Some("Orphan".into()),
            ..Default::default()
        },
    )
}

#[tokio::test]
async fn crds_serve_flux_objects_to_kube_rs_and_kubectl() {
    let server = tether_apiserver::start(tether_apiserver::ServerConfig::ephemeral())
        .await
        .unwrap();
    let client = server.client().await.unwrap();
    install_crds(&client).await;

    // Create and read back through the typed APIs.
    let repos: Api<GitRepository> = Api::namespaced(client.clone(), "default");
    let kss: Api<Kustomization> = Api::namespaced(client.clone(), "default");
    let created = repos
        .create(&PostParams::default(), &git_repository())
        .await
        .unwrap();
    assert_eq!(created.spec, git_repository().spec);
    assert_eq!(created.spec.timeout.unwrap().to_string(), "1m30s");
    kss.create(&PostParams::default(), &kustomization())
        .await
        .unwrap();
    let ks = kss.get("podinfo").await.unwrap();
    assert_eq!(ks.spec, kustomization().spec);
    assert_eq!(ks.deletion_policy(), tether_api::DeletionPolicy::Orphan);

    // Status goes through the status subresource and leaves the spec alone.
    let revision = Revision::new("master", SHA).unwrap().to_string();
    let mut repo_status = GitRepositoryStatus {
        observed_generation: created.metadata.generation.unwrap(),
        artifact: Some(Artifact {
            path: "gitrepository/default/podinfo/5394cb7f.tar.gz".into(),
            url: "http://127.0.0.1:9090/gitrepository/default/podinfo/5394cb7f.tar.gz".into(),
            revision: revision.clone(),
            digest: Some(format!("sha256:{}", "ab".repeat(32))),
            last_update_time: conditions::now(),
            size: Some(1234),
            metadata: Default::default(),
        }),
        ..Default::default()
    };
    conditions::mark_true(
        &mut repo_status.conditions,
        ConditionType::ArtifactInStorage,
        Reason::Succeeded,
        format!("stored artifact for revision '{revision}'"),
        created.metadata.generation,
    );
    conditions::mark_true(
        &mut repo_status.conditions,
        ConditionType::Ready,
        Reason::Succeeded,
        format!("stored artifact for revision '{revision}'"),
        created.metadata.generation,
    );
    let patched = repos
        .patch_status(
            "podinfo",
            &PatchParams::default(),
            &Patch::Merge(json!({ "status": repo_status })),
        )
        .await
        .unwrap();
    assert_eq!(patched.status.as_ref(), Some(&repo_status));
    assert_eq!(patched.spec, git_repository().spec);
    assert!(patched.artifact().unwrap().has_revision(&revision));

    let mut ks_status = KustomizationStatus {
        observed_generation: 1,
        last_applied_revision: Some(revision.clone()),
        last_attempted_revision: Some(revision.clone()),
        inventory: Some(ResourceInventory {
            entries: vec![InventoryId::new("apps", "podinfo", "apps", "Deployment").entry("v1")],
        }),
        ..Default::default()
    };
    conditions::mark_false(
        &mut ks_status.conditions,
        ConditionType::Ready,
        Reason::HealthCheckFailed,
        "timeout waiting for: [Deployment/apps/podinfo status: 'InProgress']",
        Some(1),
    );
    let patched = kss
        .patch_status(
            "podinfo",
            &PatchParams::default(),
            &Patch::Merge(json!({ "status": ks_status })),
        )
        .await
        .unwrap();
    assert_eq!(patched.status.as_ref(), Some(&ks_status));
    // A spec write through the status subresource is ignored.
    let sneaky = kss
        .patch_status(
            "podinfo",
            &PatchParams::default(),
            &Patch::Merge(json!({ "spec": { "suspend": true } })),
        )
        .await
        .unwrap();
    assert!(!sneaky.spec.suspend);

    // kubectl sees Flux's columns, short names and the `flux` category.
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    std::fs::write(&kubeconfig, server.kubeconfig()).unwrap();
    let home = dir.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let table = kubectl(
        &kubeconfig,
        &home,
        &["get", "gitrepositories,kustomizations", "-A"],
    )
    .await;
    let (repo_row, ks_row) = table_rows(&table);
    assert_eq!(
        &repo_row[..3],
        [
            "default",
            "gitrepository.source.toolkit.fluxcd.io/podinfo",
            "https://github.com/stefanprodan/podinfo"
        ],
        "{table}"
    );
    assert_eq!(
        &ks_row[..2],
        [
            "default",
            "kustomization.kustomize.toolkit.fluxcd.io/podinfo"
        ],
        "{table}"
    );
    // The Ready and Status cells are checked in `printer_columns_show_the_ready_condition`;
    // here their values are read with kubectl's own JSONPath.
    let custom = kubectl(
        &kubeconfig,
        &home,
        &[
            "get",
            "gitrepo,ks",
            "-n",
            "default",
            "-o",
            r#"custom-columns=READY:.status.conditions[?(@.type=="Ready")].status,STATUS:.status.conditions[?(@.type=="Ready")].reason"#,
        ],
    )
    .await;
    assert_eq!(
        custom
            .lines()
            .skip(1)
            .map(|l| l.split_whitespace().collect::<Vec<_>>())
            .collect::<Vec<_>>(),
        [["True", "Succeeded"], ["False", "HealthCheckFailed"]],
        "{custom}"
    );
    let short = kubectl(
        &kubeconfig,
        &home,
        &["get", "gitrepo,ks", "-n", "default", "-o", "name"],
    )
    .await;
    assert_eq!(
        short.lines().collect::<Vec<_>>(),
        [
            "gitrepository.source.toolkit.fluxcd.io/podinfo",
            "kustomization.kustomize.toolkit.fluxcd.io/podinfo"
        ]
    );
    let category = kubectl(&kubeconfig, &home, &["get", "flux", "-A", "-o", "name"]).await;
    let mut category: Vec<&str> = category.lines().collect();
    category.sort_unstable();
    assert_eq!(
        category,
        short.lines().collect::<Vec<_>>(),
        "kubectl get flux"
    );

    server.shutdown().await.unwrap();
}

/// The rows under the GitRepository and Kustomization headers of `kubectl get -A`, which must
/// have Flux's columns.
fn table_rows(table: &str) -> (Vec<&str>, Vec<&str>) {
    let lines: Vec<Vec<&str>> = table
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    let row_after = |header: &[&str]| {
        let at = lines
            .iter()
            .position(|l| l.as_slice() == header)
            .unwrap_or_else(|| panic!("no header {header:?} in:\n{table}"));
        lines
            .get(at + 1)
            .cloned()
            .unwrap_or_else(|| panic!("no row under {header:?} in:\n{table}"))
    };
    (
        row_after(&["NAMESPACE", "NAME", "URL", "AGE", "READY", "STATUS"]),
        row_after(&["NAMESPACE", "NAME", "AGE", "READY", "STATUS"]),
    )
}

/// The server-side table fills READY and STATUS from the Ready condition, as kube-apiserver
/// evaluates the columns' JSONPath filters (`[?(@.type=="Ready")]`).
#[tokio::test]
async fn printer_columns_show_the_ready_condition() {
    let server = tether_apiserver::start(tether_apiserver::ServerConfig::ephemeral())
        .await
        .unwrap();
    let client = server.client().await.unwrap();
    install_crds(&client).await;
    let repos: Api<GitRepository> = Api::namespaced(client.clone(), "default");
    repos
        .create(&PostParams::default(), &git_repository())
        .await
        .unwrap();
    let mut status = GitRepositoryStatus::default();
    conditions::mark_true(
        &mut status.conditions,
        ConditionType::Ready,
        Reason::Succeeded,
        "stored artifact",
        Some(1),
    );
    repos
        .patch_status(
            "podinfo",
            &PatchParams::default(),
            &Patch::Merge(json!({ "status": status })),
        )
        .await
        .unwrap();
    let kss: Api<Kustomization> = Api::namespaced(client.clone(), "default");
    kss.create(&PostParams::default(), &kustomization())
        .await
        .unwrap();
    let mut status = KustomizationStatus::default();
    conditions::mark_false(
        &mut status.conditions,
        ConditionType::Ready,
        Reason::BuildFailed,
        "kustomize build failed",
        Some(1),
    );
    kss.patch_status(
        "podinfo",
        &PatchParams::default(),
        &Patch::Merge(json!({ "status": status })),
    )
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    std::fs::write(&kubeconfig, server.kubeconfig()).unwrap();
    let home = dir.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let table = kubectl(
        &kubeconfig,
        &home,
        &["get", "gitrepositories,kustomizations", "-A"],
    )
    .await;
    let (repo_row, ks_row) = table_rows(&table);
    assert_eq!(repo_row[4..].join(" "), "True stored artifact", "{table}");
    assert_eq!(
        ks_row[3..].join(" "),
        "False kustomize build failed",
        "{table}"
    );
    server.shutdown().await.unwrap();
}
