//! `tether dev` as a user runs it: the embedded example fleet bootstrapped and converged (kubectl
//! then sees the web app and the custom resources), `--once` on the fleet and on a broken
//! repository, `--repo` on a local repository, and `--check` over `examples/fleet` and over a
//! broken copy of it.
#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests: a panic is a failed assertion.

mod common;

use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use common::{Proc, run_kubectl, text};
use tether_testkit::WorkRepo;

const FLEET: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/fleet");

/// Generous: CI has two cores shared by many tests.
const CONVERGE: Duration = Duration::from_secs(300);

/// `tether ARGS` to completion, with NO_COLOR and a log level that keeps stderr readable.
fn tether(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tether"))
        .args(args)
        .env("NO_COLOR", "1")
        .env("TETHER_LOG", "warn")
        .output()
        .unwrap()
}

/// Copies every file under `dir` into the work repository at its path relative to `root`.
fn copy_tree(root: &Path, dir: &Path, work: &WorkRepo) -> usize {
    let mut copied = 0;
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
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

/// A repository holding `examples/fleet` at its root, committed on `main`.
fn fleet_repo() -> WorkRepo {
    let mut work = WorkRepo::new().unwrap();
    let root = Path::new(FLEET);
    assert!(
        root.join("clusters/local").is_dir(),
        "{} is missing",
        root.join("clusters/local").display()
    );
    assert!(copy_tree(root, root, &work) > 40, "fleet files copied");
    work.commit("the example fleet").unwrap();
    work
}

#[test]
fn dev_syncs_the_example_fleet_and_kubectl_sees_it() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let dev = Proc::spawn(
        "dev",
        &[
            "dev".as_ref(),
            "--listen=127.0.0.1:0".as_ref(),
            "--metrics-addr=127.0.0.1:0".as_ref(),
            "--data-dir".as_ref(),
            data.as_os_str(),
        ],
        &[("NO_COLOR", "1")],
        dir.path(),
    );
    let export = dev.wait_line("ready: export KUBECONFIG=", CONVERGE);
    let kubeconfig = data.join("kubeconfig");
    assert_eq!(Path::new(&export), kubeconfig);

    // Every Kustomization of clusters/local is Ready, in dependency order.
    let kss = run_kubectl(
        &kubeconfig,
        &[
            "get",
            "kustomizations",
            "-n",
            "tether-system",
            "-o",
            "jsonpath={range .items[*]}{.metadata.name}={.status.conditions[?(@.type==\"Ready\")].status} {end}",
        ],
    );
    for name in ["tether-system", "infra-crds", "infrastructure", "apps"] {
        assert!(
            kss.contains(&format!("{name}=True")),
            "{name} not Ready: {kss}"
        );
    }
    // The web app, with the local cluster's substitutions and overlay.
    let deploy = run_kubectl(
        &kubeconfig,
        &[
            "get",
            "deployment",
            "web",
            "-n",
            "web",
            "-o",
            "jsonpath={.spec.replicas} {.spec.template.spec.containers[0].image} {.status.availableReplicas}",
        ],
    );
    assert_eq!(deploy, "1 ghcr.io/example-org/web:1.5.0-dev 1");
    let host = run_kubectl(
        &kubeconfig,
        &[
            "get",
            "ingress",
            "web",
            "-n",
            "web",
            "-o",
            "jsonpath={.spec.rules[0].host}",
        ],
    );
    assert_eq!(host, "web.localtest.me");
    let service = run_kubectl(
        &kubeconfig,
        &["get", "service", "web", "-n", "web", "-o", "name"],
    );
    assert_eq!(service.trim(), "service/web");
    // Custom resources of the CRDs infra-crds installed.
    let monitors = run_kubectl(&kubeconfig, &["get", "servicemonitors", "-A", "-o", "name"]);
    assert!(
        monitors.contains("servicemonitor.monitoring.coreos.com/web"),
        "{monitors}"
    );
    assert!(
        monitors.contains("servicemonitor.monitoring.coreos.com/ingress-nginx-controller"),
        "{monitors}"
    );
    let rule = run_kubectl(
        &kubeconfig,
        &[
            "get",
            "prometheusrule",
            "redis",
            "-n",
            "data",
            "-o",
            "jsonpath={.spec.groups[0].rules[0].annotations.summary}",
        ],
    );
    assert_eq!(rule, "Redis on local is down");

    // The local remote holds the fleet; bootstrap pointed the sync at it.
    let url = run_kubectl(
        &kubeconfig,
        &[
            "get",
            "gitrepository",
            "tether-system",
            "-n",
            "tether-system",
            "-o",
            "jsonpath={.spec.url}",
        ],
    );
    let bare = std::fs::canonicalize(data.join("fleet.git")).unwrap();
    assert_eq!(url, format!("file://{}", bare.display()));

    let mut dev = dev;
    dev.signal("TERM");
    let status = dev.wait_exit(Duration::from_secs(60));
    assert!(status.success(), "tether dev exited with {status}");

    // A restart over the same data dir converges again on the same repository (its stored
    // GitRepository names artifacts on the previous run's artifact server).
    let mut again = Proc::spawn(
        "dev-again",
        &[
            "dev".as_ref(),
            "--listen=127.0.0.1:0".as_ref(),
            "--metrics-addr=127.0.0.1:0".as_ref(),
            "--data-dir".as_ref(),
            data.as_os_str(),
        ],
        &[("NO_COLOR", "1")],
        dir.path(),
    );
    again.wait_line("ready: export KUBECONFIG=", CONVERGE);
    again.signal("TERM");
    let status = again.wait_exit(Duration::from_secs(60));
    assert!(
        status.success(),
        "the second tether dev exited with {status}"
    );
}

