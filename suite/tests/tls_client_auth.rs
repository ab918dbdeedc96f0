//! Client certificates: a server whose rustls configuration asks for one
//! (`WebPkiClientVerifier`) shows the verified chain to handlers in
//! `TlsInfo::peer_certificates`; a client without one is refused at the
//! handshake and the server goes on serving. The client is rustls' own
//! (`StreamOwned` over a std socket).

mod common;
mod tls_common;

use tls_common::tls_builder;

use std::io::Write;
use std::net::TcpStream;
use std::sync::Arc;
use std::time::Duration;

use corering::http::{self, Http1Config, Request, Response};
use corering::tls::TlsInfo;
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
use tls_common::read_response;

async fn whoami(req: Request<'_>) -> Response {
    let info = req.connection().features().get::<TlsInfo>();
    let certs = info.map_or(0, |i| i.peer_certificates.len());
    let first = info
        .and_then(|i| i.peer_certificates.first())
        .map_or(0, |c| c.len());
    Response::text(format!("certs={certs} first_len={first}"))
}

struct Pki {
    ca: CertificateDer<'static>,
    server: (CertificateDer<'static>, PrivateKeyDer<'static>),
    client: (CertificateDer<'static>, PrivateKeyDer<'static>),
}

fn leaf(
    names: Vec<String>,
    cn: &str,
    ca: &rcgen::Certificate,
    ca_key: &KeyPair,
) -> (CertificateDer<'static>, PrivateKeyDer<'static>) {
    let mut p = CertificateParams::new(names).unwrap();
    p.distinguished_name.push(DnType::CommonName, cn);
    let key = KeyPair::generate().unwrap();
    let cert = p.signed_by(&key, ca, ca_key).unwrap();
    (
        cert.der().clone(),
        PrivatePkcs8KeyDer::from(key.serialize_der()).into(),
    )
}

fn pki() -> Pki {
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "client auth CA");
    let ca_key = KeyPair::generate().unwrap();
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let server = leaf(vec!["localhost".into()], "localhost", &ca, &ca_key);
    let client = leaf(vec!["client.test".into()], "a client", &ca, &ca_key);
    Pki {
        ca: ca.der().clone(),
        server,
        client,
    }
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn roots(p: &Pki) -> Arc<rustls::RootCertStore> {
    let mut r = rustls::RootCertStore::empty();
    r.add(p.ca.clone()).unwrap();
    Arc::new(r)
}

fn server_config(p: &Pki) -> rustls::ServerConfig {
    let verifier =
        rustls::server::WebPkiClientVerifier::builder_with_provider(roots(p), provider())
            .build()
            .unwrap();
    let mut c = rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_client_cert_verifier(verifier)
        .with_single_cert(vec![p.server.0.clone()], p.server.1.clone_key())
        .unwrap();
    c.alpn_protocols = vec![b"http/1.1".to_vec()];
    c
}

fn client_config(p: &Pki, with_cert: bool) -> Arc<rustls::ClientConfig> {
    let b = rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots(p));
    Arc::new(if with_cert {
        b.with_client_auth_cert(vec![p.client.0.clone()], p.client.1.clone_key())
            .unwrap()
    } else {
        b.with_no_client_auth()
    })
}

/// One GET / over a fresh connection; the response body, or the error.
fn get(addr: std::net::SocketAddr, config: Arc<rustls::ClientConfig>) -> Result<String, String> {
    let sock = TcpStream::connect(addr).unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let name = ServerName::try_from("localhost").unwrap();
    let conn = rustls::ClientConnection::new(config, name).unwrap();
    let mut s = rustls::StreamOwned::new(conn, sock);
    s.write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .map_err(|e| e.to_string())?;
    let mut buf = Vec::new();
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        read_response(&mut s, &mut buf)
    }))
    .map_err(|_| "no response".to_string())?;
    Ok(String::from_utf8_lossy(&r.body).into_owned())
}

#[test]
fn handlers_see_the_verified_client_certificate() {
    let p = pki();
    let server = tls_builder(server_config(&p))
        .build()
        .unwrap()
        .start(|conn| http::serve(conn, Http1Config::new(), whoami))
        .unwrap();
    let addr = server.tcp_addr().unwrap();
    let body = get(addr, client_config(&p, true)).expect("with a client certificate");
    assert_eq!(body, format!("certs=1 first_len={}", p.client.0.len()));
    // Without one the handshake fails (rustls' alert): no response.
    let refused = get(addr, client_config(&p, false));
    assert!(
        refused.is_err(),
        "served without a client certificate: {refused:?}"
    );
    // And the server goes on.
    let again = get(addr, client_config(&p, true)).expect("served again");
    assert!(again.starts_with("certs=1"));
    server.shutdown().unwrap();
}
