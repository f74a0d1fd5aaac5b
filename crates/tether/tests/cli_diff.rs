//! `tether diff kustomization` as a user runs it: `tether dev --empty` as the cluster, a
//! Kustomization reconciled from a smart-HTTP Git remote, and the Git work tree, edited but not
//! committed, as the local directory. The expected output of the scenario with changes is
//! checked in (`tests/snapshots/cli_diff_changes.txt`; set `TETHER_BLESS=1` to rewrite it after
//! reviewing a change).
#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests: a panic is a failed assertion.

mod common;

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use common::{Proc, client, text, wait_ready};
use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use kube::api::Api;
use tether_api::Kustomization;
use tether_testkit::{GitHttpConfig, GitHttpServer, WorkRepo, init_bare};

/// Runs `tether ARGS --kubeconfig KUBECONFIG` with `envs` (and without `NO_COLOR` unless given:
/// output to a pipe must be plain by itself).
fn tether(kubeconfig: &Path, args: &[&str], envs: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tether"));
    cmd.args(args)
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .env_remove("NO_COLOR");
    for (k, v) in envs {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

/// Runs and expects exit status `code`; returns stdout and stderr.
fn expect_exit(kubeconfig: &Path, args: &[&str], code: i32) -> (String, String) {
    let out = tether(kubeconfig, args, &[]);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(
        out.status.code(),
        Some(code),
        "tether {args:?}: unexpected exit status\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    (stdout, stderr)
}

fn config_map(name: &str, value: &str) -> String {
    format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n  namespace: default\ndata:\n  greeting: {value}\n"
    )
}

fn secret(password: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: creds\n  namespace: default\nstringData:\n  user: admin\n  password: {password}\n"
    )
}

fn snapshot_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots/cli_diff_changes.txt")
}

