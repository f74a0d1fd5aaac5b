//! Helpers for the kubectl suite: the pinned kubectl binaries, one control plane per test with
//! its own kubeconfig, discovery cache and home directory, and kubectl runs (to completion or in
//! the background) whose failures say which kubectl, which arguments and what it printed.

/// Runs each scenario once per kubectl version, in a module per version
/// (`per_version!(v1_27 => "1.27", …; [scenario, …])`).
#[allow(unused_macros)] // Not every suite including this module runs per version.
macro_rules! per_version {
    ($($module:ident => $version:literal),+ ; $scenarios:tt) => {
        $(per_version!(@module $module $version $scenarios);)+
    };
    (@module $module:ident $version:literal [$($scenario:ident),+ $(,)?]) => {
        mod $module {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $scenario() {
                    super::$scenario($version).await;
                }
            )+
        }
    };
}

use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use serde_json::Value;
use tempfile::TempDir;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader, Lines};
use tokio::process::{Child, ChildStdout, Command};

/// The longest any single kubectl run may take before the test fails (a hang is a failure, not
/// a stuck suite).
const RUN_LIMIT: Duration = Duration::from_secs(60);

/// The directory holding `kubectl.1.27` and friends: `TETHER_KUBECTL_DIR`, else the directory
/// the `kubectl` on `PATH` really lives in (`dirname "$(readlink -f "$(command -v kubectl)")"`).
pub fn kubectl_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("TETHER_KUBECTL_DIR") {
        return PathBuf::from(dir);
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    let found = std::env::split_paths(&path)
        .map(|dir| dir.join("kubectl"))
        .find(|candidate| candidate.is_file())
        .unwrap_or_else(|| {
            panic!("no `kubectl` on PATH: the pinned kubectl.1.XX binaries are found beside it")
        });
    let real = std::fs::canonicalize(&found)
        .unwrap_or_else(|e| panic!("cannot resolve {}: {e}", found.display()));
    real.parent()
        .unwrap_or_else(|| panic!("{} has no parent directory", real.display()))
        .to_path_buf()
}

/// `kubectl.<version>`, which must exist: a missing binary fails the test and names it.
pub fn kubectl_binary(version: &str) -> PathBuf {
    let dir = kubectl_dir();
    let binary = dir.join(format!("kubectl.{version}"));
    assert!(
        binary.is_file(),
        "the pinned kubectl binary {} is missing (looked in {}; set TETHER_KUBECTL_DIR to \
         another directory)",
        binary.display(),
        dir.display()
    );
    binary
}

/// What a finished kubectl run left.
#[derive(Debug)]
pub struct Run {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn code(&self) -> Option<i32> {
        self.status.code()
    }
}

/// A control plane serving one test, and a kubectl pointed at it.
pub struct Cluster {
    server: Option<tether_apiserver::RunningServer>,
    version: &'static str,
    kubectl: PathBuf,
    dir: TempDir,
    kubeconfig: PathBuf,
    cache: PathBuf,
}

impl Cluster {
    /// Starts an in-memory control plane and prepares kubectl `version` for it.
    pub async fn start(version: &'static str) -> Cluster {
        let kubectl = kubectl_binary(version);
        let server = tether_apiserver::start(tether_apiserver::ServerConfig::ephemeral())
            .await
            .unwrap_or_else(|e| panic!("the control plane did not start: {e}"));
        let dir = tempfile::tempdir().expect("temp dir");
        let kubeconfig = dir.path().join("kubeconfig");
        std::fs::write(&kubeconfig, server.kubeconfig()).expect("write kubeconfig");
        let cache = dir.path().join("kube-cache");
        std::fs::create_dir_all(dir.path().join("home")).expect("home dir");
        Cluster {
            server: Some(server),
            version,
            kubectl,
            dir,
            kubeconfig,
            cache,
        }
    }

