//! `Error`: why a request could not be served; each maps to one status.

use std::fmt;

use super::Status;

/// A request that cannot be served: malformed, over a limit, or too slow.
///
/// Each error maps to exactly one response status ([`Error::status`]);
/// after sending it the server closes the connection, because the framing
/// of whatever follows is in doubt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Error {
    status: Status,
    what: &'static str,
}

impl Error {
    pub(crate) const fn new(status: Status, what: &'static str) -> Error {
        Error { status, what }
    }

    pub(crate) const fn bad(what: &'static str) -> Error {
        Error::new(Status::BAD_REQUEST, what)
    }

    /// The status the server answers this error with.
    pub fn status(&self) -> Status {
        self.status
    }

    /// A short description of what was wrong.
    pub fn reason(&self) -> &'static str {
        self.what
    }

    /// True if the request was malformed (`400`).
    pub fn is_malformed(&self) -> bool {
        self.status == Status::BAD_REQUEST
    }

    /// True if the request exceeded a configured limit (`413`, `414`, `431`).
    pub fn is_over_limit(&self) -> bool {
        matches!(self.status.as_u16(), 413 | 414 | 431)
    }

    /// True if the peer was too slow or went away mid-request (`408`).
    pub fn is_timeout(&self) -> bool {
        self.status == Status::REQUEST_TIMEOUT
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.status, self.what)
    }
}

impl std::error::Error for Error {}