#[test]
fn once_exits_zero_when_the_example_fleet_is_ready() {
    // A relative --data-dir, as users type it (the fleet's file:// URL must still be absolute).
    let cwd = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_tether"))
        .args([
            "dev",
            "--once",
            "--listen=127.0.0.1:0",
            "--metrics-addr=127.0.0.1:0",
            "--timeout=5m",
            "--data-dir",
            ".tether",
        ])
        .current_dir(cwd.path())
        .env("NO_COLOR", "1")
        .env("TETHER_LOG", "warn")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "tether dev --once failed ({}): {}",
        out.status,
        text(&out.stderr)
    );
    let stdout = text(&out.stdout);
    // With a data dir the kubeconfig stays, so --once says where it is, as an absolute path.
    let kubeconfig = std::fs::canonicalize(cwd.path().join(".tether/kubeconfig")).unwrap();
    assert_eq!(
        stdout.lines().last(),
        Some(format!("ready: export KUBECONFIG={}", kubeconfig.display()).as_str()),
        "{stdout}"
    );
    assert!(
        cwd.path().join(".tether/fleet.git/HEAD").is_file(),
        "the fleet repository lives in the relative data dir"
    );
    let stderr = text(&out.stderr);
    // One progress line per Kustomization (no terminal: plain lines, no colour codes).
    assert!(
        stderr.contains("Kustomization/tether-system/apps"),
        "{stderr}"
    );
    assert!(
        !stderr.contains('\x1b'),
        "colour codes with NO_COLOR: {stderr}"
    );
}

/// A repository whose `clusters/dev` has a Kustomization `broken` over a manifest kustomize
/// cannot build, and one `good` over a ConfigMap.
fn broken_repo() -> WorkRepo {
    let mut work = WorkRepo::new().unwrap();
    let ks = |name: &str, path: &str| {
        format!(
            "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: {name}\n  namespace: tether-system\nspec:\n  interval: 1m\n  path: {path}\n  prune: true\n  sourceRef:\n    kind: GitRepository\n    name: tether-system\n"
        )
    };
    work.write(
        "clusters/dev/kustomization.yaml",
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n- good.yaml\n- broken.yaml\n",
    )
    .unwrap();
    work.write("clusters/dev/good.yaml", ks("good", "./good"))
        .unwrap();
    work.write("clusters/dev/broken.yaml", ks("broken", "./broken"))
        .unwrap();
    work.write(
        "good/configmap.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: hello\n  namespace: default\ndata:\n  greeting: hi\n",
    )
    .unwrap();
    work.write(
        "broken/kustomization.yaml",
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n- deployment.yaml\n",
    )
    .unwrap();
    // Not a Kubernetes object: no kind.
    work.write(
        "broken/deployment.yaml",
        "apiVersion: apps/v1\nmetadata:\n  name: web\n",
    )
    .unwrap();
    work.commit("a broken fleet").unwrap();
    work
}

#[test]
fn once_fails_naming_the_broken_kustomization() {
    let repo = broken_repo();
    let out = tether(&[
        "dev",
        "--once",
        "--listen=127.0.0.1:0",
        "--metrics-addr=127.0.0.1:0",
        "--repo",
        repo.path().to_str().unwrap(),
        "--path",
        "clusters/dev",
    ]);
    let stderr = text(&out.stderr);
    assert!(
        !out.status.success(),
        "exit 0 on a broken repository: {stderr}"
    );
    let error = stderr
        .lines()
        .find(|l| l.starts_with("error:"))
        .unwrap_or_else(|| panic!("no error line: {stderr}"));
    assert!(
        error.contains("Kustomization/tether-system/broken failed"),
        "{error}"
    );
    assert!(error.contains("BuildFailed"), "{error}");
    assert!(!error.contains("/good"), "the good one is named: {error}");
}