    /// Writes `contents` to `name` in the test's directory and answers its path.
    pub fn file(&self, name: &str, contents: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, contents)
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
        path
    }

    /// kubectl with this test's kubeconfig, discovery cache and an empty home (so nothing of the
    /// machine's `~/.kube` leaks in).
    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(&self.kubectl);
        command
            .arg(format!("--kubeconfig={}", self.kubeconfig.display()))
            .arg(format!("--cache-dir={}", self.cache.display()))
            .args(args)
            .env_remove("KUBECONFIG")
            .env("HOME", self.dir.path().join("home"))
            .stdin(Stdio::null())
            .kill_on_drop(true);
        command
    }

    fn describe(&self, args: &[&str]) -> String {
        format!("kubectl.{} {}", self.version, args.join(" "))
    }

    /// Runs kubectl to completion (at most [`RUN_LIMIT`]).
    pub async fn run(&self, args: &[&str]) -> Run {
        self.run_with_env(args, &[]).await
    }

    /// Runs kubectl with extra environment variables (e.g. `KUBE_EDITOR`).
    pub async fn run_with_env(&self, args: &[&str], envs: &[(&str, &str)]) -> Run {
        let mut command = self.command(args);
        for (key, value) in envs {
            command.env(key, value);
        }
        let output = command
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .output();
        let output = tokio::time::timeout(RUN_LIMIT, output)
            .await
            .unwrap_or_else(|_| panic!("`{}` still ran after {RUN_LIMIT:?}", self.describe(args)))
            .unwrap_or_else(|e| panic!("`{}` did not start: {e}", self.describe(args)));
        Run {
            status: output.status,
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// Runs kubectl, which must succeed quietly; answers its standard output.
    pub async fn ok(&self, args: &[&str]) -> String {
        let run = self.run(args).await;
        assert!(
            run.status.success(),
            "`{}` failed ({}):\nstdout:\n{}\nstderr:\n{}",
            self.describe(args),
            run.status,
            run.stdout,
            run.stderr
        );
        // Against a cluster these runs print no warnings, retries or discovery fallbacks.
        assert_eq!(
            run.stderr,
            "",
            "`{}` succeeded but complained:\n{}",
            self.describe(args),
            run.stderr
        );
        run.stdout
    }

    /// `create -f <file>`, which must succeed.
    pub async fn create_file(&self, file: &Path) -> String {
        let file = file.to_str().expect("utf-8 path");
        self.ok(&["create", "-f", file]).await
    }

    /// `apply --server-side -f <file>`, which must succeed.
    pub async fn apply_file(&self, file: &Path) -> String {
        let file = file.to_str().expect("utf-8 path");
        self.ok(&["apply", "--server-side", "-f", file]).await
    }

    /// Runs kubectl, which must exit with `code`.
    pub async fn exits(&self, code: i32, args: &[&str]) -> Run {
        let run = self.run(args).await;
        assert_eq!(
            run.code(),
            Some(code),
            "`{}` exited with {} instead of {code}:\nstdout:\n{}\nstderr:\n{}",
            self.describe(args),
            run.status,
            run.stdout,
            run.stderr
        );
        run
    }

    /// Runs kubectl, which must print JSON; answers it parsed.
    pub async fn json(&self, args: &[&str]) -> Value {
        let out = self.ok(args).await;
        serde_json::from_str(&out)
            .unwrap_or_else(|e| panic!("`{}` printed no JSON ({e}):\n{out}", self.describe(args)))
    }

    /// `get <what> -o json` of one object.
    pub async fn get_json(&self, what: &[&str]) -> Value {
        let mut args = vec!["get"];
        args.extend_from_slice(what);
        args.extend_from_slice(&["-o", "json"]);
        self.json(&args).await
    }

    /// Asserts that `get <what>` answers NotFound.
    pub async fn assert_gone(&self, what: &[&str]) {
        let mut args = vec!["get"];
        args.extend_from_slice(what);
        let run = self.run(&args).await;
        assert!(
            !run.status.success() && run.stderr.contains("NotFound"),
            "`{}` should answer NotFound:\nstdout:\n{}\nstderr:\n{}",
            self.describe(&args),
            run.stdout,
            run.stderr
        );
    }

    /// Starts kubectl in the background.
    pub fn spawn(&self, args: &[&str]) -> Background {
        let mut child = self
            .command(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("`{}` did not start: {e}", self.describe(args)));
        let stdout = child.stdout.take().map(|s| BufReader::new(s).lines());
        Background {
            what: self.describe(args),
            child,
            stdout,
            seen: String::new(),
        }
    }

    /// Stops the control plane.
    pub async fn shutdown(mut self) {
        if let Some(server) = self.server.take() {
            server.shutdown().await.expect("clean shutdown");
        }
    }
}

/// A kubectl running in the background (a watch, a waiting delete).
pub struct Background {
    what: String,
    child: Child,
    stdout: Option<Lines<BufReader<ChildStdout>>>,
    seen: String,
}

impl Background {
    /// Reads standard output until a line satisfies `wanted`; answers that line. Fails the test
    /// when kubectl ends first or nothing matches within `limit`.
    pub async fn line(&mut self, limit: Duration, wanted: impl Fn(&str) -> bool) -> String {
        let lines = self.stdout.as_mut().expect("stdout is read by line()");
        let found = tokio::time::timeout(limit, async {
            while let Some(line) = lines.next_line().await.expect("read kubectl output") {
                self.seen.push_str(&line);
                self.seen.push('\n');
                if wanted(&line) {
                    return Some(line);
                }
            }
            None
        })
        .await;
        match found {
            Ok(Some(line)) => line,
            Ok(None) => {
                let stderr = self.stderr_now().await;
                panic!(
                    "`{}` ended without printing the expected line; it printed:\n{}{stderr}",
                    self.what, self.seen
                )
            }
            Err(_) => panic!(
                "`{}` printed no expected line within {limit:?}; it printed:\n{}",
                self.what, self.seen
            ),
        }
    }

    async fn stderr_now(&mut self) -> String {
        let mut text = String::new();
        if let Some(mut stderr) = self.child.stderr.take() {
            let _ = tokio::time::timeout(Duration::from_secs(5), stderr.read_to_string(&mut text))
                .await;
        }
        format!("stderr:\n{text}")
    }

    /// Whether kubectl is still running (it has not exited).
    pub fn running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Waits for kubectl to exit (at most `limit`); answers what it printed.
    pub async fn finish(mut self, limit: Duration) -> Run {
        let mut stdout = String::new();
        if let Some(lines) = self.stdout.as_mut() {
            let read = async {
                while let Ok(Some(line)) = lines.next_line().await {
                    stdout.push_str(&line);
                    stdout.push('\n');
                }
            };
            if tokio::time::timeout(limit, read).await.is_err() {
                let _ = self.child.kill().await;
                panic!(
                    "`{}` did not finish within {limit:?}; it printed:\n{}{stdout}",
                    self.what, self.seen
                );
            }
        }
        let status = tokio::time::timeout(limit, self.child.wait())
            .await
            .unwrap_or_else(|_| panic!("`{}` did not exit within {limit:?}", self.what))
            .expect("wait for kubectl");
        let mut stderr = String::new();
        if let Some(mut pipe) = self.child.stderr.take() {
            let _ = pipe.read_to_string(&mut stderr).await;
        }
        Run {
            status,
            stdout: format!("{}{stdout}", self.seen),
            stderr,
        }
    }

    /// Ends kubectl (a watch that would run forever).
    pub async fn kill(mut self) {
        let _ = self.child.kill().await;
    }
}
