//! Flux's Receiver against the embedded control plane, over real HTTP: the reconciler
//! publishes the webhook path (or says which Secret or type is wrong), and the webhook server
//! turns valid requests, and only those, into `reconcile.fluxcd.io/requestedAt` annotations
//! that make a GitRepository with a 1h interval fetch a new commit at once.
#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests: a panic is a failed assertion.

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use common::{NS, Remote, config_map, greeting, wait_for};
use k8s_openapi::api::core::v1::ConfigMap;
use kube::Client;
use kube::api::{Api, PostParams};
use tether_api::{GitRepository, Kustomization, Receiver, keys};
use tether_controller::receiver::sign_sha256;
use tether_controller::{Concurrency, ControllerConfig, ReconcileOptions};
use tether_testkit::{GitHttpConfig, GitHttpServer};

/// The control plane and the controllers with a webhook server on an ephemeral port.
struct Webhooks {
    server: tether_apiserver::RunningServer,
    client: Client,
    addr: SocketAddr,
    stop: tokio::sync::oneshot::Sender<()>,
    controllers: tokio::task::JoinHandle<Result<(), tether_controller::RunError>>,
    _storage: tempfile::TempDir,
}

impl Webhooks {
    async fn start() -> Webhooks {
        let server = tether_apiserver::start(tether_apiserver::ServerConfig::ephemeral())
            .await
            .unwrap();
        let config = common::kube_config(&server).await;
        let client = Client::try_from(config.clone()).unwrap();
        tether_controller::install_crds(&client).await.unwrap();
        let storage = tempfile::tempdir().unwrap();
        let controller = ControllerConfig {
            concurrency: Concurrency {
                git_repositories: 2,
                kustomizations: 2,
            },
            options: ReconcileOptions::default(),
            storage_path: storage.path().to_path_buf(),
            storage_addr: "127.0.0.1:0".parse().unwrap(),
            storage_adv_addr: None,
            metrics_addr: None,
            leader_election: None,
            receiver_addr: Some("127.0.0.1:0".parse().unwrap()),
        };
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let (tx, rx) = std::sync::mpsc::channel();
        let controllers = tokio::spawn(tether_controller::run(
            config,
            controller,
            async move {
                let _ = stopped.await;
            },
            move |served| {
                let _ = tx.send(served.receiver);
            },
        ));
        let addr = wait_for("the webhook server", Duration::from_secs(10), async || {
            rx.try_recv().ok()
        })
        .await
        .expect("the controller serves webhooks");
        Webhooks {
            server,
            client,
            addr,
            stop,
            controllers,
            _storage: storage,
        }
    }

    async fn stop(self) {
        let _ = self.stop.send(());
        tokio::time::timeout(Duration::from_secs(30), self.controllers)
            .await
            .expect("controllers stop within 30s")
            .unwrap()
            .unwrap();
        self.server.shutdown().await.unwrap();
    }

    fn api<K>(&self) -> Api<K>
    where
        K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope>,
        K::DynamicType: Default,
    {
        Api::namespaced(self.client.clone(), NS)
    }

    async fn create_secret(&self, name: &str, token: &str) {
        let secret = serde_json::from_value(serde_json::json!({
            "apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": name, "namespace": NS},
            "stringData": {"token": token},
        }))
        .unwrap();
        self.api::<k8s_openapi::api::core::v1::Secret>()
            .create(&PostParams::default(), &secret)
            .await
            .unwrap();
    }
}

