//! `DeflateError`: what can go wrong negotiating or decompressing
//! permessage-deflate.

use std::fmt;

/// A permessage-deflate failure. Each one fails the WebSocket connection
/// (RFC 7692 §8); [`close_code`](DeflateError::close_code) gives the status
/// code to close with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeflateError {
    /// A message decompressed to more than the limit it was given
    /// ([`DeflateConfig::max_message_size`](super::DeflateConfig::max_message_size)):
    /// decompression stopped at `limit + 1` bytes of output.
    TooLarge {
        /// The limit that was exceeded, in decompressed bytes.
        limit: usize,
    },
    /// The compressed data is not a valid DEFLATE stream (or refers back
    /// further than the window the peer agreed to).
    Corrupt,
    /// The server's `Sec-WebSocket-Extensions` answer is not a valid answer
    /// to the offer that was sent; the reason says which rule it broke.
    Negotiation(&'static str),
}

impl DeflateError {
    /// The close code for this failure: 1009 (message too big) for
    /// [`TooLarge`](DeflateError::TooLarge), 1007 (invalid payload data) for
    /// [`Corrupt`](DeflateError::Corrupt), 1010 (extension not negotiated)
    /// for [`Negotiation`](DeflateError::Negotiation).
    pub fn close_code(&self) -> u16 {
        match self {
            DeflateError::TooLarge { .. } => 1009,
            DeflateError::Corrupt => 1007,
            DeflateError::Negotiation(_) => 1010,
        }
    }
}

impl fmt::Display for DeflateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeflateError::TooLarge { limit } => {
                write!(f, "decompressed message larger than {limit} bytes")
            }
            DeflateError::Corrupt => f.write_str("invalid compressed data"),
            DeflateError::Negotiation(why) => write!(f, "permessage-deflate negotiation: {why}"),
        }
    }
}

impl std::error::Error for DeflateError {}
