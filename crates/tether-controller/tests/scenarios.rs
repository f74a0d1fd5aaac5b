//! End-to-end scenarios of the GitOps loop beyond the happy path of `gitops.rs`: an SSH remote
//! (and a wrong host key), a never-ready Deployment, suspend/resume, the remote going down and
//! coming back, drift corrected on request, `include` of another GitRepository, `recurseSubmodules`, unsupported checks failing closed, an immutable field changed (refused, then recreated
//! with `force`), a failing dependency, Events and metrics. Each test
//! starts its own control plane, controllers and Git remote.
#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests: a panic is a failed assertion.

mod common;

use std::time::Duration;

use common::{
    Cluster, NS, Remote, condition, config_map, deployment, greeting, http_get, ks_condition,
    kustomization, repo_condition, wait_for,
};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, Patch, PatchParams};
use serde_json::json;
use tether_api::{GitRepository, Kustomization};
use tether_testkit::{GitHttpConfig, GitHttpServer};

const WAIT: Duration = Duration::from_secs(30);

async fn set_annotation(api: &Api<Kustomization>, name: &str, key: &str, value: &str) {
    api.patch(
        name,
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"annotations": {key: value}}})),
    )
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ssh_remote_with_host_key_applies_and_a_wrong_host_key_fails() {
    let mut remote = Remote::new();
    let rev = remote.commit(
        "first",
        &[("apps/settings.yaml", &config_map("settings", "ssh"))],
    );
    let ssh = tether_testkit::SshGitServer::start().unwrap();
    let url = ssh.url(&remote.bare());
    let cluster = Cluster::start().await;
    cluster
        .create_secret(
            "ssh-auth",
            json!({"identity": ssh.client_key().private_key, "known_hosts": ssh.known_hosts()}),
        )
        .await;
    // Another host's key under this server's name: verification must fail.
    let stranger = tether_testkit::generate_ed25519_key("stranger", "").unwrap();
    let key = stranger.public_key.split_whitespace().nth(1).unwrap();
    cluster
        .create_secret(
            "ssh-wrong-host",
            json!({
                "identity": ssh.client_key().private_key,
                "known_hosts": format!("[127.0.0.1]:{} ssh-ed25519 {key}\n", ssh.port()),
            }),
        )
        .await;
    cluster.create_repo("fleet", &url, Some("ssh-auth")).await;
    cluster
        .create_repo("wrong-host", &url, Some("ssh-wrong-host"))
        .await;
    cluster
        .create_kustomization(kustomization("apps", "fleet", "./apps", json!({})))
        .await;

    let repos: Api<GitRepository> = cluster.api();
    let kss: Api<Kustomization> = cluster.api();
    let message = repo_condition(&repos, "fleet", "Ready", "True", "Succeeded", &rev, WAIT).await;
    assert_eq!(message, format!("stored artifact for revision '{rev}'"));
    ks_condition(
        &kss,
        "apps",
        "Ready",
        "True",
        "ReconciliationSucceeded",
        &format!("Applied revision: {rev}"),
        WAIT,
    )
    .await;
    let cms: Api<ConfigMap> = cluster.api_in("default");
    assert_eq!(greeting(&cms, "settings").await.as_deref(), Some("ssh"));

    let message = repo_condition(
        &repos,
        "wrong-host",
        "Ready",
        "False",
        "AuthenticationFailed",
        "host key verification failed",
        WAIT,
    )
    .await;
    assert!(
        message.contains(&url),
        "the message names the URL: {message}"
    );
    let wrong = repos.get("wrong-host").await.unwrap();
    let fetch_failed = condition(wrong.conditions(), "FetchFailed").unwrap();
    assert_eq!(fetch_failed.status, "True");
    assert_eq!(fetch_failed.reason, "AuthenticationFailed");
    assert!(
        wrong.artifact().is_none(),
        "no artifact from an unverified host"
    );
    cluster.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_never_ready_deployment_fails_the_health_check() {
    let mut remote = Remote::new();
    let rev = remote.commit(
        "first",
        &[
            ("apps/web.yaml", &deployment("web", 1, true)),
            ("apps/settings.yaml", &config_map("settings", "hi")),
        ],
    );
    let git = GitHttpServer::start(GitHttpConfig::new(remote.root.path())).unwrap();
    let cluster = Cluster::start().await;
    cluster
        .create_repo("fleet", &git.url("fleet.git"), None)
        .await;
    cluster
        .create_kustomization(kustomization(
            "apps",
            "fleet",
            "./apps",
            json!({"wait": true, "timeout": "3s", "retryInterval": "1m"}),
        ))
        .await;
    let kss: Api<Kustomization> = cluster.api();
    let message = ks_condition(
        &kss,
        "apps",
        "Ready",
        "False",
        "HealthCheckFailed",
        "Deployment/default/web",
        WAIT,
    )
    .await;
    // The simulated Deployment reports ProgressDeadlineExceeded: kstatus Failed, so the wait
    // ends before the timeout, as Flux's fail-fast does.
    assert!(
        message.contains(
            "failed early due to stalled resources: [Deployment/default/web status: 'Failed'"
        ),
        "{message}"
    );
    assert!(
        !message.contains("ConfigMap"),
        "only the unready object is named: {message}"
    );
    let ks = kss.get("apps").await.unwrap();
    let healthy = condition(ks.conditions(), "Healthy").unwrap();
    assert_eq!(healthy.status, "False");
    assert_eq!(healthy.reason, "HealthCheckFailed");
    assert!(
        healthy.message.contains("Deployment/default/web"),
        "{healthy:?}"
    );
    let status = ks.status.unwrap();
    assert_eq!(
        status.last_attempted_revision.as_deref(),
        Some(rev.as_str())
    );
    assert_eq!(
        status.last_applied_revision, None,
        "nothing healthy was applied yet"
    );
    // The objects were applied and are in the inventory, so a later fix can prune them.
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
        ["default_settings__ConfigMap", "default_web_apps_Deployment"]
    );
    let deployments: Api<Deployment> = cluster.api_in("default");
    assert!(deployments.get_opt("web").await.unwrap().is_some());

    // A fix that changes the spec (so the generation moves on and kstatus waits for the
    // Deployment's controller instead of judging its stale status) and drops the annotation.
    let fixed = remote.commit("fix", &[("apps/web.yaml", &deployment("web", 2, false))]);
    ks_condition(
        &kss,
        "apps",
        "Ready",
        "True",
        "ReconciliationSucceeded",
        &format!("Applied revision: {fixed}"),
        WAIT,
    )
    .await;
    let ks = kss.get("apps").await.unwrap();
    let healthy = condition(ks.conditions(), "Healthy").unwrap();
    assert_eq!(healthy.status, "True");
    assert!(
        healthy.message.starts_with("Health check passed in "),
        "{healthy:?}"
    );
    let web = deployments.get("web").await.unwrap();
    assert!(
        !web.metadata
            .annotations
            .unwrap_or_default()
            .contains_key("tether.dev/simulate"),
        "the annotation left with the manifest"
    );
    cluster.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_suspended_kustomization_applies_nothing_until_resumed() {
    let mut remote = Remote::new();
    let first = remote.commit(
        "first",
        &[("apps/settings.yaml", &config_map("settings", "one"))],
    );
    let git = GitHttpServer::start(GitHttpConfig::new(remote.root.path())).unwrap();
    let cluster = Cluster::start().await;
    cluster
        .create_repo("fleet", &git.url("fleet.git"), None)
        .await;
    cluster
        .create_kustomization(kustomization("apps", "fleet", "./apps", json!({})))
        .await;
    let kss: Api<Kustomization> = cluster.api();
    let repos: Api<GitRepository> = cluster.api();
    let cms: Api<ConfigMap> = cluster.api_in("default");
    ks_condition(
        &kss,
        "apps",
        "Ready",
        "True",
        "ReconciliationSucceeded",
        &first,
        WAIT,
    )
    .await;

    kss.patch(
        "apps",
        &PatchParams::default(),
        &Patch::Merge(json!({"spec": {"suspend": true}})),
    )
    .await
    .unwrap();
    // Let the controller see the suspension before the new commit lands.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let second = remote.commit(
        "second",
        &[("apps/settings.yaml", &config_map("settings", "two"))],
    );
    repo_condition(&repos, "fleet", "Ready", "True", "Succeeded", &second, WAIT).await;
    // The source has the new revision; for a few seconds (several source intervals and the
    // Kustomization's retry interval) nothing of it may reach the cluster.
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert_eq!(greeting(&cms, "settings").await.as_deref(), Some("one"));
    let status = kss.get("apps").await.unwrap().status.unwrap();
    assert_eq!(
        status.last_applied_revision.as_deref(),
        Some(first.as_str())
    );
    assert_eq!(
        status.last_attempted_revision.as_deref(),
        Some(first.as_str())
    );

    kss.patch(
        "apps",
        &PatchParams::default(),
        &Patch::Merge(json!({"spec": {"suspend": false}})),
    )
    .await
    .unwrap();
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
    assert_eq!(greeting(&cms, "settings").await.as_deref(), Some("two"));
    cluster.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_remote_going_down_keeps_the_artifact_and_coming_back_resumes() {
    let mut remote = Remote::new();
    let first = remote.commit(
        "first",
        &[("apps/settings.yaml", &config_map("settings", "one"))],
    );
    let git = GitHttpServer::start(GitHttpConfig::new(remote.root.path())).unwrap();
    let port = git.addr().port();
    let url = git.url("fleet.git");
    let cluster = Cluster::start().await;
    cluster.create_repo("fleet", &url, None).await;
    cluster
        .create_kustomization(kustomization("apps", "fleet", "./apps", json!({})))
        .await;
    let kss: Api<Kustomization> = cluster.api();
    let repos: Api<GitRepository> = cluster.api();
    let cms: Api<ConfigMap> = cluster.api_in("default");
    ks_condition(
        &kss,
        "apps",
        "Ready",
        "True",
        "ReconciliationSucceeded",
        &first,
        WAIT,
    )
    .await;
    let artifact = repos
        .get("fleet")
        .await
        .unwrap()
        .artifact()
        .cloned()
        .unwrap();

    git.stop();
    let message = repo_condition(
        &repos,
        "fleet",
        "Ready",
        "False",
        "GitOperationFailed",
        &url,
        WAIT,
    )
    .await;
    assert!(message.contains("fetching branch 'main'"), "{message}");
    let repo = repos.get("fleet").await.unwrap();
    let fetch_failed = condition(repo.conditions(), "FetchFailed").unwrap();
    assert_eq!(fetch_failed.status, "True");
    assert_eq!(fetch_failed.reason, "GitOperationFailed");
    assert_eq!(
        repo.artifact(),
        Some(&artifact),
        "the last good artifact is kept"
    );
    // The Kustomization still holds its objects and stays Ready on the last applied revision.
    assert_eq!(greeting(&cms, "settings").await.as_deref(), Some("one"));
    let ks = kss.get("apps").await.unwrap();
    assert_eq!(condition(ks.conditions(), "Ready").unwrap().status, "True");

    // A commit lands while the server is down, then it comes back on the same port.
    let second = remote.commit(
        "second",
        &[("apps/settings.yaml", &config_map("settings", "two"))],
    );
    let _git =
        GitHttpServer::start(GitHttpConfig::new(remote.root.path()).with_port(port)).unwrap();
    let message =
        repo_condition(&repos, "fleet", "Ready", "True", "Succeeded", &second, WAIT).await;
    assert_eq!(message, format!("stored artifact for revision '{second}'"));
    let repo = repos.get("fleet").await.unwrap();
    assert_eq!(condition(repo.conditions(), "FetchFailed"), None);
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
    assert_eq!(greeting(&cms, "settings").await.as_deref(), Some("two"));
    cluster.stop().await;
}

/// A Job `name` in `default` whose pod template runs `image`.
fn job(name: &str, image: &str) -> String {
    format!(
        "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: {name}\n  namespace: default\nspec:\n  template:\n    spec:\n      restartPolicy: Never\n      containers:\n      - name: main\n        image: {image}\n"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_immutable_field_change_fails_until_force_recreates_the_object() {
    let mut remote = Remote::new();
    let first = remote.commit(
        "first",
        &[("apps/migrate.yaml", &job("migrate", "busybox:1.36"))],
    );
    let git = GitHttpServer::start(GitHttpConfig::new(remote.root.path())).unwrap();
    let cluster = Cluster::start().await;
    cluster
        .create_repo("fleet", &git.url("fleet.git"), None)
        .await;
    cluster
        .create_kustomization(kustomization("apps", "fleet", "./apps", json!({})))
        .await;
    let kss: Api<Kustomization> = cluster.api();
    let jobs: Api<Job> = cluster.api_in("default");
    ks_condition(
        &kss,
        "apps",
        "Ready",
        "True",
        "ReconciliationSucceeded",
        &first,
        WAIT,
    )
    .await;
    let original = jobs.get("migrate").await.unwrap().metadata.uid.unwrap();

    // A Job's pod template cannot change: without force the apply fails and the Job stays.
    let second = remote.commit(
        "second",
        &[("apps/migrate.yaml", &job("migrate", "busybox:1.37"))],
    );
    let message = ks_condition(
        &kss,
        "apps",
        "Ready",
        "False",
        "ReconciliationFailed",
        "Job/default/migrate dry-run failed",
        WAIT,
    )
    .await;
    assert!(message.contains("field is immutable"), "{message}");
    let image = |job: &Job| {
        job.spec
            .as_ref()
            .unwrap()
            .template
            .spec
            .as_ref()
            .unwrap()
            .containers[0]
            .image
            .clone()
            .unwrap()
    };
    let kept = jobs.get("migrate").await.unwrap();
    assert_eq!(kept.metadata.uid.as_deref(), Some(original.as_str()));
    assert_eq!(image(&kept), "busybox:1.36");

    // With force, the Job is deleted and created again from the new revision.
    kss.patch(
        "apps",
        &PatchParams::default(),
        &Patch::Merge(json!({"spec": {"force": true}})),
    )
    .await
    .unwrap();
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
    let recreated = jobs.get("migrate").await.unwrap();
    assert_ne!(recreated.metadata.uid.as_deref(), Some(original.as_str()));
    assert_eq!(image(&recreated), "busybox:1.37");
    cluster.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_included_repository_replaces_its_directory_and_its_commits_propagate() {
    let mut fleet = Remote::new();
    let stale = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: stale\n  namespace: default\n";
    fleet.commit(
        "fleet",
        &[("shared/stale.yaml", stale), ("README.md", "fleet")],
    );
    let mut lib = Remote::new();
    let first = lib.commit(
        "lib",
        &[
            ("base/settings.yaml", &config_map("settings", "one")),
            ("unrelated/other.yaml", &config_map("other", "x")),
        ],
    );
    let fleet_git = GitHttpServer::start(GitHttpConfig::new(fleet.root.path())).unwrap();
    let lib_git = GitHttpServer::start(GitHttpConfig::new(lib.root.path())).unwrap();
    let cluster = Cluster::start().await;
    cluster
        .create_repo("lib", &lib_git.url("fleet.git"), None)
        .await;
    let repos: Api<GitRepository> = cluster.api();
    let including: GitRepository = serde_json::from_value(json!({
        "apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "GitRepository",
        "metadata": {"name": "fleet", "namespace": NS},
        "spec": {
            "url": fleet_git.url("fleet.git"), "interval": "1h", "ref": {"branch": "main"},
            "include": [{"repository": {"name": "lib"}, "fromPath": "base", "toPath": "shared"}],
        },
    }))
    .unwrap();
    repos
        .create(&kube::api::PostParams::default(), &including)
        .await
        .unwrap();
    cluster
        .create_kustomization(kustomization("shared", "fleet", "./shared", json!({})))
        .await;
    let cms: Api<ConfigMap> = cluster.api_in("default");
    wait_for("the included ConfigMap", WAIT, async || {
        (greeting(&cms, "settings").await.as_deref() == Some("one")).then_some(())
    })
    .await;
    // The directory came from the include alone.
    assert!(cms.get_opt("stale").await.unwrap().is_none());
    assert!(cms.get_opt("other").await.unwrap().is_none());
    let status = repos.get("fleet").await.unwrap().status.unwrap();
    assert_eq!(status.included_artifacts.len(), 1);
    assert_eq!(status.included_artifacts[0].revision, first);

    // A commit to the included repository reaches the cluster although the including one
    // (interval 1h) did not change.
    let second = lib.commit(
        "lib 2",
        &[("base/settings.yaml", &config_map("settings", "two"))],
    );
    wait_for("the included change applied", WAIT, async || {
        (greeting(&cms, "settings").await.as_deref() == Some("two")).then_some(())
    })
    .await;
    let status = repos.get("fleet").await.unwrap().status.unwrap();
    assert_eq!(status.included_artifacts[0].revision, second);
    cluster.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_include_of_a_missing_repository_is_reported() {
    let mut fleet = Remote::new();
    fleet.commit("fleet", &[("README.md", "fleet")]);
    let git = GitHttpServer::start(GitHttpConfig::new(fleet.root.path())).unwrap();
    let cluster = Cluster::start().await;
    let repos: Api<GitRepository> = cluster.api();
    let including: GitRepository = serde_json::from_value(json!({
        "apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "GitRepository",
        "metadata": {"name": "fleet", "namespace": NS},
        "spec": {
            "url": git.url("fleet.git"), "interval": "1s", "ref": {"branch": "main"},
            "include": [{"repository": {"name": "absent"}}],
        },
    }))
    .unwrap();
    repos
        .create(&kube::api::PostParams::default(), &including)
        .await
        .unwrap();
    let expected = "could not get resource for include 'absent'";
    repo_condition(
        &repos, "fleet", "Ready", "False", "NotFound", expected, WAIT,
    )
    .await;
    repo_condition(
        &repos,
        "fleet",
        "IncludeUnavailable",
        "True",
        "NotFound",
        expected,
        WAIT,
    )
    .await;
    cluster.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn checks_tether_cannot_run_fail_closed_instead_of_passing_unchecked() {
    let mut remote = Remote::new();
    remote.commit(
        "first",
        &[("apps/settings.yaml", &config_map("settings", "one"))],
    );
    let git = GitHttpServer::start(GitHttpConfig::new(remote.root.path())).unwrap();
    let cluster = Cluster::start().await;
    let repos: Api<GitRepository> = cluster.api();
    let verified: GitRepository = serde_json::from_value(json!({
        "apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "GitRepository",
        "metadata": {"name": "signed", "namespace": NS},
        "spec": {
            "url": git.url("fleet.git"), "interval": "1s", "ref": {"branch": "main"},
            "verify": {"mode": "HEAD", "secretRef": {"name": "keys"}},
        },
    }))
    .unwrap();
    repos
        .create(&kube::api::PostParams::default(), &verified)
        .await
        .unwrap();
    repo_condition(
        &repos,
        "signed",
        "Ready",
        "False",
        "VerificationError",
        "spec.verify) is not supported by tether yet",
        WAIT,
    )
    .await;
    assert!(
        repos
            .get("signed")
            .await
            .unwrap()
            .status
            .unwrap()
            .artifact
            .is_none()
    );

    cluster
        .create_repo("fleet", &git.url("fleet.git"), None)
        .await;
    cluster
        .create_kustomization(kustomization(
            "cel",
            "fleet",
            "./apps",
            json!({"healthCheckExprs": [{"apiVersion": "example.com/v1", "kind": "Widget", "current": "status.ready"}]}),
        ))
        .await;
    let kss: Api<Kustomization> = cluster.api();
    ks_condition(
        &kss,
        "cel",
        "Ready",
        "False",
        "ReconciliationFailed",
        "spec.healthCheckExprs (CEL health checks) is not supported by tether yet",
        WAIT,
    )
    .await;
    cluster
        .create_kustomization(kustomization(
            "sops",
            "fleet",
            "./apps",
            json!({"decryption": {"provider": "sops"}}),
        ))
        .await;
    ks_condition(
        &kss,
        "sops",
        "Ready",
        "False",
        "ReconciliationFailed",
        "spec.decryption (SOPS) is not supported by tether yet",
        WAIT,
    )
    .await;
    let cms: Api<ConfigMap> = cluster.api_in("default");
    assert_eq!(greeting(&cms, "settings").await, None);
    cluster.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recurse_submodules_applies_the_submodules_manifests_over_smart_http() {
    let mut remote = Remote::new();
    // `lib.git` beside `fleet.git`, pinned by a gitlink with a relative URL.
    let lib_bare = tether_testkit::init_bare(&remote.root.path().join("lib.git")).unwrap();
    let mut lib = tether_testkit::WorkRepo::new().unwrap();
    lib.write("settings.yaml", config_map("settings", "from-submodule"))
        .unwrap();
    let lib_commit = lib.commit("lib").unwrap();
    lib.push(lib_bare.to_str().unwrap(), &["main"]).unwrap();
    std::fs::create_dir_all(remote.work.path().join("apps/lib")).unwrap();
    remote
        .work
        .git(&[
            "update-index",
            "--add",
            "--cacheinfo",
            &format!("160000,{lib_commit},apps/lib"),
        ])
        .unwrap();
    remote.commit(
        "fleet",
        &[
            (
                ".gitmodules",
                "[submodule \"lib\"]\n\tpath = apps/lib\n\turl = ../lib.git\n",
            ),
            (
                "apps/kustomization.yaml",
                "resources:\n- lib/settings.yaml\n",
            ),
        ],
    );
    let git = GitHttpServer::start(
        GitHttpConfig::new(remote.root.path()).with_basic_auth("flux", "s3cret"),
    )
    .unwrap();
    let cluster = Cluster::start().await;
    cluster
        .create_secret("auth", json!({"username": "flux", "password": "s3cret"}))
        .await;
    let repos: Api<GitRepository> = cluster.api();
    let repo: GitRepository = serde_json::from_value(json!({
        "apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "GitRepository",
        "metadata": {"name": "fleet", "namespace": NS},
        "spec": {
            "url": git.url("fleet.git"), "interval": "1m", "ref": {"branch": "main"},
            "secretRef": {"name": "auth"}, "recurseSubmodules": true,
        },
    }))
    .unwrap();
    repos
        .create(&kube::api::PostParams::default(), &repo)
        .await
        .unwrap();
    cluster
        .create_kustomization(kustomization("apps", "fleet", "./apps", json!({})))
        .await;
    let kss: Api<Kustomization> = cluster.api();
    ks_condition(
        &kss,
        "apps",
        "Ready",
        "True",
        "ReconciliationSucceeded",
        "Applied revision",
        WAIT,
    )
    .await;
    let cms: Api<ConfigMap> = cluster.api_in("default");
    assert_eq!(
        greeting(&cms, "settings").await.as_deref(),
        Some("from-submodule")
    );
    let status = repos.get("fleet").await.unwrap().status.unwrap();
    assert!(status.observed_recurse_submodules);
    cluster.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kubectl_edit_is_reverted_when_reconciliation_is_requested() {
    let mut remote = Remote::new();
    let rev = remote.commit(
        "first",
        &[
            ("apps/settings.yaml", &config_map("settings", "original")),
            ("apps/web.yaml", &deployment("web", 2, false)),
        ],
    );
    let git = GitHttpServer::start(GitHttpConfig::new(remote.root.path())).unwrap();
    let cluster = Cluster::start().await;
    cluster
        .create_repo("fleet", &git.url("fleet.git"), None)
        .await;
    cluster
        .create_kustomization(kustomization("apps", "fleet", "./apps", json!({})))
        .await;
    let kss: Api<Kustomization> = cluster.api();
    let cms: Api<ConfigMap> = cluster.api_in("default");
    let deployments: Api<Deployment> = cluster.api_in("default");
    ks_condition(
        &kss,
        "apps",
        "Ready",
        "True",
        "ReconciliationSucceeded",
        &rev,
        WAIT,
    )
    .await;

    let edit = PatchParams {
        field_manager: Some("kubectl-edit".to_owned()),
        ..PatchParams::default()
    };
    cms.patch(
        "settings",
        &edit,
        &Patch::Merge(json!({"data": {"greeting": "edited", "extra": "added"}})),
    )
    .await
    .unwrap();
    deployments
        .patch(
            "web",
            &edit,
            &Patch::Merge(json!({"spec": {"replicas": 5}})),
        )
        .await
        .unwrap();
    assert_eq!(greeting(&cms, "settings").await.as_deref(), Some("edited"));
    let replicas = async || deployments.get("web").await.unwrap().spec.unwrap().replicas;
    assert_eq!(replicas().await, Some(5));

    set_annotation(
        &kss,
        "apps",
        "reconcile.fluxcd.io/requestedAt",
        "2025-01-01T00:00:00Z",
    )
    .await;
    wait_for("the edits to be reverted", WAIT, async || {
        (greeting(&cms, "settings").await.as_deref() == Some("original")
            && replicas().await == Some(2))
        .then_some(())
    })
    .await;
    // A key kubectl added is removed too: kubectl's fields are taken over, then dropped by an
    // apply that does not set them.
    let data = cms.get("settings").await.unwrap().data.unwrap();
    assert_eq!(data.keys().collect::<Vec<_>>(), ["greeting"], "{data:?}");
    let handled = wait_for("lastHandledReconcileAt", WAIT, async || {
        kss.get("apps")
            .await
            .unwrap()
            .status
            .and_then(|s| s.last_handled_reconcile_at)
    })
    .await;
    assert_eq!(handled, "2025-01-01T00:00:00Z");
    // kubectl-edit no longer owns the reverted fields.
    let cm = cms.get("settings").await.unwrap();
    let owners: Vec<String> = cm
        .metadata
        .managed_fields
        .unwrap_or_default()
        .into_iter()
        .filter(|m| {
            m.fields_v1
                .as_ref()
                .is_some_and(|f| f.0.to_string().contains("f:greeting"))
        })
        .filter_map(|m| m.manager)
        .collect();
    assert_eq!(owners, ["kustomize-controller"]);
    cluster.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_dependency_holds_back_its_dependents() {
    let mut remote = Remote::new();
    let rev = remote.commit(
        "first",
        &[("apps/settings.yaml", &config_map("settings", "x"))],
    );
    let git = GitHttpServer::start(GitHttpConfig::new(remote.root.path())).unwrap();
    let cluster = Cluster::start().await;
    cluster
        .create_repo("fleet", &git.url("fleet.git"), None)
        .await;
    cluster
        .create_kustomization(kustomization("base", "fleet", "./missing", json!({})))
        .await;
    cluster
        .create_kustomization(kustomization(
            "apps",
            "fleet",
            "./apps",
            json!({"dependsOn": [{"name": "base"}]}),
        ))
        .await;
    let kss: Api<Kustomization> = cluster.api();
    let message = ks_condition(
        &kss,
        "base",
        "Ready",
        "False",
        "BuildFailed",
        "kustomization path not found",
        WAIT,
    )
    .await;
    assert!(message.contains("missing"), "names the path: {message}");
    let message = ks_condition(
        &kss,
        "apps",
        "Ready",
        "False",
        "DependencyNotReady",
        &format!("dependency '{NS}/base' is not ready"),
        WAIT,
    )
    .await;
    assert!(
        message.starts_with("Dependencies do not meet ready condition"),
        "{message}"
    );
    let base = kss.get("base").await.unwrap().status.unwrap();
    assert_eq!(base.last_attempted_revision.as_deref(), Some(rev.as_str()));
    // Several retries later, still nothing of `apps` is applied.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let cms: Api<ConfigMap> = cluster.api_in("default");
    assert_eq!(greeting(&cms, "settings").await, None);
    let apps = kss.get("apps").await.unwrap();
    assert_eq!(
        condition(apps.conditions(), "Ready").unwrap().reason,
        "DependencyNotReady"
    );
    assert_eq!(apps.status.unwrap().last_applied_revision, None);

    // The dependency's path appears: it becomes Ready, then the dependent applies the same
    // revision.
    let fixed = remote.commit(
        "add the base",
        &[(
            "missing/namespace.yaml",
            "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: base\n",
        )],
    );
    for name in ["base", "apps"] {
        ks_condition(
            &kss,
            name,
            "Ready",
            "True",
            "ReconciliationSucceeded",
            &format!("Applied revision: {fixed}"),
            WAIT,
        )
        .await;
    }
    assert_eq!(greeting(&cms, "settings").await.as_deref(), Some("x"));
    cluster.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_successful_reconcile_records_an_event_and_metrics() {
    let mut remote = Remote::new();
    let rev = remote.commit(
        "first",
        &[("apps/settings.yaml", &config_map("settings", "x"))],
    );
    let git = GitHttpServer::start(GitHttpConfig::new(remote.root.path())).unwrap();
    let cluster = Cluster::start().await;
    cluster
        .create_repo("fleet", &git.url("fleet.git"), None)
        .await;
    cluster
        .create_kustomization(kustomization("apps", "fleet", "./apps", json!({})))
        .await;
    let kss: Api<Kustomization> = cluster.api();
    ks_condition(
        &kss,
        "apps",
        "Ready",
        "True",
        "ReconciliationSucceeded",
        &rev,
        WAIT,
    )
    .await;

    // Events (events.k8s.io/v1, as kube-rs's recorder writes them), about the Kustomization.
    let events: Api<k8s_openapi::api::events::v1::Event> = cluster.api();
    let event = wait_for("a ReconciliationSucceeded event", WAIT, async || {
        events
            .list(&Default::default())
            .await
            .unwrap()
            .items
            .into_iter()
            .find(|e| {
                e.reason.as_deref() == Some("ReconciliationSucceeded")
                    && e.regarding.as_ref().is_some_and(|r| {
                        r.kind.as_deref() == Some("Kustomization")
                            && r.name.as_deref() == Some("apps")
                    })
            })
    })
    .await;
    assert_eq!(event.type_.as_deref(), Some("Normal"));
    assert_eq!(
        event.reporting_controller.as_deref(),
        Some("kustomize-controller")
    );
    let note = event.note.unwrap_or_default();
    assert!(note.starts_with("Reconciliation finished in "), "{note}");
    let regarding = event.regarding.unwrap();
    assert_eq!(regarding.namespace.as_deref(), Some(NS));
    assert_eq!(
        regarding.api_version.as_deref(),
        Some("kustomize.toolkit.fluxcd.io/v1")
    );
    // The source's NewArtifact event too.
    let new_artifact = events
        .list(&Default::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .find(|e| {
            e.reason.as_deref() == Some("NewArtifact")
                && e.regarding
                    .as_ref()
                    .is_some_and(|r| r.kind.as_deref() == Some("GitRepository"))
        });
    assert!(
        new_artifact.is_some(),
        "a NewArtifact event for the GitRepository"
    );

    // Metrics.
    let (status, body) = http_get(cluster.metrics, "/metrics").await;
    assert!(status.contains("200"), "{status}");
    let labels = format!("kind=\"Kustomization\",name=\"apps\",namespace=\"{NS}\"");
    let count_line = body
        .lines()
        .find(|l| {
            l.starts_with(&format!(
                "gotk_reconcile_duration_seconds_count{{{labels}}}"
            ))
        })
        .unwrap_or_else(|| panic!("no reconcile duration for apps in:\n{body}"));
    let count: u64 = count_line.rsplit(' ').next().unwrap().parse().unwrap();
    assert!(count >= 1, "{count_line}");
    assert!(
        body.contains(&format!(
            "gotk_reconcile_condition{{{labels},type=\"Ready\",status=\"True\"}} 1"
        )),
        "{body}"
    );
    assert!(
        body.contains(&format!("gotk_suspend_status{{{labels}}} 0")),
        "{body}"
    );
    assert!(
        body.contains(
            "gotk_reconcile_duration_seconds_count{kind=\"GitRepository\",name=\"fleet\""
        ),
        "{body}"
    );
    cluster.stop().await;
}
