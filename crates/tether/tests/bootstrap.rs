//! `tether install`, `check`, `uninstall` and `bootstrap git` as a user runs them: `tether dev
//! --empty` control planes as the clusters, Git remotes started here (sshd and smart HTTP), and the
//! binary as a process.
#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests: a panic is a failed assertion.

mod common;

use std::collections::BTreeSet;
use std::ffi::OsStr;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::{Proc, client, dev, tether_at as tether, text, wait_for};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Secret};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, Patch, PatchParams};
use tether_api::{GitRepository, Kustomization};
use tether_testkit::{GitHttpConfig, GitHttpServer, SshGitServer, init_bare};

fn ok(kubeconfig: &Path, args: &[&str]) -> (String, String) {
    let out = tether(kubeconfig, args);
    assert!(
        out.status.success(),
        "tether {args:?} failed:\n{}\n{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    (text(&out.stdout), text(&out.stderr))
}

fn fails(kubeconfig: &Path, args: &[&str]) -> String {
    let out = tether(kubeconfig, args);
    assert!(
        !out.status.success(),
        "tether {args:?} succeeded:\n{}\n{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    text(&out.stderr)
}

/// `git --git-dir BARE ARGS`.
fn bare_git(bare: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .arg("--git-dir")
        .arg(bare)
        .args(args)
        .output()
        .unwrap();
    assert!(out.status.success(), "git {args:?}: {}", text(&out.stderr));
    text(&out.stdout).trim().to_owned()
}

fn head(bare: &Path) -> String {
    bare_git(bare, &["rev-parse", "refs/heads/main"])
}

/// Commits `files` to `main` of the bare repository through a local clone.
fn commit_to(bare: &Path, files: &[(&str, &str)], message: &str) {
    let work = tempfile::tempdir().unwrap();
    let git = |args: &[&str]| {
        let out = Command::new("git")
            .args([
                "-c",
                "user.name=t",
                "-c",
                "user.email=t@t",
                "-c",
                "commit.gpgsign=false",
            ])
            .args(args)
            .current_dir(work.path())
            .output()
            .unwrap();
        assert!(out.status.success(), "git {args:?}: {}", text(&out.stderr));
    };
    git(&["clone", "-q", bare.to_str().unwrap(), "."]);
    for (rel, contents) in files {
        let path = work.path().join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, contents).unwrap();
    }
    git(&["add", "-A"]);
    git(&["commit", "-q", "-m", message]);
    git(&["push", "-q", "origin", "HEAD:refs/heads/main"]);
}

fn inventory_ids(ks: &Kustomization) -> BTreeSet<String> {
    ks.status
        .as_ref()
        .and_then(|s| s.inventory.as_ref())
        .map(|i| i.entries.iter().map(|e| e.id.clone()).collect())
        .unwrap_or_default()
}

const SETTINGS: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: default\ndata:\n  greeting: hello\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn install_check_and_uninstall_against_tether_dev() {
    let dir = tempfile::tempdir().unwrap();
    let (_dev, kubeconfig) = dev(dir.path(), "dev");
    let kube = client(&kubeconfig).await;

    let (_, pre) = ok(&kubeconfig, &["check", "--pre"]);
    assert!(
        pre.contains("✔ Kubernetes v1.") && pre.contains("✔ all checks passed"),
        "{pre}"
    );

    let (exported, _) = ok(
        &kubeconfig,
        &["install", "--export", "--image=registry.local/tether:test"],
    );
    let docs = tether_yaml::parse_documents(&exported).unwrap();
    let kinds: Vec<String> = docs
        .iter()
        .map(|d| {
            format!(
                "{}/{}",
                d.value["kind"].as_str().unwrap(),
                d.value["metadata"]["name"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "Namespace/tether-system",
            "CustomResourceDefinition/gitrepositories.source.toolkit.fluxcd.io",
            "CustomResourceDefinition/kustomizations.kustomize.toolkit.fluxcd.io",
            "CustomResourceDefinition/receivers.notification.toolkit.fluxcd.io",
            "ServiceAccount/tether-controller",
            "ClusterRoleBinding/cluster-reconciler-tether-system",
            "Service/tether-controller",
            "Service/webhook-receiver",
            "Deployment/tether-controller",
        ]
    );
    assert!(
        exported.contains("image: registry.local/tether:test"),
        "{exported}"
    );
    assert!(
        Api::<Deployment>::namespaced(kube.clone(), "tether-system")
            .get_opt("tether-controller")
            .await
            .unwrap()
            .is_none(),
        "--export applied something"
    );

    let (_, installed) = ok(&kubeconfig, &["install", "--timeout=1m"]);
    assert!(
        installed.contains("✔ Deployment/tether-system/tether-controller created"),
        "{installed}"
    );
    assert!(
        installed.contains("✔ controller running (tether-dev"),
        "{installed}"
    );
    let deploy = Api::<Deployment>::namespaced(kube.clone(), "tether-system")
        .get("tether-controller")
        .await
        .unwrap();
    assert_eq!(
        deploy.metadata.labels.unwrap()["app.kubernetes.io/part-of"],
        "tether"
    );
    // Installing again changes nothing.
    let (_, again) = ok(&kubeconfig, &["install", "--timeout=1m"]);
    assert!(
        again.contains("✔ Deployment/tether-system/tether-controller unchanged"),
        "{again}"
    );

    let (_, checked) = ok(&kubeconfig, &["check"]);
    for line in [
        "✔ tether-controller: running (tether-dev holds the lease)",
        // Ready or not: the control plane simulates the pods' readiness after a delay.
        "deployment tether-system/tether-controller: ",
        "✔ gitrepositories.source.toolkit.fluxcd.io/v1",
        "✔ kustomizations.kustomize.toolkit.fluxcd.io/v1",
        "✔ all checks passed",
    ] {
        assert!(checked.contains(line), "missing {line:?} in:\n{checked}");
    }

    // A Kustomization with a finalizer and an applied object, to see what uninstall keeps.
    let repo = tether_testkit::WorkRepo::new().unwrap();
    repo.write("app/settings.yaml", SETTINGS).unwrap();
    let mut repo = repo;
    repo.commit("app").unwrap();
    let bare = init_bare(&dir.path().join("app.git")).unwrap();
    repo.push(bare.to_str().unwrap(), &["main"]).unwrap();
    let url = format!("file://{}", bare.display());
    ok(
        &kubeconfig,
        &[
            "create",
            "source",
            "git",
            "app",
            "--url",
            &url,
            "--branch=main",
        ],
    );
    ok(
        &kubeconfig,
        &[
            "create",
            "kustomization",
            "app",
            "--source=app",
            "--path=./app",
            "--prune",
        ],
    );
    let cms: Api<ConfigMap> = Api::namespaced(kube.clone(), "default");
    assert!(cms.get_opt("settings").await.unwrap().is_some());

    let refused = fails(&kubeconfig, &["uninstall"]);
    assert!(refused.contains("pass --silent"), "{refused}");
    let (_, dry) = ok(&kubeconfig, &["uninstall", "--dry-run"]);
    assert!(dry.contains("► would delete Kustomization app"), "{dry}");
    assert!(
        dry.contains(
            "► would delete CustomResourceDefinition kustomizations.kustomize.toolkit.fluxcd.io"
        ),
        "{dry}"
    );
    let crds: Api<CustomResourceDefinition> = Api::all(kube.clone());
    assert!(
        crds.get_opt("kustomizations.kustomize.toolkit.fluxcd.io")
            .await
            .unwrap()
            .is_some()
    );

    let (_, removed) = ok(&kubeconfig, &["uninstall", "--silent"]);
    assert!(removed.contains("✔ uninstall finished"), "{removed}");
    wait_for("the CRDs to go", Duration::from_secs(30), async || {
        let k = crds
            .get_opt("kustomizations.kustomize.toolkit.fluxcd.io")
            .await
            .unwrap();
        let g = crds
            .get_opt("gitrepositories.source.toolkit.fluxcd.io")
            .await
            .unwrap();
        (k.is_none() && g.is_none()).then_some(())
    })
    .await;
    wait_for(
        "namespace tether-system to go",
        Duration::from_secs(30),
        async || {
            Api::<Namespace>::all(kube.clone())
                .get_opt("tether-system")
                .await
                .unwrap()
                .is_none()
                .then_some(())
        },
    )
    .await;
    // What the Kustomization applied stays.
    assert!(
        cms.get_opt("settings").await.unwrap().is_some(),
        "uninstall pruned a workload"
    );
    let failed = fails(&kubeconfig, &["check"]);
    assert!(
        failed.contains("✗ kustomizations.kustomize.toolkit.fluxcd.io: not installed"),
        "{failed}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bootstrap_over_ssh_is_idempotent_and_restores_a_fresh_cluster() {
    let dir = tempfile::tempdir().unwrap();
    let sshd = SshGitServer::start().unwrap();
    let bare = init_bare(&dir.path().join("fleet.git")).unwrap();
    let url = sshd.url(&bare);
    let key = dir.path().join("id_ed25519");
    std::fs::write(&key, &sshd.client_key().private_key).unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let known_hosts = dir.path().join("known_hosts");
    std::fs::write(&known_hosts, sshd.known_hosts()).unwrap();
    let (key, known_hosts) = (key.to_str().unwrap(), known_hosts.to_str().unwrap());
    let (_a, kubeconfig_a) = dev(dir.path(), "cluster-a");
    let kube_a = client(&kubeconfig_a).await;
    let bootstrap = |kubeconfig: &Path, url: &str, path: &str| {
        tether(
            kubeconfig,
            &[
                "bootstrap",
                "git",
                "--url",
                url,
                "--branch=main",
                "--path",
                path,
                "--private-key-file",
                key,
                "--known-hosts-file",
                known_hosts,
                "--silent",
                "--timeout=2m",
            ],
        )
    };

    // Bad input: a clear message, nothing written to the repository or the cluster.
    for (url, path, message) in [
        (
            "ftp://example/fleet",
            "clusters/a",
            "--url 'ftp://example/fleet': not a repository URL",
        ),
        (
            "ssh://git@127.0.0.1:1/fleet.git",
            "clusters/a",
            "cannot reach the Git repository ssh://git@127.0.0.1:1/fleet.git",
        ),
        (
            "http://127.0.0.1:1/fleet.git",
            "clusters/a",
            "cannot reach the Git repository http://127.0.0.1:1/fleet.git",
        ),
        (url.as_str(), "../outside", "--path '../outside'"),
    ] {
        let out = bootstrap(&kubeconfig_a, url, path);
        assert!(!out.status.success(), "{url} {path} succeeded");
        let stderr = text(&out.stderr);
        assert!(
            stderr.contains(message),
            "{url} {path}: expected {message:?} in:\n{stderr}"
        );
    }
    assert_eq!(
        bare_git(&bare, &["for-each-ref"]),
        "",
        "bad input wrote to the repository"
    );
    assert!(
        Api::<Deployment>::namespaced(kube_a.clone(), "tether-system")
            .list(&Default::default())
            .await
            .unwrap()
            .items
            .is_empty(),
        "bad input installed something"
    );

    // Bootstrap an empty repository.
    let out = bootstrap(&kubeconfig_a, &url, "clusters/dev");
    let stderr = text(&out.stderr);
    assert!(
        out.status.success(),
        "bootstrap failed:\n{stderr}\nsshd:\n{}",
        sshd.log()
    );
    for line in [
        "✔ committed component manifests to 'main'",
        "✔ installed components",
        "✔ source secret applied",
        "✔ committed sync manifests to 'main'",
        "✔ GitRepository reconciled successfully",
        "✔ Kustomization reconciled successfully",
        "✔ bootstrap finished",
    ] {
        assert!(stderr.contains(line), "missing {line:?} in:\n{stderr}");
    }
    let files = bare_git(&bare, &["ls-tree", "-r", "--name-only", "main"]);
    assert_eq!(
        files,
        "clusters/dev/tether-system/components.yaml\nclusters/dev/tether-system/kustomization.yaml\nclusters/dev/tether-system/sync.yaml"
    );
    let sync = bare_git(
        &bare,
        &["show", "main:clusters/dev/tether-system/sync.yaml"],
    );
    assert!(
        sync.contains(&format!("url: {url}")) && sync.contains("path: ./clusters/dev"),
        "{sync}"
    );
    assert_eq!(bare_git(&bare, &["rev-list", "--count", "main"]), "2");
    let head1 = head(&bare);

    let deploy = Api::<Deployment>::namespaced(kube_a.clone(), "tether-system")
        .get("tether-controller")
        .await
        .unwrap();
    let labels = deploy.metadata.labels.unwrap();
    assert_eq!(labels["kustomize.toolkit.fluxcd.io/name"], "tether-system");
    let secret = Api::<Secret>::namespaced(kube_a.clone(), "tether-system")
        .get("tether-system")
        .await
        .unwrap();
    let data = secret.data.unwrap();
    assert!(
        data.contains_key("identity") && data.contains_key("known_hosts"),
        "{:?}",
        data.keys()
    );
    let kss_a: Api<Kustomization> = Api::namespaced(kube_a.clone(), "tether-system");
    let ks = kss_a.get("tether-system").await.unwrap();
    assert_eq!(
        ks.status.as_ref().unwrap().last_applied_revision.as_deref(),
        Some(format!("main@sha1:{head1}").as_str())
    );
    assert!(
        inventory_ids(&ks).contains("tether-system_tether-controller_apps_Deployment"),
        "the sync Kustomization does not own the controller: {:?}",
        inventory_ids(&ks)
    );
    let (_, checked) = ok(&kubeconfig_a, &["check"]);
    assert!(checked.contains("✔ all checks passed"), "{checked}");

    // Again: nothing to commit, nothing recreated.
    let uid = deploy.metadata.uid.clone();
    let out = bootstrap(&kubeconfig_a, &url, "clusters/dev");
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "second bootstrap failed:\n{stderr}");
    assert!(
        stderr.contains("✔ component manifests are up to date")
            && stderr.contains("✔ sync manifests are up to date"),
        "{stderr}"
    );
    assert_eq!(head(&bare), head1, "the second bootstrap committed");
    let again = Api::<Deployment>::namespaced(kube_a.clone(), "tether-system")
        .get("tether-controller")
        .await
        .unwrap();
    assert_eq!(again.metadata.uid, uid);

    // The cluster follows the repository.
    commit_to(
        &bare,
        &[("clusters/dev/apps/settings.yaml", SETTINGS)],
        "settings",
    );
    ok(
        &kubeconfig_a,
        &[
            "reconcile",
            "kustomization",
            "tether-system",
            "--with-source",
            "--timeout=1m",
        ],
    );
    let cms_a: Api<ConfigMap> = Api::namespaced(kube_a.clone(), "default");
    assert_eq!(
        cms_a.get("settings").await.unwrap().data.unwrap()["greeting"],
        "hello"
    );
    let head2 = head(&bare);

    // The cluster is bootstrapped from clusters/dev: another path is refused, nothing written.
    let out = bootstrap(&kubeconfig_a, &url, "clusters/other");
    let stderr = text(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("this cluster is already bootstrapped from path 'clusters/dev' (Kustomization tether-system/tether-system)"),
        "{stderr}"
    );
    assert_eq!(head(&bare), head2, "a refused bootstrap committed");

    // Disaster recovery: a fresh cluster bootstrapped onto the same path becomes the same.
    let (_b, kubeconfig_b) = dev(dir.path(), "cluster-b");
    let kube_b = client(&kubeconfig_b).await;
    let out = bootstrap(&kubeconfig_b, &url, "clusters/dev");
    assert!(
        out.status.success(),
        "bootstrap of cluster b failed:\n{}",
        text(&out.stderr)
    );
    assert_eq!(
        head(&bare),
        head2,
        "bootstrapping a second cluster committed"
    );
    let cms_b: Api<ConfigMap> = Api::namespaced(kube_b.clone(), "default");
    assert_eq!(
        cms_b.get("settings").await.unwrap().data.unwrap()["greeting"],
        "hello"
    );
    let ks_a = kss_a.get("tether-system").await.unwrap();
    let ks_b = Api::<Kustomization>::namespaced(kube_b.clone(), "tether-system")
        .get("tether-system")
        .await
        .unwrap();
    assert_eq!(inventory_ids(&ks_a), inventory_ids(&ks_b));
    assert_eq!(
        ks_a.status.unwrap().last_applied_revision,
        ks_b.status.unwrap().last_applied_revision
    );
}

/// A repository Flux bootstrapped: `clusters/prod/flux-system/gotk-*.yaml`, and a cluster
/// already running its sync objects. tether takes it over over smart HTTP with basic auth.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bootstrap_takes_over_a_flux_bootstrap_over_https() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("git");
    std::fs::create_dir_all(&root).unwrap();
    let bare = init_bare(&root.join("fleet.git")).unwrap();
    let server =
        GitHttpServer::start(GitHttpConfig::new(&root).with_basic_auth("flux", "s3cret")).unwrap();
    let url = server.url("fleet.git");
    let helm_crd = "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: helmreleases.helm.toolkit.fluxcd.io\nspec:\n  group: helm.toolkit.fluxcd.io\n  names:\n    kind: HelmRelease\n    listKind: HelmReleaseList\n    plural: helmreleases\n    singular: helmrelease\n  scope: Namespaced\n  versions:\n  - name: v2\n    served: true\n    storage: true\n    schema:\n      openAPIV3Schema:\n        type: object\n        x-kubernetes-preserve-unknown-fields: true\n";
    let components = format!(
        "---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: flux-system\n---\n{helm_crd}---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: source-controller-config\n  namespace: flux-system\ndata:\n  flux: v2\n"
    );
    let sync = format!(
        "---\napiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\nmetadata:\n  name: flux-system\n  namespace: flux-system\nspec:\n  interval: 1m0s\n  ref:\n    branch: main\n  secretRef:\n    name: flux-system\n  url: {url}\n---\napiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: flux-system\n  namespace: flux-system\nspec:\n  interval: 10m0s\n  path: ./clusters/prod\n  prune: true\n  sourceRef:\n    kind: GitRepository\n    name: flux-system\n"
    );
    let kustomization = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n- gotk-components.yaml\n- gotk-sync.yaml\n";
    commit_to(
        &bare,
        &[
            (
                "clusters/prod/flux-system/gotk-components.yaml",
                &components,
            ),
            ("clusters/prod/flux-system/gotk-sync.yaml", &sync),
            (
                "clusters/prod/flux-system/kustomization.yaml",
                kustomization,
            ),
            ("clusters/prod/apps/settings.yaml", SETTINGS),
        ],
        "flux bootstrap",
    );

    // The cluster as Flux left it: its secret and sync objects, reconciled.
    let (_dev, kubeconfig) = dev(dir.path(), "prod");
    let kube = client(&kubeconfig).await;
    let apply = PatchParams::apply("flux").force();
    Api::<Namespace>::all(kube.clone())
        .patch("flux-system", &apply, &Patch::Apply(serde_json::json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "flux-system"}})))
        .await
        .unwrap();
    Api::<Secret>::namespaced(kube.clone(), "flux-system")
        .patch(
            "flux-system",
            &apply,
            &Patch::Apply(serde_json::json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "flux-system", "namespace": "flux-system"}, "stringData": {"username": "flux", "password": "s3cret"}})),
        )
        .await
        .unwrap();
    for doc in tether_yaml::parse_documents(&sync).unwrap() {
        let name = doc.value["metadata"]["name"].as_str().unwrap().to_owned();
        if doc.value["kind"] == "GitRepository" {
            let source: GitRepository = serde_json::from_value(doc.value).unwrap();
            Api::<GitRepository>::namespaced(kube.clone(), "flux-system")
                .patch(&name, &apply, &Patch::Apply(source))
                .await
                .unwrap();
        } else {
            let ks: Kustomization = serde_json::from_value(doc.value).unwrap();
            Api::<Kustomization>::namespaced(kube.clone(), "flux-system")
                .patch(&name, &apply, &Patch::Apply(ks))
                .await
                .unwrap();
        }
    }
    let kss: Api<Kustomization> = Api::namespaced(kube.clone(), "flux-system");
    common::wait_ready(
        &kss,
        "flux-system",
        "Applied revision",
        Duration::from_secs(60),
    )
    .await;
    let uid = kss.get("flux-system").await.unwrap().metadata.uid;
    let cms: Api<ConfigMap> = Api::namespaced(kube.clone(), "flux-system");
    assert!(
        cms.get_opt("source-controller-config")
            .await
            .unwrap()
            .is_some()
    );

    let out = tether(
        &kubeconfig,
        &[
            "bootstrap",
            "git",
            "--url",
            &url,
            "--branch=main",
            "--path=clusters/prod",
            "--username=flux",
            "--password=s3cret",
            "--silent",
            "--timeout=2m",
        ],
    );
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "takeover failed:\n{stderr}");
    assert!(stderr.contains("✔ found Flux's bootstrap in clusters/prod/flux-system: taking it over (flux-system/flux-system)"), "{stderr}");
    assert!(
        stderr.contains("✔ source secret exists: keeping it"),
        "{stderr}"
    );

    let files = bare_git(
        &bare,
        &[
            "ls-tree",
            "-r",
            "--name-only",
            "main",
            "clusters/prod/flux-system",
        ],
    );
    assert_eq!(
        files,
        "clusters/prod/flux-system/gotk-components.yaml\nclusters/prod/flux-system/gotk-sync.yaml\nclusters/prod/flux-system/kustomization.yaml"
    );
    let new_components = bare_git(
        &bare,
        &[
            "show",
            "main:clusters/prod/flux-system/gotk-components.yaml",
        ],
    );
    assert!(
        new_components.contains("name: tether-controller"),
        "tether's controller missing"
    );
    assert!(
        new_components.contains("name: helmreleases.helm.toolkit.fluxcd.io"),
        "Flux's other CRDs were dropped"
    );
    assert!(
        !new_components.contains("source-controller-config"),
        "Flux's controllers were kept"
    );
    assert_eq!(
        bare_git(
            &bare,
            &["show", "main:clusters/prod/flux-system/gotk-sync.yaml"]
        ) + "\n",
        sync.trim_start_matches('\n')
    );

    // The same objects, not new ones; Flux's controller config pruned; the CRD and apps kept.
    assert_eq!(kss.get("flux-system").await.unwrap().metadata.uid, uid);
    wait_for(
        "Flux's controller objects to be pruned",
        Duration::from_secs(30),
        async || {
            cms.get_opt("source-controller-config")
                .await
                .unwrap()
                .is_none()
                .then_some(())
        },
    )
    .await;
    let crds: Api<CustomResourceDefinition> = Api::all(kube.clone());
    assert!(
        crds.get_opt("helmreleases.helm.toolkit.fluxcd.io")
            .await
            .unwrap()
            .is_some()
    );
    let apps: Api<ConfigMap> = Api::namespaced(kube.clone(), "default");
    assert!(apps.get_opt("settings").await.unwrap().is_some());
    assert!(
        Api::<Deployment>::namespaced(kube.clone(), "flux-system")
            .get_opt("tether-controller")
            .await
            .unwrap()
            .is_some()
    );
    server.stop();
}