/// Compares `actual` with the checked-in snapshot, or rewrites it under `TETHER_BLESS=1`.
fn assert_snapshot(actual: &str) {
    let path = snapshot_path();
    if std::env::var_os("TETHER_BLESS").is_some() {
        std::fs::write(&path, actual).unwrap();
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read the snapshot {}: {e}", path.display()));
    if expected != actual {
        let diff = similar::TextDiff::from_lines(expected.as_str(), actual)
            .unified_diff()
            .header("expected", "actual")
            .to_string();
        panic!("output differs from {}:\n{diff}", path.display());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn diff_shows_created_drifted_and_pruned_objects_against_tether_dev() {
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    let dev = Proc::spawn(
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
    dev.wait_line("serving on ", Duration::from_secs(30));
    let kube = client(&kubeconfig).await;

    let root = tempfile::tempdir().unwrap();
    let bare = init_bare(&root.path().join("fleet.git")).unwrap();
    let mut work = WorkRepo::new().unwrap();
    work.write("apps/settings.yaml", config_map("settings", "one"))
        .unwrap();
    work.write("apps/old.yaml", config_map("old", "bye"))
        .unwrap();
    work.write("apps/creds.yaml", secret("s3cret-one")).unwrap();
    let first = work.commit("one").unwrap();
    work.push(bare.to_str().unwrap(), &["main"]).unwrap();
    let git = GitHttpServer::start(GitHttpConfig::new(root.path())).unwrap();
    let url = git.url("fleet.git");
    expect_exit(
        &kubeconfig,
        &[
            "create",
            "source",
            "git",
            "fleet",
            "--url",
            &url,
            "--branch",
            "main",
            "--interval",
            "1h",
        ],
        0,
    );
    expect_exit(
        &kubeconfig,
        &[
            "create",
            "kustomization",
            "apps",
            "--source",
            "GitRepository/fleet",
            "--path",
            "./apps",
            "--prune",
            "--interval",
            "1h",
        ],
        0,
    );
    let kss = Api::<Kustomization>::namespaced(kube.clone(), "tether-system");
    wait_ready(
        &kss,
        "apps",
        &format!("Applied revision: main@sha1:{first}"),
        Duration::from_secs(60),
    )
    .await;
    let apps = work.path().join("apps");
    let apps = apps.to_str().unwrap();

    // The work tree as committed: nothing to change, exit 0, only the summary (on stderr).
    let (stdout, stderr) = expect_exit(
        &kubeconfig,
        &["diff", "kustomization", "apps", "--path", apps],
        0,
    );
    assert_eq!(stdout, "");
    assert_eq!(stderr, "✔ no changes (3 unchanged)\n");

    // One object changed, one added, one removed, and a Secret value changed.
    work.write("apps/settings.yaml", config_map("settings", "two"))
        .unwrap();
    work.write("apps/new.yaml", config_map("new", "hello"))
        .unwrap();
    work.remove("apps/old.yaml").unwrap();
    work.write("apps/creds.yaml", secret("s3cret-two")).unwrap();
    let (stdout, stderr) = expect_exit(&kubeconfig, &["diff", "ks", "apps", "--path", apps], 1);
    assert!(!stdout.contains('\x1b'), "colour on a pipe:\n{stdout:?}");
    for secret in ["s3cret", "czNjcmV0", "YWRtaW4="] {
        assert!(!stdout.contains(secret), "a Secret value leaked:\n{stdout}");
    }
    assert_snapshot(&stdout);
    assert_eq!(stderr, "► 1 created, 2 drifted, 1 deleted\n");

    // The spec from a file: the same build, and the prune list from the live object's status.
    let ks_file = dir.path().join("ks.yaml");
    std::fs::write(
        &ks_file,
        "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: apps\n  namespace: tether-system\nspec:\n  interval: 1h\n  path: ./elsewhere\n  prune: true\n  sourceRef:\n    kind: GitRepository\n    name: fleet\n",
    )
    .unwrap();
    let (from_file, _) = expect_exit(
        &kubeconfig,
        &[
            "diff",
            "ks",
            "apps",
            "--path",
            apps,
            "--kustomization-file",
            ks_file.to_str().unwrap(),
        ],
        1,
    );
    assert_eq!(from_file, stdout);

    // Nothing was written: the cluster still has what Git had.
    let cms = Api::<ConfigMap>::namespaced(kube.clone(), "default");
    assert_eq!(
        cms.get("settings").await.unwrap().data.unwrap()["greeting"],
        "one"
    );
    assert!(cms.get_opt("old").await.unwrap().is_some());
    assert!(cms.get_opt("new").await.unwrap().is_none());
    let creds = Api::<Secret>::namespaced(kube.clone(), "default")
        .get("creds")
        .await
        .unwrap();
    assert_eq!(creds.data.unwrap()["password"].0, b"s3cret-one");

    // Bad input: errors exit 2 (1 means "changes") with a message naming what is wrong.
    let (stdout, stderr) = expect_exit(&kubeconfig, &["diff", "ks", "nope", "--path", apps], 2);
    assert_eq!(stdout, "");
    assert!(
        stderr.contains("Kustomization 'nope' not found in namespace tether-system"),
        "{stderr}"
    );
    let missing = work.path().join("no-such-dir");
    let (_, stderr) = expect_exit(
        &kubeconfig,
        &["diff", "ks", "apps", "--path", missing.to_str().unwrap()],
        2,
    );
    assert!(stderr.contains(missing.to_str().unwrap()), "{stderr}");
    let (_, stderr) = expect_exit(
        &kubeconfig,
        &["diff", "ks", "apps", "--path", apps, "-n", "elsewhere"],
        2,
    );
    assert!(
        stderr.contains("Kustomization 'apps' not found in namespace elsewhere"),
        "{stderr}"
    );
    // A manifest the API server cannot take: the other objects are still shown, then the error.
    work.write(
        "apps/gadget.yaml",
        "apiVersion: nowhere.example.com/v1\nkind: Gadget\nmetadata:\n  name: g\n  namespace: default\n",
    )
    .unwrap();
    let (stdout, stderr) = expect_exit(&kubeconfig, &["diff", "ks", "apps", "--path", apps], 2);
    assert!(
        stdout.contains("► ConfigMap/default/new created\n"),
        "{stdout}"
    );
    assert!(
        stderr
            .contains("Gadget/default/g: no resource serves kind Gadget in nowhere.example.com/v1"),
        "{stderr}"
    );
    // The prune diff is left out after an error (the failed object would look deleted).
    assert!(!stdout.contains("deleted"), "{stdout}");
    drop(dev);
}
