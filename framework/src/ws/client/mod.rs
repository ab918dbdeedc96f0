//! The WebSocket client: `ws://` and `wss://` over corering's HTTP client
//! ([`crate::http::client`]), with the same [`WebSocket`] type as the
//! server, in the client role.
//!
//! ```text
//!  connect(url) ─► http::client (TCP, TLS for wss://) ─► GET + Sec-WebSocket-Key (random)
//!                                                          + permessage-deflate offer
//!       ◄── 101 checked: Upgrade, Connection, Sec-WebSocket-Accept, subprotocol, extensions
//!       ─► ClientResponse::into_upgraded ─► WebSocket (frames sent masked, a key each;
//!                                                      frames received must be unmasked)
//! ```
//!
//! # Compression
//! Like the server, the client uses permessage-deflate (RFC 7692) by
//! default (feature `ws-deflate`): it offers the extension with the
//! parameters of its [`WsConfig::deflate`] settings (always
//! `client_max_window_bits`, so the server may limit our window; the
//! no-context-takeover and `server_max_window_bits` parameters when set),
//! and a server that accepts gets compressed, masked messages from it
//! (those of at least [`DeflateConfig::compress_min_size`] bytes). What was
//! agreed is [`WebSocket::compression`], seen from the client: it
//! compresses with the `client_*` parameters and inflates with the
//! `server_*` ones. A server's compressed message may inflate to at most
//! the smaller of the two largest-message settings (a zip bomb fails
//! reading with [`WsError::TooBig`] and closes with 1009). An answer that
//! does not fit the offer fails the handshake
//! ([`HandshakeErrorKind::Extension`]). `WsConfig::compression(false)`
//! offers nothing.
//!
//! [`DeflateConfig::compress_min_size`]: super::deflate::DeflateConfig::compress_min_size
//!
//! The keys come from [`rand`](super::rand): the kernel once per
//! process, then a fast per-thread generator. A failed handshake is a
//! [`WsError::Handshake`] naming what the server sent.

mod error;
mod handshake;

use std::time::Duration;

pub use error::{HandshakeError, HandshakeErrorKind};
use handshake::Offer;

use super::{WebSocket, WsConfig, WsError};
use crate::http::client::{split_url, Client as HttpClient, ClientConfig};

/// Opens a WebSocket to `url` (`ws://HOST[:PORT]/PATH` or `wss://...`)
/// with the default [`Client`]: no subprotocol, permessage-deflate
/// offered, 10 s for the whole opening handshake, the webpki roots for
/// `wss://`.
///
/// Must run on a corering worker (a handler, a task spawned there, or
/// [`Runtime::block_on`](crate::Runtime::block_on)). A host name is
/// resolved with the system resolver, which blocks the worker: use an IP
/// address on a hot path.
///
/// ```no_run
/// use corering::ws::{self, Message};
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// corering::Runtime::new()?.block_on(async {
///     let mut ws = ws::connect("ws://127.0.0.1:8080/echo").await?;
///     ws.send_text("hello").await?;
///     if let Some(Message::Text(t)) = ws.recv().await? {
///         println!("echoed: {t}");
///     }
///     ws.close(ws::CloseCode::NORMAL, "bye").await
/// })?;
/// # Ok(()) }
/// ```
pub async fn connect(url: &str) -> Result<WebSocket, WsError> {
    Client::new().connect(url).await
}

/// Settings for opening client WebSockets: subprotocols to offer, extra
/// header fields, the socket's [`WsConfig`] (limits, timers, and
/// permessage-deflate: offered by default, see
/// [`compression`](Client::compression)), the handshake's timeout and
/// (feature `tls`) the TLS settings for `wss://`. Cheap to clone; one
/// `Client` can open any number of sockets.
///
/// ```no_run
/// use std::time::Duration;
/// use corering::ws::{deflate::DeflateConfig, Client, WsConfig};
/// # async fn f() -> Result<(), corering::ws::WsError> {
/// let ws = Client::new()
///     .protocols(["chat.v2", "chat.v1"])
///     .header("Authorization", "Bearer 123")
///     .config(
///         WsConfig::new()
///             .max_message_size(1 << 20)
///             // Ask the server to forget its window after each message.
///             .deflate(DeflateConfig::new().server_no_context_takeover(true)),
///     )
///     .connect_timeout(Duration::from_secs(3))
///     .connect("wss://chat.example.com/ws")
///     .await?;
/// println!("agreed on {:?}, compression {:?}", ws.protocol(), ws.compression());
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct Client {
    protocols: Vec<String>,
    headers: Vec<(String, Vec<u8>)>,
    config: WsConfig,
    timeout: Duration,
    #[cfg(feature = "tls")]
    tls: Option<crate::tls::TlsConnector>,
}

