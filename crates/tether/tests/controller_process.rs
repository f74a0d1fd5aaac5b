//! `tether controller` and `tether dev` as processes, with the control plane as another process
//! and a smart-HTTP Git remote with basic auth started by the test:
//! - a controller killed with SIGKILL in the middle of an apply is replaced by a new process that
//!   takes the lease, converges with every inventory object present and no orphan, and prunes;
//! - with two controllers only the lease holder reconciles, and the standby takes over when the
//!   holder is killed, and a SIGTERM'd leader exits 0 and gives the lease up;
//! - objects a killed controller applied and Git removed before the restart are pruned, not
//!   orphaned (the inventory is widened in status before the apply);
//! - `tether dev --empty` serves the API with the CRDs installed to kubectl, reconciles what
//!   kubectl applies, and exits 0 on SIGTERM; without `--empty` it refuses to start;
//! - a controller on a cluster without tether's CRDs (its caches never fill) still exits 0 on
//!   SIGTERM.
#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests: a panic is a failed assertion.

mod common;

use std::collections::BTreeSet;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::{Proc, apiserver, http_get, run_kubectl, wait_for, wait_ready};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use kube::api::{Api, ListParams, PostParams};
use tether_api::{GitRepository, Kustomization};
use tether_testkit::{GitHttpConfig, GitHttpServer, WorkRepo, init_bare};

const OWNER: &str = "kustomize.toolkit.fluxcd.io/name";
const LEASE: &str = "tether-controller-leader-election";

fn config_map(i: usize) -> String {
    format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-{i:02}\n  namespace: default\ndata:\n  index: \"{i}\"\n"
    )
}

fn deployment(i: usize) -> String {
    format!(
        r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: web-{i:02}
  namespace: default
spec:
  selector:
    matchLabels: {{app: web-{i:02}}}
  template:
    metadata:
      labels: {{app: web-{i:02}}}
    spec:
      containers:
      - name: web
        image: nginx:1.27
"#
    )
}

/// Flux inventory ids of the ConfigMaps and Deployments numbered `indices`.
fn ids(indices: impl Iterator<Item = usize> + Clone) -> BTreeSet<String> {
    indices
        .clone()
        .map(|i| format!("default_cm-{i:02}__ConfigMap"))
        .chain(indices.map(|i| format!("default_web-{i:02}_apps_Deployment")))
        .collect()
}

/// A remote `fleet.git` behind basic auth and a work repository whose first commit holds
/// `objects` ConfigMaps and as many Deployments under `apps/`.
struct Remote {
    _root: tempfile::TempDir,
    git: GitHttpServer,
    work: WorkRepo,
    push_url: String,
}

impl Remote {
    fn new(objects: usize) -> (Remote, String) {
        let root = tempfile::tempdir().unwrap();
        init_bare(&root.path().join("fleet.git")).unwrap();
        let git =
            GitHttpServer::start(GitHttpConfig::new(root.path()).with_basic_auth("flux", "s3cret"))
                .unwrap();
        let push_url = git.url_with_credentials("fleet.git");
        let mut work = WorkRepo::new().unwrap();
        for i in 0..objects {
            work.write(&format!("apps/cm-{i:02}.yaml"), config_map(i))
                .unwrap();
            work.write(&format!("apps/web-{i:02}.yaml"), deployment(i))
                .unwrap();
        }
        let sha = work.commit("first").unwrap();
        work.push(&push_url, &["main"]).unwrap();
        (
            Remote {
                _root: root,
                git,
                work,
                push_url,
            },
            sha,
        )
    }

    fn push(&mut self, message: &str) -> String {
        let sha = self.work.commit(message).unwrap();
        self.work.push(&self.push_url, &["main"]).unwrap();
        sha
    }
}

