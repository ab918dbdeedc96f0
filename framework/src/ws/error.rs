//! `WsError`: why a WebSocket stopped.

use std::fmt;
use std::io;

use super::deflate::DeflateError;
use super::{CloseCode, HandshakeError};

/// Why [`recv`](super::WebSocket::recv) or a send failed. After any of
/// these the connection is done: where the protocol says so, a close
/// frame with the matching code has been sent.
#[derive(Debug)]
pub enum WsError {
    /// The peer broke RFC 6455 (close 1002 sent): what it did.
    Protocol(&'static str),
    /// A text message or close reason that is not UTF-8 (close 1007 sent).
    InvalidUtf8,
    /// A frame or message over the configured limit (close 1009 sent).
    TooBig,
    /// A compressed message (permessage-deflate) the inflater refused:
    /// not valid DEFLATE data (close 1007 sent). One that inflates past
    /// the limit is [`TooBig`](WsError::TooBig).
    Compression(DeflateError),
    /// Nothing arrived within the idle timeout (close 1001 sent).
    IdleTimeout,
    /// The connection is closing or closed: a send after a close frame was
    /// sent, or a read after the close handshake or an earlier error.
    Closed,
    /// The socket failed, or the peer closed it without a close frame
    /// (`UnexpectedEof`).
    Io(io::Error),
    /// A client's opening handshake failed (no socket was opened): what
    /// the server answered, or why no answer came. Boxed: the error of
    /// every `recv` stays small.
    Handshake(Box<HandshakeError>),
}

impl WsError {
    /// The close code this error sends (or would report), if any.
    pub fn close_code(&self) -> Option<CloseCode> {
        match self {
            WsError::Protocol(_) => Some(CloseCode::PROTOCOL),
            WsError::InvalidUtf8 => Some(CloseCode::INVALID_DATA),
            WsError::TooBig => Some(CloseCode::TOO_BIG),
            WsError::Compression(e) => Some(CloseCode(e.close_code())),
            WsError::IdleTimeout => Some(CloseCode::GOING_AWAY),
            WsError::Closed => None,
            WsError::Io(_) => Some(CloseCode::ABNORMAL),
            WsError::Handshake(_) => None,
        }
    }
}

impl fmt::Display for WsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WsError::Protocol(what) => write!(f, "websocket protocol error: {what}"),
            WsError::InvalidUtf8 => f.write_str("websocket text is not UTF-8"),
            WsError::TooBig => f.write_str("websocket message over the size limit"),
            WsError::Compression(e) => write!(f, "websocket compression: {e}"),
            WsError::IdleTimeout => f.write_str("websocket idle timeout"),
            WsError::Closed => f.write_str("websocket closed"),
            WsError::Io(e) => write!(f, "websocket i/o: {e}"),
            WsError::Handshake(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for WsError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            WsError::Io(e) => Some(e),
            WsError::Compression(e) => Some(e),
            WsError::Handshake(e) => Some(e),
            _ => None,
        }
    }
}

impl From<io::Error> for WsError {
    fn from(e: io::Error) -> WsError {
        WsError::Io(e)
    }
}
