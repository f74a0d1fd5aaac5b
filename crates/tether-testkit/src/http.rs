use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex};

use base64::Engine;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::io::AsyncWriteExt;

use crate::{TestCa, TestkitError};

/// How a [`GitHttpServer`] serves: which repositories, which credentials, plain HTTP or TLS.
#[derive(Debug, Clone)]
pub struct GitHttpConfig {
    /// The directory holding the bare repositories; `/<path>` in a URL is `<root>/<path>`.
    pub root: PathBuf,
    /// Require HTTP basic auth with this user and password.
    pub basic_auth: Option<(String, String)>,
    /// Require `Authorization: Bearer <token>`. With `basic_auth` too, either one is accepted.
    pub bearer_token: Option<String>,
    /// Serve HTTPS with a freshly generated CA.
    pub tls: bool,
    /// The port to bind on 127.0.0.1; 0 picks an ephemeral one.
    pub port: u16,
}

impl GitHttpConfig {
    /// Plain HTTP, no credentials, an ephemeral port.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        GitHttpConfig {
            root: root.into(),
            basic_auth: None,
            bearer_token: None,
            tls: false,
            port: 0,
        }
    }

    pub fn with_basic_auth(mut self, user: &str, password: &str) -> Self {
        self.basic_auth = Some((user.to_owned(), password.to_owned()));
        self
    }

    pub fn with_bearer_token(mut self, token: &str) -> Self {
        self.bearer_token = Some(token.to_owned());
        self
    }

    pub fn with_tls(mut self) -> Self {
        self.tls = true;
        self
    }

    pub fn with_port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }
}

/// One request the server answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedRequest {
    pub method: String,
    pub path: String,
    pub query: String,
    /// For protocol v2 POSTs, the command (`ls-refs`, `fetch`); `None` otherwise.
    pub command: Option<String>,
    pub status: u16,
}

struct State {
    config: GitHttpConfig,
    requests: Mutex<Vec<RecordedRequest>>,
}

/// A smart-HTTP Git remote backed by `git http-backend`; stops when dropped.
pub struct GitHttpServer {
    addr: SocketAddr,
    scheme: &'static str,
    ca: Option<TestCa>,
    state: Arc<State>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl std::fmt::Debug for GitHttpServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GitHttpServer")
            .field("addr", &self.addr)
            .field("scheme", &self.scheme)
            .finish_non_exhaustive()
    }
}

impl GitHttpServer {
    /// Binds 127.0.0.1 and starts serving on a thread of its own (with its own runtime), so it
    /// works from synchronous and asynchronous tests alike.
    pub fn start(config: GitHttpConfig) -> Result<Self, TestkitError> {
        let port = config.port;
        let listener = std::net::TcpListener::bind(("127.0.0.1", port))
            .map_err(|source| TestkitError::Bind { port, source })?;
        let addr = listener
            .local_addr()
            .map_err(|source| TestkitError::Bind { port, source })?;
        listener
            .set_nonblocking(true)
            .map_err(|source| TestkitError::Bind { port, source })?;
        let ca = if config.tls {
            Some(TestCa::generate()?)
        } else {
            None
        };
        let acceptor = match &ca {
            Some(ca) => Some(tokio_rustls::TlsAcceptor::from(ca.server_config()?)),
            None => None,
        };
        let scheme = if config.tls { "https" } else { "http" };
        let state = Arc::new(State {
            config,
            requests: Mutex::new(Vec::new()),
        });
        let (shutdown, shutdown_rx) = tokio::sync::oneshot::channel();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|source| TestkitError::Spawn {
                command: "tokio runtime for the test git server".into(),
                source,
            })?;
        let thread_state = state.clone();
        let thread = std::thread::Builder::new()
            .name(format!("git-http-{}", addr.port()))
            .spawn(move || runtime.block_on(serve(listener, acceptor, thread_state, shutdown_rx)))
            .map_err(|source| TestkitError::Spawn {
                command: "git http server thread".into(),
                source,
            })?;
        Ok(GitHttpServer {
            addr,
            scheme,
            ca,
            state,
            shutdown: Some(shutdown),
            thread: Some(thread),
        })
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The URL of the repository at `<root>/<repo>`, e.g. `http://127.0.0.1:PORT/app.git`.
    pub fn url(&self, repo: &str) -> String {
        format!(
            "{}://127.0.0.1:{}/{}",
            self.scheme,
            self.addr.port(),
            repo.trim_start_matches('/')
        )
    }

    /// The URL with the configured basic-auth user and password embedded, for `git push`.
    pub fn url_with_credentials(&self, repo: &str) -> String {
        match &self.state.config.basic_auth {
            Some((user, password)) => format!(
                "{}://{}:{}@127.0.0.1:{}/{}",
                self.scheme,
                user,
                password,
                self.addr.port(),
                repo.trim_start_matches('/')
            ),
            None => self.url(repo),
        }
    }

