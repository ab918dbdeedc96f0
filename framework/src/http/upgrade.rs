//! Protocol switches (`Connection: upgrade`, RFC 9110 §7.8): a handler
//! answers with [`Response::upgrade`], the server sends the `101
//! Switching Protocols` head and then hands the connection to the
//! function the response carries.
//!
//! ```text
//!  GET /chat HTTP/1.1                      HTTP/1.1 101 Switching Protocols
//!  Connection: upgrade          ──►        Connection: upgrade
//!  Upgrade: example/1                      Upgrade: example/1
//!                                          ──► on_upgrade(Upgraded { conn, inbound })
//! ```
//!
//! The bytes already received after the request (the start of the new
//! protocol) are handed over as they are, in the connection's
//! [`Inbound`]: nothing is copied, and a reader built on it (a
//! [`FrameReader`](crate::frame::FrameReader)) reads on from there.

use std::fmt;
use std::future::Future;
use std::pin::Pin;

use super::body::is_token;
use super::{Response, Status};
use crate::{Connection, Inbound};

/// A connection handed over after `101 Switching Protocols`: the socket
/// and its [`Inbound`], which holds any bytes the peer sent after the
/// request or response (already read from the socket, so they come before
/// anything [`Connection::read`] returns).
///
/// ```no_run
/// use corering::http::{Request, Response, Status, Upgraded};
///
/// async fn handle(req: Request<'_>) -> Response {
///     if req.upgrade() != Some("echo") {
///         return Response::new(Status::BAD_REQUEST);
///     }
///     Response::upgrade("echo", |up: Upgraded| async move {
///         let (mut conn, early) = up.into_parts();
///         if conn.write_all(early.bytes()).await.is_err() {
///             return;
///         }
///         while let Ok(Some(lease)) = conn.read().await {
///             if conn.write_all(&lease).await.is_err() {
///                 return;
///             }
///         }
///     })
/// }
/// ```
pub struct Upgraded {
    conn: Connection,
    inbound: Inbound,
}

impl Upgraded {
    /// The connection and what was received on it past the HTTP message
    /// (`inbound` is read on from its current position).
    pub(crate) fn new(conn: Connection, mut inbound: Inbound) -> Upgraded {
        // Release the HTTP message's bytes: only what follows stays.
        inbound.consume(0);
        Upgraded { conn, inbound }
    }

    /// The connection.
    pub fn connection(&mut self) -> &mut Connection {
        &mut self.conn
    }

    /// Bytes the client sent after the request's end, before the new
    /// protocol's first read: the start of its data in the new protocol.
    pub fn buffered(&self) -> &[u8] {
        self.inbound.bytes()
    }

    /// The connection and its received bytes, as an [`Inbound`] to read
    /// on from (its [`bytes`](Inbound::bytes) are the
    /// [`buffered`](Upgraded::buffered) ones; nothing was copied).
    ///
    /// ```no_run
    /// use corering::frame::{Frame, FrameReader, ReadError};
    /// use corering::http::Upgraded;
    ///
    /// /// Echoes the new protocol's frames back, starting with those that
    /// /// arrived with the request.
    /// async fn frames<F: for<'a> Frame<'a>>(up: Upgraded) -> Result<(), ReadError> {
    ///     let (mut conn, inbound) = up.into_parts();
    ///     let mut reader = FrameReader::from_inbound(inbound);
    ///     while let Some(frame) = reader.read::<F>(&mut conn).await? {
    ///         conn.write_frame(&frame).await?;
    ///     }
    ///     Ok(())
    /// }
    /// ```
    pub fn into_parts(self) -> (Connection, Inbound) {
        (self.conn, self.inbound)
    }
}

impl fmt::Debug for Upgraded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Upgraded")
            .field("buffered", &self.inbound.len())
            .finish_non_exhaustive()
    }
}

type UpgradeFuture = Pin<Box<dyn Future<Output = ()>>>;

/// The function a `101` response runs once its head is sent (boxed twice
/// so that a `Response` grows by one pointer only).
pub(crate) struct OnUpgrade(Box<dyn FnOnce(Upgraded) -> UpgradeFuture>);

