//! A small fleet as users run one: a Git remote served over smart HTTP (`git http-backend`),
//! `tether dev --empty` control planes as the clusters (the real binary, each with its own data
//! dir), bootstrapped with `tether bootstrap git`, and changes made only with `git push`.
//!
//! The repository: `base/apps` (a Namespace, two ConfigMaps, a Deployment), the overlays
//! `apps/staging` and `apps/production` (each adds its own `env` ConfigMap), and
//! `clusters/<env>/apps.yaml`, a Kustomization of its overlay. Production follows `main`, staging
//! follows `staging`. Sources poll every second; every wait is on a condition with a generous
//! deadline, as a loaded 2-core CI machine needs.
#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests: a panic is a failed assertion.

mod common;

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use common::{Proc, client, text};
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, DynamicObject, GroupVersionKind};
use serde_json::Value;
use tether_api::{GitRepository, Kustomization};
use tether_apply::ObjectRef;
use tether_testkit::{GitHttpConfig, GitHttpServer, init_bare};

/// How long any one convergence may take on a loaded machine.
const CONVERGE: Duration = Duration::from_secs(240);
const STAMP: &str = tether_api::keys::LAST_CHANGED_REVISION_ANNOTATION;

fn tether(kubeconfig: &Path, args: &[&str], cwd: Option<&Path>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tether"));
    cmd.args(args)
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .env("NO_COLOR", "1")
        .env_remove("TETHER_NAMESPACE");
    if let Some(cwd) = cwd {
        cmd.current_dir(cwd);
    }
    cmd.output().unwrap()
}

fn ok(kubeconfig: &Path, args: &[&str]) -> String {
    let out = tether(kubeconfig, args, None);
    assert!(
        out.status.success(),
        "tether {args:?} failed:\n{}\n{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    text(&out.stdout)
}

// --- the repository ---------------------------------------------------------------------------

fn settings(greeting: &str) -> String {
    format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: apps\ndata:\n  greeting: {greeting}\n"
    )
}

fn web(image: &str) -> String {
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: apps\nspec:\n  replicas: 2\n  selector:\n    matchLabels:\n      app: web\n  template:\n    metadata:\n      labels:\n        app: web\n    spec:\n      containers:\n      - name: web\n        image: {image}\n        ports:\n        - containerPort: 8080\n"
    )
}

fn env_config(env: &str) -> String {
    format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: env\n  namespace: apps\ndata:\n  tier: {env}\n"
    )
}

fn apps_kustomization(env: &str) -> String {
    format!(
        "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: apps\n  namespace: tether-system\nspec:\n  interval: 1m\n  path: ./apps/{env}\n  prune: true\n  sourceRef:\n    kind: GitRepository\n    name: tether-system\n"
    )
}

/// A bare repository served over smart HTTP, and a clone of it to commit and push from.
struct Fleet {
    dir: tempfile::TempDir,
    server: Option<GitHttpServer>,
    url: String,
    work: PathBuf,
}

impl Fleet {
    /// The fleet repository with one commit on `main` and a `staging` branch at the same commit.
    fn start() -> Fleet {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("git");
        std::fs::create_dir_all(&root).unwrap();
        init_bare(&root.join("fleet.git")).unwrap();
        let server = GitHttpServer::start(GitHttpConfig::new(&root)).unwrap();
        let url = server.url("fleet.git");
        let work = dir.path().join("work");
        let fleet = Fleet {
            dir,
            server: Some(server),
            url,
            work,
        };
        let out = Command::new("git")
            .args(["clone", "-q", &fleet.url])
            .arg(&fleet.work)
            .output()
            .unwrap();
        assert!(out.status.success(), "git clone: {}", text(&out.stderr));
        fleet.git(&["symbolic-ref", "HEAD", "refs/heads/main"]);
        for (path, contents) in [
            (
                "base/apps/kustomization.yaml",
                "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n- namespace.yaml\n- settings.yaml\n- limits.yaml\n- web.yaml\n".to_owned(),
            ),
            (
                "base/apps/namespace.yaml",
                "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: apps\n".to_owned(),
            ),
            ("base/apps/settings.yaml", settings("hello")),
            (
                "base/apps/limits.yaml",
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: limits\n  namespace: apps\ndata:\n  max: \"10\"\n".to_owned(),
            ),
            ("base/apps/web.yaml", web("registry.local/web:1.0")),
        ] {
            fleet.write(path, &contents);
        }
        for env in ["staging", "production"] {
            fleet.write(
                &format!("apps/{env}/kustomization.yaml"),
                "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n- ../../base/apps\n- env.yaml\n",
            );
            fleet.write(&format!("apps/{env}/env.yaml"), &env_config(env));
            fleet.write(
                &format!("clusters/{env}/apps.yaml"),
                &apps_kustomization(env),
            );
        }
        fleet.commit("fleet: base, overlays, clusters");
        fleet.git(&["push", "-q", "origin", "main"]);
        fleet.git(&["push", "-q", "origin", "main:staging"]);
        fleet
    }