    /// The PEM of the CA that signed the serving certificate, when serving TLS.
    pub fn ca_pem(&self) -> Option<&str> {
        self.ca.as_ref().map(TestCa::ca_pem)
    }

    /// The requests answered so far, in order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        match self.state.requests.lock() {
            Ok(requests) => requests.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// How many protocol-v2 `fetch` commands (pack downloads) were served.
    pub fn fetch_count(&self) -> usize {
        self.requests()
            .iter()
            .filter(|r| r.command.as_deref() == Some("fetch"))
            .count()
    }

    /// Stops serving and closes every open connection.
    pub fn stop(mut self) {
        self.shutdown_now();
    }

    fn shutdown_now(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for GitHttpServer {
    fn drop(&mut self) {
        self.shutdown_now();
    }
}

async fn serve(
    listener: std::net::TcpListener,
    acceptor: Option<tokio_rustls::TlsAcceptor>,
    state: Arc<State>,
    mut shutdown: tokio::sync::oneshot::Receiver<()>,
) {
    let listener = match tokio::net::TcpListener::from_std(listener) {
        Ok(listener) => listener,
        Err(e) => {
            tracing::error!("test git server: {e}");
            return;
        }
    };
    let mut connections = tokio::task::JoinSet::new();
    loop {
        tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let state = state.clone();
                let acceptor = acceptor.clone();
                connections.spawn(async move {
                    let service = hyper::service::service_fn(move |req| handle(req, state.clone()));
                    let builder = hyper::server::conn::http1::Builder::new();
                    match acceptor {
                        Some(acceptor) => {
                            if let Ok(tls) = acceptor.accept(stream).await {
                                let _ = builder.serve_connection(TokioIo::new(tls), service).await;
                            }
                        }
                        None => {
                            let _ = builder.serve_connection(TokioIo::new(stream), service).await;
                        }
                    }
                });
            }
        }
    }
    // Dropping the set aborts every open connection: the remote is gone at once.
    connections.abort_all();
}

fn authorized(config: &GitHttpConfig, req: &Request<Incoming>) -> (bool, Option<String>) {
    if config.basic_auth.is_none() && config.bearer_token.is_none() {
        return (true, None);
    }
    let Some(header) = req
        .headers()
        .get(hyper::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    else {
        return (false, None);
    };
    if let (Some(token), Some(given)) = (&config.bearer_token, header.strip_prefix("Bearer "))
        && given == token
    {
        return (true, None);
    }
    if let (Some((user, password)), Some(given)) =
        (&config.basic_auth, header.strip_prefix("Basic "))
    {
        let expected =
            base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        if given == expected {
            return (true, Some(user.clone()));
        }
    }
    (false, None)
}

fn text(status: StatusCode, body: &str) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body.to_owned())));
    *response.status_mut() = status;
    response
}

/// The protocol-v2 command of a request body (`0014command=ls-refs\n…`).
fn v2_command(body: &[u8]) -> Option<String> {
    let line = body.get(4..)?;
    let rest = line.strip_prefix(b"command=")?;
    let end = rest.iter().position(|b| *b == b'\n').unwrap_or(rest.len());
    Some(String::from_utf8_lossy(&rest[..end]).into_owned())
}

async fn handle(
    req: Request<Incoming>,
    state: Arc<State>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let method = req.method().as_str().to_owned();
    let path = req.uri().path().to_owned();
    let query = req.uri().query().unwrap_or("").to_owned();
    let (ok, remote_user) = authorized(&state.config, &req);
    let response = if !ok {
        let challenge = if state.config.basic_auth.is_some() {
            "Basic realm=\"tether-test\""
        } else {
            "Bearer realm=\"tether-test\""
        };
        let mut response = text(StatusCode::UNAUTHORIZED, "authentication required\n");
        if let Ok(value) = hyper::header::HeaderValue::from_str(challenge) {
            response
                .headers_mut()
                .insert(hyper::header::WWW_AUTHENTICATE, value);
        }
        record(&state, &method, &path, &query, None, 401);
        return Ok(response);
    } else {
        run_backend(req, &state, remote_user).await
    };
    Ok(response)
}

fn record(
    state: &State,
    method: &str,
    path: &str,
    query: &str,
    command: Option<String>,
    status: u16,
) {
    let entry = RecordedRequest {
        method: method.to_owned(),
        path: path.to_owned(),
        query: query.to_owned(),
        command,
        status,
    };
    match state.requests.lock() {
        Ok(mut requests) => requests.push(entry),
        Err(poisoned) => poisoned.into_inner().push(entry),
    }
}

