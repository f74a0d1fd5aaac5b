use std::path::{Path, PathBuf};
use std::process::Command;

use crate::TestkitError;

/// The first commit's time; each later commit is one minute after the previous one.
const EPOCH: u64 = 1_700_000_000;

/// A `git` command isolated from the machine's and the user's Git configuration.
pub fn git_command(dir: &Path) -> Command {
    let mut cmd = Command::new("git");
    cmd.current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_TERMINAL_PROMPT", "0")
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .env_remove("GIT_SSH_COMMAND")
        // The machine may point git at its own CA bundle; tests pass their CA with -c.
        .env_remove("GIT_SSL_CAINFO")
        .env_remove("GIT_SSL_CAPATH")
        .env_remove("GIT_SSL_NO_VERIFY")
        .args([
            "-c",
            "init.defaultBranch=main",
            "-c",
            "commit.gpgsign=false",
            "-c",
            "tag.gpgsign=false",
            "-c",
            "core.autocrlf=false",
            "-c",
            "protocol.file.allow=always",
            "-c",
            "safe.directory=*",
        ]);
    cmd
}

fn run(mut cmd: Command) -> Result<String, TestkitError> {
    let command = format!("{cmd:?}");
    let output = cmd.output().map_err(|source| TestkitError::Spawn {
        command: command.clone(),
        source,
    })?;
    if !output.status.success() {
        return Err(TestkitError::Command {
            command,
            status: output.status.to_string(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        });
    }
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

/// Creates a bare repository at `path` (parents included) with `main` as its default branch.
pub fn init_bare(path: &Path) -> Result<PathBuf, TestkitError> {
    std::fs::create_dir_all(path).map_err(|e| TestkitError::io("creating", path, e))?;
    let mut cmd = git_command(path);
    cmd.args(["init", "--bare", "--quiet", "--initial-branch=main", "."]);
    run(cmd)?;
    Ok(path.to_owned())
}

/// A non-bare repository in a temporary directory, with reproducible commits.
#[derive(Debug)]
pub struct WorkRepo {
    dir: tempfile::TempDir,
    commits: u64,
}

impl WorkRepo {
    /// `git init` on branch `main` in a new temporary directory.
    pub fn new() -> Result<Self, TestkitError> {
        let dir = tempfile::Builder::new()
            .prefix("tether-work-")
            .tempdir()
            .map_err(|e| {
                TestkitError::io("creating a temporary directory in", std::env::temp_dir(), e)
            })?;
        let repo = WorkRepo { dir, commits: 0 };
        repo.git(&["init", "--quiet", "--initial-branch=main"])?;
        Ok(repo)
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Runs `git <args>` in the work tree and returns its trimmed standard output.
    pub fn git(&self, args: &[&str]) -> Result<String, TestkitError> {
        let mut cmd = git_command(self.path());
        cmd.args(args);
        run(cmd)
    }

    /// Writes `contents` to `rel` (parents created).
    pub fn write(&self, rel: &str, contents: impl AsRef<[u8]>) -> Result<(), TestkitError> {
        let path = self.path().join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| TestkitError::io("creating", parent, e))?;
        }
        std::fs::write(&path, contents).map_err(|e| TestkitError::io("writing", &path, e))
    }

    /// Marks `rel` executable (mode 0755).
    pub fn make_executable(&self, rel: &str) -> Result<(), TestkitError> {
        use std::os::unix::fs::PermissionsExt;
        let path = self.path().join(rel);
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))
            .map_err(|e| TestkitError::io("chmod", &path, e))
    }

    /// Creates a symbolic link at `rel` pointing to `target`.
    pub fn symlink(&self, rel: &str, target: &str) -> Result<(), TestkitError> {
        let path = self.path().join(rel);
        std::os::unix::fs::symlink(target, &path)
            .map_err(|e| TestkitError::io("symlinking", &path, e))
    }

    /// Removes the file `rel` from the work tree.
    pub fn remove(&self, rel: &str) -> Result<(), TestkitError> {
        let path = self.path().join(rel);
        std::fs::remove_file(&path).map_err(|e| TestkitError::io("removing", &path, e))
    }

    /// Stages everything and commits with a fixed author, committer and date; returns the SHA.
    pub fn commit(&mut self, message: &str) -> Result<String, TestkitError> {
        self.git(&["add", "--all"])?;
        let date = format!("@{} +0000", EPOCH + 60 * self.commits);
        self.commits += 1;
        let mut cmd = git_command(self.path());
        cmd.args(["commit", "--quiet", "--allow-empty", "-m", message])
            .env("GIT_AUTHOR_NAME", "Tether Test")
            .env("GIT_AUTHOR_EMAIL", "test@tether.invalid")
            .env("GIT_AUTHOR_DATE", &date)
            .env("GIT_COMMITTER_NAME", "Tether Test")
            .env("GIT_COMMITTER_EMAIL", "test@tether.invalid")
            .env("GIT_COMMITTER_DATE", &date);
        run(cmd)?;
        self.head()
    }

    /// The SHA of `HEAD`.
    pub fn head(&self) -> Result<String, TestkitError> {
        self.git(&["rev-parse", "HEAD"])
    }

    /// Creates branch `name` at `HEAD` and checks it out.
    pub fn checkout_new_branch(&self, name: &str) -> Result<(), TestkitError> {
        self.git(&["checkout", "--quiet", "-b", name]).map(drop)
    }

    /// Checks out an existing branch.
    pub fn checkout(&self, name: &str) -> Result<(), TestkitError> {
        self.git(&["checkout", "--quiet", name]).map(drop)
    }

    /// A lightweight tag at `HEAD`.
    pub fn tag(&self, name: &str) -> Result<(), TestkitError> {
        self.git(&["tag", name]).map(drop)
    }

    /// An annotated tag at `HEAD`, with the same fixed tagger and date as the last commit.
    pub fn annotated_tag(&self, name: &str, message: &str) -> Result<(), TestkitError> {
        let date = format!("@{} +0000", EPOCH + 60 * self.commits.saturating_sub(1));
        let mut cmd = git_command(self.path());
        cmd.args(["tag", "-a", name, "-m", message])
            .env("GIT_COMMITTER_NAME", "Tether Test")
            .env("GIT_COMMITTER_EMAIL", "test@tether.invalid")
            .env("GIT_COMMITTER_DATE", &date);
        run(cmd).map(drop)
    }

    /// Points `refname` (e.g. `refs/pull/1/head`) at `sha`.
    pub fn update_ref(&self, refname: &str, sha: &str) -> Result<(), TestkitError> {
        self.git(&["update-ref", refname, sha]).map(drop)
    }

    /// `git push --force <url> <refspecs…>` with extra `-c key=value` settings (for example
    /// `http.sslCAInfo=…` or `core.sshCommand=…`).
    pub fn push_with(
        &self,
        url: &str,
        refspecs: &[&str],
        config: &[(&str, &str)],
    ) -> Result<(), TestkitError> {
        let mut cmd = git_command(self.path());
        for (key, value) in config {
            cmd.arg("-c").arg(format!("{key}={value}"));
        }
        cmd.args(["push", "--quiet", "--force", url]).args(refspecs);
        run(cmd).map(drop)
    }

    /// `git push --force <url> <refspecs…>`, e.g. `push(bare, &["main", "--tags"])`.
    pub fn push(&self, url: &str, refspecs: &[&str]) -> Result<(), TestkitError> {
        self.push_with(url, refspecs, &[])
    }
}