    /// `git ARGS` in the work tree, with a fixed identity; trimmed stdout.
    fn git(&self, args: &[&str]) -> String {
        let out = Command::new("git")
            .args([
                "-c",
                "user.name=Fleet Test",
                "-c",
                "user.email=fleet@tether.invalid",
                "-c",
                "commit.gpgsign=false",
            ])
            .args(args)
            .current_dir(&self.work)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "git {args:?} failed: {}",
            text(&out.stderr)
        );
        text(&out.stdout).trim().to_owned()
    }

    fn write(&self, path: &str, contents: &str) {
        let path = self.work.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, contents).unwrap();
    }

    /// Commits everything; the new commit's SHA.
    fn commit(&self, message: &str) -> String {
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "-m", message]);
        self.git(&["rev-parse", "HEAD"])
    }

    /// Checks out `branch` with what the remote has (bootstrap pushes commits of its own).
    fn sync(&self, branch: &str) {
        self.git(&["fetch", "-q", "origin"]);
        self.git(&["checkout", "-q", "-B", branch, &format!("origin/{branch}")]);
    }

    /// Writes `files` on `branch`, commits and pushes; the commit's SHA.
    fn change(&self, branch: &str, files: &[(&str, &str)], message: &str) -> String {
        self.sync(branch);
        for (path, contents) in files {
            self.write(path, contents);
        }
        let sha = self.commit(message);
        self.git(&["push", "-q", "origin", branch]);
        sha
    }

    fn remote_head(&self, branch: &str) -> String {
        self.git(&["ls-remote", "origin", &format!("refs/heads/{branch}")])
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_owned()
    }

    /// A directory for a cluster's files (kubeconfig, data dir, log).
    fn cluster_dir(&self, name: &str) -> PathBuf {
        let dir = self.dir.path().join(name);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn stop(mut self) {
        if let Some(server) = self.server.take() {
            server.stop();
        }
    }
}

// --- the clusters -----------------------------------------------------------------------------

/// A `tether dev --empty` control plane with its state in `<dir>/data`.
struct Cluster {
    proc: Proc,
    kubeconfig: PathBuf,
    kube: kube::Client,
}

impl Cluster {
    async fn start(dir: &Path, name: &str) -> Cluster {
        let data = dir.join("data");
        let (proc, kubeconfig) =
            common::dev_with(dir, name, &[OsStr::new("--data-dir"), data.as_os_str()]);
        let kube = client(&kubeconfig).await;
        Cluster {
            proc,
            kubeconfig,
            kube,
        }
    }

    /// `tether bootstrap git` of `branch` and `path`, the source polling every second.
    fn bootstrap(&self, fleet: &Fleet, branch: &str, path: &str) -> String {
        let out = tether(
            &self.kubeconfig,
            &[
                "bootstrap",
                "git",
                "--url",
                &fleet.url,
                "--branch",
                branch,
                "--path",
                path,
                "--interval=1s",
                "--silent",
                "--timeout=4m",
            ],
            None,
        );
        let stderr = text(&out.stderr);
        assert!(
            out.status.success() && stderr.contains("✔ bootstrap finished"),
            "bootstrap of {path} on {branch} failed:\n{stderr}\n--- cluster log ---\n{}",
            self.proc.log()
        );
        stderr
    }