async fn run_backend(
    req: Request<Incoming>,
    state: &State,
    remote_user: Option<String>,
) -> Response<Full<Bytes>> {
    let method = req.method().as_str().to_owned();
    let path = req.uri().path().to_owned();
    let query = req.uri().query().unwrap_or("").to_owned();
    let header = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let content_type = header("content-type");
    let content_encoding = header("content-encoding");
    let git_protocol = header("git-protocol");
    let body = match req.into_body().collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(e) => return text(StatusCode::BAD_REQUEST, &format!("reading body: {e}\n")),
    };
    let command = if content_encoding.is_none() {
        v2_command(&body)
    } else {
        None
    };

    let mut cmd = tokio::process::Command::new("git");
    cmd.arg("http-backend")
        .env("GIT_PROJECT_ROOT", &state.config.root)
        .env("GIT_HTTP_EXPORT_ALL", "1")
        .env("GATEWAY_INTERFACE", "CGI/1.1")
        .env("SERVER_PROTOCOL", "HTTP/1.1")
        .env("REQUEST_METHOD", &method)
        .env("PATH_INFO", &path)
        .env("QUERY_STRING", &query)
        .env("REMOTE_ADDR", "127.0.0.1")
        .env("CONTENT_LENGTH", body.len().to_string())
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        // Pushing over HTTP is refused unless enabled (or a REMOTE_USER is set).
        .env("GIT_CONFIG_COUNT", "2")
        .env("GIT_CONFIG_KEY_0", "http.receivepack")
        .env("GIT_CONFIG_VALUE_0", "true")
        .env("GIT_CONFIG_KEY_1", "safe.directory")
        .env("GIT_CONFIG_VALUE_1", "*")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    if let Some(v) = &content_type {
        cmd.env("CONTENT_TYPE", v);
    }
    if let Some(v) = &content_encoding {
        cmd.env("HTTP_CONTENT_ENCODING", v);
    }
    if let Some(v) = &git_protocol {
        cmd.env("HTTP_GIT_PROTOCOL", v);
    }
    if let Some(user) = &remote_user {
        cmd.env("REMOTE_USER", user);
    }
    let mut child = match cmd.spawn() {
        Ok(child) => child,
        Err(e) => {
            return text(
                StatusCode::INTERNAL_SERVER_ERROR,
                &format!("spawning git http-backend: {e}\n"),
            );
        }
    };
    if let Some(mut stdin) = child.stdin.take() {
        // Written from a task of its own: a large push must not dead-lock against stdout.
        tokio::spawn(async move {
            let _ = stdin.write_all(&body).await;
            let _ = stdin.shutdown().await;
        });
    }
    let output = match child.wait_with_output().await {
        Ok(output) => output,
        Err(e) => {
            return text(
                StatusCode::INTERNAL_SERVER_ERROR,
                &format!("running git http-backend: {e}\n"),
            );
        }
    };
    let response = cgi_response(&output.stdout).unwrap_or_else(|| {
        text(
            StatusCode::INTERNAL_SERVER_ERROR,
            &format!(
                "git http-backend gave no CGI response: {}\n",
                String::from_utf8_lossy(&output.stderr)
            ),
        )
    });
    record(
        state,
        &method,
        &path,
        &query,
        command,
        response.status().as_u16(),
    );
    response
}

/// Splits CGI output into headers (with `Status:`) and body.
fn cgi_response(out: &[u8]) -> Option<Response<Full<Bytes>>> {
    let (head_len, sep_len) = out
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|i| (i, 4))
        .or_else(|| out.windows(2).position(|w| w == b"\n\n").map(|i| (i, 2)))?;
    let head = std::str::from_utf8(&out[..head_len]).ok()?;
    let body = Bytes::copy_from_slice(&out[head_len + sep_len..]);
    let mut response = Response::new(Full::new(body));
    for line in head.lines() {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("status") {
            let code = value.split_whitespace().next()?.parse::<u16>().ok()?;
            *response.status_mut() = StatusCode::from_u16(code).ok()?;
        } else if let (Ok(name), Ok(value)) = (
            hyper::header::HeaderName::from_bytes(name.trim().as_bytes()),
            hyper::header::HeaderValue::from_str(value),
        ) {
            response.headers_mut().append(name, value);
        }
    }
    Some(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cgi_status_and_headers_are_parsed() {
        let out = b"Status: 404 Not Found\r\nContent-Type: text/plain\r\n\r\nnope";
        let response = cgi_response(out).unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        assert_eq!(response.headers()["content-type"], "text/plain");
    }

    #[test]
    fn v2_command_is_read_from_the_first_packet() {
        assert_eq!(
            v2_command(b"0014command=ls-refs\n0000").as_deref(),
            Some("ls-refs")
        );
        assert_eq!(v2_command(b"0032want 1234"), None);
    }
}