/// `POST path` with `headers` and `body` over HTTP/1.1; the status code.
async fn post(addr: SocketAddr, path: &str, headers: &[(&str, &str)], body: &str) -> u16 {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut request = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        request.push_str(&format!("{k}: {v}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(body);
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.unwrap();
    let text = String::from_utf8_lossy(&raw);
    text.split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {text:?}"))
}

fn receiver(name: &str, type_: &str, secret: &str, resources: serde_json::Value) -> Receiver {
    serde_json::from_value(serde_json::json!({
        "apiVersion": "notification.toolkit.fluxcd.io/v1", "kind": "Receiver",
        "metadata": {"name": name, "namespace": NS},
        "spec": {"type": type_, "events": ["push"], "secretRef": {"name": secret}, "resources": resources},
    }))
    .unwrap()
}

/// Waits until Receiver `name` has Ready `status` with `reason`; returns it.
async fn receiver_ready(api: &Api<Receiver>, name: &str, status: &str, reason: &str) -> Receiver {
    let mut last = None;
    let found = wait_for(
        &format!("Receiver {name} Ready={status} {reason}"),
        Duration::from_secs(30),
        async || {
            let r = api.get(name).await.unwrap();
            let ready = tether_api::conditions::find(r.conditions(), "Ready").cloned();
            let hit = ready
                .as_ref()
                .is_some_and(|c| c.status == status && c.reason == reason);
            last = ready;
            hit.then_some(r)
        },
    )
    .await;
    assert!(last.is_some());
    found
}

fn requested_at(repo: &GitRepository) -> Option<String> {
    repo.metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(keys::RECONCILE_REQUESTED_AT_ANNOTATION).cloned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn receivers_publish_their_path_or_say_what_is_missing() {
    let hooks = Webhooks::start().await;
    let c = &hooks;
    let receivers: Api<Receiver> = c.api();
    let resources = serde_json::json!([{"kind": "GitRepository", "name": "fleet"}]);
    receivers
        .create(
            &PostParams::default(),
            &receiver("hook", "generic", "hook-token", resources.clone()),
        )
        .await
        .unwrap();
    let r = receiver_ready(&receivers, "hook", "False", "TokenNotFound").await;
    let message = &tether_api::conditions::find(r.conditions(), "Ready")
        .unwrap()
        .message;
    assert!(message.contains("'flux-system/hook-token'"), "{message}");
    assert_eq!(r.webhook_path(), None);

    c.create_secret("hook-token", "s3cret").await;
    let r = receiver_ready(&receivers, "hook", "True", "Succeeded").await;
    let path = tether_api::webhook_path("s3cret", "hook", NS);
    assert_eq!(r.webhook_path(), Some(path.as_str()));
    let message = &tether_api::conditions::find(r.conditions(), "Ready")
        .unwrap()
        .message;
    assert_eq!(message, &format!("Receiver initialized for path: {path}"));

    receivers
        .create(
            &PostParams::default(),
            &receiver("lab", "gitlab", "hook-token", resources),
        )
        .await
        .unwrap();
    let r = receiver_ready(&receivers, "lab", "False", "UnsupportedType").await;
    let message = &tether_api::conditions::find(r.conditions(), "Ready")
        .unwrap()
        .message;
    assert!(message.contains("'gitlab'"), "{message}");
    assert_eq!(r.webhook_path(), None);
    // The path a gitlab Receiver would have is not served.
    let lab_path = tether_api::webhook_path("s3cret", "lab", NS);
    assert_eq!(post(hooks.addr, &lab_path, &[], "{}").await, 404);
    hooks.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn webhooks_trigger_only_when_valid() {
    let hooks = Webhooks::start().await;
    let c = &hooks;
    let mut remote = Remote::new();
    remote.commit(
        "v1",
        &[("app/settings.yaml", &config_map("settings", "v1"))],
    );
    let git = GitHttpServer::start(GitHttpConfig::new(remote.root.path())).unwrap();
    let repos: Api<GitRepository> = c.api();
    let repo: GitRepository = serde_json::from_value(serde_json::json!({
        "apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "GitRepository",
        "metadata": {"name": "fleet", "namespace": NS, "labels": {"team": "a"}},
        "spec": {"url": git.url("fleet.git"), "interval": "1h", "timeout": "10s", "ref": {"branch": "main"}},
    }))
    .unwrap();
    repos.create(&PostParams::default(), &repo).await.unwrap();
    let ks: Kustomization = serde_json::from_value(common::kustomization(
        "app",
        "fleet",
        "./app",
        serde_json::json!({"interval": "1h"}),
    ))
    .unwrap();
    c.api::<Kustomization>()
        .create(&PostParams::default(), &ks)
        .await
        .unwrap();
    let cms: Api<ConfigMap> = Api::namespaced(c.client.clone(), "default");
    wait_for("v1 applied", Duration::from_secs(30), async || {
        (greeting(&cms, "settings").await.as_deref() == Some("v1")).then_some(())
    })
    .await;

    c.create_secret("gh-token", "gh-s3cret").await;
    let receivers: Api<Receiver> = c.api();
    // name '*' with matchLabels selects the GitRepository by its label.
    let resources =
        serde_json::json!([{"kind": "GitRepository", "name": "*", "matchLabels": {"team": "a"}}]);
    receivers
        .create(
            &PostParams::default(),
            &receiver("github", "github", "gh-token", resources),
        )
        .await
        .unwrap();
    let r = receiver_ready(&receivers, "github", "True", "Succeeded").await;
    let path = r.webhook_path().unwrap().to_owned();

    remote.commit(
        "v2",
        &[("app/settings.yaml", &config_map("settings", "v2"))],
    );
    let body = r#"{"ref":"refs/heads/main"}"#;
    let good = sign_sha256(b"gh-s3cret", body.as_bytes());
    let forged = sign_sha256(b"guess", body.as_bytes());

    // Unknown paths and bad signatures change nothing.
    assert_eq!(post(hooks.addr, "/hook/0000", &[], body).await, 404);
    assert_eq!(post(hooks.addr, "/other", &[], body).await, 404);
    let forged_headers = [
        ("X-Hub-Signature-256", forged.as_str()),
        ("X-GitHub-Event", "push"),
    ];
    assert_eq!(post(hooks.addr, &path, &forged_headers, body).await, 401);
    assert_eq!(
        post(hooks.addr, &path, &[("X-GitHub-Event", "push")], body).await,
        401
    );
    // ping is answered but reconciles nothing; events the Receiver does not list are refused.
    let ping = [
        ("X-Hub-Signature-256", good.as_str()),
        ("X-GitHub-Event", "ping"),
    ];
    assert_eq!(post(hooks.addr, &path, &ping, body).await, 200);
    let issues = [
        ("X-Hub-Signature-256", good.as_str()),
        ("X-GitHub-Event", "issues"),
    ];
    assert_eq!(post(hooks.addr, &path, &issues, body).await, 400);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(requested_at(&repos.get("fleet").await.unwrap()), None);
    assert_eq!(greeting(&cms, "settings").await.as_deref(), Some("v1"));

    // A signed push: the GitRepository is annotated and fetches v2 long before its 1h interval.
    let push = [
        ("X-Hub-Signature-256", good.as_str()),
        ("X-GitHub-Event", "push"),
    ];
    assert_eq!(post(hooks.addr, &path, &push, body).await, 200);
    let requested = requested_at(&repos.get("fleet").await.unwrap())
        .expect("the webhook annotated the GitRepository before answering");
    wait_for("v2 applied", Duration::from_secs(30), async || {
        (greeting(&cms, "settings").await.as_deref() == Some("v2")).then_some(())
    })
    .await;
    let repo = repos.get("fleet").await.unwrap();
    assert_eq!(
        repo.status.unwrap().last_handled_reconcile_at.as_deref(),
        Some(requested.as_str())
    );
    let ks: Api<Kustomization> = c.api();
    assert!(tether_api::conditions::is_ready(
        ks.get("app").await.unwrap().conditions()
    ));

    // A suspended Receiver's path is not served.
    let suspend = serde_json::json!({"spec": {"suspend": true}});
    receivers
        .patch(
            "github",
            &kube::api::PatchParams::default(),
            &kube::api::Patch::Merge(&suspend),
        )
        .await
        .unwrap();
    wait_for("the suspension seen", Duration::from_secs(10), async || {
        (post(hooks.addr, &path, &push, body).await == 404).then_some(())
    })
    .await;
    git.stop();
    hooks.stop().await;
}
