use std::io::Read;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::TestkitError;

const SSHD: &str = "/usr/sbin/sshd";

/// An OpenSSH key pair in OpenSSH's own file formats.
#[derive(Debug, Clone)]
pub struct SshKeyPair {
    /// The private key (`-----BEGIN OPENSSH PRIVATE KEY-----…`).
    pub private_key: String,
    /// The public key line (`ssh-ed25519 AAAA… comment`).
    pub public_key: String,
}

/// Generates an ed25519 key pair with `ssh-keygen`, optionally encrypted with `passphrase`.
pub fn generate_ed25519_key(comment: &str, passphrase: &str) -> Result<SshKeyPair, TestkitError> {
    let dir = tempfile::tempdir().map_err(|e| {
        TestkitError::io("creating a temporary directory in", std::env::temp_dir(), e)
    })?;
    let path = dir.path().join("key");
    keygen(&path, comment, passphrase)?;
    read_pair(&path)
}

fn keygen(path: &Path, comment: &str, passphrase: &str) -> Result<(), TestkitError> {
    let mut cmd = Command::new("ssh-keygen");
    cmd.args(["-q", "-t", "ed25519", "-N", passphrase, "-C", comment, "-f"])
        .arg(path);
    let command = format!("{cmd:?}");
    let output = cmd.output().map_err(|source| match source.kind() {
        std::io::ErrorKind::NotFound => TestkitError::MissingProgram {
            program: "ssh-keygen".into(),
            package: "openssh-client",
        },
        _ => TestkitError::Spawn {
            command: command.clone(),
            source,
        },
    })?;
    if !output.status.success() {
        return Err(TestkitError::Command {
            command,
            status: output.status.to_string(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        });
    }
    Ok(())
}

fn read_pair(path: &Path) -> Result<SshKeyPair, TestkitError> {
    let private_key =
        std::fs::read_to_string(path).map_err(|e| TestkitError::io("reading", path, e))?;
    let public_path = path.with_extension("pub");
    let public_key = std::fs::read_to_string(&public_path)
        .map_err(|e| TestkitError::io("reading", &public_path, e))?
        .trim()
        .to_owned();
    Ok(SshKeyPair {
        private_key,
        public_key,
    })
}

/// An `sshd` serving Git over SSH on 127.0.0.1 as the current user; killed when dropped.
#[derive(Debug)]
pub struct SshGitServer {
    child: Child,
    dir: tempfile::TempDir,
    port: u16,
    user: String,
    client: SshKeyPair,
    host_public_key: String,
}

impl SshGitServer {
    /// Generates a host key and a client key, writes an `sshd_config` that needs no root, and
    /// starts `/usr/sbin/sshd` on a free port of 127.0.0.1.
    pub fn start() -> Result<Self, TestkitError> {
        if !Path::new(SSHD).exists() {
            return Err(TestkitError::MissingProgram {
                program: SSHD.into(),
                package: "openssh-server",
            });
        }
        let dir = tempfile::Builder::new()
            .prefix("tether-sshd-")
            .tempdir()
            .map_err(|e| {
                TestkitError::io("creating a temporary directory in", std::env::temp_dir(), e)
            })?;
        let host_key = dir.path().join("host_ed25519");
        keygen(&host_key, "tether-test-host", "")?;
        let host_public_key = read_pair(&host_key)?.public_key;
        let client_key = dir.path().join("client_ed25519");
        keygen(&client_key, "tether-test-client", "")?;
        let client = read_pair(&client_key)?;
        let authorized = dir.path().join("authorized_keys");
        std::fs::write(&authorized, format!("{}\n", client.public_key))
            .map_err(|e| TestkitError::io("writing", &authorized, e))?;
        let user = current_user()?;
        ensure_privsep_dir()?;

        let mut last_error = None;
        for _ in 0..5 {
            let port = free_port()?;
            match spawn_sshd(dir.path(), &host_key, &authorized, port) {
                Ok(child) => {
                    return Ok(SshGitServer {
                        child,
                        dir,
                        port,
                        user,
                        client,
                        host_public_key,
                    });
                }
                Err(e) => last_error = Some(e),
            }
        }
        Err(last_error.unwrap_or_else(|| TestkitError::NotReady {
            what: "sshd",
            port: 0,
            detail: "no attempt was made".into(),
        }))
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The user the server logs clients in as (the current user).
    pub fn user(&self) -> &str {
        &self.user
    }

    /// `ssh://<user>@127.0.0.1:<port><absolute path>` for a bare repository on this machine.
    pub fn url(&self, repo: &Path) -> String {
        format!(
            "ssh://{}@127.0.0.1:{}{}",
            self.user,
            self.port,
            repo.display()
        )
    }

    /// The client key pair whose public half is authorized.
    pub fn client_key(&self) -> &SshKeyPair {
        &self.client
    }

    /// The `known_hosts` line for this server's host key: `[127.0.0.1]:PORT ssh-ed25519 AAAA…`.
    pub fn known_hosts(&self) -> String {
        let mut fields = self.host_public_key.split_whitespace();
        let kind = fields.next().unwrap_or_default();
        let key = fields.next().unwrap_or_default();
        format!("[127.0.0.1]:{} {kind} {key}\n", self.port)
    }

    /// An `ssh` command line for `git -c core.sshCommand=…` (pushing in tests): the client key,
    /// this server's host key as the only trusted one, no user or system ssh configuration.
    pub fn git_ssh_command(&self) -> Result<String, TestkitError> {
        let key = self.dir.path().join("client_ed25519");
        let known_hosts = self.dir.path().join("known_hosts");
        std::fs::write(&known_hosts, self.known_hosts())
            .map_err(|e| TestkitError::io("writing", &known_hosts, e))?;
        Ok(format!(
            "ssh -F /dev/null -o IdentitiesOnly=yes -o IdentityAgent=none -o BatchMode=yes \
             -o StrictHostKeyChecking=yes -o GlobalKnownHostsFile=/dev/null \
             -o UserKnownHostsFile={} -i {}",
            known_hosts.display(),
            key.display()
        ))
    }

    /// Authorizes one more client public key (an `ssh-ed25519 AAAA…` line).
    pub fn authorize(&self, public_key: &str) -> Result<(), TestkitError> {
        use std::io::Write;
        let path = self.dir.path().join("authorized_keys");
        let mut file = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .map_err(|e| TestkitError::io("opening", &path, e))?;
        writeln!(file, "{}", public_key.trim()).map_err(|e| TestkitError::io("writing", &path, e))
    }

    /// What `sshd` logged so far (for failure messages).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("sshd.log")).unwrap_or_default()
    }
}

impl Drop for SshGitServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn current_user() -> Result<String, TestkitError> {
    let output = Command::new("id")
        .arg("-un")
        .output()
        .map_err(|source| TestkitError::Spawn {
            command: "id -un".into(),
            source,
        })?;
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

/// sshd started by root insists on its privilege-separation directory, which only the init
/// script creates; a non-root sshd does not need it.
fn ensure_privsep_dir() -> Result<(), TestkitError> {
    let is_root = Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false);
    let dir = Path::new("/run/sshd");
    if is_root && !dir.exists() {
        std::fs::create_dir_all(dir).map_err(|e| TestkitError::io("creating", dir, e))?;
    }
    Ok(())
}

fn free_port() -> Result<u16, TestkitError> {
    let listener = std::net::TcpListener::bind(("127.0.0.1", 0))
        .map_err(|source| TestkitError::Bind { port: 0, source })?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|source| TestkitError::Bind { port: 0, source })
}

