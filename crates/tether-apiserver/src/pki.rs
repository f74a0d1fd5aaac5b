//! The control plane's credentials: a CA, a serving certificate signed by it, and a bearer
//! token. With a data dir they are created once and reused, so a kubeconfig written earlier keeps
//! working across restarts; without one they live only in memory.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SanType,
};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

#[derive(Debug, thiserror::Error)]
pub enum PkiError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} holds no valid PEM {what}: {detail}")]
    BadPem {
        path: PathBuf,
        what: &'static str,
        detail: String,
    },
    #[error("cannot generate a certificate: {0}")]
    Generate(#[from] rcgen::Error),
    #[error("cannot set up TLS: {0}")]
    Tls(#[from] rustls::Error),
}

/// What a client needs to trust and authenticate to the server, plus the server's own key.
#[derive(Clone)]
pub struct Credentials {
    pub ca_pem: String,
    pub serving_cert_pem: String,
    pub serving_key_pem: String,
    pub token: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials").finish_non_exhaustive()
    }
}

const CA_CERT: &str = "pki/ca.crt";
const CA_KEY: &str = "pki/ca.key";
const SERVING_CERT: &str = "pki/apiserver.crt";
const SERVING_KEY: &str = "pki/apiserver.key";
const SERVING_SANS: &str = "pki/apiserver.sans";
const TOKEN: &str = "token";

/// Subject alternative names of the serving certificate: loopback always, plus the address the
/// server listens on.
pub fn serving_names(listen: IpAddr) -> Vec<String> {
    let mut names = vec![
        "localhost".to_owned(),
        "127.0.0.1".to_owned(),
        "::1".to_owned(),
    ];
    let ip = listen.to_string();
    if !listen.is_unspecified() && !names.contains(&ip) {
        names.push(ip);
    }
    names
}

/// Loads the credentials from `data_dir`, creating what is missing. The serving certificate is
/// re-issued (by the same CA) when the names it must carry change.
pub fn load_or_create(data_dir: Option<&Path>, names: &[String]) -> Result<Credentials, PkiError> {
    let Some(dir) = data_dir else {
        let (ca_pem, ca_key) = new_ca()?;
        let (cert, key) = new_serving(&ca_pem, &ca_key, names)?;
        return Ok(Credentials {
            ca_pem,
            serving_cert_pem: cert,
            serving_key_pem: key,
            token: new_token(),
        });
    };
    let (ca_pem, ca_key) = match (read_opt(&dir.join(CA_CERT))?, read_opt(&dir.join(CA_KEY))?) {
        (Some(cert), Some(key)) => (cert, key),
        _ => {
            let (cert, key) = new_ca()?;
            write_private(&dir.join(CA_KEY), &key)?;
            write_public(&dir.join(CA_CERT), &cert)?;
            (cert, key)
        }
    };
    let wanted_sans = names.join("\n");
    let existing = (
        read_opt(&dir.join(SERVING_CERT))?,
        read_opt(&dir.join(SERVING_KEY))?,
        read_opt(&dir.join(SERVING_SANS))?,
    );
    let (serving_cert_pem, serving_key_pem) = match existing {
        (Some(cert), Some(key), Some(sans)) if sans == wanted_sans => (cert, key),
        _ => {
            let (cert, key) = new_serving(&ca_pem, &ca_key, names)?;
            write_private(&dir.join(SERVING_KEY), &key)?;
            write_public(&dir.join(SERVING_CERT), &cert)?;
            write_public(&dir.join(SERVING_SANS), &wanted_sans)?;
            (cert, key)
        }
    };
    let token = match read_opt(&dir.join(TOKEN))? {
        Some(token) if !token.trim().is_empty() => token.trim().to_owned(),
        _ => {
            let token = new_token();
            write_private(&dir.join(TOKEN), &token)?;
            token
        }
    };
    Ok(Credentials {
        ca_pem,
        serving_cert_pem,
        serving_key_pem,
        token,
    })
}

/// A rustls server config for the serving certificate, offering HTTP/2 and HTTP/1.1 (kubectl
/// negotiates h2 over TLS).
pub fn server_tls_config(creds: &Credentials) -> Result<rustls::ServerConfig, PkiError> {
    let chain = vec![
        parse_cert(&creds.serving_cert_pem, SERVING_CERT)?,
        parse_cert(&creds.ca_pem, CA_CERT)?,
    ];
    let key = PrivateKeyDer::from_pem_slice(creds.serving_key_pem.as_bytes()).map_err(|e| {
        PkiError::BadPem {
            path: SERVING_KEY.into(),
            what: "private key",
            detail: e.to_string(),
        }
    })?;
    let provider = std::sync::Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(chain, key)?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}