impl Default for Client {
    fn default() -> Client {
        Client::new()
    }
}

impl Client {
    /// No subprotocol, no extra fields, the default [`WsConfig`]
    /// (permessage-deflate offered), 10 s for the opening handshake.
    ///
    /// ```no_run
    /// # async fn f() -> Result<(), corering::ws::WsError> {
    /// let ws = corering::ws::Client::new()
    ///     .header("origin", "http://127.0.0.1:8080")
    ///     .connect("ws://127.0.0.1:8080/echo")
    ///     .await?;
    /// # drop(ws); Ok(()) }
    /// ```
    pub fn new() -> Client {
        Client {
            protocols: Vec::new(),
            headers: Vec::new(),
            config: WsConfig::new(),
            timeout: Duration::from_secs(10),
            #[cfg(feature = "tls")]
            tls: None,
        }
    }

    /// Offers these subprotocols (`Sec-WebSocket-Protocol`), in order of
    /// preference. The server may choose one
    /// ([`WebSocket::protocol`]) or none; choosing one not offered fails
    /// the handshake ([`HandshakeErrorKind::Protocol`]).
    ///
    /// ```no_run
    /// # async fn f() -> Result<(), corering::ws::WsError> {
    /// let ws = corering::ws::Client::new()
    ///     .protocols(["v2.chat", "v1.chat"])
    ///     .connect("ws://127.0.0.1:8080/echo")
    ///     .await?;
    /// # drop(ws); Ok(()) }
    /// ```
    pub fn protocols<S: Into<String>>(mut self, protocols: impl IntoIterator<Item = S>) -> Client {
        self.protocols = protocols.into_iter().map(Into::into).collect();
        self
    }

    /// Adds a header field to the opening request (`Origin`, cookies,
    /// authorization). The handshake's own fields are always sent.
    ///
    /// ```no_run
    /// # async fn f() -> Result<(), corering::ws::WsError> {
    /// let ws = corering::ws::Client::new()
    ///     .header("authorization", "Bearer s3cret")
    ///     .connect("ws://127.0.0.1:8080/echo")
    ///     .await?;
    /// # drop(ws); Ok(()) }
    /// ```
    pub fn header(mut self, name: &str, value: impl AsRef<[u8]>) -> Client {
        self.headers
            .push((name.to_owned(), value.as_ref().to_vec()));
        self
    }

    /// The limits and timers of the sockets opened, and their
    /// permessage-deflate settings ([`WsConfig::deflate`]: what is offered
    /// and the largest inflated message).
    ///
    /// ```no_run
    /// # async fn f() -> Result<(), corering::ws::WsError> {
    /// let ws = corering::ws::Client::new()
    ///     .config(corering::ws::WsConfig::new().max_message_size(1 << 20))
    ///     .connect("ws://127.0.0.1:8080/echo")
    ///     .await?;
    /// # drop(ws); Ok(()) }
    /// ```
    pub fn config(mut self, config: WsConfig) -> Client {
        self.config = config;
        self
    }

    /// Offers permessage-deflate (`true`, the default with the
    /// `ws-deflate` feature) or not ([`WsConfig::compression`] on this
    /// client's config).
    ///
    /// ```no_run
    /// # async fn f() -> Result<(), corering::ws::WsError> {
    /// let ws = corering::ws::Client::new()
    ///     .compression(false)
    ///     .connect("ws://127.0.0.1:8080/echo")
    ///     .await?;
    /// assert!(ws.compression().is_none());
    /// # Ok(()) }
    /// ```
    pub fn compression(mut self, on: bool) -> Client {
        self.config = self.config.compression(on);
        self
    }