fn spawn_sshd(
    dir: &Path,
    host_key: &Path,
    authorized: &Path,
    port: u16,
) -> Result<Child, TestkitError> {
    let config: PathBuf = dir.join("sshd_config");
    let text = format!(
        "Port {port}\n\
         ListenAddress 127.0.0.1\n\
         HostKey {host_key}\n\
         AuthorizedKeysFile {authorized}\n\
         PidFile {pid}\n\
         UsePAM no\n\
         StrictModes no\n\
         PubkeyAuthentication yes\n\
         PasswordAuthentication no\n\
         KbdInteractiveAuthentication no\n\
         PermitRootLogin prohibit-password\n\
         AllowTcpForwarding no\n\
         X11Forwarding no\n\
         PrintMotd no\n\
         AcceptEnv GIT_PROTOCOL\n\
         LogLevel VERBOSE\n",
        host_key = host_key.display(),
        authorized = authorized.display(),
        pid = dir.join("sshd.pid").display(),
    );
    std::fs::write(&config, text).map_err(|e| TestkitError::io("writing", &config, e))?;
    let log_path = dir.join("sshd.log");
    let log =
        std::fs::File::create(&log_path).map_err(|e| TestkitError::io("creating", &log_path, e))?;
    // -D: stay in the foreground so the child is sshd itself; -e: log to stderr (the log file).
    let mut child = Command::new(SSHD)
        .args(["-D", "-e", "-f"])
        .arg(&config)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .map_err(|source| TestkitError::Spawn {
            command: format!("{SSHD} -D -e -f {}", config.display()),
            source,
        })?;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return Err(TestkitError::NotReady {
                what: "sshd",
                port,
                detail: format!(
                    "exited with {status}: {}",
                    std::fs::read_to_string(&log_path).unwrap_or_default()
                ),
            });
        }
        if banner(port) {
            return Ok(child);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Err(TestkitError::NotReady {
                what: "sshd",
                port,
                detail: format!(
                    "no SSH banner within 10 s: {}",
                    std::fs::read_to_string(&log_path).unwrap_or_default()
                ),
            });
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// True once something on `port` greets with an SSH banner.
fn banner(port: u16) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let mut buf = [0u8; 8];
    stream.read_exact(&mut buf).is_ok() && buf.starts_with(b"SSH-2.0")
}
