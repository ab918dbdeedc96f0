//! Helpers shared by the `tls_*` tests: a throwaway PKI (a CA and a server
//! certificate for `localhost` and 127.0.0.1, made with rcgen and written
//! as PEM files), HTTPS servers on corering, and a blocking client on
//! rustls' own `StreamOwned` over a std `TcpStream`.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};

/// PEM files of a CA and of a server certificate it signed.
pub struct Pki {
    pub dir: PathBuf,
    pub ca: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
}

impl Drop for Pki {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A fresh CA and a server certificate for `localhost`, `example.test`
/// and 127.0.0.1, in a directory of their own.
pub fn pki(ca_name: &str) -> Pki {
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "corering-tls-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, ca_name);
    let ca_key = KeyPair::generate().unwrap();
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let mut params = CertificateParams::new(vec![
        "localhost".to_string(),
        "example.test".to_string(),
        "127.0.0.1".to_string(),
    ])
    .unwrap();
    params
        .distinguished_name
        .push(DnType::CommonName, "localhost");
    let key = KeyPair::generate().unwrap();
    let cert = params.signed_by(&key, &ca, &ca_key).unwrap();
    let p = Pki {
        ca: dir.join("ca.pem"),
        cert: dir.join("cert.pem"),
        key: dir.join("key.pem"),
        dir,
    };
    std::fs::write(&p.ca, ca.pem()).unwrap();
    std::fs::write(&p.cert, cert.pem()).unwrap();
    std::fs::write(&p.key, key.serialize_pem()).unwrap();
    p
}

/// A server builder for the TLS tests: 127.0.0.1, an ephemeral port, one
/// unpinned worker, serving TLS with `config`.
pub fn tls_builder(config: corering::tls::rustls::ServerConfig) -> corering::ServerBuilder {
    corering::Server::builder()
        .bind("127.0.0.1:0")
        .workers(1)
        .pin_workers(false)
        .tls(config)
}

/// corering's TLS client settings trusting only the PKI's CA.
pub fn trusting(p: &Pki) -> corering::tls::TlsConnector {
    corering::tls::TlsConnector::builder()
        .no_default_roots()
        .ca_file(&p.ca)
        .expect("CA file")
        .build()
}

/// The server configuration corering makes from the PKI's PEM files.
pub fn server_config(p: &Pki) -> corering::tls::rustls::ServerConfig {
    corering::tls::server_config_from_pem(&p.cert, &p.key).expect("server config from PEM")
}

/// A rustls client configuration trusting the PKI's CA, offering ALPN
/// http/1.1 (rustls' own ring provider, as the server).
pub fn client_config(p: &Pki) -> Arc<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    let pem = std::fs::read_to_string(&p.ca).unwrap();
    let der = pem_to_der(&pem);
    roots.add(der.into()).unwrap();
    let mut c = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    c.alpn_protocols = vec![b"http/1.1".to_vec()];
    Arc::new(c)
}

/// The DER bytes of the first certificate in a PEM text.
fn pem_to_der(pem: &str) -> Vec<u8> {
    use rustls::pki_types::pem::PemObject;
    rustls::pki_types::CertificateDer::from_pem_slice(pem.as_bytes())
        .unwrap()
        .to_vec()
}

/// A blocking TLS client stream (rustls over a std socket).
pub type Tls = rustls::StreamOwned<rustls::ClientConnection, TcpStream>;

/// Connects to `addr` and completes a handshake for `name` with `config`.
pub fn tls_connect(addr: SocketAddr, config: &Arc<rustls::ClientConfig>, name: &str) -> Tls {
    let sock = TcpStream::connect(addr).unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    sock.set_write_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    sock.set_nodelay(true).unwrap();
    let conn = rustls::ClientConnection::new(
        config.clone(),
        rustls::pki_types::ServerName::try_from(name.to_string()).unwrap(),
    )
    .unwrap();
    let mut s = rustls::StreamOwned::new(conn, sock);
    while s.conn.is_handshaking() {
        s.conn.complete_io(&mut s.sock).expect("tls handshake");
    }
    s
}

/// One HTTP/1.1 response read off `s`: status, head, body (Content-Length
/// or chunked, decoded). Bytes past it stay in `buf` for the next call.
pub struct Resp {
    pub status: u16,
    pub head: String,
    pub body: Vec<u8>,
}

pub fn read_response<S: Read>(s: &mut S, buf: &mut Vec<u8>) -> Resp {
    let head_end = loop {
        if let Some(i) = find(buf, b"\r\n\r\n") {
            break i + 4;
        }
        fill(s, buf);
    };
    let head = String::from_utf8(buf[..head_end].to_vec()).unwrap();
    let status: u16 = head[9..12].parse().unwrap();
    buf.drain(..head_end);
    let lower = head.to_ascii_lowercase();
    let body = if let Some(cl) = lower
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
    {
        let n: usize = cl.trim().parse().unwrap();
        while buf.len() < n {
            fill(s, buf);
        }
        buf.drain(..n).collect()
    } else if lower.contains("transfer-encoding: chunked") {
        let mut body = Vec::new();
        loop {
            let line_end = loop {
                if let Some(i) = find(buf, b"\r\n") {
                    break i;
                }
                fill(s, buf);
            };
            let size =
                usize::from_str_radix(std::str::from_utf8(&buf[..line_end]).unwrap().trim(), 16)
                    .unwrap();
            buf.drain(..line_end + 2);
            while buf.len() < size + 2 {
                fill(s, buf);
            }
            body.extend_from_slice(&buf[..size]);
            buf.drain(..size + 2);
            if size == 0 {
                break body;
            }
        }
    } else {
        Vec::new()
    };
    Resp { status, head, body }
}

fn find(h: &[u8], n: &[u8]) -> Option<usize> {
    h.windows(n.len()).position(|w| w == n)
}

fn fill<S: Read>(s: &mut S, buf: &mut Vec<u8>) {
    let mut tmp = [0u8; 16 << 10];
    let n = s.read(&mut tmp).expect("read");
    assert!(
        n > 0,
        "connection closed; have {:?}",
        String::from_utf8_lossy(buf)
    );
    buf.extend_from_slice(&tmp[..n]);
}

/// Sends `req` and reads one response.
pub fn roundtrip<S: Read + Write>(s: &mut S, req: &[u8], buf: &mut Vec<u8>) -> Resp {
    s.write_all(req).unwrap();
    s.flush().unwrap();
    read_response(s, buf)
}

/// True if the command runs (`curl --version`); otherwise prints a
/// `skip:` line naming it, or fails the test under CI (`CI` set), where
/// `.ci/run` installs the tools.
pub fn have_command(cmd: &str) -> bool {
    let ok = std::process::Command::new(cmd)
        .arg("version")
        .output()
        .or_else(|_| std::process::Command::new(cmd).arg("--version").output())
        .is_ok();
    if !ok {
        assert!(
            std::env::var_os("CI").is_none(),
            "{cmd} is not installed (CI must run the TLS tests with it)"
        );
        println!("skip: {cmd} is not installed");
    }
    ok
}

/// The path as a `&str` for a command line.
pub fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}