/// The Secret, GitRepository `fleet` and Kustomization `fleet` (applying `./apps`, pruning,
/// waiting for health).
async fn create_sync(client: &kube::Client, url: &str) {
    let secret: Secret = serde_json::from_value(serde_json::json!({
        "apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": "fleet-auth", "namespace": "flux-system"},
        "stringData": {"username": "flux", "password": "s3cret"}
    }))
    .unwrap();
    Api::<Secret>::namespaced(client.clone(), "flux-system")
        .create(&PostParams::default(), &secret)
        .await
        .unwrap();
    let repo: GitRepository = serde_json::from_value(serde_json::json!({
        "apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "GitRepository",
        "metadata": {"name": "fleet", "namespace": "flux-system"},
        "spec": {"url": url, "interval": "1s", "ref": {"branch": "main"},
                 "secretRef": {"name": "fleet-auth"}}
    }))
    .unwrap();
    Api::<GitRepository>::namespaced(client.clone(), "flux-system")
        .create(&PostParams::default(), &repo)
        .await
        .unwrap();
    let ks: Kustomization = serde_json::from_value(serde_json::json!({
        "apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
        "metadata": {"name": "fleet", "namespace": "flux-system"},
        "spec": {"interval": "1m", "retryInterval": "2s", "path": "./apps", "prune": true,
                 "wait": true, "timeout": "30s",
                 "sourceRef": {"kind": "GitRepository", "name": "fleet"}}
    }))
    .unwrap();
    Api::<Kustomization>::namespaced(client.clone(), "flux-system")
        .create(&PostParams::default(), &ks)
        .await
        .unwrap();
}

/// `tether controller` with leader election on a short lease; its identity starts with
/// `name-` (from `HOSTNAME`). Returns the process and its metrics address.
fn controller(name: &str, dir: &Path, kubeconfig: &Path, storage: &Path) -> (Proc, String) {
    let proc = Proc::spawn(
        name,
        &[
            OsStr::new("controller"),
            OsStr::new("--kubeconfig"),
            kubeconfig.as_os_str(),
            OsStr::new("--storage-path"),
            storage.as_os_str(),
            OsStr::new("--metrics-addr=127.0.0.1:0"),
            OsStr::new("--leader-election-namespace=flux-system"),
            OsStr::new("--leader-election-lease-duration=3s"),
            OsStr::new("--leader-election-renew-before=1s"),
            OsStr::new("--requeue-dependency=1s"),
        ],
        &[("HOSTNAME", name)],
        dir,
    );
    let served = proc.wait_line("artifacts on ", Duration::from_secs(30));
    let metrics = served
        .split_once("metrics on http://")
        .and_then(|(_, m)| m.strip_suffix("/metrics"))
        .unwrap_or_else(|| panic!("{name} names no metrics address: {served}"))
        .to_owned();
    (proc, metrics)
}

async fn holder(client: &kube::Client) -> Option<String> {
    Api::<Lease>::namespaced(client.clone(), "flux-system")
        .get_opt(LEASE)
        .await
        .unwrap()
        .and_then(|l| l.spec)
        .and_then(|s| s.holder_identity)
}

async fn wait_holder(client: &kube::Client, name: &str, timeout: Duration) -> String {
    let prefix = format!("{name}-");
    wait_for(
        &format!("{name} to hold the lease {LEASE}"),
        timeout,
        async || holder(client).await.filter(|h| h.starts_with(&prefix)),
    )
    .await
}

/// Inventory ids of Kustomization `fleet`.
async fn inventory(client: &kube::Client) -> BTreeSet<String> {
    let ks = Api::<Kustomization>::namespaced(client.clone(), "flux-system")
        .get("fleet")
        .await
        .unwrap();
    ks.status
        .and_then(|s| s.inventory)
        .map(|i| i.entries.into_iter().map(|e| e.id).collect())
        .unwrap_or_default()
}

/// Inventory-style ids of every ConfigMap and Deployment carrying the owner labels of `fleet`.
async fn labelled(client: &kube::Client) -> BTreeSet<String> {
    let selector = ListParams::default().labels(&format!(
        "{OWNER}=fleet,kustomize.toolkit.fluxcd.io/namespace=flux-system"
    ));
    let mut out = BTreeSet::new();
    for cm in Api::<ConfigMap>::all(client.clone())
        .list(&selector)
        .await
        .unwrap()
    {
        let ns = cm.metadata.namespace.unwrap_or_default();
        out.insert(format!("{ns}_{}__ConfigMap", cm.metadata.name.unwrap()));
    }
    for d in Api::<Deployment>::all(client.clone())
        .list(&selector)
        .await
        .unwrap()
    {
        let ns = d.metadata.namespace.unwrap_or_default();
        out.insert(format!("{ns}_{}_apps_Deployment", d.metadata.name.unwrap()));
    }
    out
}

