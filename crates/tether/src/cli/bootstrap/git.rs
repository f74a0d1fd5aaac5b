//! The Git side of bootstrap: a temporary clone of one branch, commits, and pushes, done by the
//! `git` program (gix cannot push). Credentials travel in the environment (`GIT_CONFIG_*`,
//! `GIT_SSH_COMMAND`), never on a command line other users could read.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use base64::Engine as _;

/// How the CLI itself authenticates to the remote.
#[derive(Debug, Clone, Default)]
pub struct PushAuth {
    /// HTTP basic credentials.
    pub basic: Option<(String, String)>,
    /// HTTP bearer token.
    pub bearer: Option<String>,
    /// PEM CA bundle for HTTPS.
    pub ca_file: Option<PathBuf>,
    /// SSH private key; without it, ssh's own configuration and agent are used.
    pub ssh_key: Option<PathBuf>,
    /// SSH `known_hosts` to verify the server with; without it, the user's.
    pub known_hosts: Option<PathBuf>,
}

/// A clone of `branch` in a temporary directory.
#[derive(Debug)]
pub struct Workspace {
    dir: tempfile::TempDir,
    url: String,
    branch: String,
    env: Vec<(String, String)>,
}

impl Workspace {
    /// Clones `branch` of `url`; a branch the remote lacks starts from its default branch, or
    /// empty when the repository is.
    pub fn clone(url: &str, branch: &str, auth: &PushAuth) -> anyhow::Result<Workspace> {
        let dir = tempfile::Builder::new()
            .prefix("tether-bootstrap-")
            .tempdir()
            .context("cannot create a temporary directory")?;
        let ws = Workspace {
            dir,
            url: url.to_owned(),
            branch: branch.to_owned(),
            env: environment(auth),
        };
        ws.git(&["init", "-q", "-b", branch])?;
        ws.git(&["remote", "add", "origin", url])?;
        let heads = ws
            .git(&["ls-remote", "--symref", "origin"])
            .with_context(|| format!("cannot reach the Git repository {url}"))?;
        let wanted = format!("refs/heads/{branch}");
        let has_branch = heads
            .lines()
            .any(|l| l.split_whitespace().nth(1) == Some(wanted.as_str()));
        if has_branch {
            ws.git(&["fetch", "-q", "origin", &wanted])
                .with_context(|| format!("cannot fetch branch '{branch}' of {url}"))?;
            ws.git(&["checkout", "-q", "-B", branch, "FETCH_HEAD"])?;
        } else if heads.lines().any(|l| l.ends_with("\tHEAD")) {
            ws.git(&["fetch", "-q", "origin", "HEAD"])
                .with_context(|| format!("cannot fetch the default branch of {url}"))?;
            ws.git(&["checkout", "-q", "-B", branch, "FETCH_HEAD"])?;
        }
        Ok(ws)
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes `contents` at `rel` (creating directories); whether the file changed.
    pub fn write(&self, rel: &str, contents: &str) -> anyhow::Result<bool> {
        let path = self.path().join(rel);
        if std::fs::read_to_string(&path).is_ok_and(|old| old == contents) {
            return Ok(false);
        }
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        std::fs::write(&path, contents).with_context(|| format!("cannot write {rel}"))?;
        Ok(true)
    }

    pub fn read(&self, rel: &str) -> Option<String> {
        std::fs::read_to_string(self.path().join(rel)).ok()
    }

    pub fn exists(&self, rel: &str) -> bool {
        self.path().join(rel).exists()
    }

    /// Commits everything under `paths`; the new commit, or `None` when nothing changed.
    pub fn commit(
        &self,
        paths: &[&str],
        message: &str,
        author: (&str, &str),
    ) -> anyhow::Result<Option<String>> {
        let mut add = vec!["add", "-A", "--"];
        add.extend(paths);
        self.git(&add)?;
        let mut status = vec!["status", "--porcelain", "--"];
        status.extend(paths);
        if self.git(&status)?.trim().is_empty() {
            return Ok(None);
        }
        let name = format!("user.name={}", author.0);
        let email = format!("user.email={}", author.1);
        self.git(&[
            "-c",
            &name,
            "-c",
            &email,
            "-c",
            "commit.gpgsign=false",
            "commit",
            "-q",
            "-m",
            message,
        ])?;
        self.head().map(Some)
    }

    pub fn head(&self) -> anyhow::Result<String> {
        Ok(self.git(&["rev-parse", "HEAD"])?.trim().to_owned())
    }

    pub fn push(&self) -> anyhow::Result<()> {
        let refspec = format!("HEAD:refs/heads/{}", self.branch);
        self.git(&["push", "-q", "origin", &refspec])
            .with_context(|| format!("cannot push to branch '{}' of {}", self.branch, self.url))?;
        Ok(())
    }

    fn git(&self, args: &[&str]) -> anyhow::Result<String> {
        let env: Vec<(&str, &str)> = self
            .env
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        crate::git::run(self.path(), args, &env)
    }
}

/// The environment that gives `git` the credentials and nothing interactive.
fn environment(auth: &PushAuth) -> Vec<(String, String)> {
    let mut config: Vec<(&str, String)> = vec![("credential.helper", String::new())];
    if let Some((user, password)) = &auth.basic {
        let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        config.push(("http.extraHeader", format!("Authorization: Basic {token}")));
    }
    if let Some(token) = &auth.bearer {
        config.push(("http.extraHeader", format!("Authorization: Bearer {token}")));
    }
    if let Some(ca) = &auth.ca_file {
        config.push(("http.sslCAInfo", ca.display().to_string()));
    }
    let mut env = vec![
        ("GIT_TERMINAL_PROMPT".to_owned(), "0".to_owned()),
        ("GIT_CONFIG_COUNT".to_owned(), config.len().to_string()),
    ];
    for (i, (key, value)) in config.into_iter().enumerate() {
        env.push((format!("GIT_CONFIG_KEY_{i}"), key.to_owned()));
        env.push((format!("GIT_CONFIG_VALUE_{i}"), value));
    }
    if auth.ssh_key.is_some() || auth.known_hosts.is_some() {
        // Without a key of ours, the user's own ssh command (and its key or agent) pushes.
        let base = match (&auth.ssh_key, std::env::var("GIT_SSH_COMMAND")) {
            (None, Ok(user)) if !user.trim().is_empty() => user,
            _ => "ssh".to_owned(),
        };
        let mut ssh = format!("{base} -o BatchMode=yes");
        if let Some(key) = &auth.ssh_key {
            ssh.push_str(&format!(
                " -o IdentitiesOnly=yes -i {}",
                shell_quote(&key.display().to_string())
            ));
        }
        if let Some(hosts) = &auth.known_hosts {
            ssh.push_str(&format!(
                " -o StrictHostKeyChecking=yes -o GlobalKnownHostsFile=/dev/null -o UserKnownHostsFile={}",
                shell_quote(&hosts.display().to_string())
            ));
        }
        env.push(("GIT_SSH_COMMAND".to_owned(), ssh));
    }
    env
}

/// `GIT_SSH_COMMAND` goes through a shell.
fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}
