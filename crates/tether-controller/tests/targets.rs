//! Where and as whom a Kustomization applies: `spec.kubeConfig` (a second control plane reached
//! through a kubeconfig in a Secret) and `spec.serviceAccountName` / `--default-service-account`
//! (impersonation, decided by the control plane's RBAC). Each test starts its own control
//! planes, controllers and Git remote.
#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests: a panic is a failed assertion.

mod common;

use std::time::Duration;

use common::{Cluster, NS, Remote, config_map, greeting, ks_condition, kustomization, wait_for};
use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use k8s_openapi::api::rbac::v1::RoleBinding;
use kube::api::{Api, DeleteParams, PostParams};
use serde_json::json;
use tether_api::Kustomization;
use tether_testkit::{GitHttpConfig, GitHttpServer};

const WAIT: Duration = Duration::from_secs(30);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kubeconfig_secret_sends_objects_to_the_remote_cluster() {
    let mut remote = Remote::new();
    let revision = remote.commit(
        "first",
        &[("apps/settings.yaml", &config_map("settings", "remote"))],
    );
    let git = GitHttpServer::start(GitHttpConfig::new(remote.root.path())).unwrap();
    let target = tether_apiserver::start(tether_apiserver::ServerConfig::ephemeral())
        .await
        .unwrap();
    let target_client = target.client().await.unwrap();
    let cluster = Cluster::start().await;
    cluster
        .create_secret("target-kubeconfig", json!({ "value": target.kubeconfig() }))
        .await;
    cluster
        .create_repo("fleet", &git.url("fleet.git"), None)
        .await;
    cluster
        .create_kustomization(kustomization(
            "apps",
            "fleet",
            "./apps",
            json!({"wait": true, "kubeConfig": {"secretRef": {"name": "target-kubeconfig"}}}),
        ))
        .await;
    let kss: Api<Kustomization> = cluster.api();
    ks_condition(
        &kss,
        "apps",
        "Ready",
        "True",
        "ReconciliationSucceeded",
        &format!("Applied revision: {revision}"),
        WAIT,
    )
    .await;

    // On the target, labelled as Flux labels, and nothing on the controller's own cluster.
    let remote_cms: Api<ConfigMap> = Api::namespaced(target_client.clone(), "default");
    let applied = remote_cms.get("settings").await.unwrap();
    assert_eq!(
        applied.data.unwrap().get("greeting").map(String::as_str),
        Some("remote")
    );
    let labels = applied.metadata.labels.unwrap();
    assert_eq!(
        labels
            .get("kustomize.toolkit.fluxcd.io/name")
            .map(String::as_str),
        Some("apps")
    );
    let local_cms: Api<ConfigMap> = cluster.api_in("default");
    assert_eq!(greeting(&local_cms, "settings").await, None);

    // Deleting the Kustomization prunes on the target.
    kss.delete("apps", &DeleteParams::default()).await.unwrap();
    wait_for("the ConfigMap pruned on the target", WAIT, async || {
        remote_cms
            .get_opt("settings")
            .await
            .unwrap()
            .is_none()
            .then_some(())
    })
    .await;
    cluster.stop().await;
    target.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_or_unsafe_kubeconfig_fails_without_touching_the_local_cluster() {
    let mut remote = Remote::new();
    remote.commit(
        "first",
        &[("apps/settings.yaml", &config_map("settings", "remote"))],
    );
    let git = GitHttpServer::start(GitHttpConfig::new(remote.root.path())).unwrap();
    let cluster = Cluster::start().await;
    cluster
        .create_repo("fleet", &git.url("fleet.git"), None)
        .await;
    let exec_kubeconfig = "apiVersion: v1\nkind: Config\ncurrent-context: c\n\
        contexts: [{name: c, context: {cluster: k, user: u}}]\n\
        clusters: [{name: k, cluster: {server: 'https://127.0.0.1:1'}}]\n\
        users: [{name: u, user: {exec: {apiVersion: client.authentication.k8s.io/v1, command: touch, args: [/tmp/tether-pwned]}}}]\n";
    cluster
        .create_secret("exec-kubeconfig", json!({ "value": exec_kubeconfig }))
        .await;
    cluster
        .create_secret("wrong-key", json!({ "config": exec_kubeconfig }))
        .await;
    for (name, secret) in [
        ("missing", "absent"),
        ("exec", "exec-kubeconfig"),
        ("wrong-key", "wrong-key"),
    ] {
        cluster
            .create_kustomization(kustomization(
                name,
                "fleet",
                "./apps",
                json!({"kubeConfig": {"secretRef": {"name": secret}}}),
            ))
            .await;
    }
    let kss: Api<Kustomization> = cluster.api();
    for (name, expected) in [
        ("missing", format!("Secret '{NS}/absent' not found")),
        (
            "exec",
            "user 'u' uses an exec credential plugin, which tether refuses".to_owned(),
        ),
        (
            "wrong-key",
            format!("Secret '{NS}/wrong-key' has no key 'value' or 'value.yaml'"),
        ),
    ] {
        ks_condition(
            &kss,
            name,
            "Ready",
            "False",
            "ReconciliationFailed",
            &expected,
            WAIT,
        )
        .await;
    }
    let local_cms: Api<ConfigMap> = cluster.api_in("default");
    assert_eq!(greeting(&local_cms, "settings").await, None);
    assert!(!std::path::Path::new("/tmp/tether-pwned").exists());
    cluster.stop().await;
}

/// A RoleBinding of ClusterRole `role` in `namespace` to ServiceAccount `flux-system/sa`.
async fn bind(client: &kube::Client, namespace: &str, role: &str, sa: &str) {
    let binding: RoleBinding = serde_json::from_value(json!({
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
        "metadata": {"name": format!("{sa}-{role}"), "namespace": namespace},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
        "subjects": [{"kind": "ServiceAccount", "name": sa, "namespace": NS}],
    }))
    .unwrap();
    Api::<RoleBinding>::namespaced(client.clone(), namespace)
        .create(&PostParams::default(), &binding)
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_account_applies_only_what_rbac_grants_it() {
    let mut remote = Remote::new();
    let first = remote.commit(
        "first",
        &[("apps/settings.yaml", &config_map("settings", "one"))],
    );
    let git = GitHttpServer::start(GitHttpConfig::new(remote.root.path())).unwrap();
    let server = tether_apiserver::start(tether_apiserver::ServerConfig::ephemeral())
        .await
        .unwrap();
    // Kustomizations naming no ServiceAccount impersonate `tenant`, which nothing grants.
    let options = tether_controller::ReconcileOptions {
        default_service_account: Some("tenant".to_owned()),
        ..Default::default()
    };
    let cluster = Cluster::start_with(server, options).await;
    let namespaces: Api<Namespace> = Api::all(cluster.client.clone());
    namespaces
        .create(
            &PostParams::default(),
            &serde_json::from_value(json!({"metadata": {"name": "other"}})).unwrap(),
        )
        .await
        .unwrap();
    bind(&cluster.client, "default", "edit", "deployer").await;
    cluster
        .create_repo("fleet", &git.url("fleet.git"), None)
        .await;
    cluster
        .create_kustomization(kustomization(
            "apps",
            "fleet",
            "./apps",
            json!({"serviceAccountName": "deployer"}),
        ))
        .await;
    cluster
        .create_kustomization(kustomization("defaulted", "fleet", "./apps", json!({})))
        .await;
    let kss: Api<Kustomization> = cluster.api();
    ks_condition(
        &kss,
        "apps",
        "Ready",
        "True",
        "ReconciliationSucceeded",
        &format!("Applied revision: {first}"),
        WAIT,
    )
    .await;
    ks_condition(
        &kss,
        "defaulted",
        "Ready",
        "False",
        "ReconciliationFailed",
        &format!(
            "ConfigMap/default/settings query failed: configmaps \"settings\" is forbidden: \
             User \"system:serviceaccount:{NS}:tenant\" cannot get resource \"configmaps\" in API group \"\" in the namespace \"default\""
        ),
        WAIT,
    )
    .await;

    // A namespace the ServiceAccount has no binding in: refused, and nothing else changes.
    let other = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: elsewhere\n  namespace: other\ndata:\n  greeting: hi\n";
    let second = remote.commit(
        "second",
        &[
            ("apps/settings.yaml", &config_map("settings", "two")),
            ("apps/other.yaml", other),
        ],
    );
    ks_condition(
        &kss,
        "apps",
        "Ready",
        "False",
        "ReconciliationFailed",
        &format!(
            "User \"system:serviceaccount:{NS}:deployer\" cannot get resource \"configmaps\" \
             in API group \"\" in the namespace \"other\""
        ),
        WAIT,
    )
    .await;
    let default_cms: Api<ConfigMap> = cluster.api_in("default");
    let other_cms: Api<ConfigMap> = cluster.api_in("other");
    assert_eq!(greeting(&other_cms, "elsewhere").await, None);
    // The refusal comes in the dry-run phase: nothing of the revision was applied.
    assert_eq!(
        greeting(&default_cms, "settings").await.as_deref(),
        Some("one")
    );

    // Granted: the next retry applies the revision.
    bind(&cluster.client, "other", "admin", "deployer").await;
    ks_condition(
        &kss,
        "apps",
        "Ready",
        "True",
        "ReconciliationSucceeded",
        &format!("Applied revision: {second}"),
        WAIT,
    )
    .await;
    assert_eq!(
        greeting(&other_cms, "elsewhere").await.as_deref(),
        Some("hi")
    );
    assert_eq!(
        greeting(&default_cms, "settings").await.as_deref(),
        Some("two")
    );
    cluster.stop().await;
}
