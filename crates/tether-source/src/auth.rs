use std::collections::BTreeMap;

use crate::AuthError;

/// The transport a URL selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    Https,
    Http,
    Ssh,
    /// `file://` URLs and plain local paths.
    File,
}

impl Scheme {
    pub fn of(url: &str) -> Scheme {
        let lower = url.to_ascii_lowercase();
        if lower.starts_with("https://") {
            Scheme::Https
        } else if lower.starts_with("http://") {
            Scheme::Http
        } else if lower.starts_with("ssh://") || is_scp_like(url) {
            Scheme::Ssh
        } else {
            Scheme::File
        }
    }

    fn name(self) -> &'static str {
        match self {
            Scheme::Https => "https://",
            Scheme::Http => "http://",
            Scheme::Ssh => "ssh://",
            Scheme::File => "file://",
        }
    }
}

/// `git@host:org/repo`: a colon before any slash, no scheme, not a local path.
fn is_scp_like(url: &str) -> bool {
    if url.contains("://") || url.starts_with('/') || url.starts_with('.') {
        return false;
    }
    match (url.find(':'), url.find('/')) {
        (Some(colon), Some(slash)) => colon < slash,
        (Some(_), None) => true,
        _ => false,
    }
}

/// HTTP basic-auth credentials.
#[derive(Clone, PartialEq, Eq)]
pub struct BasicAuth {
    pub username: String,
    pub password: String,
}

/// What SSH needs from the Secret.
#[derive(Clone, PartialEq, Eq)]
pub struct SshAuth {
    /// The private key (`identity`), in any format OpenSSH reads.
    pub identity: Vec<u8>,
    /// `known_hosts`: the only host keys trusted.
    pub known_hosts: Vec<u8>,
    /// `password`: the passphrase of an encrypted `identity`.
    pub passphrase: Option<String>,
}

/// Credentials for one remote, read from a Secret's data with Flux's keys.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct GitAuth {
    pub basic: Option<BasicAuth>,
    pub bearer_token: Option<String>,
    /// `ca.crt` (or the legacy `caFile`): PEM certificates trusted besides the system's roots.
    pub ca_pem: Option<Vec<u8>>,
    pub ssh: Option<SshAuth>,
}

