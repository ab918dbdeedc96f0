//! Frame errors: what went wrong, in which field, at which byte.

use std::borrow::Cow;
use std::fmt;
use std::io;

/// What was wrong with the bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecodeErrorKind {
    /// Magic bytes or a constant did not match.
    BadMagic,
    /// An enum tag matched no variant (and there is no catch-all).
    BadTag(u64),
    /// A string field was not valid UTF-8.
    BadUtf8,
    /// A length or count is larger than the protocol allows.
    TooLong {
        /// The length found.
        len: u64,
        /// The largest allowed.
        max: u64,
    },
    /// A value outside what the field accepts.
    Invalid(&'static str),
}

/// A frame could not be decoded: the bytes are malformed, not just short.
///
/// Carries the path of the field (`"Packet.header.len"`) and the byte offset
/// from the start of the frame where decoding failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError {
    kind: DecodeErrorKind,
    path: Cow<'static, str>,
    offset: usize,
}

impl DecodeError {
    /// An error in `field` at byte `offset`.
    pub fn new(kind: DecodeErrorKind, field: &'static str, offset: usize) -> DecodeError {
        DecodeError {
            kind,
            path: Cow::Borrowed(field),
            offset,
        }
    }

    /// What was wrong.
    pub fn kind(&self) -> &DecodeErrorKind {
        &self.kind
    }

    /// The field path, outermost first, separated by dots.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// Byte offset from the start of the outermost frame.
    pub fn offset(&self) -> usize {
        self.offset
    }

    /// Re-roots an error from a nested frame that starts at `base` inside
    /// field `outer`: the path gains the prefix, the offset the base.
    pub fn nested(self, outer: &'static str, base: usize) -> DecodeError {
        DecodeError {
            kind: self.kind,
            path: Cow::Owned(format!("{outer}.{}", self.path)),
            offset: self.offset + base,
        }
    }

    /// Like [`nested`](Self::nested), but for a nested frame whose path
    /// starts with its own type name (as derived frames' paths do): that
    /// first segment is replaced by `outer`, so `"Header.len"` inside field
    /// `"Packet.header"` becomes `"Packet.header.len"`.
    pub(crate) fn reroot(self, outer: &'static str, base: usize) -> DecodeError {
        let path = match self.path.split_once('.') {
            Some((_, rest)) => Cow::Owned(format!("{outer}.{rest}")),
            None => Cow::Borrowed(outer),
        };
        DecodeError {
            kind: self.kind,
            path,
            offset: self.offset + base,
        }
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match &self.kind {
            DecodeErrorKind::BadMagic => "bad magic".to_string(),
            DecodeErrorKind::BadTag(t) => format!("unknown tag {t}"),
            DecodeErrorKind::BadUtf8 => "invalid UTF-8".to_string(),
            DecodeErrorKind::TooLong { len, max } => format!("length {len} exceeds {max}"),
            DecodeErrorKind::Invalid(why) => (*why).to_string(),
        };
        write!(f, "{what} in field `{}` at byte {}", self.path, self.offset)
    }
}

impl std::error::Error for DecodeError {}

impl From<DecodeError> for io::Error {
    fn from(e: DecodeError) -> io::Error {
        io::Error::new(io::ErrorKind::InvalidData, e)
    }
}

/// Error of [`FrameReader`](super::FrameReader).
#[derive(Debug)]
#[non_exhaustive]
pub enum ReadError {
    /// The connection failed.
    Io(io::Error),
    /// The peer sent bytes that are not a valid frame.
    Decode(DecodeError),
    /// A frame needs more than the reader's maximum frame size.
    TooLarge {
        /// Bytes the frame needs at least.
        needed: usize,
        /// The reader's limit.
        limit: usize,
    },
    /// The peer closed the connection in the middle of a frame.
    Truncated {
        /// Bytes of the partial frame that had arrived.
        buffered: usize,
    },
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadError::Io(e) => write!(f, "connection error: {e}"),
            ReadError::Decode(e) => write!(f, "malformed frame: {e}"),
            ReadError::TooLarge { needed, limit } => write!(
                f,
                "frame too large: needs at least {needed} bytes, the limit is {limit}"
            ),
            ReadError::Truncated { buffered } => write!(
                f,
                "connection closed in the middle of a frame ({buffered} bytes received)"
            ),
        }
    }
}

impl std::error::Error for ReadError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ReadError::Io(e) => Some(e),
            ReadError::Decode(e) => Some(e),
            _ => None,
        }
    }
}

impl From<io::Error> for ReadError {
    fn from(e: io::Error) -> ReadError {
        ReadError::Io(e)
    }
}

impl From<DecodeError> for ReadError {
    fn from(e: DecodeError) -> ReadError {
        ReadError::Decode(e)
    }
}

impl From<ReadError> for io::Error {
    fn from(e: ReadError) -> io::Error {
        match e {
            ReadError::Io(e) => e,
            other => io::Error::new(io::ErrorKind::InvalidData, other),
        }
    }
}
