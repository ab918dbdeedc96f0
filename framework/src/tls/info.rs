//! `TlsInfo`: what a handshake settled, in a connection's
//! [`Features`](crate::Features) for the protocol and handlers to read.

use rustls::pki_types::CertificateDer;
use rustls::{CipherSuite, ProtocolVersion};

/// Who does the record encryption of an established session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsMode {
    /// rustls in this process (the TLS layer on the connection).
    Userspace,
    /// The kernel (kTLS), keys handed over after the handshake.
    Kernel,
}

/// The settled parameters of a connection's TLS session; inserted into
/// its [`Features`](crate::Features) once the handshake is done.
///
/// ```no_run
/// use corering::http::{Request, Response};
/// use corering::tls::TlsInfo;
///
/// async fn whoami(req: Request<'_>) -> Response {
///     match req.connection().features().get::<TlsInfo>() {
///         Some(tls) => Response::text(format!("{:?} via {:?}", tls.server_name, tls.version)),
///         None => Response::text("plain http"),
///     }
/// }
/// ```
#[derive(Debug, Clone)]
pub struct TlsInfo {
    /// The server name: the client's SNI on a server (`None` if it sent
    /// none), the name verified on a client.
    pub server_name: Option<String>,
    /// The ALPN protocol agreed (`b"http/1.1"`), if any.
    pub alpn: Option<Vec<u8>>,
    /// TLS 1.2 or 1.3.
    pub version: ProtocolVersion,
    /// The cipher suite in use.
    pub cipher_suite: CipherSuite,
    /// The peer's certificate chain, leaf first: the client's when the
    /// server asks for client certificates, the server's on a client;
    /// empty otherwise.
    pub peer_certificates: Vec<CertificateDer<'static>>,
    /// Userspace rustls or kernel TLS.
    pub mode: TlsMode,
}

impl TlsInfo {
    /// The ALPN protocol as text (`"http/1.1"`), if any and valid UTF-8.
    pub fn alpn_str(&self) -> Option<&str> {
        self.alpn
            .as_deref()
            .and_then(|a| std::str::from_utf8(a).ok())
    }
}
