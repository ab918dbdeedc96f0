//! `HandshakeError`: why a client's opening handshake failed.

use std::fmt;

use crate::http::client::ClientError;

/// What went wrong in a client's opening handshake.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum HandshakeErrorKind {
    /// The URL is not `ws://` or `wss://` with a host.
    Url,
    /// The HTTP exchange failed: connecting, TLS, a malformed response,
    /// the server closing early (see [`HandshakeError::http`]).
    Http,
    /// The handshake did not finish within the connect timeout.
    Timeout,
    /// The server answered with another status than `101` (see
    /// [`HandshakeError::status`]): it does not speak WebSocket on that
    /// path, or refused the request.
    Rejected,
    /// The `101` lacks `Upgrade: websocket` or `Connection: upgrade`.
    Upgrade,
    /// `Sec-WebSocket-Accept` is missing or does not match the key sent.
    Accept,
    /// The server chose a subprotocol that was not offered (or several).
    Protocol,
    /// The server answered with an extension that was not offered, or a
    /// permessage-deflate answer that does not fit the offer (RFC 7692
    /// §5.1, §7.1: unknown or repeated parameters, window bits outside
    /// 8..=15 or above the offer, a no-context-takeover asked for and not
    /// granted); the message names the rule and quotes the answer.
    Extension,
}

/// A failed client opening handshake (RFC 6455 §4.1): its kind, a
/// message naming what the server sent, and for
/// [`HandshakeErrorKind::Rejected`] the status.
#[derive(Debug)]
pub struct HandshakeError {
    kind: HandshakeErrorKind,
    msg: String,
    status: Option<u16>,
    http: Option<ClientError>,
}

impl HandshakeError {
    pub(crate) fn new(kind: HandshakeErrorKind, msg: impl Into<String>) -> HandshakeError {
        HandshakeError {
            kind,
            msg: msg.into(),
            status: None,
            http: None,
        }
    }

    pub(crate) fn status_code(code: u16, reason: &str) -> HandshakeError {
        let mut e = HandshakeError::new(
            HandshakeErrorKind::Rejected,
            format!("the server answered {code} {reason} instead of 101 Switching Protocols"),
        );
        e.status = Some(code);
        e
    }

    pub(crate) fn from_http(e: ClientError) -> HandshakeError {
        let kind = if e.is_timeout() {
            HandshakeErrorKind::Timeout
        } else {
            HandshakeErrorKind::Http
        };
        HandshakeError {
            kind,
            msg: e.to_string(),
            status: None,
            http: Some(e),
        }
    }

    /// What went wrong.
    pub fn kind(&self) -> HandshakeErrorKind {
        self.kind
    }

    /// The description.
    pub fn message(&self) -> &str {
        &self.msg
    }

    /// The status the server answered with, for
    /// [`HandshakeErrorKind::Rejected`].
    pub fn status(&self) -> Option<u16> {
        self.status
    }

    /// The HTTP client's error, for [`HandshakeErrorKind::Http`] and
    /// timeouts while connecting.
    pub fn http(&self) -> Option<&ClientError> {
        self.http.as_ref()
    }
}

impl fmt::Display for HandshakeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "websocket handshake failed: {}", self.msg)
    }
}

impl std::error::Error for HandshakeError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.http
            .as_ref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}