/// Every ConfigMap and Deployment named like the test's objects, labelled or not.
async fn all_named(client: &kube::Client) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for cm in Api::<ConfigMap>::namespaced(client.clone(), "default")
        .list(&ListParams::default())
        .await
        .unwrap()
    {
        let name = cm.metadata.name.unwrap();
        if name.starts_with("cm-") {
            out.insert(format!("default_{name}__ConfigMap"));
        }
    }
    for d in Api::<Deployment>::namespaced(client.clone(), "default")
        .list(&ListParams::default())
        .await
        .unwrap()
    {
        let name = d.metadata.name.unwrap();
        out.insert(format!("default_{name}_apps_Deployment"));
    }
    out
}

/// The inventory is exactly `expected`, and the cluster holds exactly those objects: none
/// missing, none orphaned (labelled or left without labels).
async fn assert_converged(client: &kube::Client, expected: &BTreeSet<String>) {
    let inv = inventory(client).await;
    assert_eq!(&inv, expected, "inventory of fleet");
    // Pruning may trail the Ready condition by a moment; then the sets must match exactly.
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut found = labelled(client).await;
    while &found != expected && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
        found = labelled(client).await;
    }
    assert_eq!(
        &found, expected,
        "objects labelled as fleet's (left) vs its inventory (right)"
    );
    assert_eq!(
        &all_named(client).await,
        expected,
        "objects in the cluster, labelled or not"
    );
}

fn reconciled_kustomization(metrics: &str) -> bool {
    metrics.lines().any(|l| {
        l.starts_with("gotk_reconcile_duration_seconds_count{kind=\"Kustomization\",name=\"fleet\"")
    })
}

/// What [`leader_killed_mid_apply`] leaves: the control plane, a remote with 10 ConfigMaps and
/// 10 Deployments at commit `first`, and the storage the killed controller used.
struct Killed {
    _apiserver: Proc,
    kubeconfig: PathBuf,
    client: kube::Client,
    remote: Remote,
    first: String,
    storage: PathBuf,
}

