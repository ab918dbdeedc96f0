//! The TLS setup shared by `tls_load`'s peers (`hyper_tls_hello`, `tls_floor`): a rustls
//! server configuration with the ring provider, rustls' default protocol versions (TLS
//! 1.3 and 1.2) and session handling, ALPN `http/1.1`, from a PEM certificate chain and
//! key.

use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::ServerConfig;

/// `--cert` and `--key` from the command line (with `--addr`): exits with status 2 if
/// either is missing.
pub fn parse_tls_args(name: &str) -> (std::net::SocketAddr, String, String) {
    let (addr, given) = crate::parse_args(name, &[("--cert", "PEM"), ("--key", "PEM")]);
    let get = |flag: &str| {
        given
            .iter()
            .rev()
            .find(|(f, _)| *f == flag)
            .map(|(_, v)| v.clone())
    };
    let usage = format!("usage: {name} [--addr HOST:PORT] --cert PEM --key PEM");
    match (get("--cert"), get("--key")) {
        (Some(cert), Some(key)) => (addr, cert, key),
        _ => crate::fail(name, "--cert and --key are required", &usage),
    }
}

/// `--addr`, `--cert` and `--key` from the command line, and a TLS acceptor with
/// [`server_config`] for that certificate and key; exits with status 2 on a bad command
/// line and with status 1 (after printing why, prefixed with `name`) if the files do not
/// make a configuration.
pub fn tls_args_and_acceptor(name: &str) -> (std::net::SocketAddr, tokio_rustls::TlsAcceptor) {
    let (addr, cert, key) = parse_tls_args(name);
    match server_config(Path::new(&cert), Path::new(&key)) {
        Ok(config) => (addr, tokio_rustls::TlsAcceptor::from(config)),
        Err(e) => {
            eprintln!("{name}: {e}");
            std::process::exit(1);
        }
    }
}

/// A rustls server configuration for the certificate chain and key in the PEM files.
pub fn server_config(cert: &Path, key: &Path) -> Result<Arc<ServerConfig>, String> {
    let certs = CertificateDer::pem_file_iter(cert)
        .and_then(|it| it.collect::<Result<Vec<_>, _>>())
        .map_err(|e| format!("reading certificates from {}: {e}", cert.display()))?;
    if certs.is_empty() {
        return Err(format!("no certificate in {}", cert.display()));
    }
    let key = PrivateKeyDer::from_pem_file(key)
        .map_err(|e| format!("reading the private key from {}: {e}", key.display()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS versions: {e}"))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| format!("certificate and key: {e}"))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}