impl OnUpgrade {
    pub(crate) fn run(self, up: Upgraded) -> UpgradeFuture {
        (self.0)(up)
    }
}

impl fmt::Debug for OnUpgrade {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("OnUpgrade")
    }
}

/// True if `p` is a protocol as `Upgrade` names one: a token, optionally
/// followed by `/` and a token version (RFC 9110 §7.8).
fn valid_protocol(p: &str) -> bool {
    let mut parts = p.splitn(2, '/');
    let tok = |s: &str| is_token(s.as_bytes());
    parts.next().is_some_and(tok) && parts.next().is_none_or(tok)
}

/// True if `protocol` is a protocol name and the comma-separated
/// `Upgrade` field value `offer` lists it (case-insensitive; a bare name
/// matches any version).
pub(crate) fn offers(offer: &[u8], protocol: &[u8]) -> bool {
    if !std::str::from_utf8(protocol).is_ok_and(valid_protocol) {
        return false;
    }
    offer
        .split(|&b| b == b',')
        .map(super::body::trim_ows)
        .any(|o| {
            o.eq_ignore_ascii_case(protocol)
                || (!protocol.contains(&b'/')
                    && o.split(|&b| b == b'/')
                        .next()
                        .is_some_and(|name| name.eq_ignore_ascii_case(protocol)))
        })
}

impl Response {
    /// `101 Switching Protocols` to `protocol`: once the head is sent (and
    /// any request body read), the server stops speaking HTTP on the
    /// connection and runs `on_upgrade` with it; the connection closes
    /// when `on_upgrade`'s future ends and drops it.
    ///
    /// Only a request that asks to switch to `protocol` ([`Request::upgrade`]
    /// lists it; a bare name such as `foo` also accepts an offered
    /// `foo/2`) may be answered so; for any other the server answers `500`
    /// and closes (RFC 9110 §7.8: a switch the client did not ask for
    /// would leave it reading a protocol it does not expect). Header
    /// fields added to the response are sent with the `101`; its body is
    /// ignored.
    ///
    /// # Panics
    /// If `protocol` is not a protocol name (`name` or `name/version`,
    /// tokens).
    ///
    /// [`Request::upgrade`]: super::Request::upgrade
    pub fn upgrade<F, Fut>(protocol: &str, on_upgrade: F) -> Response
    where
        F: FnOnce(Upgraded) -> Fut + 'static,
        Fut: Future<Output = ()> + 'static,
    {
        assert!(
            valid_protocol(protocol),
            "invalid protocol {protocol:?} for Upgrade"
        );
        let run: Box<dyn FnOnce(Upgraded) -> UpgradeFuture> =
            Box::new(move |up| Box::pin(on_upgrade(up)));
        Response::new(Status::SWITCHING_PROTOCOLS)
            .header("Connection", "upgrade")
            .header_owned("Upgrade", protocol.to_owned())
            .with_upgrade(OnUpgrade(run))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protocol_names() {
        assert!(valid_protocol("websocket"));
        assert!(valid_protocol("HTTP/2.0"));
        assert!(!valid_protocol(""));
        assert!(!valid_protocol("a b"));
        assert!(!valid_protocol("a/"));
        assert!(!valid_protocol("a/b/c"));
        assert!(!valid_protocol("a\r\nX: y"));
    }

    #[test]
    fn offered_protocols() {
        assert!(offers(b"websocket", b"WebSocket"));
        assert!(offers(b"h2c, websocket", b"websocket"));
        assert!(offers(b"h2c,\twebsocket ", b"websocket"));
        assert!(offers(b"foo/2", b"foo"));
        assert!(offers(b"foo/2", b"foo/2"));
        assert!(!offers(b"foo/2", b"foo/3"));
        assert!(!offers(b"foobar", b"foo"));
        assert!(!offers(b"", b"foo"));
        // Only protocol names are ever offered.
        assert!(!offers(b"a b", b"a b"));
        assert!(!offers(b"x", b""));
    }
}