fn parse_cert(pem: &str, path: &str) -> Result<CertificateDer<'static>, PkiError> {
    CertificateDer::from_pem_slice(pem.as_bytes()).map_err(|e| PkiError::BadPem {
        path: path.into(),
        what: "certificate",
        detail: e.to_string(),
    })
}

fn validity(params: &mut CertificateParams, years: i32) {
    let today = jiff::Zoned::now().date();
    let start = today.yesterday().unwrap_or(today);
    params.not_before = rcgen::date_time_ymd(
        i32::from(start.year()),
        start.month() as u8,
        start.day() as u8,
    );
    params.not_after = rcgen::date_time_ymd(
        i32::from(today.year()) + years,
        today.month() as u8,
        today.day().min(28) as u8,
    );
}

fn new_ca() -> Result<(String, String), PkiError> {
    let mut params = CertificateParams::new(Vec::<String>::new())?;
    params
        .distinguished_name
        .push(DnType::CommonName, "tether-ca");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    validity(&mut params, 10);
    let key = KeyPair::generate()?;
    let cert = params.self_signed(&key)?;
    Ok((cert.pem(), key.serialize_pem()))
}

fn new_serving(
    ca_pem: &str,
    ca_key_pem: &str,
    names: &[String],
) -> Result<(String, String), PkiError> {
    let ca_key = KeyPair::from_pem(ca_key_pem)?;
    let issuer = Issuer::from_ca_cert_pem(ca_pem, ca_key)?;
    let mut params = CertificateParams::new(Vec::<String>::new())?;
    params
        .distinguished_name
        .push(DnType::CommonName, "tether-apiserver");
    params.subject_alt_names = names
        .iter()
        .map(|name| match name.parse::<IpAddr>() {
            Ok(ip) => Ok(SanType::IpAddress(ip)),
            Err(_) => name.clone().try_into().map(SanType::DnsName),
        })
        .collect::<Result<_, _>>()?;
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    validity(&mut params, 5);
    let key = KeyPair::generate()?;
    let cert = params.signed_by(&key, &issuer)?;
    Ok((cert.pem(), key.serialize_pem()))
}

fn new_token() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn read_opt(path: &Path) -> Result<Option<String>, PkiError> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(PkiError::Read {
            path: path.to_owned(),
            source,
        }),
    }
}

fn write_public(path: &Path, text: &str) -> Result<(), PkiError> {
    write_mode(path, text, 0o644)
}

/// Keys and the token are readable by the owner only.
fn write_private(path: &Path, text: &str) -> Result<(), PkiError> {
    write_mode(path, text, 0o600)
}

fn write_mode(path: &Path, text: &str, mode: u32) -> Result<(), PkiError> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let err = |source| PkiError::Write {
        path: path.to_owned(),
        source,
    };
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(err)?;
    }
    // Write beside, then rename: a crash never leaves a half-written key.
    let tmp = path.with_extension("tmp");
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(mode)
        .open(&tmp)
        .map_err(err)?;
    file.write_all(text.as_bytes()).map_err(err)?;
    file.sync_all().map_err(err)?;
    std::fs::rename(&tmp, path).map_err(err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_persist_in_the_data_dir() {
        let dir = tempfile::tempdir().unwrap();
        let names = serving_names("127.0.0.1".parse().unwrap());
        let first = load_or_create(Some(dir.path()), &names).unwrap();
        let again = load_or_create(Some(dir.path()), &names).unwrap();
        assert_eq!(first.ca_pem, again.ca_pem);
        assert_eq!(first.serving_cert_pem, again.serving_cert_pem);
        assert_eq!(first.token, again.token);
        assert_eq!(first.token.len(), 64);
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join(TOKEN))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        server_tls_config(&first).unwrap();
    }

    #[test]
    fn new_listen_address_reissues_serving_cert_from_same_ca() {
        let dir = tempfile::tempdir().unwrap();
        let first = load_or_create(
            Some(dir.path()),
            &serving_names("127.0.0.1".parse().unwrap()),
        )
        .unwrap();
        let other = load_or_create(
            Some(dir.path()),
            &serving_names("10.1.2.3".parse().unwrap()),
        )
        .unwrap();
        assert_eq!(first.ca_pem, other.ca_pem);
        assert_ne!(first.serving_cert_pem, other.serving_cert_pem);
    }
}
