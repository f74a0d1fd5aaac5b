//! Shared by the process-level tests: child processes of the `tether` binary that are always
//! killed and reaped (a guard with `Drop`), bounded waits, a kube client from a kubeconfig file,
//! and small probes (metrics over plain HTTP, the pinned kubectl).
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)] // Tests: a panic is a failed assertion.

use std::ffi::OsStr;
use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use tether_api::Kustomization;

/// A `tether` child process: stdout lines are readable with a timeout, stderr goes to a log file
/// that failure messages quote; dropping the guard kills and reaps the process.
pub struct Proc {
    name: String,
    child: Child,
    lines: mpsc::Receiver<String>,
    log: PathBuf,
}

impl Proc {
    /// Starts `tether ARGS` with `envs`, logging stderr to `log_dir/NAME.log`.
    pub fn spawn<S: AsRef<OsStr>>(
        name: &str,
        args: &[S],
        envs: &[(&str, &str)],
        log_dir: &Path,
    ) -> Proc {
        let log = log_dir.join(format!("{name}.log"));
        let stderr = std::fs::File::create(&log).unwrap();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_tether"));
        cmd.args(args)
            .env("TETHER_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(stderr);
        for (k, v) in envs {
            cmd.env(k, v);
        }
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Proc {
            name: name.to_owned(),
            child,
            lines,
            log,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The first stdout line starting with `prefix`, with the prefix removed.
    pub fn wait_line(&self, prefix: &str, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    if let Some(rest) = line.strip_prefix(prefix) {
                        return rest.to_owned();
                    }
                }
                Err(e) => panic!(
                    "{} printed no line starting with {prefix:?} within {timeout:?} ({e}); log:\n{}",
                    self.name,
                    self.log()
                ),
            }
        }
    }

    /// The stderr log so far.
    pub fn log(&self) -> String {
        let mut text = String::new();
        if let Ok(mut f) = std::fs::File::open(&self.log) {
            let _ = f.read_to_string(&mut text);
        }
        // The tail is what explains a failure; keep messages readable.
        let skip = text.len().saturating_sub(8000);
        let start = (skip..text.len())
            .find(|i| text.is_char_boundary(*i))
            .unwrap_or(0);
        text[start..].to_owned()
    }

    /// Sends `signal` (a name such as `KILL` or `TERM`) with kill(1).
    pub fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(self.pid().to_string())
            .status()
            .unwrap();
        assert!(status.success(), "kill -{signal} {} failed", self.name);
    }

    /// Waits for the process to exit, at most `timeout`.
    pub fn wait_exit(&mut self, timeout: Duration) -> ExitStatus {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "{} did not exit within {timeout:?}; log:\n{}",
                self.name,
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// SIGKILL, then reap: the process gets no chance to release anything.
    pub fn kill9(&mut self) {
        self.signal("KILL");
        let status = self.wait_exit(Duration::from_secs(10));
        assert!(
            !status.success(),
            "{} survived SIGKILL: {status}",
            self.name
        );
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        if std::thread::panicking() {
            eprintln!("--- {} log ---\n{}", self.name, self.log());
        }
    }
}

/// Polls `probe` until it gives a value, failing with `what` after `timeout`.
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
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// `tether dev --empty` on an ephemeral port, writing its kubeconfig to `dir/NAME.kubeconfig`.
pub fn dev(dir: &Path, name: &str) -> (Proc, PathBuf) {
    dev_with(dir, name, &[])
}

/// [`dev`] with more flags (`--data-dir`, `--receiver-addr`, ...).
pub fn dev_with(dir: &Path, name: &str, extra: &[&OsStr]) -> (Proc, PathBuf) {
    let kubeconfig = dir.join(format!("{name}.kubeconfig"));
    let mut args = vec![
        OsStr::new("dev"),
        OsStr::new("--empty"),
        OsStr::new("--listen=127.0.0.1:0"),
        OsStr::new("--metrics-addr=127.0.0.1:0"),
        OsStr::new("--kubeconfig-out"),
        kubeconfig.as_os_str(),
    ];
    args.extend_from_slice(extra);
    let proc = Proc::spawn(name, &args, &[], dir);
    proc.wait_line("serving on ", Duration::from_secs(60));
    (proc, kubeconfig)
}