    fn kustomizations(&self) -> Api<Kustomization> {
        Api::namespaced(self.kube.clone(), "tether-system")
    }

    /// Waits until Kustomization `name` is Ready and applied `sha`; returns it.
    async fn wait_applied(&self, name: &str, sha: &str) -> Kustomization {
        let api = self.kustomizations();
        let want = format!("@sha1:{sha}");
        let mut last = None;
        let deadline = std::time::Instant::now() + CONVERGE;
        loop {
            if let Some(ks) = api.get_opt(name).await.unwrap() {
                let ready = common::ready(&ks);
                let applied = ks
                    .status
                    .as_ref()
                    .and_then(|s| s.last_applied_revision.clone());
                if applied.as_deref().is_some_and(|r| r.ends_with(&want))
                    && ready.as_ref().is_some_and(|(s, _, _)| s == "True")
                {
                    return ks;
                }
                last = Some((applied, ready));
            }
            assert!(
                std::time::Instant::now() < deadline,
                "Kustomization {name} did not apply {sha} within {CONVERGE:?}; last (revision, Ready): {last:?}\n--- cluster log ---\n{}",
                self.proc.log()
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    async fn config_map(&self, name: &str) -> Option<ConfigMap> {
        Api::<ConfigMap>::namespaced(self.kube.clone(), "apps")
            .get_opt(name)
            .await
            .unwrap()
    }

    async fn greeting(&self) -> Option<String> {
        self.config_map("settings")
            .await
            .and_then(|c| c.data)
            .and_then(|d| d.get("greeting").cloned())
    }

    /// The objects in the inventory of Kustomization `name`, by id, without what the server
    /// sets (uid, resourceVersion, timestamps, managed fields, generation, status).
    async fn objects(&self, name: &str) -> BTreeMap<String, Value> {
        let ks = self.kustomizations().get(name).await.unwrap();
        let mut objects = BTreeMap::new();
        for entry in inventory(&ks) {
            let (id, version) = entry;
            let object = ObjectRef::parse_id(&id).unwrap();
            let gvk = GroupVersionKind::gvk(&object.group, &version, &object.kind);
            let (resource, caps) = kube::discovery::pinned_kind(&self.kube, &gvk)
                .await
                .unwrap();
            let api: Api<DynamicObject> = if caps.scope == kube::discovery::Scope::Namespaced {
                Api::namespaced_with(self.kube.clone(), &object.namespace, &resource)
            } else {
                Api::all_with(self.kube.clone(), &resource)
            };
            let live = api
                .get_opt(&object.name)
                .await
                .unwrap()
                .unwrap_or_else(|| panic!("{id} is in the inventory of {name} but not live"));
            objects.insert(id, comparable(serde_json::to_value(live).unwrap()));
        }
        objects
    }

    /// `tether trace KIND/NAME -n apps`.
    fn trace(&self, object: &str) -> String {
        ok(&self.kubeconfig, &["trace", object, "-n", "apps"])
    }
}

/// `(id, version)` of each entry of a Kustomization's `status.inventory`.
fn inventory(ks: &Kustomization) -> Vec<(String, String)> {
    ks.status
        .as_ref()
        .and_then(|s| s.inventory.as_ref())
        .map(|i| {
            i.entries
                .iter()
                .map(|e| (e.id.clone(), e.v.clone()))
                .collect()
        })
        .unwrap_or_default()
}

fn comparable(mut object: Value) -> Value {
    let map = object.as_object_mut().unwrap();
    map.remove("status");
    let meta = map.get_mut("metadata").unwrap().as_object_mut().unwrap();
    for field in [
        "uid",
        "resourceVersion",
        "creationTimestamp",
        "managedFields",
        "generation",
    ] {
        meta.remove(field);
    }
    object
}

fn without_stamps(mut objects: BTreeMap<String, Value>) -> BTreeMap<String, Value> {
    for object in objects.values_mut() {
        if let Some(a) = object["metadata"]
            .get_mut("annotations")
            .and_then(Value::as_object_mut)
        {
            a.remove(STAMP);
        }
    }
    objects
}

fn stamp(object: &Value) -> Option<&str> {
    object["metadata"]["annotations"][STAMP].as_str()
}

/// The inventory ids of the `apps` Kustomization before any change.
const APP_IDS: [&str; 5] = [
    "_apps__Namespace",
    "apps_env__ConfigMap",
    "apps_limits__ConfigMap",
    "apps_settings__ConfigMap",
    "apps_web_apps_Deployment",
];

// --- the scenarios ----------------------------------------------------------------------------

/// Two control planes bootstrapped onto `main`/`clusters/production` converge to identical
/// inventories and objects, before and after a change that adds, edits and removes objects.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_clusters_on_one_path_converge_to_identical_state() {
    let fleet = Fleet::start();
    let a = Cluster::start(&fleet.cluster_dir("prod-a"), "prod-a").await;
    let b = Cluster::start(&fleet.cluster_dir("prod-b"), "prod-b").await;
    a.bootstrap(&fleet, "main", "clusters/production");
    let head = fleet.remote_head("main");
    let out = b.bootstrap(&fleet, "main", "clusters/production");
    assert!(
        out.contains("✔ component manifests are up to date")
            && out.contains("✔ sync manifests are up to date"),
        "the second cluster's bootstrap committed:\n{out}"
    );
    assert_eq!(fleet.remote_head("main"), head);

    let compare = async |sha: &str| {
        for name in ["tether-system", "apps"] {
            let (ka, kb) = (
                a.wait_applied(name, sha).await,
                b.wait_applied(name, sha).await,
            );
            assert_eq!(
                inventory(&ka),
                inventory(&kb),
                "inventories of {name} differ"
            );
        }
        let (oa, ob) = (a.objects("apps").await, b.objects("apps").await);
        assert_eq!(oa, ob, "the clusters' objects differ");
        oa
    };
    let first = compare(&head).await;
    assert_eq!(
        first.keys().map(String::as_str).collect::<Vec<_>>(),
        APP_IDS
    );
    assert_eq!(first["apps_env__ConfigMap"]["data"]["tier"], "production");

    // One push: a new object, a changed one, a removed one; both follow it the same way.
    fleet.sync("main");
    std::fs::remove_file(fleet.work.join("base/apps/limits.yaml")).unwrap();
    fleet.write(
        "base/apps/kustomization.yaml",
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n- namespace.yaml\n- settings.yaml\n- web.yaml\n- quota.yaml\n",
    );
    fleet.write(
        "base/apps/quota.yaml",
        "apiVersion: v1\nkind: ResourceQuota\nmetadata:\n  name: quota\n  namespace: apps\nspec:\n  hard:\n    pods: \"20\"\n",
    );
    fleet.write("base/apps/web.yaml", &web("registry.local/web:1.1"));
    let sha = fleet.commit("apps: quota instead of limits, web 1.1");
    fleet.git(&["push", "-q", "origin", "main"]);
    let second = compare(&sha).await;
    assert!(
        second.contains_key("apps_quota__ResourceQuota"),
        "{second:?}"
    );
    assert!(!second.contains_key("apps_limits__ConfigMap"), "{second:?}");
    for cluster in [&a, &b] {
        assert!(
            cluster.config_map("limits").await.is_none(),
            "limits was not pruned"
        );
    }
    assert_eq!(
        second["apps_web_apps_Deployment"]["spec"]["template"]["spec"]["containers"][0]["image"],
        "registry.local/web:1.1"
    );
    drop((a, b));
    fleet.stop();
}

/// A commit on `staging` reaches the staging cluster only; merged into `main` and pushed, it
/// reaches production, with no command run against either cluster.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_promoted_from_staging_to_main_reaches_production_after_the_merge() {
    let fleet = Fleet::start();
    let production = Cluster::start(&fleet.cluster_dir("production"), "production").await;
    let staging = Cluster::start(&fleet.cluster_dir("staging"), "staging").await;
    production.bootstrap(&fleet, "main", "clusters/production");
    staging.bootstrap(&fleet, "staging", "clusters/staging");
    let main_head = fleet.remote_head("main");
    production.wait_applied("apps", &main_head).await;
    staging
        .wait_applied("apps", &fleet.remote_head("staging"))
        .await;
    for (cluster, tier) in [(&production, "production"), (&staging, "staging")] {
        assert_eq!(cluster.greeting().await.as_deref(), Some("hello"));
        let env = cluster.config_map("env").await.unwrap().data.unwrap();
        assert_eq!(env["tier"], tier);
    }

    // A change on staging: the staging cluster takes it.
    let change = fleet.change(
        "staging",
        &[("base/apps/settings.yaml", &settings("bonjour"))],
        "apps: greet in French",
    );
    staging.wait_applied("apps", &change).await;
    assert_eq!(staging.greeting().await.as_deref(), Some("bonjour"));
    // Production follows main, which did not move: it fetched main's head again and kept it.
    assert_eq!(fleet.remote_head("main"), main_head);
    let repo = Api::<GitRepository>::namespaced(production.kube.clone(), "tether-system")
        .get("tether-system")
        .await
        .unwrap();
    assert_eq!(
        repo.artifact().map(|a| a.revision.clone()),
        Some(format!("main@sha1:{main_head}"))
    );
    assert_eq!(production.greeting().await.as_deref(), Some("hello"));
    let ks = production.kustomizations().get("apps").await.unwrap();
    assert_eq!(
        ks.status.unwrap().last_applied_revision,
        Some(format!("main@sha1:{main_head}"))
    );

    // Promotion: merge staging into main and push; production follows by itself.
    fleet.sync("main");
    fleet.git(&["merge", "-q", "--no-edit", "origin/staging"]);
    fleet.git(&["push", "-q", "origin", "main"]);
    let merged = fleet.remote_head("main");
    assert_ne!(merged, main_head);
    production.wait_applied("apps", &merged).await;
    assert_eq!(production.greeting().await.as_deref(), Some("bonjour"));
    let env = production.config_map("env").await.unwrap().data.unwrap();
    assert_eq!(env["tier"], "production", "the merge mixed the overlays");
    // The promoted object names the merge as the revision that changed it in production.
    let settings = production.config_map("settings").await.unwrap();
    assert_eq!(
        settings.metadata.annotations.unwrap()[STAMP],
        format!("main@sha1:{merged}")
    );
    drop((production, staging));
    fleet.stop();
}

/// After two commits where only the second touches `settings.yaml`, `tether trace` names the
/// second for the settings ConfigMap and the first for the Deployment, as `git log` does; an
/// object neither touched keeps its older revision, and `tether diff` sees nothing to change.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trace_names_the_commit_that_last_changed_each_object() {
    let fleet = Fleet::start();
    let cluster = Cluster::start(&fleet.cluster_dir("production"), "production").await;
    cluster.bootstrap(&fleet, "main", "clusters/production");
    let bootstrapped = fleet.remote_head("main");
    cluster.wait_applied("apps", &bootstrapped).await;