// Hand-written so credentials never reach a log line.
impl std::fmt::Debug for GitAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GitAuth")
            .field("basic", &self.basic.as_ref().map(|b| &b.username))
            .field(
                "bearer_token",
                &self.bearer_token.as_ref().map(|_| "<redacted>"),
            )
            .field("ca_pem", &self.ca_pem.as_ref().map(Vec::len))
            .field("ssh", &self.ssh.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

impl GitAuth {
    /// No credentials: public remotes and local paths.
    pub fn none() -> Self {
        GitAuth::default()
    }

    /// Reads a Secret's `data` for `url`, as source-controller does:
    ///
    /// - `https://`, `http://`: `username` + `password` (basic auth, both or neither),
    ///   `bearerToken` (not together with basic auth), `ca.crt` or the legacy `caFile`.
    /// - `ssh://`: `identity` (private key) and `known_hosts`, both required; `password` is
    ///   the key's passphrase.
    /// - `file://` and local paths take no credentials; the data is ignored.
    pub fn from_secret_data(
        url: &str,
        data: &BTreeMap<String, Vec<u8>>,
    ) -> Result<GitAuth, AuthError> {
        let scheme = Scheme::of(url);
        let text = |key: &'static str| -> Result<Option<String>, AuthError> {
            match data.get(key) {
                None => Ok(None),
                Some(bytes) if bytes.is_empty() => Ok(None),
                Some(bytes) => String::from_utf8(bytes.clone())
                    .map(Some)
                    .map_err(|_| AuthError::NotUtf8 { key }),
            }
        };
        let bytes = |key: &str| data.get(key).filter(|b| !b.is_empty()).cloned();
        let missing = |key: &'static str| AuthError::MissingKey {
            key,
            scheme: scheme.name().to_owned(),
        };
        let mut auth = GitAuth::default();
        match scheme {
            Scheme::Https | Scheme::Http => {
                match (text("username")?, text("password")?) {
                    (Some(username), Some(password)) => {
                        auth.basic = Some(BasicAuth { username, password })
                    }
                    (Some(_), None) => return Err(missing("password")),
                    (None, Some(_)) => return Err(missing("username")),
                    (None, None) => {}
                }
                auth.bearer_token = text("bearerToken")?;
                if auth.basic.is_some() && auth.bearer_token.is_some() {
                    return Err(AuthError::BasicAndBearer);
                }
                let (ca_key, ca) = match bytes("ca.crt") {
                    Some(ca) => ("ca.crt", Some(ca)),
                    None => ("caFile", bytes("caFile")),
                };
                if let Some(ca) = &ca {
                    let certs = reqwest::Certificate::from_pem_bundle(ca).map_err(|e| {
                        AuthError::BadCertificate {
                            key: ca_key,
                            detail: e.to_string(),
                        }
                    })?;
                    if certs.is_empty() {
                        return Err(AuthError::BadCertificate {
                            key: ca_key,
                            detail: "no certificate found".into(),
                        });
                    }
                }
                auth.ca_pem = ca;
            }
            Scheme::Ssh => {
                let identity = bytes("identity").ok_or_else(|| missing("identity"))?;
                let known_hosts = bytes("known_hosts").ok_or_else(|| missing("known_hosts"))?;
                auth.ssh = Some(SshAuth {
                    identity,
                    known_hosts,
                    passphrase: text("password")?,
                });
            }
            Scheme::File => {}
        }
        Ok(auth)
    }

    /// Checks that these credentials can serve `url`: SSH remotes need an identity and
    /// `known_hosts` (host keys are always verified, there is no trust-on-first-use).
    pub fn check_for(&self, url: &str) -> Result<(), AuthError> {
        let scheme = Scheme::of(url);
        if scheme == Scheme::Ssh && self.ssh.is_none() {
            return Err(AuthError::MissingKey {
                key: "known_hosts",
                scheme: scheme.name().to_owned(),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(pairs: &[(&str, &str)]) -> BTreeMap<String, Vec<u8>> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.as_bytes().to_vec()))
            .collect()
    }

    #[test]
    fn schemes() {
        assert_eq!(Scheme::of("https://h/r.git"), Scheme::Https);
        assert_eq!(Scheme::of("HTTP://h/r.git"), Scheme::Http);
        assert_eq!(Scheme::of("ssh://git@h:22/r.git"), Scheme::Ssh);
        assert_eq!(Scheme::of("git@github.com:org/repo.git"), Scheme::Ssh);
        assert_eq!(Scheme::of("file:///srv/r.git"), Scheme::File);
        assert_eq!(Scheme::of("/srv/r.git"), Scheme::File);
        assert_eq!(Scheme::of("./r.git"), Scheme::File);
    }

    #[test]
    fn ssh_without_known_hosts_names_the_key() {
        let err = GitAuth::from_secret_data("ssh://git@h/r.git", &data(&[("identity", "k")]))
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "the Secret is missing the key 'known_hosts' needed for ssh:// URLs"
        );
        let err = GitAuth::from_secret_data("ssh://git@h/r.git", &data(&[("known_hosts", "h")]))
            .unwrap_err();
        assert!(err.to_string().contains("'identity'"), "{err}");
    }

    #[test]
    fn basic_auth_needs_both_halves_and_excludes_bearer() {
        let err =
            GitAuth::from_secret_data("https://h/r", &data(&[("username", "u")])).unwrap_err();
        assert!(err.to_string().contains("'password'"), "{err}");
        let err = GitAuth::from_secret_data(
            "https://h/r",
            &data(&[("username", "u"), ("password", "p"), ("bearerToken", "t")]),
        )
        .unwrap_err();
        assert!(matches!(err, AuthError::BasicAndBearer));
        let ok = GitAuth::from_secret_data(
            "https://h/r",
            &data(&[("username", "u"), ("password", "p")]),
        )
        .unwrap();
        assert_eq!(ok.basic.unwrap().username, "u");
    }

    #[test]
    fn a_bad_ca_is_named() {
        let err =
            GitAuth::from_secret_data("https://h/r", &data(&[("caFile", "not pem")])).unwrap_err();
        assert!(err.to_string().contains("'caFile'"), "{err}");
    }

    #[test]
    fn debug_redacts_secrets() {
        let auth = GitAuth::from_secret_data(
            "https://h/r",
            &data(&[("username", "u"), ("password", "hunter2")]),
        )
        .unwrap();
        assert!(!format!("{auth:?}").contains("hunter2"));
    }
}
