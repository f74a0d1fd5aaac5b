//! Shared set-up for the end-to-end scenarios: the embedded control plane, tether's CRDs, the
//! controllers in this process, and helpers to create sources and wait for conditions.
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)] // Tests: a panic is a failed assertion.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use kube::Client;
use kube::api::{Api, PostParams};
use tether_api::{GitRepository, Kustomization};
use tether_controller::{Concurrency, ControllerConfig, ReconcileOptions};
use tether_testkit::{WorkRepo, init_bare};

pub const NS: &str = "flux-system";

/// The control plane and the controllers, stopped by [`Cluster::stop`].
pub struct Cluster {
    pub server: tether_apiserver::RunningServer,
    pub client: Client,
    pub metrics: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    controllers: Option<tokio::task::JoinHandle<Result<(), tether_controller::RunError>>>,
    _storage: tempfile::TempDir,
}

impl Cluster {
    pub async fn start() -> Cluster {
        let server = tether_apiserver::start(tether_apiserver::ServerConfig::ephemeral())
            .await
            .unwrap();
        Cluster::start_with(server, ReconcileOptions::default()).await
    }

    /// The controllers, with `options` (test timings are set on top), on a running control plane.
    pub async fn start_with(
        server: tether_apiserver::RunningServer,
        options: ReconcileOptions,
    ) -> Cluster {
        let cluster = kube_config(&server).await;
        let client = Client::try_from(cluster.clone()).unwrap();
        tether_controller::install_crds(&client).await.unwrap();
        let storage = tempfile::tempdir().unwrap();
        let config = ControllerConfig {
            concurrency: Concurrency {
                git_repositories: 2,
                kustomizations: 4,
            },
            options: ReconcileOptions {
                requeue_dependency: Duration::from_secs(1),
                requeue_artifact: Duration::from_secs(1),
                health_poll: Duration::from_millis(250),
                ..options
            },
            storage_path: storage.path().to_path_buf(),
            storage_addr: "127.0.0.1:0".parse().unwrap(),
            storage_adv_addr: None,
            metrics_addr: Some("127.0.0.1:0".parse().unwrap()),
            leader_election: None,
            receiver_addr: None,
        };
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let (served_tx, served_rx) = std::sync::mpsc::channel();
        let controllers = tokio::spawn(tether_controller::run(
            cluster,
            config,
            async move {
                let _ = stopped.await;
            },
            move |served| {
                let _ = served_tx.send(served.metrics);
            },
        ));
        let metrics = wait_for(
            "the controller's servers",
            Duration::from_secs(10),
            async || served_rx.try_recv().ok(),
        )
        .await
        .expect("the controller serves metrics");
        Cluster {
            server,
            client,
            metrics,
            stop: Some(stop),
            controllers: Some(controllers),
            _storage: storage,
        }
    }

    pub fn api<K>(&self) -> Api<K>
    where
        K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope>,
        K::DynamicType: Default,
    {
        Api::namespaced(self.client.clone(), NS)
    }

    pub fn api_in<K>(&self, namespace: &str) -> Api<K>
    where
        K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope>,
        K::DynamicType: Default,
    {
        Api::namespaced(self.client.clone(), namespace)
    }

    /// Stops the controllers (they must return without error) and the control plane.
    pub async fn stop(mut self) {
        let _ = self.stop.take().unwrap().send(());
        tokio::time::timeout(Duration::from_secs(30), self.controllers.take().unwrap())
            .await
            .expect("controllers stop within 30s")
            .unwrap()
            .unwrap();
        self.server.shutdown().await.unwrap();
    }

    pub async fn create_secret(&self, name: &str, string_data: serde_json::Value) {
        let secret: Secret = serde_json::from_value(serde_json::json!({
            "apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": name, "namespace": NS},
            "stringData": string_data,
        }))
        .unwrap();
        self.api::<Secret>()
            .create(&PostParams::default(), &secret)
            .await
            .unwrap();
    }

    /// A GitRepository `name` following `main` of `url` every second.
    pub async fn create_repo(&self, name: &str, url: &str, secret: Option<&str>) {
        let mut spec = serde_json::json!({
            "url": url, "interval": "1s", "timeout": "10s", "ref": {"branch": "main"},
        });
        if let Some(s) = secret {
            spec["secretRef"] = serde_json::json!({ "name": s });
        }
        let repo: GitRepository = serde_json::from_value(serde_json::json!({
            "apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "GitRepository",
            "metadata": {"name": name, "namespace": NS},
            "spec": spec,
        }))
        .unwrap();
        self.api::<GitRepository>()
            .create(&PostParams::default(), &repo)
            .await
            .unwrap();
    }

    pub async fn create_kustomization(&self, ks: serde_json::Value) {
        let ks: Kustomization = serde_json::from_value(ks).unwrap();
        self.api::<Kustomization>()
            .create(&PostParams::default(), &ks)
            .await
            .unwrap();
    }
}

/// A Kustomization manifest on GitRepository `source`, with `extra` merged into its spec.
pub fn kustomization(
    name: &str,
    source: &str,
    path: &str,
    extra: serde_json::Value,
) -> serde_json::Value {
    let mut spec = serde_json::json!({
        "interval": "1m",
        "retryInterval": "1s",
        "path": path,
        "prune": true,
        "timeout": "10s",
        "sourceRef": {"kind": "GitRepository", "name": source},
    });
    if let serde_json::Value::Object(extra) = extra {
        for (k, v) in extra {
            spec[k] = v;
        }
    }
    serde_json::json!({
        "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
        "kind": "Kustomization",
        "metadata": {"name": name, "namespace": NS},
        "spec": spec,
    })
}

