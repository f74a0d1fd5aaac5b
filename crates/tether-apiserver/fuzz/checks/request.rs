//! The whole request path on arbitrary requests: routing, query and header parsing, body
//! decoding (JSON, YAML, protobuf, patches, DeleteOptions), selectors, continue tokens, and the
//! handlers behind them, against an in-memory control plane that keeps its state between
//! inputs. Nothing may panic, and every answer must be well formed: a JSON body, and for errors
//! a `Status` whose `code` is the HTTP status.
//!
//! An input is one or more requests separated by `\0\0`, each `METHOD\nPATH?QUERY\nCONTENT-TYPE\n
//! ACCEPT\nBODY`, so seeds are readable text (`fuzz/seeds/request/`).
//!
//! `fuzz_targets/request.rs` runs it under libFuzzer; `tests/fuzz_seeds.rs` replays the seeds.

use std::sync::OnceLock;

use tether_apiserver::core::Core;
use tether_apiserver::http::{AppState, router};
use tether_apiserver::registry::Registry;

const TOKEN: &str = "fuzz-token";

struct Harness {
    runtime: tokio::runtime::Runtime,
    app: axum::Router,
    // Kept so watches do not end at once.
    _stop: tokio::sync::watch::Sender<bool>,
}

fn harness() -> &'static Harness {
    static HARNESS: OnceLock<Harness> = OnceLock::new();
    HARNESS.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let store = tether_store::Store::open(tether_store::StoreConfig::in_memory())
            .expect("in-memory store");
        let core = Core::new(store, Registry::with_builtins());
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let state = AppState {
            core: core.clone(),
            token: TOKEN.into(),
            tokens: Default::default(),
            server_address: "127.0.0.1:6443".into(),
            bookmark_interval: std::time::Duration::from_secs(3600),
            shutdown: stopped,
            watches: Default::default(),
        };
        runtime.block_on(async {
            tether_apiserver::controllers::namespaces::ensure_system_namespaces(&core)
                .await
                .expect("namespaces");
        });
        Harness {
            runtime,
            app: router(state),
            _stop: stop,
        }
    })
}

fn line<'a>(rest: &mut &'a [u8]) -> &'a [u8] {
    match rest.iter().position(|b| *b == b'\n') {
        Some(i) => {
            let (head, tail) = rest.split_at(i);
            *rest = &tail[1..];
            head
        }
        None => std::mem::take(rest),
    }
}

fn one(h: &Harness, mut input: &[u8]) {
    use tower::ServiceExt;
    let method = line(&mut input);
    let target = line(&mut input);
    let content_type = line(&mut input);
    let accept = line(&mut input);
    let body = input.to_vec();
    let Ok(method) = http::Method::from_bytes(if method.is_empty() { b"GET" } else { method })
    else {
        return;
    };
    let Ok(uri) = http::Uri::try_from(target) else {
        return;
    };
    let mut request = http::Request::builder().method(method).uri(uri);
    // An input starting its path with "/noauth" probes authentication.
    let authenticated = !target.starts_with(b"/noauth");
    if authenticated {
        request = request.header(http::header::AUTHORIZATION, format!("Bearer {TOKEN}"));
    }
    for (name, value) in [
        (http::header::CONTENT_TYPE, content_type),
        (http::header::ACCEPT, accept),
    ] {
        if let Some(value) = http::HeaderValue::from_bytes(value)
            .ok()
            .filter(|_| !value.is_empty())
        {
            request = request.header(name, value);
        }
    }
    let Ok(request) = request.body(axum::body::Body::from(body)) else {
        return;
    };
    let is_watch = String::from_utf8_lossy(target).contains("watch");
    h.runtime.block_on(async {
        let response = h
            .app
            .clone()
            .oneshot(request)
            .await
            .expect("the router is infallible");
        let status = response.status().as_u16();
        if is_watch && status == 200 {
            // A watch streams until it times out: it was accepted, that is all we check.
            return;
        }
        let bytes = axum::body::to_bytes(response.into_body(), 64 << 20)
            .await
            .expect("the body is readable");
        let content_text = String::from_utf8_lossy(&bytes);
        if status == 200 && (content_text == "ok") {
            return; // health endpoints
        }
        let value: serde_json::Value = match serde_json::from_slice(&bytes) {
            Ok(v) => v,
            // YAML responses (Accept: application/yaml) are text, not JSON.
            Err(_) if content_text.contains(':') || bytes.is_empty() => return,
            Err(e) => panic!("status {status}: the body is not JSON ({e}): {content_text:.200}"),
        };
        if status >= 400 {
            assert_eq!(
                value["kind"], "Status",
                "an error body is a Status: {value}"
            );
            assert_eq!(value["status"], "Failure", "{value}");
            assert_eq!(
                value["code"].as_u64(),
                Some(u64::from(status)),
                "Status.code is the HTTP status: {value}"
            );
            assert!(
                value["message"].as_str().is_some_and(|m| !m.is_empty()),
                "a Status says why: {value}"
            );
        }
    });
}

pub fn check(data: &[u8]) {
    let h = harness();
    for request in split_requests(data) {
        one(h, request);
    }
}

fn split_requests(data: &[u8]) -> Vec<&[u8]> {
    let mut out = vec![];
    let mut start = 0;
    let mut i = 0;
    while i + 1 < data.len() {
        if data[i] == 0 && data[i + 1] == 0 {
            out.push(&data[start..i]);
            start = i + 2;
            i += 2;
        } else {
            i += 1;
        }
    }
    out.push(&data[start..]);
    out.into_iter().take(16).collect()
}
