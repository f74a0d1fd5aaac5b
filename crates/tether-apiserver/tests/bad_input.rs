//! Bad requests against the embedded control plane, sent byte for byte over HTTPS (HTTP/1.1 on
//! rustls with the server's CA) so nothing between the test and the server fixes them up:
//! malformed bodies, oversized bodies (declared and chunked), unknown paths, wrong content
//! types, invalid names, missing and wrong tokens, malformed query parameters. Each must be
//! answered with kube-apiserver's status code and a `Status` body (kind Status, apiVersion v1,
//! status Failure, reason, code, message), and the server must go on serving afterwards.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests: a panic is a failed assertion.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use serde_json::{Value, json};
use tether_apiserver::{RunningServer, ServerConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_rustls::TlsConnector;

/// kube-apiserver's request body limit.
const LIMIT: usize = 3 * 1024 * 1024;
/// The longest any one exchange may take before the test fails.
const EXCHANGE_LIMIT: Duration = Duration::from_secs(20);
const CONFIGMAPS: &str = "/api/v1/namespaces/default/configmaps";

/// How a request authenticates.
#[derive(Debug, Clone, Copy)]
enum Auth {
    /// The server's token.
    Token,
    /// No `Authorization` header.
    Missing,
    /// A token that is not the server's.
    Wrong,
}

/// How a request body is framed.
#[derive(Debug, Clone)]
enum Body {
    None,
    /// With `Content-Length`.
    Sized(Vec<u8>),
    /// `Transfer-Encoding: chunked`, no `Content-Length`, in 64 KiB chunks.
    Chunked(Vec<u8>),
}

#[derive(Debug, Clone)]
struct Request {
    method: &'static str,
    target: String,
    content_type: Option<&'static str>,
    auth: Auth,
    body: Body,
}

impl Request {
    fn new(method: &'static str, target: impl Into<String>) -> Request {
        Request {
            method,
            target: target.into(),
            content_type: None,
            auth: Auth::Token,
            body: Body::None,
        }
    }

    fn content_type(mut self, content_type: &'static str) -> Request {
        self.content_type = Some(content_type);
        self
    }

    fn auth(mut self, auth: Auth) -> Request {
        self.auth = auth;
        self
    }

    fn body(mut self, body: impl Into<Vec<u8>>) -> Request {
        self.body = Body::Sized(body.into());
        self
    }

    fn chunked(mut self, body: impl Into<Vec<u8>>) -> Request {
        self.body = Body::Chunked(body.into());
        self
    }
}

#[derive(Debug)]
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "the {} reply is not JSON ({e}): {}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }
}

/// A raw HTTPS client for one server.
struct Raw {
    addr: SocketAddr,
    token: String,
    connector: TlsConnector,
}

impl Raw {
    fn new(server: &RunningServer) -> Raw {
        let mut roots = rustls::RootCertStore::empty();
        for cert in CertificateDer::pem_slice_iter(server.ca_pem().as_bytes()) {
            roots.add(cert.unwrap()).unwrap();
        }
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
        Raw {
            addr: server.addr(),
            token: server.token().to_owned(),
            connector: TlsConnector::from(Arc::new(config)),
        }
    }

    /// Sends `request` on a new connection and reads the reply. The body is written while the
    /// reply is read, so a server that answers before reading it all (413) is heard.
    async fn send(&self, request: &Request) -> Reply {
        tokio::time::timeout(EXCHANGE_LIMIT, self.exchange(request))
            .await
            .unwrap_or_else(|_| {
                panic!(
                    "{} {} got no reply within {EXCHANGE_LIMIT:?}",
                    request.method, request.target
                )
            })
    }

