//! Deploy keys: a fresh ed25519 key pair in OpenSSH format, and the prompt that waits until the
//! user has added its public half to the repository.

use std::io::{BufRead as _, IsTerminal as _, Write as _};

use anyhow::{Context as _, bail};

pub struct KeyPair {
    pub private_openssh: String,
    pub public_openssh: String,
}

pub fn generate_ed25519(comment: &str) -> anyhow::Result<KeyPair> {
    let mut key =
        ssh_key::PrivateKey::random(&mut ssh_key::rand_core::OsRng, ssh_key::Algorithm::Ed25519)
            .context("cannot generate an ed25519 key")?;
    key.set_comment(comment);
    let private_openssh = key
        .to_openssh(ssh_key::LineEnding::LF)
        .context("cannot encode the private key")?
        .to_string();
    let public_openssh = key
        .public_key()
        .to_openssh()
        .context("cannot encode the public key")?;
    Ok(KeyPair {
        private_openssh,
        public_openssh,
    })
}

/// Asks `question` on the terminal; anything but yes is an error. Without a terminal it says
/// to pass `--silent`.
pub fn confirm(question: &str) -> anyhow::Result<()> {
    if !std::io::stdin().is_terminal() {
        bail!("{question} (answer on a terminal, or pass --silent to go on without asking)");
    }
    eprint!("{question} [y/N] ");
    std::io::stderr().flush().ok();
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    if !matches!(answer.trim(), "y" | "Y" | "yes") {
        bail!("cancelled");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_are_openssh_ed25519_and_distinct() {
        let a = generate_ed25519("tether").unwrap();
        let b = generate_ed25519("tether").unwrap();
        assert!(
            a.public_openssh.starts_with("ssh-ed25519 AAAA"),
            "{}",
            a.public_openssh
        );
        assert!(a.public_openssh.ends_with(" tether"));
        assert!(
            a.private_openssh
                .starts_with("-----BEGIN OPENSSH PRIVATE KEY-----\n")
        );
        assert_ne!(a.public_openssh, b.public_openssh);
        let parsed = ssh_key::PrivateKey::from_openssh(&a.private_openssh).unwrap();
        assert_eq!(parsed.public_key().to_openssh().unwrap(), a.public_openssh);
    }
}