    let first = fleet.change(
        "main",
        &[
            ("base/apps/settings.yaml", &settings("hi")),
            ("base/apps/web.yaml", &web("registry.local/web:2.0")),
        ],
        "apps: settings and web",
    );
    cluster.wait_applied("apps", &first).await;
    let second = fleet.change(
        "main",
        &[("base/apps/settings.yaml", &settings("hey"))],
        "apps: settings only",
    );
    cluster.wait_applied("apps", &second).await;
    assert_eq!(cluster.greeting().await.as_deref(), Some("hey"));

    let log = |path: &str| fleet.git(&["log", "-1", "--format=%H", "--", path]);
    for (object, file, sha) in [
        ("cm/settings", "base/apps/settings.yaml", &second),
        ("deploy/web", "base/apps/web.yaml", &first),
    ] {
        assert_eq!(&log(file), sha, "git log of {file}");
        let traced = cluster.trace(object);
        for expected in [
            format!("Last changed:   main@sha1:{sha}\n"),
            format!("Revision:       main@sha1:{second}\n"),
            "Kustomization:  apps\n".to_owned(),
            "Path:           ./apps/production\n".to_owned(),
        ] {
            assert!(
                traced.contains(&expected),
                "trace {object}: missing {expected:?} in:\n{traced}"
            );
        }
    }
    // Untouched since the cluster first applied it: the revision of that first apply.
    let traced = cluster.trace("cm/limits");
    assert!(
        traced.contains(&format!("Last changed:   main@sha1:{bootstrapped}\n")),
        "{traced}"
    );

