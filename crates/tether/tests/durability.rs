//! Durability of the control plane: writes are acknowledged only once durable, so killing the
//! server with SIGKILL in the middle of a write storm and restarting it on the same data dir
//! loses nothing that was acknowledged, and resourceVersions continue from where they were.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests: a panic is a failed assertion.
use std::collections::HashMap;
use std::path::Path;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use kube::api::{Api, ListParams, Patch, PatchParams};
use serde_json::json;
use tokio::io::{AsyncBufReadExt, BufReader};

struct Server {
    child: tokio::process::Child,
    client: kube::Client,
}

async fn start(dir: &Path) -> Server {
    let kubeconfig = dir.join("kubeconfig");
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_tether"))
        .args([
            "apiserver",
            "--listen=127.0.0.1:0",
            "--simulate-workloads=false",
        ])
        .arg("--data-dir")
        .arg(dir.join("data"))
        .arg("--kubeconfig-out")
        .arg(&kubeconfig)
        .env("TETHER_LOG", "warn")
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("tether apiserver starts");
    let stdout = child.stdout.take().unwrap();
    let line = tokio::time::timeout(
        Duration::from_secs(30),
        BufReader::new(stdout).lines().next_line(),
    )
    .await
    .expect("the server prints where it serves within 30s")
    .unwrap()
    .expect("the server exited early");
    assert!(
        line.starts_with("serving on https://127.0.0.1:"),
        "unexpected first line: {line}"
    );
    let text = std::fs::read_to_string(&kubeconfig).unwrap();
    let config = kube::Config::from_custom_kubeconfig(
        kube::config::Kubeconfig::from_yaml(&text).unwrap(),
        &Default::default(),
    )
    .await
    .unwrap();
    Server {
        child,
        client: kube::Client::try_from(config).unwrap(),
    }
}

fn value_of(cm: &ConfigMap) -> u64 {
    cm.data
        .as_ref()
        .and_then(|d| d.get("n"))
        .and_then(|n| n.parse().ok())
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigkill_loses_no_acknowledged_write() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = start(dir.path()).await;
    let namespaces: Api<Namespace> = Api::all(server.client.clone());
    let ns = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "durable"}});
    namespaces
        .patch("durable", &PatchParams::apply("test"), &Patch::Apply(&ns))
        .await
        .unwrap();

    // name -> (highest acknowledged value, its resourceVersion)
    let acked: Arc<Mutex<HashMap<String, (u64, u64)>>> = Default::default();
    let mut writers = vec![];
    for w in 0..16u64 {
        let api: Api<ConfigMap> = Api::namespaced(server.client.clone(), "durable");
        let acked = acked.clone();
        writers.push(tokio::spawn(async move {
            for i in 1u64.. {
                let name = format!("cm-{w}-{}", i % 25);
                let body = json!({"apiVersion": "v1", "kind": "ConfigMap",
                                  "metadata": {"name": name}, "data": {"n": i.to_string()}});
                match api
                    .patch(
                        &name,
                        &PatchParams::apply("test").force(),
                        &Patch::Apply(&body),
                    )
                    .await
                {
                    Ok(cm) => {
                        let rv = cm.metadata.resource_version.unwrap().parse().unwrap();
                        acked.lock().unwrap().insert(name, (i, rv));
                    }
                    // The server is gone: stop.
                    Err(_) => return,
                }
            }
        }));
    }
    // Kill it in the middle of the storm, once every object was written at least once.
    let started = tokio::time::Instant::now();
    while acked.lock().unwrap().len() < 16 * 25 || started.elapsed() < Duration::from_secs(2) {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "too few writes acknowledged"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    server.child.start_kill().unwrap(); // SIGKILL
    server.child.wait().await.unwrap();
    for w in writers {
        w.await.unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    let highest_acked_rv = acked.values().map(|(_, rv)| *rv).max().unwrap();

    let server = start(dir.path()).await;
    let api: Api<ConfigMap> = Api::namespaced(server.client.clone(), "durable");
    let list = api.list(&ListParams::default()).await.unwrap();
    let stored: HashMap<String, (u64, u64)> = list
        .items
        .iter()
        .map(|cm| {
            let rv = cm
                .metadata
                .resource_version
                .as_deref()
                .unwrap()
                .parse()
                .unwrap();
            (cm.metadata.name.clone().unwrap(), (value_of(cm), rv))
        })
        .collect();
    for (name, (value, rv)) in &acked {
        let (stored_value, stored_rv) = stored
            .get(name)
            .unwrap_or_else(|| panic!("{name} was acknowledged but is gone after SIGKILL"));
        // A write in flight at the kill may have landed after the last acknowledged one.
        assert!(
            stored_value >= value,
            "{name}: acknowledged {value}, restored {stored_value}"
        );
        assert!(
            stored_rv >= rv,
            "{name}: acknowledged resourceVersion {rv}, restored {stored_rv}"
        );
    }
    assert!(
        list.metadata
            .resource_version
            .unwrap()
            .parse::<u64>()
            .unwrap()
            >= highest_acked_rv
    );
    // Numbering continues past everything acknowledged.
    let body = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "after"}});
    let after = api
        .patch("after", &PatchParams::apply("test"), &Patch::Apply(&body))
        .await
        .unwrap();
    assert!(
        after
            .metadata
            .resource_version
            .unwrap()
            .parse::<u64>()
            .unwrap()
            > highest_acked_rv
    );
    drop(server);
}