    /// The longest the whole opening handshake may take: connecting, TLS,
    /// and the server's `101` (default 10 s).
    ///
    /// ```no_run
    /// # async fn f() -> Result<(), corering::ws::WsError> {
    /// let ws = corering::ws::Client::new()
    ///     .connect_timeout(std::time::Duration::from_secs(3))
    ///     .connect("ws://127.0.0.1:8080/echo")
    ///     .await?;
    /// # drop(ws); Ok(()) }
    /// ```
    pub fn connect_timeout(mut self, timeout: Duration) -> Client {
        self.timeout = timeout;
        self
    }

    /// TLS settings for `wss://` (root store, CA files, handshake
    /// timeout): the same [`TlsConnector`](crate::tls::TlsConnector) the
    /// HTTP client takes. Without it the webpki roots are trusted.
    #[cfg(feature = "tls")]
    pub fn tls(mut self, tls: crate::tls::TlsConnector) -> Client {
        self.tls = Some(tls);
        self
    }

    /// Opens a WebSocket to `url` (`ws://` or `wss://`): connects, runs
    /// the opening handshake and checks the answer. The errors:
    /// [`WsError::Handshake`], whose [`kind`](HandshakeError::kind) says
    /// whether the URL, the connection, the timeout, the status or one of
    /// the server's fields was wrong.
    ///
    /// ```no_run
    /// # async fn f() -> Result<(), corering::ws::WsError> {
    /// let ws = corering::ws::Client::new()
    ///     .protocols(["echo"])
    ///     .connect("ws://127.0.0.1:8080/echo")
    ///     .await?;
    /// # drop(ws); Ok(()) }
    /// ```
    pub async fn connect(&self, url: &str) -> Result<WebSocket, WsError> {
        self.handshake(url)
            .await
            .map_err(|e| WsError::Handshake(Box::new(e)))
    }

    async fn handshake(&self, url: &str) -> Result<WebSocket, HandshakeError> {
        let http_url = if let Some(rest) = strip_scheme(url, "ws://") {
            format!("http://{rest}")
        } else if let Some(rest) = strip_scheme(url, "wss://") {
            format!("https://{rest}")
        } else {
            return Err(HandshakeError::new(
                HandshakeErrorKind::Url,
                format!("{url:?} is not a ws:// or wss:// URL"),
            ));
        };
        let (peer, target) = split_url(&http_url).map_err(|e| {
            HandshakeError::new(HandshakeErrorKind::Url, format!("{url:?}: {}", e.message()))
        })?;
        let t = self.timeout;
        // A connection of its own (no keep-alive pool): it becomes the
        // WebSocket's.
        let cfg = ClientConfig::new()
            .connect_timeout(t)
            .head_timeout(t)
            .request_timeout(t)
            .max_idle_per_peer(0);
        #[cfg_attr(not(feature = "tls"), allow(unused_mut))]
        let mut http = HttpClient::with_config(cfg);
        #[cfg(feature = "tls")]
        if let Some(tls) = &self.tls {
            http = http.tls(tls.clone());
        }
        let offer = Offer::new(self.protocols.clone(), *self.config.deflate_config());
        let req = offer.request(&target, &self.headers);
        let resp = http
            .send_to(&peer, &req)
            .await
            .map_err(HandshakeError::from_http)?;
        let agreed = offer.check(&resp)?;
        let up = resp.into_upgraded().map_err(|r| {
            HandshakeError::new(
                HandshakeErrorKind::Http,
                format!("the {} answer kept no connection to upgrade", r.status()),
            )
        })?;
        log::debug!(
            "websocket client: connected to {url} (key {})",
            String::from_utf8_lossy(offer.key())
        );
        let (conn, inbound) = up.into_parts();
        Ok(WebSocket::client(
            conn,
            inbound,
            self.config,
            agreed.protocol,
            agreed.deflate,
        ))
    }
}

/// `url` without `scheme` (matched case-insensitively).
fn strip_scheme<'u>(url: &'u str, scheme: &str) -> Option<&'u str> {
    let head = url.get(..scheme.len())?;
    head.eq_ignore_ascii_case(scheme)
        .then(|| &url[scheme.len()..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_ws_schemes_are_taken() {
        assert_eq!(strip_scheme("WS://a:1/x", "ws://"), Some("a:1/x"));
        assert_eq!(strip_scheme("wss://a", "ws://"), None);
        assert_eq!(strip_scheme("w", "ws://"), None);
    }
}