    // The stamps differ from the repository's, yet a diff of the same tree changes nothing.
    let out = tether(
        &cluster.kubeconfig,
        &[
            "diff",
            "kustomization",
            "apps",
            "--path",
            fleet.work.join("apps/production").to_str().unwrap(),
        ],
        Some(&fleet.work),
    );
    assert!(
        out.status.code() == Some(0),
        "diff found changes ({}):\n{}\n{}",
        out.status,
        text(&out.stdout),
        text(&out.stderr)
    );
    drop(cluster);
    fleet.stop();
}

/// A control plane lost with its data (SIGKILL, data dir deleted) and replaced by a fresh one
/// bootstrapped onto the same path converges to the same objects.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fresh_control_plane_bootstrapped_onto_the_path_recovers_the_fleet() {
    let fleet = Fleet::start();
    let dir = fleet.cluster_dir("production");
    let mut lost = Cluster::start(&dir, "production").await;
    lost.bootstrap(&fleet, "main", "clusters/production");
    let change = fleet.change(
        "main",
        &[("base/apps/settings.yaml", &settings("before the disaster"))],
        "apps: a change before the disaster",
    );
    let before_ks = [
        lost.wait_applied("tether-system", &change).await,
        lost.wait_applied("apps", &change).await,
    ];
    let before = lost.objects("apps").await;
    assert_eq!(
        before.keys().map(String::as_str).collect::<Vec<_>>(),
        APP_IDS
    );

    lost.proc.kill9();
    let lost_kubeconfig = lost.kubeconfig.clone();
    drop(lost);
    std::fs::remove_dir_all(dir.join("data")).unwrap();
    std::fs::remove_file(lost_kubeconfig).unwrap();

    let fresh = Cluster::start(&dir, "production-restored").await;
    assert!(
        fresh
            .kustomizations()
            .list(&Default::default())
            .await
            .unwrap()
            .items
            .is_empty(),
        "the fresh control plane has old state"
    );
    let out = fresh.bootstrap(&fleet, "main", "clusters/production");
    assert!(
        out.contains("✔ component manifests are up to date")
            && out.contains("✔ sync manifests are up to date"),
        "bootstrapping the replacement committed:\n{out}"
    );
    assert_eq!(fleet.remote_head("main"), change);
    let after_ks = [
        fresh.wait_applied("tether-system", &change).await,
        fresh.wait_applied("apps", &change).await,
    ];
    for (before, after) in before_ks.iter().zip(&after_ks) {
        assert_eq!(inventory(before), inventory(after));
    }
    let after = fresh.objects("apps").await;
    // Same names and specs. The audit trail restarts: the fresh cluster created everything at
    // the revision it found, where the lost one had older revisions for untouched objects.
    assert_eq!(
        without_stamps(before.clone()),
        without_stamps(after.clone())
    );
    assert_eq!(
        stamp(&before["apps_limits__ConfigMap"]),
        Some(format!("main@sha1:{}", fleet.git(&["rev-parse", "HEAD~1"])).as_str()),
        "the lost cluster's untouched object"
    );
    for (id, object) in &after {
        assert_eq!(
            stamp(object),
            Some(format!("main@sha1:{change}").as_str()),
            "{id}"
        );
    }
    drop(fresh);
    fleet.stop();
}
