//! Receiver webhooks end to end, as a user runs them: `tether dev --empty` serving webhooks on an
//! ephemeral port, a smart-HTTP Git remote started by the test, a GitRepository and a
//! Kustomization polling only every hour, and Receivers made with `tether create receiver`. A
//! new commit is applied right after a signed GitHub `push` webhook or a `generic` one; a forged
//! signature is refused with 401 and reconciles nothing; GitHub's `ping` is answered 200.
#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests: a panic is a failed assertion.

mod common;

use std::ffi::OsStr;
use std::path::Path;
use std::time::Duration;

use common::{client, dev_with, tether_at as tether, wait_for};
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::Api;
use tether_api::{GitRepository, Receiver};
use tether_testkit::{GitHttpConfig, GitHttpServer, WorkRepo, init_bare};

/// Runs and expects success; returns stdout and stderr.
fn ok(kubeconfig: &Path, args: &[&str]) -> (String, String) {
    let out = tether(kubeconfig, args);
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    assert!(
        out.status.success(),
        "tether {args:?} failed: {}\n{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    (text(&out.stdout), text(&out.stderr))
}

fn config_map(value: &str) -> String {
    format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: default\ndata:\n  greeting: {value}\n"
    )
}

async fn greeting(cms: &Api<ConfigMap>) -> Option<String> {
    cms.get_opt("settings")
        .await
        .unwrap()
        .and_then(|cm| cm.data)
        .and_then(|d| d.get("greeting").cloned())
}

/// The HMAC-SHA256 signature GitHub sends, computed here independently of tether's code.
fn github_signature(token: &str, body: &str) -> String {
    use hmac::Mac as _;
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(token.as_bytes()).unwrap();
    mac.update(body.as_bytes());
    let hex: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("sha256={hex}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhooks_apply_new_commits_long_before_the_interval() {
    let dir = tempfile::tempdir().unwrap();
    let root = tempfile::tempdir().unwrap();
    init_bare(&root.path().join("fleet.git")).unwrap();
    let git = GitHttpServer::start(GitHttpConfig::new(root.path())).unwrap();
    let url = git.url("fleet.git");
    let mut work = WorkRepo::new().unwrap();
    work.write("app/settings.yaml", config_map("v1")).unwrap();
    work.commit("v1").unwrap();
    work.push(&url, &["main"]).unwrap();

    let (dev, kubeconfig) = dev_with(
        dir.path(),
        "dev",
        &[OsStr::new("--receiver-addr=127.0.0.1:0")],
    );
    let hooks = wait_for("the webhook address", Duration::from_secs(30), async || {
        dev.log().lines().find_map(|l| {
            l.split_once("receiver webhooks on http://")
                .map(|(_, rest)| rest.trim_end_matches("/hook/").to_owned())
        })
    })
    .await;
    let kube = client(&kubeconfig).await;

    ok(
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
    );
    ok(
        &kubeconfig,
        &[
            "create",
            "kustomization",
            "app",
            "--source",
            "fleet",
            "--path",
            "./app",
            "--prune",
            "--interval",
            "1h",
        ],
    );
    let cms: Api<ConfigMap> = Api::namespaced(kube.clone(), "default");
    assert_eq!(greeting(&cms).await.as_deref(), Some("v1"));

    let (_, github_out) = ok(
        &kubeconfig,
        &[
            "create",
            "receiver",
            "github",
            "--type",
            "github",
            "--event",
            "push",
            "--resource",
            "GitRepository/fleet",
            "--secret-ref",
            "github-token",
            "--token",
            "gh-s3cret",
        ],
    );
    let github_path = tether_api::webhook_path("gh-s3cret", "github", "tether-system");
    assert!(github_out.contains(&github_path), "{github_out}");
    ok(
        &kubeconfig,
        &[
            "create",
            "receiver",
            "generic",
            "--type",
            "generic",
            "--resource",
            "GitRepository/fleet",
            "--secret-ref",
            "generic-token",
            "--token",
            "g-s3cret",
        ],
    );
    let (table, _) = ok(&kubeconfig, &["get", "receivers"]);
    assert!(
        table.contains("github") && table.contains(&github_path),
        "{table}"
    );
    assert!(table.contains("generic"), "{table}");
    let receivers: Api<Receiver> = Api::namespaced(kube.clone(), "tether-system");
    let generic_path = receivers
        .get("generic")
        .await
        .unwrap()
        .webhook_path()
        .unwrap()
        .to_owned();

    let http = reqwest::Client::new();
    let post = async |path: &str, headers: &[(&str, &str)], body: &str| -> u16 {
        let mut request = http
            .post(format!("http://{hooks}{path}"))
            .header("Content-Type", "application/json")
            .body(body.to_owned());
        for (k, v) in headers {
            request = request.header(*k, *v);
        }
        request.send().await.unwrap().status().as_u16()
    };

    work.write("app/settings.yaml", config_map("v2")).unwrap();
    work.commit("v2").unwrap();
    work.push(&url, &["main"]).unwrap();
    let body = r#"{"ref":"refs/heads/main"}"#;
    let forged = github_signature("not-the-token", body);
    let good = github_signature("gh-s3cret", body);
    assert_eq!(
        post(
            &github_path,
            &[("X-GitHub-Event", "push"), ("X-Hub-Signature-256", &forged)],
            body
        )
        .await,
        401
    );
    assert_eq!(post("/hook/0123", &[], body).await, 404);
    assert_eq!(
        post(
            &github_path,
            &[("X-GitHub-Event", "ping"), ("X-Hub-Signature-256", &good)],
            body
        )
        .await,
        200
    );
    // Neither reconciled anything: no request on the GitRepository, v1 still applied.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let repos: Api<GitRepository> = Api::namespaced(kube.clone(), "tether-system");
    let repo = repos.get("fleet").await.unwrap();
    assert!(
        !repo
            .metadata
            .annotations
            .unwrap_or_default()
            .contains_key("reconcile.fluxcd.io/requestedAt")
    );
    assert_eq!(greeting(&cms).await.as_deref(), Some("v1"));

    assert_eq!(
        post(
            &github_path,
            &[("X-GitHub-Event", "push"), ("X-Hub-Signature-256", &good)],
            body
        )
        .await,
        200
    );
    wait_for("v2 applied", Duration::from_secs(30), async || {
        (greeting(&cms).await.as_deref() == Some("v2")).then_some(())
    })
    .await;

    work.write("app/settings.yaml", config_map("v3")).unwrap();
    work.commit("v3").unwrap();
    work.push(&url, &["main"]).unwrap();
    assert_eq!(post(&generic_path, &[], "").await, 200);
    wait_for("v3 applied", Duration::from_secs(30), async || {
        (greeting(&cms).await.as_deref() == Some("v3")).then_some(())
    })
    .await;
    drop(dev);
    git.stop();
}
