//! The transport: TLS with the generated CA for the names clients use, and ALPN offering HTTP/2
//! (kubectl and client-go speak h2 when offered) as well as HTTP/1.1.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests: a panic is a failed assertion.

use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use tether_apiserver::{RunningServer, ServerConfig};

fn connector(server: &RunningServer, alpn: &[&[u8]]) -> tokio_rustls::TlsConnector {
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(server.ca_pem().as_bytes()) {
        roots.add(cert.unwrap()).unwrap();
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    tokio_rustls::TlsConnector::from(Arc::new(config))
}

async fn negotiate(
    server: &RunningServer,
    name: ServerName<'static>,
    alpn: &[&[u8]],
) -> Option<Vec<u8>> {
    let tcp = tokio::net::TcpStream::connect(server.addr()).await.unwrap();
    let tls = connector(server, alpn)
        .connect(name.clone(), tcp)
        .await
        .unwrap_or_else(|e| panic!("TLS to {name:?} failed: {e}"));
    tls.get_ref().1.alpn_protocol().map(<[u8]>::to_vec)
}

#[tokio::test]
async fn tls_verifies_for_loopback_names_and_offers_http2() {
    let server = tether_apiserver::start(ServerConfig::ephemeral())
        .await
        .unwrap();
    let ip = ServerName::IpAddress(server.addr().ip().into());
    let localhost = ServerName::try_from("localhost").unwrap();
    assert_eq!(
        negotiate(&server, ip.clone(), &[b"h2", b"http/1.1"])
            .await
            .as_deref(),
        Some(&b"h2"[..])
    );
    assert_eq!(
        negotiate(&server, localhost, &[b"h2"]).await.as_deref(),
        Some(&b"h2"[..])
    );
    assert_eq!(
        negotiate(&server, ip, &[b"http/1.1"]).await.as_deref(),
        Some(&b"http/1.1"[..])
    );
    server.shutdown().await.unwrap();
}
