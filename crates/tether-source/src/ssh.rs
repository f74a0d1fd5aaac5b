//! The `ssh` gix runs for `ssh://` remotes: a wrapper script that pins OpenSSH to the
//! Secret's identity and `known_hosts`, and nothing else.
//!
//! gix shells out to `ssh` (it has no SSH client of its own); it learns which program to run
//! from `core.sshCommand` and picks OpenSSH's argument style when the program's file name is
//! `ssh`. So the wrapper is a script named `ssh` in the fetch's private temporary directory:
//!
//! - `-F /dev/null`: no user or system ssh configuration takes part;
//! - `StrictHostKeyChecking=yes`, `UserKnownHostsFile=<Secret's known_hosts>`,
//!   `GlobalKnownHostsFile=/dev/null`: host keys are always verified against the Secret only;
//!   an unknown or changed key fails, it is never added;
//! - `IdentitiesOnly=yes`, `IdentityAgent=none`, `IdentityFile=<Secret's identity>`: only the
//!   Secret's key is offered, no agent;
//! - `BatchMode=yes` (no prompt), or with a passphrase, `SSH_ASKPASS` pointing at a script that
//!   prints it (`SSH_ASKPASS_REQUIRE=force`, OpenSSH ≥ 8.4), password and keyboard-interactive
//!   authentication off either way;
//! - ssh's standard error goes to a log in the same directory, read back to name host-key and
//!   authentication failures (gix only sees the connection close).
//!
//! Key files are written with mode 0600 in a 0700 directory that is removed after the fetch.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::FetchErrorKind;
use crate::auth::SshAuth;

pub(crate) struct SshWrapper {
    pub(crate) program: PathBuf,
    stderr_log: PathBuf,
}

fn write_file(path: &Path, contents: &[u8], mode: u32) -> Result<(), FetchErrorKind> {
    let io = |source| FetchErrorKind::Io {
        what: "writing",
        path: path.to_owned(),
        source,
    };
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)
        .map_err(io)?;
    file.write_all(contents).map_err(io)
}

/// Single-quotes `path` for `sh`; paths holding a quote are refused (temporary paths never do).
fn quote(path: &Path) -> Result<String, FetchErrorKind> {
    let text = path.display().to_string();
    if text.contains('\'') {
        return Err(FetchErrorKind::InvalidSpec(format!(
            "temporary path {text} holds a quote"
        )));
    }
    Ok(format!("'{text}'"))
}

impl SshWrapper {
    /// Writes the key files and the wrapper into `dir` (a fresh private directory).
    pub(crate) fn write(
        dir: &Path,
        auth: &SshAuth,
        timeout: Duration,
    ) -> Result<Self, FetchErrorKind> {
        let identity = dir.join("identity");
        let mut key = auth.identity.clone();
        // OpenSSH rejects a private key without its final newline; Secrets often lose it.
        if !key.ends_with(b"\n") {
            key.push(b'\n');
        }
        write_file(&identity, &key, 0o600)?;
        let known_hosts = dir.join("known_hosts");
        write_file(&known_hosts, &auth.known_hosts, 0o600)?;
        let stderr_log = dir.join("ssh-stderr.log");

        let mut env = String::new();
        let batch = match &auth.passphrase {
            Some(passphrase) => {
                let file = dir.join("passphrase");
                write_file(&file, passphrase.as_bytes(), 0o600)?;
                let askpass = dir.join("askpass");
                write_file(
                    &askpass,
                    format!("#!/bin/sh\ncat {}\n", quote(&file)?).as_bytes(),
                    0o700,
                )?;
                env = format!(
                    "env SSH_ASKPASS={} SSH_ASKPASS_REQUIRE=force DISPLAY=none ",
                    quote(&askpass)?
                );
                "no"
            }
            None => "yes",
        };
        let connect_timeout = timeout.as_secs().clamp(1, 600);
        let script = format!(
            "#!/bin/sh\n\
             exec {env}ssh -F /dev/null \
             -o BatchMode={batch} \
             -o StrictHostKeyChecking=yes \
             -o UserKnownHostsFile={known_hosts} \
             -o GlobalKnownHostsFile=/dev/null \
             -o UpdateHostKeys=no \
             -o IdentitiesOnly=yes \
             -o IdentityAgent=none \
             -o IdentityFile={identity} \
             -o PasswordAuthentication=no \
             -o KbdInteractiveAuthentication=no \
             -o ConnectTimeout={connect_timeout} \
             \"$@\" 2>>{log}\n",
            known_hosts = quote(&known_hosts)?,
            identity = quote(&identity)?,
            log = quote(&stderr_log)?,
        );
        let program = dir.join("ssh");
        write_file(&program, script.as_bytes(), 0o700)?;
        Ok(SshWrapper {
            program,
            stderr_log,
        })
    }

    /// What ssh printed on standard error so far.
    pub(crate) fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr_log).unwrap_or_default()
    }
}