/// Starts the control plane and a leading controller `ctl-a`, creates the sync objects, and
/// kills `ctl-a` with SIGKILL as soon as its apply has begun (objects exist, health is still
/// being waited for).
async fn leader_killed_mid_apply(dir: &Path) -> Killed {
    let (apiserver, kubeconfig, client) = apiserver(dir).await;
    tether_controller::install_crds(&client).await.unwrap();
    let (remote, first) = Remote::new(10);
    let storage = dir.join("storage");

    let (mut a, _) = controller("ctl-a", dir, &kubeconfig, &storage);
    wait_holder(&client, "ctl-a", Duration::from_secs(20)).await;
    create_sync(&client, &remote.git.url("fleet.git")).await;
    let cms = Api::<ConfigMap>::namespaced(client.clone(), "default");
    wait_for(
        "ctl-a to start applying",
        Duration::from_secs(60),
        async || {
            let list = cms
                .list(&ListParams::default().labels(&format!("{OWNER}=fleet")))
                .await
                .ok()?;
            (!list.items.is_empty()).then_some(())
        },
    )
    .await;
    a.kill9();
    Killed {
        _apiserver: apiserver,
        kubeconfig,
        client,
        remote,
        first,
        storage,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_controller_killed_mid_apply_is_replaced_and_the_replacement_converges() {
    let dir = tempfile::tempdir().unwrap();
    let Killed {
        _apiserver,
        kubeconfig,
        client,
        mut remote,
        first,
        storage,
    } = leader_killed_mid_apply(dir.path()).await;
    let at_kill = labelled(&client).await.len();
    eprintln!("ctl-a killed with {at_kill} of 20 objects applied");

    // The replacement reuses the storage directory, as a restarted pod with a volume would.
    let (_b, b_metrics) = controller("ctl-b", dir.path(), &kubeconfig, &storage);
    wait_holder(&client, "ctl-b", Duration::from_secs(20)).await;
    let kss = Api::<Kustomization>::namespaced(client.clone(), "flux-system");
    wait_ready(
        &kss,
        "fleet",
        &format!("Applied revision: main@sha1:{first}"),
        Duration::from_secs(60),
    )
    .await;
    assert_converged(&client, &ids(0..10)).await;
    assert!(
        reconciled_kustomization(&http_get(&b_metrics, "/metrics")),
        "ctl-b reconciled fleet"
    );

    // Half the files go: the replacement prunes them.
    for i in 5..10 {
        remote.work.remove(&format!("apps/cm-{i:02}.yaml")).unwrap();
        remote
            .work
            .remove(&format!("apps/web-{i:02}.yaml"))
            .unwrap();
    }
    let second = remote.push("remove half");
    wait_ready(
        &kss,
        "fleet",
        &format!("Applied revision: main@sha1:{second}"),
        Duration::from_secs(60),
    )
    .await;
    assert_converged(&client, &ids(0..5)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_leader_reconciles_and_the_standby_takes_over_when_it_dies() {
    let dir = tempfile::tempdir().unwrap();
    let (_apiserver, kubeconfig, client) = apiserver(dir.path()).await;
    tether_controller::install_crds(&client).await.unwrap();
    let (mut remote, first) = Remote::new(2);

    let (mut a, a_metrics) = controller("ctl-a", dir.path(), &kubeconfig, &dir.path().join("a"));
    wait_holder(&client, "ctl-a", Duration::from_secs(20)).await;
    let (mut b, b_metrics) = controller("ctl-b", dir.path(), &kubeconfig, &dir.path().join("b"));
    create_sync(&client, &remote.git.url("fleet.git")).await;
    let kss = Api::<Kustomization>::namespaced(client.clone(), "flux-system");
    wait_ready(
        &kss,
        "fleet",
        &format!("Applied revision: main@sha1:{first}"),
        Duration::from_secs(60),
    )
    .await;
    assert_converged(&client, &ids(0..2)).await;

    // Only the holder worked; the standby served metrics but reconciled nothing.
    let holder_id = wait_holder(&client, "ctl-a", Duration::from_secs(5)).await;
    assert!(
        reconciled_kustomization(&http_get(&a_metrics, "/metrics")),
        "the leader reconciled fleet"
    );
    let standby = http_get(&b_metrics, "/metrics");
    assert!(
        !standby.contains("gotk_reconcile_duration_seconds_count{"),
        "the standby reconciled something:\n{standby}"
    );

    a.kill9();
    let killed = Instant::now();
    let new_holder = wait_holder(&client, "ctl-b", Duration::from_secs(15)).await;
    assert_ne!(new_holder, holder_id);
    eprintln!("ctl-b took over {:?} after the kill", killed.elapsed());

    remote.work.write("apps/cm-02.yaml", config_map(2)).unwrap();
    let second = remote.push("one more");
    wait_ready(
        &kss,
        "fleet",
        &format!("Applied revision: main@sha1:{second}"),
        Duration::from_secs(60),
    )
    .await;
    let mut expected = ids(0..2);
    expected.insert("default_cm-02__ConfigMap".to_owned());
    assert_converged(&client, &expected).await;
    assert!(
        reconciled_kustomization(&http_get(&b_metrics, "/metrics")),
        "the new leader reconciled fleet"
    );

    // Graceful shutdown: SIGTERM exits 0 and gives the lease up rather than letting it expire.
    b.signal("TERM");
    let status = b.wait_exit(Duration::from_secs(30));
    assert!(
        status.success(),
        "ctl-b after SIGTERM: {status}\n{}",
        b.log()
    );
    let after = holder(&client).await;
    assert!(
        after.as_deref().is_none_or(|h| !h.starts_with("ctl-b-")),
        "the lease is still held by {after:?} after ctl-b exited"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tether_dev_empty_serves_kubectl_reconciles_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    let mut dev = Proc::spawn(
        "dev",
        &[
            OsStr::new("dev"),
            OsStr::new("--empty"),
            OsStr::new("--listen=127.0.0.1:0"),
            OsStr::new("--metrics-addr=127.0.0.1:0"),
            OsStr::new("--kubeconfig-out"),
            kubeconfig.as_os_str(),
        ],
        &[],
        dir.path(),
    );
    let url = dev.wait_line("serving on ", Duration::from_secs(30));
    assert!(url.starts_with("https://127.0.0.1:"), "{url}");

    let crds = run_kubectl(&kubeconfig, &["get", "crd"]);
    for crd in [
        "gitrepositories.source.toolkit.fluxcd.io",
        "kustomizations.kustomize.toolkit.fluxcd.io",
    ] {
        assert!(crds.contains(crd), "kubectl get crd lacks {crd}:\n{crds}");
    }

    let (_remote, first) = Remote::new(1);
    let manifest = dir.path().join("sync.yaml");
    std::fs::write(
        &manifest,
        format!(
            r#"apiVersion: v1
kind: Secret
metadata:
  name: fleet-auth
  namespace: flux-system
stringData:
  username: flux
  password: s3cret
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata:
  name: fleet
  namespace: flux-system
spec:
  url: {}
  interval: 1s
  ref:
    branch: main
  secretRef:
    name: fleet-auth
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: fleet
  namespace: flux-system
spec:
  interval: 1m
  retryInterval: 2s
  path: ./apps
  prune: true
  wait: true
  timeout: 30s
  sourceRef:
    kind: GitRepository
    name: fleet
"#,
            _remote.git.url("fleet.git")
        ),
    )
    .unwrap();
    // OpenAPI: issue 6 (kubectl's client-side validation needs /openapi/v3 or /openapi/v2).
    let applied = run_kubectl(
        &kubeconfig,
        &[
            "apply",
            "--validate=false",
            "-f",
            manifest.to_str().unwrap(),
        ],
    );
    assert!(
        applied.contains("kustomization.kustomize.toolkit.fluxcd.io/fleet created"),
        "{applied}"
    );

    let client = common::client(&kubeconfig).await;
    let kss = Api::<Kustomization>::namespaced(client.clone(), "flux-system");
    wait_ready(
        &kss,
        "fleet",
        &format!("Applied revision: main@sha1:{first}"),
        Duration::from_secs(60),
    )
    .await;
    assert_converged(&client, &ids(0..1)).await;
    let listed = run_kubectl(&kubeconfig, &["get", "kustomizations", "-n", "flux-system"]);
    assert!(
        listed.lines().any(|l| l.starts_with("fleet ")),
        "kubectl get kustomizations:\n{listed}"
    );

    dev.signal("TERM");
    let status = dev.wait_exit(Duration::from_secs(30));
    assert!(
        status.success(),
        "tether dev after SIGTERM: {status}\n{}",
        dev.log()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_controller_whose_crds_are_missing_still_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let (_apiserver, kubeconfig, _client) = apiserver(dir.path()).await;
    let mut controller = Proc::spawn(
        "controller",
        &[
            OsStr::new("controller"),
            OsStr::new("--kubeconfig"),
            kubeconfig.as_os_str(),
            OsStr::new("--metrics-addr=127.0.0.1:0"),
            OsStr::new("--enable-leader-election=false"),
        ],
        &[],
        dir.path(),
    );
    controller.wait_line("artifacts on ", Duration::from_secs(30));
    wait_for(
        "the controller to fail listing",
        Duration::from_secs(30),
        async || {
            controller
                .log()
                .contains("failed to perform initial object list")
                .then_some(())
        },
    )
    .await;
    controller.signal("TERM");
    // Liveness, not speed: before the fix it never exited.
    let status = controller.wait_exit(Duration::from_secs(20));
    assert!(
        status.success(),
        "exit {status}; log:\n{}",
        controller.log()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn objects_applied_by_a_killed_controller_and_removed_from_git_meanwhile_are_not_orphaned() {
    let dir = tempfile::tempdir().unwrap();
    let Killed {
        _apiserver,
        kubeconfig,
        client,
        mut remote,
        first: _,
        storage,
    } = leader_killed_mid_apply(dir.path()).await;
    let at_kill = labelled(&client).await;
    eprintln!("ctl-a killed with {} of 20 objects applied", at_kill.len());

    // While no controller runs, half the files leave Git.
    for i in 5..10 {
        remote.work.remove(&format!("apps/cm-{i:02}.yaml")).unwrap();
        remote
            .work
            .remove(&format!("apps/web-{i:02}.yaml"))
            .unwrap();
    }
    let second = remote.push("remove half");

    let (_b, _) = controller("ctl-b", dir.path(), &kubeconfig, &storage);
    wait_holder(&client, "ctl-b", Duration::from_secs(20)).await;
    let kss = Api::<Kustomization>::namespaced(client.clone(), "flux-system");
    wait_ready(
        &kss,
        "fleet",
        &format!("Applied revision: main@sha1:{second}"),
        Duration::from_secs(60),
    )
    .await;
    assert_converged(&client, &ids(0..5)).await;
}
