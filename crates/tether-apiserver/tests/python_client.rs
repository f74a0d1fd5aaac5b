//! The official Kubernetes Python client (`pip install kubernetes`) against the control plane over
//! HTTPS: typed CoreV1/AppsV1 calls, the DynamicClient and watch (`tests/python/client.py`).
//! `.ci/run` installs the package; without it the test fails and says how to get it.
#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests: a panic is a failed assertion.

use std::process::Command;

use tether_apiserver::{ServerConfig, start};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_official_python_client_works() {
    let probe = Command::new("python3")
        .args(["-c", "import kubernetes"])
        .output()
        .unwrap_or_else(|e| panic!("cannot run python3 ({e}): install Python 3"));
    assert!(
        probe.status.success(),
        "the Python package `kubernetes` is missing: `python3 -m pip install kubernetes` ({})",
        String::from_utf8_lossy(&probe.stderr).trim()
    );
    let server = start(ServerConfig::ephemeral()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    std::fs::write(&kubeconfig, server.kubeconfig()).unwrap();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/python/client.py");
    let run = tokio::process::Command::new("python3")
        .arg(script)
        .arg(&kubeconfig)
        .arg("python-client")
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(
        run.status.success(),
        "the Python client checks failed:\n{stdout}\n{stderr}"
    );
    assert!(
        stdout.contains("python client: all checks passed"),
        "{stdout}"
    );
    server.shutdown().await.unwrap();
}