/// Polls `probe` every 200 ms until it returns `Some`; panics naming `what` after `timeout`.
pub async fn wait_for<T>(
    what: &str,
    timeout: Duration,
    mut probe: impl AsyncFnMut() -> Option<T>,
) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = probe().await {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// A condition as (status, reason, message).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cond {
    pub status: String,
    pub reason: String,
    pub message: String,
}

pub fn condition(
    conditions: &[k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition],
    type_: &str,
) -> Option<Cond> {
    tether_api::conditions::find(conditions, type_).map(|c| Cond {
        status: c.status.clone(),
        reason: c.reason.clone(),
        message: c.message.clone(),
    })
}

/// Waits until condition `type_` of the `kind` object `name` (read with `get`) has `status` and
/// `reason` and its message contains `contains`; returns the message. The last seen conditions
/// are in the panic message.
#[allow(clippy::too_many_arguments)]
async fn wait_condition<K>(
    api: &Api<K>,
    kind: &str,
    conditions: fn(&K) -> &[k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition],
    name: &str,
    type_: &str,
    status: &str,
    reason: &str,
    contains: &str,
    timeout: Duration,
) -> String
where
    K: kube::Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    let mut last = None;
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(obj) = api.get_opt(name).await.unwrap() {
            if let Some(c) = condition(conditions(&obj), type_)
                && c.status == status
                && c.reason == reason
                && c.message.contains(contains)
            {
                return c.message;
            }
            last = Some(conditions(&obj).to_vec());
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {kind} {name} {type_}={status} \
             {reason} '{contains}'; last conditions: {last:#?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// [`wait_condition`] for a Kustomization.
pub async fn ks_condition(
    api: &Api<Kustomization>,
    name: &str,
    type_: &str,
    status: &str,
    reason: &str,
    contains: &str,
    timeout: Duration,
) -> String {
    wait_condition(
        api,
        "Kustomization",
        Kustomization::conditions,
        name,
        type_,
        status,
        reason,
        contains,
        timeout,
    )
    .await
}

/// [`wait_condition`] for a GitRepository.
pub async fn repo_condition(
    api: &Api<GitRepository>,
    name: &str,
    type_: &str,
    status: &str,
    reason: &str,
    contains: &str,
    timeout: Duration,
) -> String {
    wait_condition(
        api,
        "GitRepository",
        GitRepository::conditions,
        name,
        type_,
        status,
        reason,
        contains,
        timeout,
    )
    .await
}

/// A ConfigMap `name` in `default` with `greeting: value`.
pub fn config_map(name: &str, value: &str) -> String {
    format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n  namespace: default\ndata:\n  greeting: {value}\n"
    )
}

/// A Deployment `name` in `default` with `replicas`, optionally annotated to never get ready.
pub fn deployment(name: &str, replicas: u32, never_ready: bool) -> String {
    let annotations = if never_ready {
        "  annotations:\n    tether.dev/simulate: fail\n"
    } else {
        ""
    };
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\n  namespace: default\n{annotations}spec:\n  replicas: {replicas}\n  selector:\n    matchLabels: {{app: {name}}}\n  template:\n    metadata:\n      labels: {{app: {name}}}\n    spec:\n      containers:\n      - name: {name}\n        image: nginx:1.27\n"
    )
}

/// `GET path` on `addr` over plain HTTP/1.1; the status line and body.
pub async fn http_get(addr: SocketAddr, path: &str) -> (String, String) {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(
            format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").as_bytes(),
        )
        .await
        .unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.unwrap();
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head.lines().next().unwrap_or_default().to_owned();
    (status, body.to_owned())
}

/// The kube-rs configuration of a control plane, from the kubeconfig it wrote.
pub async fn kube_config(server: &tether_apiserver::RunningServer) -> kube::Config {
    let kubeconfig = kube::config::Kubeconfig::from_yaml(server.kubeconfig()).unwrap();
    kube::Config::from_custom_kubeconfig(kubeconfig, &Default::default())
        .await
        .unwrap()
}

/// A bare repository `fleet.git` in a temporary directory and a work tree that pushes to it
/// through the file system (so pushing works whether or not a server is up).
pub struct Remote {
    pub root: tempfile::TempDir,
    pub work: WorkRepo,
}

impl Remote {
    pub fn new() -> Remote {
        let root = tempfile::tempdir().unwrap();
        init_bare(&root.path().join("fleet.git")).unwrap();
        Remote {
            root,
            work: WorkRepo::new().unwrap(),
        }
    }

    pub fn bare(&self) -> PathBuf {
        self.root.path().join("fleet.git")
    }

    /// Writes `files`, commits, pushes `main`; returns `main@sha1:<sha>`.
    pub fn commit(&mut self, message: &str, files: &[(&str, &str)]) -> String {
        for (path, text) in files {
            self.work.write(path, text).unwrap();
        }
        let sha = self.work.commit(message).unwrap();
        self.work
            .push(self.bare().to_str().unwrap(), &["main"])
            .unwrap();
        format!("main@sha1:{sha}")
    }
}

pub async fn greeting(cms: &Api<ConfigMap>, name: &str) -> Option<String> {
    cms.get_opt(name)
        .await
        .unwrap()
        .and_then(|cm| cm.data)
        .and_then(|d| d.get("greeting").cloned())
}