/// `file://` needs no Secret; an SSH URL without `--private-key-file` gets a generated deploy key
/// for the cluster (the CLI pushes with the user's own ssh command), and the cluster syncs once
/// that key is authorized on the server.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bootstrap_over_file_urls_and_with_a_generated_deploy_key() {
    let dir = tempfile::tempdir().unwrap();

    let local = init_bare(&dir.path().join("local.git")).unwrap();
    let (_c, kubeconfig_c) = dev(dir.path(), "cluster-c");
    let kube_c = client(&kubeconfig_c).await;
    let url = format!("file://{}", local.display());
    let (_, stderr) = ok(
        &kubeconfig_c,
        &[
            "bootstrap",
            "git",
            "--url",
            &url,
            "--path=clusters/local",
            "--silent",
            "--timeout=2m",
        ],
    );
    assert!(stderr.contains("✔ bootstrap finished"), "{stderr}");
    let source = Api::<GitRepository>::namespaced(kube_c.clone(), "tether-system")
        .get("tether-system")
        .await
        .unwrap();
    assert!(
        source.spec.secret_ref.is_none(),
        "a file:// source got a Secret"
    );
    assert!(
        Api::<Secret>::namespaced(kube_c.clone(), "tether-system")
            .get_opt("tether-system")
            .await
            .unwrap()
            .is_none()
    );

    let sshd = SshGitServer::start().unwrap();
    let bare = init_bare(&dir.path().join("fleet.git")).unwrap();
    let known_hosts = dir.path().join("known_hosts");
    std::fs::write(&known_hosts, sshd.known_hosts()).unwrap();
    let (_d, kubeconfig_d) = dev(dir.path(), "cluster-d");
    let kube_d = client(&kubeconfig_d).await;
    let ssh_command = sshd.git_ssh_command().unwrap();
    let mut bootstrap = Proc::spawn(
        "bootstrap",
        &[
            OsStr::new("bootstrap"),
            OsStr::new("git"),
            OsStr::new("--url"),
            OsStr::new(&sshd.url(&bare)),
            OsStr::new("--path=clusters/dev"),
            OsStr::new("--interval=2s"),
            OsStr::new("--known-hosts-file"),
            known_hosts.as_os_str(),
            OsStr::new("--silent"),
            OsStr::new("--timeout=2m"),
            OsStr::new("--kubeconfig"),
            kubeconfig_d.as_os_str(),
        ],
        &[("GIT_SSH_COMMAND", ssh_command.as_str()), ("NO_COLOR", "1")],
        dir.path(),
    );
    let key = wait_for(
        "the generated public key",
        Duration::from_secs(60),
        async || {
            bootstrap
                .log()
                .lines()
                .find_map(|l| l.strip_prefix("✔ public key: ").map(str::to_owned))
        },
    )
    .await;
    assert!(key.starts_with("ssh-ed25519 "), "{key}");
    sshd.authorize(&key).unwrap();
    let status = bootstrap.wait_exit(Duration::from_secs(120));
    assert!(
        status.success(),
        "bootstrap failed:\n{}\nsshd:\n{}",
        bootstrap.log(),
        sshd.log()
    );
    let secret = Api::<Secret>::namespaced(kube_d.clone(), "tether-system")
        .get("tether-system")
        .await
        .unwrap();
    let data = secret.data.unwrap();
    assert_eq!(
        String::from_utf8(data["identity.pub"].0.clone())
            .unwrap()
            .trim(),
        key
    );
    let ks = Api::<Kustomization>::namespaced(kube_d.clone(), "tether-system")
        .get("tether-system")
        .await
        .unwrap();
    assert_eq!(
        ks.status.unwrap().last_applied_revision,
        Some(format!("main@sha1:{}", head(&bare)))
    );
}