#[test]
fn repo_syncs_a_local_repository_without_pushing_to_it() {
    let mut work = WorkRepo::new().unwrap();
    work.write(
        "clusters/dev/configmap.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: from-my-repo\n  namespace: default\ndata:\n  greeting: hi\n",
    )
    .unwrap();
    let head = work.commit("my fleet").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut dev = Proc::spawn(
        "dev-repo",
        &[
            "dev".as_ref(),
            "--listen=127.0.0.1:0".as_ref(),
            "--metrics-addr=127.0.0.1:0".as_ref(),
            "--data-dir".as_ref(),
            data.as_os_str(),
            "--repo".as_ref(),
            work.path().as_os_str(),
            "--path".as_ref(),
            "./clusters/dev".as_ref(),
        ],
        &[("NO_COLOR", "1")],
        dir.path(),
    );
    dev.wait_line("ready: export KUBECONFIG=", CONVERGE);
    let kubeconfig = data.join("kubeconfig");
    let greeting = run_kubectl(
        &kubeconfig,
        &[
            "get",
            "configmap",
            "from-my-repo",
            "-n",
            "default",
            "-o",
            "jsonpath={.data.greeting}",
        ],
    );
    assert_eq!(greeting, "hi");
    let revision = run_kubectl(
        &kubeconfig,
        &[
            "get",
            "kustomization",
            "tether-system",
            "-n",
            "tether-system",
            "-o",
            "jsonpath={.status.lastAppliedRevision}",
        ],
    );
    assert_eq!(revision, format!("main@sha1:{head}"));
    dev.signal("TERM");
    assert!(dev.wait_exit(Duration::from_secs(60)).success());
    // Nothing was committed to the user's repository.
    assert_eq!(work.head().unwrap(), head);
    assert_eq!(work.git(&["status", "--porcelain"]).unwrap(), "");
}

#[test]
fn check_passes_on_the_example_fleet() {
    let repo = fleet_repo();
    let out = tether(&[
        "dev",
        "--check",
        "--repo",
        repo.path().to_str().unwrap(),
        "--branch",
        "main",
    ]);
    let stdout = text(&out.stdout);
    assert!(
        out.status.success(),
        "--check failed: {stdout}\n{}",
        text(&out.stderr)
    );
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(lines[0].starts_with("PATH"), "{stdout}");
    for (line, path) in
        lines[1..]
            .iter()
            .zip(["clusters/local", "clusters/production", "clusters/staging"])
    {
        assert!(line.starts_with(path), "{stdout}");
        assert!(line.contains(" Ready "), "{stdout}");
    }
    assert_eq!(lines.len(), 4, "{stdout}");
}

#[test]
fn check_fails_naming_the_cluster_path_and_object() {
    let mut repo = fleet_repo();
    // Staging's apps overlay names a patch file that is not there.
    let overlay = "apps/staging/kustomization.yaml";
    let text_before = std::fs::read_to_string(repo.path().join(overlay)).unwrap();
    repo.write(
        overlay,
        format!("{text_before}patches:\n- path: missing-patch.yaml\n"),
    )
    .unwrap();
    repo.commit("break staging").unwrap();
    let out = tether(&[
        "dev",
        "--check",
        "--repo",
        repo.path().to_str().unwrap(),
        "--path",
        "clusters/local",
        "--path",
        "clusters/staging",
    ]);
    let stdout = text(&out.stdout);
    let stderr = text(&out.stderr);
    assert!(
        !out.status.success(),
        "--check passed a broken fleet: {stdout}"
    );
    let row = |path: &str| {
        stdout
            .lines()
            .find(|l| l.starts_with(path))
            .unwrap_or_else(|| panic!("no row for {path}: {stdout}"))
            .to_owned()
    };
    assert!(row("clusters/local").contains(" Ready "), "{stdout}");
    let staging = row("clusters/staging");
    assert!(staging.contains(" Failed "), "{stdout}");
    assert!(
        staging.contains("Kustomization/tether-system/apps failed"),
        "{stdout}"
    );
    let error = stderr
        .lines()
        .find(|l| l.starts_with("error:"))
        .unwrap_or_else(|| panic!("no error line: {stderr}"));
    assert!(
        error.contains("clusters/staging: Kustomization/tether-system/apps failed"),
        "{error}"
    );
    assert!(error.contains("missing-patch.yaml"), "{error}");
}

#[test]
fn controllers_that_cannot_start_stop_dev_with_their_error() {
    // The metrics address is taken: the controllers cannot run, so dev must not pretend to.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let out = tether(&[
        "dev",
        "--empty",
        "--listen=127.0.0.1:0",
        "--metrics-addr",
        &addr,
    ]);
    assert!(
        !out.status.success(),
        "tether dev kept running without its controllers"
    );
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(&format!("cannot serve metrics on {addr}")),
        "{stderr}"
    );
}
