//! The `tether` binary: `apiserver` serves until SIGTERM or SIGINT and then exits 0 with its
//! store closed (a restart on the same data dir serves the same state); completions print.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests: a panic is a failed assertion.

use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};

async fn serve(data: &std::path::Path) -> (tokio::process::Child, String) {
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_tether"))
        .args(["apiserver", "--listen=127.0.0.1:0"])
        .arg("--data-dir")
        .arg(data)
        .env("TETHER_LOG", "warn")
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let line = tokio::time::timeout(
        Duration::from_secs(30),
        BufReader::new(stdout).lines().next_line(),
    )
    .await
    .expect("serves within 30s")
    .unwrap()
    .expect("prints where it serves");
    let url = line
        .strip_prefix("serving on ")
        .expect("first line names the URL")
        .to_owned();
    (child, url)
}

fn signal(pid: u32, name: &str) {
    let status = std::process::Command::new("kill")
        .arg(format!("-{name}"))
        .arg(pid.to_string())
        .status()
        .unwrap();
    assert!(status.success(), "kill -{name} failed");
}

async fn stops_cleanly_on(signal_name: &str) {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, _) = serve(dir.path()).await;
    signal(child.id().unwrap(), signal_name);
    let status = tokio::time::timeout(Duration::from_secs(15), child.wait())
        .await
        .unwrap_or_else(|_| panic!("did not exit within 15s of SIG{signal_name}"))
        .unwrap();
    assert!(status.success(), "exit after SIG{signal_name}: {status}");
    // The store was closed cleanly: the same data dir opens and serves again.
    let (mut again, _) = serve(dir.path()).await;
    again.start_kill().unwrap();
}

#[tokio::test]
async fn apiserver_exits_zero_on_sigterm() {
    stops_cleanly_on("TERM").await;
}

#[tokio::test]
async fn apiserver_exits_zero_on_sigint() {
    stops_cleanly_on("INT").await;
}

#[test]
fn completions_are_generated() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_tether"))
        .args(["completion", "bash"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let script = String::from_utf8(out.stdout).unwrap();
    assert!(
        script.contains("apiserver") && script.contains("--data-dir"),
        "{script}"
    );
}