/// `tether ARGS --kubeconfig FILE` to completion, without colour and without the caller's
/// `TETHER_NAMESPACE`.
pub fn tether_at(kubeconfig: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_tether"))
        .args(args)
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .env("NO_COLOR", "1")
        .env_remove("TETHER_NAMESPACE")
        .output()
        .unwrap()
}

/// Process output as text.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A client for the cluster a kubeconfig file names.
pub async fn client(kubeconfig: &Path) -> kube::Client {
    let kc = kube::config::Kubeconfig::read_from(kubeconfig).unwrap();
    let config =
        kube::Config::from_custom_kubeconfig(kc, &kube::config::KubeConfigOptions::default())
            .await
            .unwrap();
    kube::Client::try_from(config).unwrap()
}

/// `tether apiserver` on an ephemeral port with its state in `dir`, and a client for it.
pub async fn apiserver(dir: &Path) -> (Proc, PathBuf, kube::Client) {
    let kubeconfig = dir.join("kubeconfig");
    let data = dir.join("apiserver");
    let proc = Proc::spawn(
        "apiserver",
        &[
            OsStr::new("apiserver"),
            OsStr::new("--listen=127.0.0.1:0"),
            OsStr::new("--kubeconfig-out"),
            kubeconfig.as_os_str(),
            OsStr::new("--data-dir"),
            data.as_os_str(),
        ],
        &[],
        dir,
    );
    proc.wait_line("serving on ", Duration::from_secs(30));
    let client = client(&kubeconfig).await;
    (proc, kubeconfig, client)
}

/// The Ready condition of a Kustomization: status, reason, message.
pub fn ready(ks: &Kustomization) -> Option<(String, String, String)> {
    let c = tether_api::conditions::find(ks.conditions(), "Ready")?;
    Some((c.status.clone(), c.reason.clone(), c.message.clone()))
}

/// Waits until Kustomization `name` is Ready=True with a message containing `contains`.
pub async fn wait_ready(
    api: &kube::Api<Kustomization>,
    name: &str,
    contains: &str,
    timeout: Duration,
) {
    let mut last = None;
    let deadline = Instant::now() + timeout;
    loop {
        if let Ok(ks) = api.get(name).await {
            let r = ready(&ks);
            if let Some((s, reason, m)) = &r
                && s == "True"
                && reason == "ReconciliationSucceeded"
                && m.contains(contains)
            {
                return;
            }
            last = r;
        }
        assert!(
            Instant::now() < deadline,
            "Kustomization {name} not Ready with '{contains}' after {timeout:?}; last Ready: {last:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// GET `path` over plain HTTP/1.0 from `addr`; the body.
pub fn http_get(addr: &str, path: &str) -> String {
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(stream, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    assert!(
        head.starts_with("HTTP/1.") && head.contains(" 200"),
        "GET {addr}{path}: {head}"
    );
    body.to_owned()
}

/// The kubectl pinned for tests: `kubectl.1.33` next to the real `kubectl` on PATH.
pub fn kubectl() -> PathBuf {
    let path = std::env::var_os("PATH").expect("PATH is set");
    let found = std::env::split_paths(&path)
        .map(|d| d.join("kubectl"))
        .find(|p| p.is_file())
        .expect("kubectl is on PATH");
    let real = std::fs::canonicalize(&found).unwrap();
    let pinned = real.parent().unwrap().join("kubectl.1.33");
    assert!(pinned.is_file(), "{} is missing", pinned.display());
    pinned
}

/// Runs kubectl with `kubeconfig`; stdout, failing with stderr when it exits non-zero.
pub fn run_kubectl(kubeconfig: &Path, args: &[&str]) -> String {
    let out = Command::new(kubectl())
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "kubectl {args:?} failed ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}