/// Bootstrap over HTTPS-style bearer auth (`--token-auth`), then `uninstall --prune-workloads`:
/// the controller prunes what the app Kustomization applied before tether goes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bootstrap_with_token_auth_then_uninstall_pruning_workloads() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("git");
    std::fs::create_dir_all(&root).unwrap();
    let bare = init_bare(&root.join("fleet.git")).unwrap();
    commit_to(&bare, &[("apps/settings.yaml", SETTINGS)], "apps");
    let server =
        GitHttpServer::start(GitHttpConfig::new(&root).with_bearer_token("t0ken")).unwrap();
    let url = server.url("fleet.git");
    let (_e, kubeconfig) = dev(dir.path(), "cluster-e");
    let kube = client(&kubeconfig).await;

    let (_, stderr) = ok(
        &kubeconfig,
        &[
            "bootstrap",
            "git",
            "--url",
            &url,
            "--path=clusters/dev",
            "--password=t0ken",
            "--token-auth",
            "--silent",
            "--timeout=2m",
        ],
    );
    assert!(stderr.contains("✔ bootstrap finished"), "{stderr}");
    let secret = Api::<Secret>::namespaced(kube.clone(), "tether-system")
        .get("tether-system")
        .await
        .unwrap();
    let data = secret.data.unwrap();
    assert_eq!(
        data.keys().map(String::as_str).collect::<Vec<_>>(),
        ["bearerToken"]
    );

    ok(
        &kubeconfig,
        &[
            "create",
            "kustomization",
            "app",
            "--source=tether-system",
            "--path=./apps",
            "--prune",
        ],
    );
    let cms: Api<ConfigMap> = Api::namespaced(kube.clone(), "default");
    assert!(cms.get_opt("settings").await.unwrap().is_some());

    let (_, removed) = ok(
        &kubeconfig,
        &["uninstall", "--silent", "--prune-workloads", "--timeout=1m"],
    );
    assert!(removed.contains("✔ uninstall finished"), "{removed}");
    assert!(
        cms.get_opt("settings").await.unwrap().is_none(),
        "--prune-workloads kept the app's objects"
    );
    let crds: Api<CustomResourceDefinition> = Api::all(kube.clone());
    wait_for("the CRDs to go", Duration::from_secs(30), async || {
        crds.get_opt("kustomizations.kustomize.toolkit.fluxcd.io")
            .await
            .unwrap()
            .is_none()
            .then_some(())
    })
    .await;
    server.stop();
}