    async fn exchange(&self, request: &Request) -> Reply {
        let tcp = tokio::net::TcpStream::connect(self.addr).await.unwrap();
        let name = ServerName::IpAddress(self.addr.ip().into());
        let tls = self.connector.connect(name, tcp).await.unwrap();
        let (mut reader, mut writer) = tokio::io::split(tls);

        let mut head = format!(
            "{} {} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nAccept: application/json\r\n",
            request.method, request.target, self.addr
        );
        match request.auth {
            Auth::Token => head.push_str(&format!("Authorization: Bearer {}\r\n", self.token)),
            Auth::Missing => {}
            Auth::Wrong => head.push_str("Authorization: Bearer not-the-token\r\n"),
        }
        if let Some(ct) = request.content_type {
            head.push_str(&format!("Content-Type: {ct}\r\n"));
        }
        match &request.body {
            Body::None => {}
            Body::Sized(b) => head.push_str(&format!("Content-Length: {}\r\n", b.len())),
            Body::Chunked(_) => head.push_str("Transfer-Encoding: chunked\r\n"),
        }
        head.push_str("\r\n");
        let body = request.body.clone();
        let write = tokio::spawn(async move {
            // Errors here mean the server stopped reading (e.g. after answering 413).
            writer.write_all(head.as_bytes()).await?;
            match body {
                Body::None => {}
                Body::Sized(b) => writer.write_all(&b).await?,
                Body::Chunked(b) => {
                    for chunk in b.chunks(64 * 1024) {
                        writer
                            .write_all(format!("{:x}\r\n", chunk.len()).as_bytes())
                            .await?;
                        writer.write_all(chunk).await?;
                        writer.write_all(b"\r\n").await?;
                    }
                    writer.write_all(b"0\r\n\r\n").await?;
                }
            }
            writer.flush().await?;
            // Hold the write half (dropping it closes the connection) until the reply is read
            // and this task is aborted.
            std::future::pending::<()>().await;
            drop(writer);
            Ok::<_, std::io::Error>(())
        });
        let reply = read_reply(&mut reader).await;
        write.abort();
        reply
    }
}

/// Reads one HTTP/1.1 response: status line, headers, and a body framed by `Content-Length` or
/// chunked encoding.
async fn read_reply<R: tokio::io::AsyncRead + Unpin>(reader: &mut R) -> Reply {
    let mut buf = Vec::new();
    let header_end = loop {
        if let Some(pos) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break pos + 4;
        }
        let n = read_more(reader, &mut buf).await;
        assert!(
            n > 0,
            "connection closed before the response headers: {:?}",
            String::from_utf8_lossy(&buf)
        );
    };
    let head = String::from_utf8(buf[..header_end].to_vec()).unwrap();
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap();
    let status: u16 = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("bad status line {status_line:?}"));
    let headers: Vec<(String, String)> = lines
        .filter(|l| !l.is_empty())
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let mut rest = buf[header_end..].to_vec();
    let find = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
    };
    let body = if let Some(len) = find("content-length") {
        let len: usize = len.parse().unwrap();
        while rest.len() < len {
            assert!(read_more(reader, &mut rest).await > 0, "body cut short");
        }
        rest.truncate(len);
        rest
    } else if find("transfer-encoding").is_some_and(|t| t.eq_ignore_ascii_case("chunked")) {
        let mut body = Vec::new();
        loop {
            let line_end = loop {
                if let Some(pos) = rest.windows(2).position(|w| w == b"\r\n") {
                    break pos;
                }
                assert!(read_more(reader, &mut rest).await > 0, "chunk cut short");
            };
            let size_text = String::from_utf8(rest[..line_end].to_vec()).unwrap();
            let size = usize::from_str_radix(size_text.split(';').next().unwrap().trim(), 16)
                .unwrap_or_else(|_| panic!("bad chunk size {size_text:?}"));
            while rest.len() < line_end + 2 + size + 2 {
                assert!(read_more(reader, &mut rest).await > 0, "chunk cut short");
            }
            body.extend_from_slice(&rest[line_end + 2..line_end + 2 + size]);
            rest.drain(..line_end + 2 + size + 2);
            if size == 0 {
                break;
            }
        }
        body
    } else {
        while read_more(reader, &mut rest).await > 0 {}
        rest
    };
    Reply {
        status,
        headers,
        body,
    }
}

/// Reads what is there; 0 at the end of the stream (or when the peer drops the connection).
async fn read_more<R: tokio::io::AsyncRead + Unpin>(reader: &mut R, buf: &mut Vec<u8>) -> usize {
    let mut chunk = [0u8; 16 * 1024];
    match reader.read(&mut chunk).await {
        Ok(n) => {
            buf.extend_from_slice(&chunk[..n]);
            n
        }
        Err(_) => 0,
    }
}

async fn start() -> (RunningServer, Raw) {
    let server = tether_apiserver::start(ServerConfig {
        simulate_workloads: false,
        ..ServerConfig::ephemeral()
    })
    .await
    .unwrap();
    let raw = Raw::new(&server);
    (server, raw)
}

/// Asserts the reply is a failure `Status` with `code` and `reason`, and answers its message.
#[track_caller]
fn assert_status(case: &str, reply: &Reply, code: u16, reason: &str) -> String {
    assert_eq!(
        reply.status,
        code,
        "{case}: status code (body {})",
        String::from_utf8_lossy(&reply.body)
    );
    let content_type = reply.header("content-type").unwrap_or("");
    assert!(
        content_type.starts_with("application/json"),
        "{case}: content type {content_type:?}"
    );
    let status = reply.json();
    assert_eq!(status["kind"], "Status", "{case}: {status}");
    assert_eq!(status["apiVersion"], "v1", "{case}: {status}");
    assert_eq!(status["status"], "Failure", "{case}: {status}");
    assert_eq!(status["reason"], reason, "{case}: {status}");
    assert_eq!(status["code"], code, "{case}: {status}");
    let message = status["message"].as_str().unwrap_or("").to_owned();
    assert!(!message.is_empty(), "{case}: no message in {status}");
    message
}

