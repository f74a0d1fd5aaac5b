//! kube-rs `watcher` and `reflector` over thousands of objects while they change, with a
//! restart of the server (same data dir, same port) in the middle: the watchers resume or relist,
//! and no event is lost — the reflector ends with exactly the server's state, and each object's
//! observed resourceVersions only grow and end at its final one.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests: a panic is a failed assertion.
use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};
use kube::runtime::{WatchStreamExt, reflector, watcher};
use serde_json::json;
use tether_apiserver::{RunningServer, ServerConfig};

const OBJECTS: usize = 2000;
const NS: &str = "watched";

async fn start(dir: &std::path::Path, listen: SocketAddr) -> RunningServer {
    let config = ServerConfig {
        listen,
        data_dir: Some(dir.to_owned()),
        simulate_workloads: false,
        ..ServerConfig::ephemeral()
    };
    tether_apiserver::start(config)
        .await
        .expect("server starts")
}

fn cm(name: &str, value: u64) -> ConfigMap {
    serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": NS},
        "data": {"value": value.to_string()},
    }))
    .unwrap()
}

/// Retries a request through the restart window.
async fn retry<T, F, Fut>(mut f: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, kube::Error>>,
{
    for attempt in 0.. {
        match f().await {
            Ok(v) => return Some(v),
            // Another writer deleted it first.
            Err(kube::Error::Api(e)) if e.code == 404 => return None,
            Err(kube::Error::Api(e)) if e.code == 409 => panic!("unexpected API error: {e:?}"),
            Err(e) if attempt < 200 => {
                let _ = e;
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(e) => panic!("request kept failing: {e}"),
        }
    }
    unreachable!()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn watcher_and_reflector_survive_a_restart_without_losing_events() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), SocketAddr::from(([127, 0, 0, 1], 0))).await;
    let addr = server.addr();
    let client = server.client().await.unwrap();

    let namespaces: Api<Namespace> = Api::all(client.clone());
    let ns: Namespace = serde_json::from_value(json!({"metadata": {"name": NS}})).unwrap();
    namespaces
        .create(&PostParams::default(), &ns)
        .await
        .unwrap();
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), NS);
    futures::stream::iter(0..OBJECTS)
        .map(|i| {
            let api = api.clone();
            async move {
                api.create(&PostParams::default(), &cm(&format!("cm-{i}"), 0))
                    .await
            }
        })
        .buffer_unordered(32)
        .try_collect::<Vec<_>>()
        .await
        .unwrap();

    // A reflector, and a raw watcher recording every resourceVersion it sees per object.
    let (reader, writer) = reflector::store::<ConfigMap>();
    let reflector_task = tokio::spawn(
        reflector(writer, watcher(api.clone(), watcher::Config::default()))
            .applied_objects()
            .for_each(|_| async {}),
    );
    let seen: Arc<std::sync::Mutex<HashMap<String, Vec<u64>>>> = Default::default();
    let raw_task = {
        let seen = seen.clone();
        let stream = watcher(api.clone(), watcher::Config::default());
        tokio::spawn(async move {
            let mut stream = std::pin::pin!(stream);
            // Names listed by the current (re)list: after a relist, objects it did not return
            // were deleted while the watch was down.
            let mut relisted: Option<std::collections::HashSet<String>> = None;
            while let Some(event) = stream.next().await {
                let Ok(event) = event else { continue };
                let mut seen = seen.lock().unwrap();
                match &event {
                    watcher::Event::Init => relisted = Some(Default::default()),
                    watcher::Event::InitApply(o) => {
                        if let Some(names) = relisted.as_mut() {
                            names.insert(o.metadata.name.clone().unwrap());
                        }
                    }
                    watcher::Event::InitDone => {
                        let names = relisted.take().unwrap_or_default();
                        for (name, rvs) in seen.iter_mut() {
                            let last = *rvs.last().unwrap();
                            if !names.contains(name) && last & (1 << 63) == 0 {
                                rvs.push(last | 1 << 63);
                            }
                        }
                    }
                    _ => {}
                }
                let mut record = |o: &ConfigMap, deleted: bool| {
                    let rv: u64 = o
                        .metadata
                        .resource_version
                        .as_deref()
                        .unwrap()
                        .parse()
                        .unwrap();
                    // A deletion is recorded as its revision with the top bit set.
                    let mark = if deleted { rv | 1 << 63 } else { rv };
                    seen.entry(o.metadata.name.clone().unwrap())
                        .or_default()
                        .push(mark);
                };
                match &event {
                    watcher::Event::Apply(o) | watcher::Event::InitApply(o) => record(o, false),
                    watcher::Event::Delete(o) => record(o, true),
                    watcher::Event::Init | watcher::Event::InitDone => {}
                }
            }
        })
    };
    reader.wait_until_ready().await.unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while reader.len() < OBJECTS {
        assert!(
            tokio::time::Instant::now() < deadline,
            "reflector has {} of {OBJECTS}",
            reader.len()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // Writers change, delete and re-create objects throughout the restart.
    let stop = Arc::new(AtomicBool::new(false));
    let made = Arc::new(AtomicU64::new(0));
    let mut writers = vec![];
    for w in 0..8u64 {
        let (api, stop, made) = (api.clone(), stop.clone(), made.clone());
        writers.push(tokio::spawn(async move {
            let mut i = 0u64;
            while !stop.load(Ordering::Relaxed) {
                made.fetch_add(1, Ordering::Relaxed);
                let name = format!("cm-{}", (w * 7919 + i * 104729) % OBJECTS as u64);
                let params = PatchParams::apply("writer").force();
                match i % 10 {
                    9 => {
                        let params = DeleteParams::default();
                        let _ = retry(|| api.delete(&name, &params)).await;
                    }
                    _ => {
                        let body = Patch::Apply(cm(&name, i + 1));
                        retry(|| api.patch(&name, &params, &body)).await;
                    }
                }
                i += 1;
            }
            i
        }));
    }
    // Enough writes on each side of the restart, however slow the machine: wait for counts,
    // not for time.
    let until_made = |target: u64| {
        let made = made.clone();
        async move {
            let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
            while made.load(Ordering::Relaxed) < target {
                assert!(
                    tokio::time::Instant::now() < deadline,
                    "the writers made only {} of {target} writes in 60 s",
                    made.load(Ordering::Relaxed)
                );
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    };
    until_made(80).await;
    server.shutdown().await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let server = start(dir.path(), addr).await;
    let after_restart = made.load(Ordering::Relaxed) + 80;
    until_made(after_restart).await;
    stop.store(true, Ordering::Relaxed);
    let mut writes = 0;
    for w in writers {
        writes += w.await.unwrap();
    }
    assert!(writes > 100, "the writers made only {writes} writes");

    // The server's final state.
    let list = api.list(&ListParams::default()).await.unwrap();
    let expected: BTreeMap<String, String> = list
        .items
        .iter()
        .map(|o| {
            (
                o.metadata.name.clone().unwrap(),
                o.metadata.resource_version.clone().unwrap(),
            )
        })
        .collect();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let actual: BTreeMap<String, String> = reader
            .state()
            .iter()
            .map(|o| {
                (
                    o.metadata.name.clone().unwrap(),
                    o.metadata.resource_version.clone().unwrap(),
                )
            })
            .collect();
        if actual == expected {
            break;
        }
        if tokio::time::Instant::now() > deadline {
            let missing: Vec<_> = expected
                .keys()
                .filter(|k| !actual.contains_key(*k))
                .take(5)
                .collect();
            let extra: Vec<_> = actual
                .keys()
                .filter(|k| !expected.contains_key(*k))
                .take(5)
                .collect();
            let stale: Vec<_> = expected
                .iter()
                .filter(|(k, v)| actual.get(*k).is_some_and(|a| a != *v))
                .take(5)
                .collect();
            panic!("reflector diverged: missing {missing:?}, extra {extra:?}, stale {stale:?}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // Every object's observed history only moves forward and ends where the server is.
    let seen = seen.lock().unwrap().clone();
    for (name, rvs) in &seen {
        let plain: Vec<u64> = rvs.iter().map(|r| r & !(1 << 63)).collect();
        assert!(
            plain.windows(2).all(|w| w[0] <= w[1]),
            "{name}: resourceVersions went backwards: {plain:?}"
        );
        let last = *rvs.last().unwrap();
        match expected.get(name) {
            Some(rv) => assert_eq!(
                last,
                rv.parse::<u64>().unwrap(),
                "{name}: last seen is not the final state"
            ),
            None => assert!(
                last & (1 << 63) != 0,
                "{name} was deleted but its deletion was not seen"
            ),
        }
    }
    for name in expected.keys() {
        assert!(seen.contains_key(name), "{name} never seen by the watcher");
    }
    reflector_task.abort();
    raw_task.abort();
    server.shutdown().await.unwrap();
}

/// Opens a watch over a raw TLS connection (HTTP/1.1) and returns the connection once the
/// response has started: dropping it is a client going away.
async fn raw_watch(
    server: &RunningServer,
) -> tokio_rustls::client::TlsStream<tokio::net::TcpStream> {
    use rustls::pki_types::pem::PemObject;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls::pki_types::CertificateDer::pem_slice_iter(server.ca_pem().as_bytes()) {
        roots.add(cert.unwrap()).unwrap();
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let tcp = tokio::net::TcpStream::connect(server.addr()).await.unwrap();
    let name = rustls::pki_types::ServerName::IpAddress(server.addr().ip().into());
    let mut tls = tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect(name, tcp)
        .await
        .unwrap();
    let request = format!(
        "GET /api/v1/namespaces/default/configmaps?watch=1 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\n\r\n",
        server.token()
    );
    tls.write_all(request.as_bytes()).await.unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        tls.read_exact(&mut byte).await.unwrap();
        head.push(byte[0]);
    }
    assert!(
        head.starts_with(b"HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&head)
    );
    tls
}

/// A client that goes away ends its watch on the server at once, even when no event would
/// have been sent to it (found by fuzzing: idle watches lingered until their timeout).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_disconnected_watcher_leaves_no_stream_behind() {
    // No bookmark would wake the streams: only noticing the client going away can end them.
    let config = ServerConfig {
        bookmark_interval: Duration::from_secs(3600),
        ..ServerConfig::ephemeral()
    };
    let server = tether_apiserver::start(config).await.unwrap();
    let mut watches = vec![];
    for _ in 0..5 {
        watches.push(raw_watch(&server).await);
    }
    assert_eq!(server.open_watches(), 5);
    drop(watches);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(3);
    while server.open_watches() > 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{} watches still open after their clients went away",
            server.open_watches()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    server.shutdown().await.unwrap();
}
