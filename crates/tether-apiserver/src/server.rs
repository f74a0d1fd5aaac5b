//! Starting and stopping the control plane: credentials, storage, registry, controllers, and the
//! HTTPS listener (HTTP/1.1 and HTTP/2 over TLS).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use tether_store::{Store, StoreConfig};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::controllers;
use crate::core::Core;
use crate::http::{AppState, router};
use crate::pki::{self, Credentials};
use crate::registry::Registry;

/// How the control plane runs.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Address to listen on; port 0 picks a free one.
    pub listen: SocketAddr,
    /// Durable state (store, CA, serving certificate, token). `None`: in memory.
    pub data_dir: Option<PathBuf>,
    /// Also write the kubeconfig here.
    pub kubeconfig_out: Option<PathBuf>,
    /// Give workloads the status of ready pods.
    pub simulate_workloads: bool,
    /// How long the simulation waits before a workload becomes ready.
    pub simulate_delay: Duration,
    /// How often watches that allow bookmarks get one.
    pub bookmark_interval: Duration,
    /// Watch history kept for clients to resume (events).
    pub history_events: usize,
    /// Bearer tokens besides the admin's, each authenticating its user (whom RBAC authorizes).
    pub tokens: Vec<crate::auth::StaticToken>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 6443)),
            data_dir: None,
            kubeconfig_out: None,
            simulate_workloads: true,
            simulate_delay: Duration::from_millis(500),
            bookmark_interval: Duration::from_secs(10),
            history_events: 20_000,
            tokens: vec![],
        }
    }
}