/// The server still answers a plain request correctly.
async fn assert_still_serving(case: &str, raw: &Raw) {
    let reply = raw.send(&Request::new("GET", CONFIGMAPS)).await;
    assert_eq!(
        reply.status, 200,
        "after {case}: the server stopped serving"
    );
    assert_eq!(reply.json()["kind"], "ConfigMapList", "after {case}");
}

fn config_map(name: &str) -> String {
    json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": {"k": "v"}})
        .to_string()
}

#[tokio::test]
async fn malformed_json_and_yaml_bodies_are_400() {
    let (server, raw) = start().await;
    let cases = [
        (
            "truncated JSON",
            Request::new("POST", CONFIGMAPS)
                .content_type("application/json")
                .body(r#"{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "#),
        ),
        (
            "JSON with a trailing comma",
            Request::new("POST", CONFIGMAPS)
                .content_type("application/json")
                .body(r#"{"apiVersion": "v1", "kind": "ConfigMap",}"#),
        ),
        (
            "not JSON at all",
            Request::new("POST", CONFIGMAPS)
                .content_type("application/json")
                .body("this is not an object"),
        ),
        (
            "YAML with bad indentation",
            Request::new("POST", CONFIGMAPS)
                .content_type("application/yaml")
                .body("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n   bad: [\n"),
        ),
        (
            "YAML with an unclosed flow sequence",
            Request::new("POST", CONFIGMAPS)
                .content_type("application/yaml")
                .body("apiVersion: v1\nkind: [ConfigMap\n"),
        ),
        (
            "JSON body of a PUT",
            Request::new("PUT", format!("{CONFIGMAPS}/x"))
                .content_type("application/json")
                .body("{\"kind\": "),
        ),
        (
            "merge patch that is not JSON",
            Request::new("PATCH", format!("{CONFIGMAPS}/x"))
                .content_type("application/merge-patch+json")
                .body("{nope"),
        ),
        (
            "JSON patch that is not a list of operations",
            Request::new("PATCH", format!("{CONFIGMAPS}/x"))
                .content_type("application/json-patch+json")
                .body(r#"{"op": "add"}"#),
        ),
    ];
    // The PUT and PATCH cases address an object that exists: the body is what is wrong.
    let created = raw
        .send(
            &Request::new("POST", CONFIGMAPS)
                .content_type("application/json")
                .body(config_map("x")),
        )
        .await;
    assert_eq!(created.status, 201);
    for (case, request) in cases {
        let reply = raw.send(&request).await;
        let message = assert_status(case, &reply, 400, "BadRequest");
        // The message says which syntax failed.
        let syntax = if case.contains("YAML") {
            "YAML"
        } else {
            "JSON"
        };
        assert!(message.contains(syntax), "{case}: {message}");
        assert_still_serving(case, &raw).await;
    }
    // Nothing was created or changed by the refused requests.
    let list = raw.send(&Request::new("GET", CONFIGMAPS)).await.json();
    let names: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["metadata"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["x"]);
    assert_eq!(list["items"][0]["data"], json!({"k": "v"}));
    server.shutdown().await.unwrap();
}

/// A body of `LIMIT + 1` bytes that would be a valid ConfigMap if it were allowed.
fn oversized_config_map() -> Vec<u8> {
    let head = r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"big"},"data":{"k":""#;
    let tail = r#""}}"#;
    let mut body = head.as_bytes().to_vec();
    body.resize(LIMIT + 1 - tail.len(), b'a');
    body.extend_from_slice(tail.as_bytes());
    assert_eq!(body.len(), LIMIT + 1);
    body
}

#[tokio::test]
async fn bodies_over_3_mib_are_413_with_and_without_content_length() {
    let (server, raw) = start().await;
    let body = oversized_config_map();
    let cases = [
        (
            "Content-Length over the limit",
            Request::new("POST", CONFIGMAPS)
                .content_type("application/json")
                .body(body.clone()),
        ),
        (
            "chunked body over the limit",
            Request::new("POST", CONFIGMAPS)
                .content_type("application/json")
                .chunked(body.clone()),
        ),
        (
            "chunked patch over the limit",
            Request::new("PATCH", format!("{CONFIGMAPS}/big"))
                .content_type("application/merge-patch+json")
                .chunked(body.clone()),
        ),
    ];
    for (case, request) in cases {
        let reply = raw.send(&request).await;
        let message = assert_status(case, &reply, 413, "RequestEntityTooLarge");
        assert_eq!(
            message,
            format!("Request entity too large: limit is {LIMIT}"),
            "{case}"
        );
        assert_still_serving(case, &raw).await;
    }
    // Exactly at the limit is accepted, chunked or not: one `a` less in the data.
    let mut at_limit = oversized_config_map();
    at_limit.remove(at_limit.len() - 4);
    assert_eq!(at_limit.len(), LIMIT);
    let sized = raw
        .send(
            &Request::new("POST", CONFIGMAPS)
                .content_type("application/json")
                .body(at_limit.clone()),
        )
        .await;
    assert_eq!(sized.status, 201, "a body of exactly 3 MiB is accepted");
    let at_limit_chunked = String::from_utf8(at_limit)
        .unwrap()
        .replace("\"big\"", "\"bi2\"");
    let chunked = raw
        .send(
            &Request::new("POST", CONFIGMAPS)
                .content_type("application/json")
                .chunked(at_limit_chunked),
        )
        .await;
    assert_eq!(
        chunked.status, 201,
        "a chunked body of exactly 3 MiB is accepted"
    );
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn unknown_resources_groups_and_versions_are_404() {
    let (server, raw) = start().await;
    for (case, target) in [
        (
            "unknown core resource",
            "/api/v1/namespaces/default/widgets",
        ),
        (
            "unknown core version",
            "/api/v2/namespaces/default/configmaps",
        ),
        ("unknown group", "/apis/nope.example.com/v1/things"),
        ("unknown group discovery", "/apis/nope.example.com"),
        (
            "unknown group version discovery",
            "/apis/nope.example.com/v1",
        ),
        (
            "unknown version of a known group",
            "/apis/apps/v9/deployments",
        ),
        ("unknown version discovery", "/apis/apps/v9"),
        (
            "unknown subresource",
            "/apis/apps/v1/namespaces/default/deployments/web/bogus",
        ),
        ("path outside the API", "/nothing/here"),
    ] {
        let reply = raw.send(&Request::new("GET", target)).await;
        let message = assert_status(case, &reply, 404, "NotFound");
        assert_eq!(
            message, "the server could not find the requested resource",
            "{case}"
        );
        assert_still_serving(case, &raw).await;
    }
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn wrong_content_types_are_415() {
    let (server, raw) = start().await;
    raw.send(
        &Request::new("POST", CONFIGMAPS)
            .content_type("application/json")
            .body(config_map("x")),
    )
    .await;
    let cases = [
        (
            "create as text/plain",
            Request::new("POST", CONFIGMAPS)
                .content_type("text/plain")
                .body(config_map("y")),
            "application/json, application/yaml, application/vnd.kubernetes.protobuf",
        ),
        (
            "update as application/xml",
            Request::new("PUT", format!("{CONFIGMAPS}/x"))
                .content_type("application/xml")
                .body(config_map("x")),
            "application/json, application/yaml, application/vnd.kubernetes.protobuf",
        ),
        (
            "patch as application/json",
            Request::new("PATCH", format!("{CONFIGMAPS}/x"))
                .content_type("application/json")
                .body(r#"{"data": {"k": "w"}}"#),
            "application/json-patch+json, application/merge-patch+json, \
             application/strategic-merge-patch+json, application/apply-patch+yaml",
        ),
        (
            "patch without a content type",
            Request::new("PATCH", format!("{CONFIGMAPS}/x")).body(r#"{"data": {}}"#),
            "application/json-patch+json, application/merge-patch+json, \
             application/strategic-merge-patch+json, application/apply-patch+yaml",
        ),
    ];
    for (case, request, accepted) in cases {
        let reply = raw.send(&request).await;
        let message = assert_status(case, &reply, 415, "UnsupportedMediaType");
        assert_eq!(
            message,
            format!(
                "the body of the request was in an unknown format - accepted media types include: {accepted}"
            ),
            "{case}"
        );
        assert_still_serving(case, &raw).await;
    }
    let x = raw
        .send(&Request::new("GET", format!("{CONFIGMAPS}/x")))
        .await
        .json();
    assert_eq!(
        x["data"],
        json!({"k": "v"}),
        "refused writes changed nothing"
    );
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn invalid_names_are_422() {
    let (server, raw) = start().await;
    for (case, target, body, kind, name) in [
        (
            "upper-case ConfigMap name",
            CONFIGMAPS.to_owned(),
            config_map("Not_Valid"),
            "ConfigMap",
            "Not_Valid",
        ),
        (
            "namespace name with a dot",
            "/api/v1/namespaces".to_owned(),
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a.b"}})
                .to_string(),
            "Namespace",
            "a.b",
        ),
        (
            "Deployment name over 253 characters",
            "/apis/apps/v1/namespaces/default/deployments".to_owned(),
            json!({"apiVersion": "apps/v1", "kind": "Deployment",
                   "metadata": {"name": "a".repeat(254)},
                   "spec": {"selector": {"matchLabels": {"app": "a"}},
                            "template": {"metadata": {"labels": {"app": "a"}},
                                         "spec": {"containers": [{"name": "c", "image": "i"}]}}}})
            .to_string(),
            "Deployment.apps",
            &*"a".repeat(254),
        ),
    ] {
        let reply = raw
            .send(
                &Request::new("POST", target)
                    .content_type("application/json")
                    .body(body),
            )
            .await;
        let message = assert_status(case, &reply, 422, "Invalid");
        assert!(
            message.starts_with(&format!(
                "{kind} \"{name}\" is invalid: metadata.name: Invalid value: \"{name}\": "
            )),
            "{case}: {message}"
        );
        let status = reply.json();
        assert_eq!(status["details"]["name"], name, "{case}");
        assert_eq!(
            status["details"]["causes"][0]["field"], "metadata.name",
            "{case}"
        );
        assert_eq!(
            status["details"]["causes"][0]["reason"], "FieldValueInvalid",
            "{case}"
        );
        assert_still_serving(case, &raw).await;
    }
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn missing_and_wrong_tokens_are_401() {
    let (server, raw) = start().await;
    for (case, request) in [
        (
            "list without a token",
            Request::new("GET", CONFIGMAPS).auth(Auth::Missing),
        ),
        (
            "list with a wrong token",
            Request::new("GET", CONFIGMAPS).auth(Auth::Wrong),
        ),
        (
            "discovery without a token",
            Request::new("GET", "/apis").auth(Auth::Missing),
        ),
        (
            "create with a wrong token",
            Request::new("POST", CONFIGMAPS)
                .auth(Auth::Wrong)
                .content_type("application/json")
                .body(config_map("sneaky")),
        ),
        (
            "version with a wrong token",
            Request::new("GET", "/version").auth(Auth::Wrong),
        ),
    ] {
        let reply = raw.send(&request).await;
        let message = assert_status(case, &reply, 401, "Unauthorized");
        assert_eq!(message, "Unauthorized", "{case}");
        assert_still_serving(case, &raw).await;
    }
    let sneaky = raw
        .send(&Request::new("GET", format!("{CONFIGMAPS}/sneaky")))
        .await;
    assert_eq!(
        sneaky.status, 404,
        "an unauthenticated create wrote nothing"
    );
    // Health and version stay public, as kube-apiserver's system:public-info-viewer makes them.
    let version = raw
        .send(&Request::new("GET", "/version").auth(Auth::Missing))
        .await;
    assert_eq!(version.status, 200);
    assert_eq!(version.json()["minor"], "33");
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn malformed_query_parameters_are_400() {
    let (server, raw) = start().await;
    for (case, target, message_start) in [
        // (A boolean like `watch=maybe` is not an error: upstream reads anything but absent,
        // "0" and "false" as true.)
        (
            "timeoutSeconds that is not a number",
            format!("{CONFIGMAPS}?watch=true&timeoutSeconds=soon"),
            "invalid value for timeoutSeconds: ",
        ),
        (
            "garbage continue token",
            format!("{CONFIGMAPS}?limit=1&continue=%25%25not-a-token"),
            "invalid continue token: continue key is not valid",
        ),
        (
            "continue token that is base64 but not JSON",
            format!("{CONFIGMAPS}?limit=1&continue=bm90LWpzb24"),
            "invalid continue token: continue key is not valid",
        ),
        (
            "limit that is not a number",
            format!("{CONFIGMAPS}?limit=ten"),
            "invalid value for limit: ",
        ),
        (
            "label selector that does not parse",
            format!("{CONFIGMAPS}?labelSelector=app%20in%20web"),
            "unable to parse requirement: ",
        ),
    ] {
        let reply = raw.send(&Request::new("GET", target)).await;
        let message = assert_status(case, &reply, 400, "BadRequest");
        assert!(
            message.starts_with(message_start),
            "{case}: {message:?} should start with {message_start:?}"
        );
        assert_still_serving(case, &raw).await;
    }
    server.shutdown().await.unwrap();
}
