//! The server side: [`TlsAcceptor`] (a rustls server configuration with a
//! handshake timeout) and [`accept`], which the server runs on every new
//! connection before its handler when [`ServerBuilder::tls`] is set.
//!
//! [`ServerBuilder::tls`]: crate::ServerBuilder::tls

use std::cell::RefCell;
use std::future::Future;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use rustls::server::{ClientHello, ResolvesServerCert, UnbufferedServerConnection};
use rustls::sign::CertifiedKey;

use super::session::Session;
use super::Ktls;
use crate::Connection;

/// Default bound on a handshake.
pub(crate) const DEFAULT_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Accepts TLS on server connections: a rustls `ServerConfig`, the
/// handshake timeout and the kTLS setting.
///
/// ```no_run
/// # async fn f(mut conn: corering::Connection) -> std::io::Result<()> {
/// let config = corering::tls::server_config_from_pem("cert.pem", "key.pem")?;
/// let acceptor = corering::tls::TlsAcceptor::new(config);
/// corering::tls::accept(&mut conn, &acceptor).await?;
/// // `conn` now reads and writes plaintext.
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct TlsAcceptor {
    config: Arc<rustls::ServerConfig>,
    timeout: Duration,
    ktls: Ktls,
}

impl TlsAcceptor {
    /// An acceptor for `config` with a 10 s handshake timeout.
    ///
    /// It turns on the configuration's `enable_secret_extraction`: after
    /// each handshake rustls hands the session's traffic secrets to
    /// corering's own record layer (records opened and sealed in place, no
    /// allocation per record), inside this process.
    pub fn new(config: impl Into<Arc<rustls::ServerConfig>>) -> TlsAcceptor {
        let mut config: rustls::ServerConfig = Arc::unwrap_or_clone(config.into());
        // Records the client's SNI for `TlsInfo` (rustls' unbuffered server
        // connection does not expose it).
        config.cert_resolver = Arc::new(RecordSni(config.cert_resolver.clone()));
        // After the handshake, rustls hands the session's secrets to our
        // own record layer (zero-copy, allocation-free) and keeps only key
        // updates; the secrets stay inside this process.
        config.enable_secret_extraction = true;
        TlsAcceptor {
            config: Arc::new(config),
            timeout: DEFAULT_HANDSHAKE_TIMEOUT,
            ktls: Ktls::Auto,
        }
    }

    /// Bounds each handshake (default 10 s): a client that stalls is
    /// disconnected after this long.
    pub fn handshake_timeout(mut self, d: Duration) -> Self {
        self.timeout = d;
        self
    }

    /// The handshake timeout in force.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Sets whether to use kernel TLS (see [`Ktls`]).
    pub fn ktls(mut self, k: Ktls) -> Self {
        self.ktls = k;
        self
    }

    /// The kTLS setting.
    pub fn ktls_setting(&self) -> Ktls {
        self.ktls
    }

    /// The rustls configuration.
    pub fn config(&self) -> &Arc<rustls::ServerConfig> {
        &self.config
    }
}

thread_local! {
    /// The SNI of the ClientHello the current handshake step resolved.
    static SNI: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Wraps a configuration's certificate resolver to note the client's SNI.
#[derive(Debug)]
struct RecordSni(Arc<dyn ResolvesServerCert>);

impl ResolvesServerCert for RecordSni {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        if let Some(name) = hello.server_name() {
            SNI.with(|s| *s.borrow_mut() = Some(name.to_string()));
        }
        self.0.resolve(hello)
    }

    fn only_raw_public_keys(&self) -> bool {
        self.0.only_raw_public_keys()
    }
}

/// Runs the server side of a TLS handshake on `conn` (within the
/// acceptor's timeout), then puts TLS on it: reads and writes are
/// plaintext from then on, and [`TlsInfo`](super::TlsInfo) is in its
/// features. Application data that came with the client's last flight is
/// the first thing read.
///
/// The error says what went wrong (`tls: ...`); drop the connection then.
pub async fn accept(conn: &mut Connection, acceptor: &TlsAcceptor) -> io::Result<()> {
    let sess = UnbufferedServerConnection::new(acceptor.config.clone())
        .map_err(super::session::tls_error)?;
    SNI.with(|s| s.borrow_mut().take());
    super::handshake::run(
        conn,
        Session::Server(Box::new(sess)),
        acceptor.timeout,
        None,
        || SNI.with(|s| s.borrow_mut().take()),
        acceptor.config.enable_secret_extraction,
    )
    .await
}

/// A server connection's task when TLS may be on: the handshake (when
/// `acceptor` is set), then the handler. The server builds one of these
/// per connection, a single static future type (no boxing); a failed
/// handshake closes that connection, is logged at debug level and counted
/// in `WorkerStats::tls_handshake_failures`.
pub(crate) async fn serve<H, F>(
    mut conn: Connection,
    acceptor: Option<Arc<TlsAcceptor>>,
    handler: Arc<H>,
) where
    H: Fn(Connection) -> F,
    F: Future<Output = ()>,
{
    use crate::future::{race, Either};
    if let Some(acceptor) = acceptor {
        // A handshake still under way when the server begins shutting down
        // is dropped: no request has started on it.
        match race(accept(&mut conn, &acceptor), crate::shutdown_requested()).await {
            Either::Left(Ok(())) => {}
            Either::Left(Err(e)) => {
                let peer = conn
                    .peer_addr()
                    .map_or_else(|_| "?".to_string(), |a| a.to_string());
                log::debug!("tls handshake with {peer} failed: {e}");
                crate::runtime::with(|w| w.io.borrow_mut().conns.stats.tls_handshake_failures += 1);
                return;
            }
            Either::Right(()) => {
                log::debug!("tls handshake dropped: the server is shutting down");
                return;
            }
        }
    }
    handler(conn).await
}
