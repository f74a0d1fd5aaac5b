//! The GitOps loop end to end: a smart-HTTP Git remote with basic auth started by the test, the
//! embedded control plane over HTTPS, and the controllers in this process. A commit is applied,
//! the next commit is applied and what it removed is pruned, a broken manifest leaves the
//! applied objects alone and says BuildFailed naming the file, a fix recovers, dependsOn orders
//! two Kustomizations, and deleting a Kustomization prunes its objects.
#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests: a panic is a failed assertion.

mod common;

use std::time::Duration;

use common::{Cluster, ks_condition, wait_for};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, Service};
use kube::api::{Api, DeleteParams, PostParams};
use tether_api::{GitRepository, Kustomization};
use tether_testkit::{GitHttpConfig, GitHttpServer, WorkRepo, init_bare};

const APP: &str = r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: default
spec:
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: nginx:1.27
"#;

fn config_map(value: &str) -> String {
    format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: default\ndata:\n  greeting: {value}\n"
    )
}

const SERVICE: &str = r#"apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: default
spec:
  selector: {app: web}
  ports:
  - port: 80
"#;

async fn ready_with(
    api: &Api<Kustomization>,
    name: &str,
    status: &str,
    reason: &str,
    contains: &str,
) -> String {
    ks_condition(
        api,
        name,
        "Ready",
        status,
        reason,
        contains,
        Duration::from_secs(60),
    )
    .await
}

