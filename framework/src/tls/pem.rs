//! Certificates and keys from PEM files, with errors that name the file.

use std::io;
use std::path::Path;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// A server configuration from a PEM certificate chain (leaf first) and a
/// PEM private key (PKCS#8, PKCS#1 or SEC1), with ALPN `http/1.1`, TLS 1.2
/// and 1.3, and the ring crypto provider.
///
/// ```no_run
/// let config = corering::tls::server_config_from_pem("cert.pem", "key.pem")?;
/// let server = corering::Server::builder().bind("127.0.0.1:8443").tls(config).build()?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn server_config_from_pem(
    cert_path: impl AsRef<Path>,
    key_path: impl AsRef<Path>,
) -> io::Result<rustls::ServerConfig> {
    let (cert_path, key_path) = (cert_path.as_ref(), key_path.as_ref());
    let chain = certs_from_pem(cert_path)?;
    let key = PrivateKeyDer::from_pem_file(key_path)
        .map_err(|e| pem_error(key_path, "private key", e))?;
    let mut config = rustls::ServerConfig::builder_with_provider(super::provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| io::Error::other(format!("tls: {e}")))?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "{} and {}: certificate and key do not make a usable pair: {e}",
                    cert_path.display(),
                    key_path.display()
                ),
            )
        })?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

/// Every certificate in a PEM file, in order; an error naming the file if
/// it cannot be read or holds none.
pub fn certs_from_pem(path: impl AsRef<Path>) -> io::Result<Vec<CertificateDer<'static>>> {
    let path = path.as_ref();
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| pem_error(path, "certificate", e))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| pem_error(path, "certificate", e))?;
    if certs.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "{}: no certificate (-----BEGIN CERTIFICATE-----) in the file",
                path.display()
            ),
        ));
    }
    Ok(certs)
}

fn pem_error(path: &Path, what: &str, e: rustls::pki_types::pem::Error) -> io::Error {
    use rustls::pki_types::pem::Error;
    let (kind, why) = match e {
        Error::Io(e) => (e.kind(), e.to_string()),
        Error::NoItemsFound => (io::ErrorKind::InvalidData, format!("no {what} in the file")),
        e => (
            io::ErrorKind::InvalidData,
            format!("not a valid PEM {what}: {e:?}"),
        ),
    };
    io::Error::new(kind, format!("{}: {why}", path.display()))
}