impl ServerConfig {
    /// In memory, on a free loopback port: what tests want.
    pub fn ephemeral() -> ServerConfig {
        ServerConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            ..Default::default()
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Pki(#[from] pki::PkiError),
    #[error("cannot open the store: {0}")]
    Store(#[from] tether_store::Error),
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("cannot write the kubeconfig to {path}: {source}")]
    Kubeconfig {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot create the data dir {path}: {source}")]
    DataDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot set up the system namespaces: {0}")]
    Bootstrap(crate::status::ApiError),
    #[error("cannot create the default RBAC roles and bindings: {0}")]
    Policy(crate::status::ApiError),
    #[error("the store task failed: {0}")]
    Join(#[from] tokio::task::JoinError),
}

/// A running control plane. Dropping it does not stop it: call [`RunningServer::shutdown`].
pub struct RunningServer {
    addr: SocketAddr,
    credentials: Credentials,
    kubeconfig: String,
    core: Core,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
    accept: JoinHandle<()>,
    watches: Arc<std::sync::atomic::AtomicUsize>,
}

impl std::fmt::Debug for RunningServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunningServer")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

/// Starts the control plane and returns once it serves.
pub async fn start(config: ServerConfig) -> Result<RunningServer, StartError> {
    if let Some(dir) = &config.data_dir {
        std::fs::create_dir_all(dir).map_err(|source| StartError::DataDir {
            path: dir.clone(),
            source,
        })?;
    }
    let credentials = pki::load_or_create(
        config.data_dir.as_deref(),
        &pki::serving_names(config.listen.ip()),
    )?;
    let tls = Arc::new(pki::server_tls_config(&credentials)?);
    let store_config = StoreConfig {
        history: tether_store::HistoryLimits {
            max_events: config.history_events,
        },
        ..match &config.data_dir {
            Some(dir) => StoreConfig::at(dir.join("store.redb")),
            None => StoreConfig::in_memory(),
        }
    };
    let store = tokio::task::spawn_blocking(move || Store::open(store_config)).await??;
    let core = Core::new(store, Registry::with_builtins());
    controllers::crds::install_stored(&core);
    controllers::namespaces::ensure_system_namespaces(&core)
        .await
        .map_err(StartError::Bootstrap)?;
    crate::auth::bootstrap::ensure_policy(&core)
        .await
        .map_err(StartError::Policy)?;

    let listener = TcpListener::bind(config.listen)
        .await
        .map_err(|source| StartError::Listen {
            addr: config.listen,
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| StartError::Listen {
        addr: config.listen,
        source,
    })?;
    let server_url = format!("https://{}", client_address(addr));
    let kubeconfig =
        crate::kubeconfig::render(&server_url, &credentials.ca_pem, &credentials.token);
    if let Some(path) = &config.kubeconfig_out {
        crate::kubeconfig::write(path, &kubeconfig).map_err(|source| StartError::Kubeconfig {
            path: path.clone(),
            source,
        })?;
    }

    let (stop, stopped) = watch::channel(false);
    let mut tasks = vec![
        tokio::spawn(controllers::crds::run(core.clone(), stopped.clone())),
        tokio::spawn(controllers::namespaces::run(core.clone(), stopped.clone())),
        tokio::spawn(controllers::garbage::run(core.clone(), stopped.clone())),
    ];
    if config.simulate_workloads {
        tasks.push(tokio::spawn(controllers::workloads::run(
            core.clone(),
            config.simulate_delay,
            stopped.clone(),
        )));
    }
    let watches = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let state = AppState {
        core: core.clone(),
        token: Arc::from(credentials.token.as_str()),
        tokens: Arc::from(config.tokens.clone()),
        server_address: Arc::from(client_address(addr).as_str()),
        bookmark_interval: config.bookmark_interval,
        shutdown: stopped.clone(),
        watches: watches.clone(),
    };
    let accept = tokio::spawn(serve(listener, tls, router(state), stopped));
    tracing::info!(%server_url, "control plane serving");
    Ok(RunningServer {
        addr,
        credentials,
        kubeconfig,
        core,
        stop,
        tasks,
        accept,
        watches,
    })
}

/// `127.0.0.1:port` for loopback and unspecified listen addresses, else the address itself.
fn client_address(addr: SocketAddr) -> String {
    if addr.ip().is_unspecified() {
        format!("127.0.0.1:{}", addr.port())
    } else {
        addr.to_string()
    }
}

async fn serve(
    listener: TcpListener,
    tls: Arc<rustls::ServerConfig>,
    app: axum::Router,
    mut stopped: watch::Receiver<bool>,
) {
    let acceptor = tokio_rustls::TlsAcceptor::from(tls);
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let builder = auto::Builder::new(TokioExecutor::new());
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(conn) => conn,
                Err(err) => {
                    tracing::warn!(%err, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = stopped.changed() => break,
        };
        let _ = stream.set_nodelay(true);
        let acceptor = acceptor.clone();
        let service = TowerToHyperService::new(app.clone());
        let builder = builder.clone();
        let watcher = graceful.watcher();
        tokio::spawn(async move {
            let tls_stream = match acceptor.accept(stream).await {
                Ok(s) => s,
                Err(err) => {
                    tracing::debug!(%peer, %err, "TLS handshake failed");
                    return;
                }
            };
            let conn = builder.serve_connection_with_upgrades(TokioIo::new(tls_stream), service);
            if let Err(err) = watcher.watch(conn.into_owned()).await {
                tracing::debug!(%peer, %err, "connection ended with an error");
            }
        });
    }
    drop(listener);
    // Watches end on the stop signal; give in-flight requests a moment to finish.
    if tokio::time::timeout(Duration::from_secs(5), graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("connections still open after 5s; closing them");
    }
}

impl RunningServer {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `https://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("https://{}", client_address(self.addr))
    }

    pub fn kubeconfig(&self) -> &str {
        &self.kubeconfig
    }

    pub fn token(&self) -> &str {
        &self.credentials.token
    }

    pub fn ca_pem(&self) -> &str {
        &self.credentials.ca_pem
    }

    /// How many watch streams are open right now.
    pub fn open_watches(&self) -> usize {
        self.watches.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The server's internals, for in-process callers (the `tether dev` controllers use HTTP).
    pub fn core(&self) -> &Core {
        &self.core
    }

    /// A kube client for this server, over HTTPS with the token, like any cluster's.
    pub async fn client(&self) -> Result<kube::Client, kube::Error> {
        let kubeconfig = kube::config::Kubeconfig::from_yaml(&self.kubeconfig)
            .map_err(kube::Error::InferKubeconfig)?;
        let config = kube::Config::from_custom_kubeconfig(kubeconfig, &Default::default())
            .await
            .map_err(kube::Error::InferKubeconfig)?;
        kube::Client::try_from(config)
    }

    /// Resolves when a stop was requested (by [`RunningServer::stop_handle`]).
    pub fn stop_handle(&self) -> StopHandle {
        StopHandle {
            stop: self.stop.clone(),
        }
    }

    /// Stops accepting, ends watches, lets requests finish, stops the controllers and closes
    /// the store after its last commit.
    pub async fn shutdown(self) -> Result<(), tether_store::Error> {
        let _ = self.stop.send(true);
        let _ = self.accept.await;
        for task in self.tasks {
            let _ = task.await;
        }
        self.core.store.close().await
    }
}

/// Asks a running server to stop from elsewhere (a signal handler).
#[derive(Debug, Clone)]
pub struct StopHandle {
    stop: watch::Sender<bool>,
}

impl StopHandle {
    pub fn stop(&self) {
        let _ = self.stop.send(true);
    }

    /// Resolves once a stop was requested.
    pub async fn stopped(&self) {
        let mut rx = self.stop.subscribe();
        let _ = rx.wait_for(|stopped| *stopped).await;
    }
}