fn kustomization(name: &str, path: &str, depends_on: &[&str]) -> Kustomization {
    let depends_on: Vec<_> = depends_on
        .iter()
        .map(|d| serde_json::json!({"name": d}))
        .collect();
    let extra = serde_json::json!({
        "retryInterval": "2s", "wait": true, "timeout": "30s", "dependsOn": depends_on,
    });
    serde_json::from_value(common::kustomization(name, "fleet", path, extra)).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commits_reach_the_cluster_and_removed_files_are_pruned() {
    // The remote.
    let root = tempfile::tempdir().unwrap();
    init_bare(&root.path().join("fleet.git")).unwrap();
    let git =
        GitHttpServer::start(GitHttpConfig::new(root.path()).with_basic_auth("flux", "s3cret"))
            .unwrap();
    let push_url = git.url_with_credentials("fleet.git");
    let mut work = WorkRepo::new().unwrap();
    work.write("apps/web.yaml", APP).unwrap();
    work.write("apps/settings.yaml", config_map("hello"))
        .unwrap();
    work.write("apps/service.yaml", SERVICE).unwrap();
    work.write(
        "infra/namespace.yaml",
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: infra\n",
    )
    .unwrap();
    let first = work.commit("first").unwrap();
    work.push(&push_url, &["main"]).unwrap();

    // The cluster and the controllers.
    let cluster = Cluster::start().await;
    let client = cluster.client.clone();
    cluster
        .create_secret(
            "fleet-auth",
            serde_json::json!({"username": "flux", "password": "s3cret"}),
        )
        .await;
    cluster
        .create_repo("fleet", &git.url("fleet.git"), Some("fleet-auth"))
        .await;
    let repos: Api<GitRepository> = cluster.api();
    let kss: Api<Kustomization> = Api::namespaced(client.clone(), "flux-system");
    // `apps` depends on `infra`; created first, it must wait for it.
    kss.create(
        &PostParams::default(),
        &kustomization("apps", "./apps", &["infra"]),
    )
    .await
    .unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    kss.create(
        &PostParams::default(),
        &kustomization("infra", "./infra", &[]),
    )
    .await
    .unwrap();

    // 1. Applied and Ready, with Flux's message and owner labels, in dependency order.
    let applied = format!("Applied revision: main@sha1:{first}");
    ready_with(&kss, "infra", "True", "ReconciliationSucceeded", &applied).await;
    ready_with(&kss, "apps", "True", "ReconciliationSucceeded", &applied).await;
    let repo = repos.get("fleet").await.unwrap();
    let (status, _, message) = {
        let c = tether_api::conditions::find(repo.conditions(), "Ready").unwrap();
        (c.status.clone(), c.reason.clone(), c.message.clone())
    };
    assert_eq!(status, "True");
    assert_eq!(
        message,
        format!("stored artifact for revision 'main@sha1:{first}'")
    );
    let deployments: Api<Deployment> = Api::namespaced(client.clone(), "default");
    let web = deployments.get("web").await.unwrap();
    let labels = web.metadata.labels.unwrap();
    assert_eq!(labels["kustomize.toolkit.fluxcd.io/name"], "apps");
    assert_eq!(
        labels["kustomize.toolkit.fluxcd.io/namespace"],
        "flux-system"
    );
    let apps = kss.get("apps").await.unwrap();
    let status = apps.status.unwrap();
    assert_eq!(
        status.last_applied_revision.as_deref(),
        Some(format!("main@sha1:{first}").as_str())
    );
    let mut ids: Vec<String> = status
        .inventory
        .unwrap()
        .entries
        .into_iter()
        .map(|e| e.id)
        .collect();
    ids.sort();
    assert_eq!(
        ids,
        [
            "default_settings__ConfigMap",
            "default_web__Service",
            "default_web_apps_Deployment"
        ]
    );
    let infra = kss.get("infra").await.unwrap();
    let apps_ready_at =
        tether_api::conditions::find(kss.get("apps").await.unwrap().conditions(), "Ready")
            .unwrap()
            .last_transition_time
            .clone();
    let infra_ready_at = tether_api::conditions::find(infra.conditions(), "Ready")
        .unwrap()
        .last_transition_time
        .clone();
    assert!(
        infra_ready_at.0 <= apps_ready_at.0,
        "infra became ready before apps"
    );

    // 2. A new commit: a changed value is applied, a removed file is pruned.
    work.write("apps/settings.yaml", config_map("bonjour"))
        .unwrap();
    work.remove("apps/service.yaml").unwrap();
    let second = work.commit("second").unwrap();
    work.push(&push_url, &["main"]).unwrap();
    ready_with(
        &kss,
        "apps",
        "True",
        "ReconciliationSucceeded",
        &format!("main@sha1:{second}"),
    )
    .await;
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    assert_eq!(
        cms.get("settings").await.unwrap().data.unwrap()["greeting"],
        "bonjour"
    );
    let services: Api<Service> = Api::namespaced(client.clone(), "default");
    wait_for(
        "the removed Service to be pruned",
        Duration::from_secs(10),
        async || {
            services
                .get_opt("web")
                .await
                .unwrap()
                .is_none()
                .then_some(())
        },
    )
    .await;

    // 3. A broken manifest: BuildFailed naming the file; nothing of that revision applied.
    work.write("apps/settings.yaml", config_map("hola"))
        .unwrap();
    work.write(
        "apps/broken.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: [oops\n",
    )
    .unwrap();
    let third = work.commit("broken").unwrap();
    work.push(&push_url, &["main"]).unwrap();
    let message = ready_with(&kss, "apps", "False", "BuildFailed", "broken.yaml").await;
    assert!(message.contains("broken.yaml"), "{message}");
    let apps = kss.get("apps").await.unwrap();
    let status = apps.status.unwrap();
    assert_eq!(
        status.last_attempted_revision.as_deref(),
        Some(format!("main@sha1:{third}").as_str())
    );
    assert_eq!(
        status.last_applied_revision.as_deref(),
        Some(format!("main@sha1:{second}").as_str())
    );
    assert_eq!(
        cms.get("settings").await.unwrap().data.unwrap()["greeting"],
        "bonjour"
    );
    assert!(deployments.get_opt("web").await.unwrap().is_some());

    // 4. The fix is applied.
    work.remove("apps/broken.yaml").unwrap();
    let fourth = work.commit("fix").unwrap();
    work.push(&push_url, &["main"]).unwrap();
    ready_with(
        &kss,
        "apps",
        "True",
        "ReconciliationSucceeded",
        &format!("main@sha1:{fourth}"),
    )
    .await;
    assert_eq!(
        cms.get("settings").await.unwrap().data.unwrap()["greeting"],
        "hola"
    );

    // 5. Deleting the Kustomization prunes its objects (finalizer), then it goes.
    kss.delete("apps", &DeleteParams::default()).await.unwrap();
    wait_for(
        "apps and its objects to be gone",
        Duration::from_secs(20),
        async || {
            let gone = kss.get_opt("apps").await.unwrap().is_none()
                && deployments.get_opt("web").await.unwrap().is_none()
                && cms.get_opt("settings").await.unwrap().is_none();
            gone.then_some(())
        },
    )
    .await;

    cluster.stop().await;
}
