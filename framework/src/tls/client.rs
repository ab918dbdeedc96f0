//! The client side: [`TlsConnector`] (a rustls client configuration: which
//! roots to trust, ALPN, handshake timeout), [`connect`] to run a client
//! handshake on a [`Connection`], and [`Connector::connect_tls`] for both
//! steps at once.
//!
//! Roots: the Mozilla set compiled in (`webpki-roots`: no files or system
//! calls at run time and the same on every machine, where
//! `rustls-native-certs` reads the system store at startup and differs
//! between machines; both build in about a second or two), plus any CA
//! file added.

use std::io;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use rustls::client::UnbufferedClientConnection;
use rustls::pki_types::ServerName;
use rustls::RootCertStore;

use super::server::DEFAULT_HANDSHAKE_TIMEOUT;
use super::session::Session;
use crate::pipeline::Middleware;
use crate::{Connection, Connector};

/// Opens TLS sessions on client connections: a rustls `ClientConfig` and a
/// handshake timeout. Cheap to clone.
///
/// ```no_run
/// # async fn f() -> std::io::Result<()> {
/// use corering::tls::TlsConnector;
/// let tls = TlsConnector::builder()
///     .ca_file("dev-ca.pem")?       // trust a development CA too
///     .alpn(&[b"http/1.1"])
///     .build();
/// let mut conn = corering::Connector::new()
///     .connect_tls("127.0.0.1:8443".parse().unwrap(), &tls, "localhost")
///     .await?;
/// conn.write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n").await?;
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct TlsConnector {
    config: Arc<rustls::ClientConfig>,
    timeout: Duration,
}

impl TlsConnector {
    /// A connector that trusts the Mozilla root set (webpki-roots).
    pub fn new() -> TlsConnector {
        TlsConnector::builder().build()
    }

    /// A builder starting from the Mozilla root set.
    pub fn builder() -> TlsConnectorBuilder {
        let mut roots = RootCertStore::empty();
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        TlsConnectorBuilder {
            roots,
            alpn: Vec::new(),
            timeout: DEFAULT_HANDSHAKE_TIMEOUT,
        }
    }

    /// A connector for a configuration of your own (client certificates,
    /// custom verification...).
    ///
    /// Set `enable_secret_extraction = true` in it for the fast path:
    /// after each handshake rustls hands the session's secrets to
    /// corering's own record layer (records decrypted and encrypted in
    /// place, no allocation). Without it, sessions stay on rustls'
    /// unbuffered API, which allocates twice per record.
    pub fn from_config(config: impl Into<Arc<rustls::ClientConfig>>) -> TlsConnector {
        TlsConnector {
            config: config.into(),
            timeout: DEFAULT_HANDSHAKE_TIMEOUT,
        }
    }

    /// Bounds each handshake (default 10 s).
    pub fn handshake_timeout(mut self, d: Duration) -> Self {
        self.timeout = d;
        self
    }

    /// The rustls configuration.
    pub fn config(&self) -> &Arc<rustls::ClientConfig> {
        &self.config
    }
}

impl Default for TlsConnector {
    fn default() -> Self {
        TlsConnector::new()
    }
}

/// Builds a [`TlsConnector`]: trusted roots, ALPN, handshake timeout.
#[derive(Debug)]
pub struct TlsConnectorBuilder {
    roots: RootCertStore,
    alpn: Vec<Vec<u8>>,
    timeout: Duration,
}

impl TlsConnectorBuilder {
    /// Trusts no root yet: only what [`ca_file`](Self::ca_file) adds.
    pub fn no_default_roots(mut self) -> Self {
        self.roots = RootCertStore::empty();
        self
    }

    /// Also trusts every certificate in the PEM file at `path` (a private
    /// or development CA); the error names the file.
    pub fn ca_file(mut self, path: impl AsRef<Path>) -> io::Result<Self> {
        let path = path.as_ref();
        for cert in super::certs_from_pem(path)? {
            self.roots.add(cert).map_err(|e| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("{}: not a usable CA certificate: {e}", path.display()),
                )
            })?;
        }
        Ok(self)
    }

    /// The ALPN protocols to offer, most preferred first.
    pub fn alpn(mut self, protocols: &[&[u8]]) -> Self {
        self.alpn = protocols.iter().map(|p| p.to_vec()).collect();
        self
    }

    /// Bounds each handshake (default 10 s).
    pub fn handshake_timeout(mut self, d: Duration) -> Self {
        self.timeout = d;
        self
    }

    /// The connector (TLS 1.2 and 1.3, ring crypto provider).
    pub fn build(self) -> TlsConnector {
        let mut config = rustls::ClientConfig::builder_with_provider(super::provider())
            .with_safe_default_protocol_versions()
            .expect("the ring provider supports the default versions")
            .with_root_certificates(self.roots)
            .with_no_client_auth();
        config.alpn_protocols = self.alpn;
        // Lets our own record layer take the session over after the
        // handshake (see `from_config`).
        config.enable_secret_extraction = true;
        TlsConnector {
            config: Arc::new(config),
            timeout: self.timeout,
        }
    }
}

/// Runs the client side of a TLS handshake on `conn`, verifying the
/// server's certificate for `server_name` (a DNS name or an IP address,
/// also sent as SNI when it is a name); then reads and writes are
/// plaintext and [`TlsInfo`](super::TlsInfo) is in the connection's
/// features. An untrusted or mismatched certificate is an error naming the
/// server and the reason.
pub async fn connect(
    conn: &mut Connection,
    tls: &TlsConnector,
    server_name: &str,
) -> io::Result<()> {
    let name = ServerName::try_from(server_name.to_string()).map_err(|_| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("tls: {server_name:?} is not a valid server name"),
        )
    })?;
    let sess = UnbufferedClientConnection::new(tls.config.clone(), name)
        .map_err(super::session::tls_error)?;
    super::handshake::run(
        conn,
        Session::Client(Box::new(sess)),
        tls.timeout,
        Some(server_name.to_string()),
        || None,
        tls.config.enable_secret_extraction,
    )
    .await
    .map_err(|e| {
        io::Error::new(
            e.kind(),
            format!("tls handshake with {server_name} failed: {e}"),
        )
    })
}

impl<M: Middleware> Connector<M> {
    /// Connects to `addr` and runs a TLS handshake for `server_name` (see
    /// [`connect`]): the connection returned reads and writes plaintext.
    pub async fn connect_tls(
        &self,
        addr: SocketAddr,
        tls: &TlsConnector,
        server_name: &str,
    ) -> io::Result<Connection> {
        let mut conn = self.connect(addr).await?;
        connect(&mut conn, tls, server_name).await?;
        Ok(conn)
    }
}
