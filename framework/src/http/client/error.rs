//! `ClientError`: why an HTTP exchange failed, as a kind plus a message.

use std::fmt;
use std::io;

/// What went wrong in a client exchange.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ClientErrorKind {
    /// The connection could not be opened (refused, unreachable, ...).
    Connect,
    /// A deadline passed: connecting, waiting for the response head, or
    /// the whole request.
    Timeout,
    /// The response was not valid HTTP/1.1 (status line, header fields,
    /// framing, chunked coding).
    Malformed,
    /// The response head exceeded the configured limit.
    HeadTooLarge,
    /// The response body exceeded the configured limit while collecting.
    BodyTooLarge,
    /// The peer closed the connection before the response was complete.
    ClosedEarly,
    /// The request itself is invalid (a bad header name or value, a
    /// streamed body of the wrong length).
    InvalidRequest,
    /// Another I/O error (a reset, a failed write).
    Io,
    /// A reused keep-alive connection failed after a request that is not
    /// idempotent (`POST`, `PATCH`, `CONNECT`) was sent on it, before any
    /// of the response arrived. The server may or may not have processed
    /// the request, so it was not sent again: the caller decides whether
    /// resending is safe.
    MaybeProcessed,
}

/// An error of an HTTP client exchange.
///
/// ```
/// use corering::http::client::{ClientError, ClientErrorKind};
/// let e = ClientError::new(ClientErrorKind::Timeout, "no response head within 5s");
/// assert!(e.is_timeout());
/// assert_eq!(e.to_string(), "timeout: no response head within 5s");
/// ```
#[derive(Debug)]
pub struct ClientError {
    kind: ClientErrorKind,
    msg: String,
    source: Option<io::Error>,
    /// Nothing of a response arrived on a reused connection: the request
    /// may be sent again on a fresh one.
    pub(crate) stale: bool,
}

impl ClientError {
    /// An error of `kind` described by `msg`.
    pub fn new(kind: ClientErrorKind, msg: impl Into<String>) -> ClientError {
        ClientError {
            kind,
            msg: msg.into(),
            source: None,
            stale: false,
        }
    }

    pub(crate) fn io(kind: ClientErrorKind, msg: impl Into<String>, e: io::Error) -> ClientError {
        ClientError {
            kind,
            msg: msg.into(),
            source: Some(e),
            stale: false,
        }
    }

    /// An I/O error while exchanging with a peer, classified by its kind.
    pub(crate) fn from_io(what: &str, e: io::Error) -> ClientError {
        let kind = match e.kind() {
            io::ErrorKind::TimedOut => ClientErrorKind::Timeout,
            io::ErrorKind::ConnectionReset
            | io::ErrorKind::BrokenPipe
            | io::ErrorKind::UnexpectedEof
            | io::ErrorKind::ConnectionAborted => ClientErrorKind::ClosedEarly,
            _ => ClientErrorKind::Io,
        };
        ClientError::io(kind, format!("{what}: {e}"), e)
    }

    pub(crate) fn stale(mut self) -> ClientError {
        self.stale = true;
        self
    }

    /// This stale-connection failure of a `method` request that has left:
    /// not to be resent.
    pub(crate) fn maybe_processed(self, method: super::super::Method) -> ClientError {
        ClientError {
            kind: ClientErrorKind::MaybeProcessed,
            msg: format!(
                "{}; {method} is not idempotent and was not resent, \
                 the server may have processed it",
                self.msg
            ),
            source: self.source,
            stale: false,
        }
    }

    /// The kind of failure.
    pub fn kind(&self) -> ClientErrorKind {
        self.kind
    }

    /// A description of the failure.
    pub fn message(&self) -> &str {
        &self.msg
    }

    /// True for [`ClientErrorKind::Timeout`].
    pub fn is_timeout(&self) -> bool {
        self.kind == ClientErrorKind::Timeout
    }

    /// True for [`ClientErrorKind::MaybeProcessed`]: the request left on a
    /// reused connection that then closed without an answer, and was not
    /// resent because it is not idempotent.
    pub fn may_have_been_processed(&self) -> bool {
        self.kind == ClientErrorKind::MaybeProcessed
    }

    /// True for [`ClientErrorKind::Connect`].
    pub fn is_connect(&self) -> bool {
        self.kind == ClientErrorKind::Connect
    }
}

impl fmt::Display for ClientErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ClientErrorKind::Connect => "connect failed",
            ClientErrorKind::Timeout => "timeout",
            ClientErrorKind::Malformed => "malformed response",
            ClientErrorKind::HeadTooLarge => "response head too large",
            ClientErrorKind::BodyTooLarge => "response body too large",
            ClientErrorKind::ClosedEarly => "connection closed early",
            ClientErrorKind::InvalidRequest => "invalid request",
            ClientErrorKind::Io => "I/O error",
            ClientErrorKind::MaybeProcessed => "request may have been processed",
        })
    }
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind, self.msg)
    }
}

impl std::error::Error for ClientError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_ref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

impl From<ClientError> for io::Error {
    fn from(e: ClientError) -> io::Error {
        let kind = match e.kind {
            ClientErrorKind::Timeout => io::ErrorKind::TimedOut,
            ClientErrorKind::Connect => io::ErrorKind::ConnectionRefused,
            ClientErrorKind::ClosedEarly | ClientErrorKind::MaybeProcessed => {
                io::ErrorKind::UnexpectedEof
            }
            ClientErrorKind::InvalidRequest => io::ErrorKind::InvalidInput,
            _ => io::ErrorKind::InvalidData,
        };
        io::Error::new(kind, e)
    }
}
