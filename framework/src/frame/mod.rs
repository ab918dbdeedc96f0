//! Frames: protocol messages decoded straight from received buffers.
//!
//! A protocol is a set of [`Frame`] types. [`Frame::decode`] looks at the
//! bytes received so far and answers either *complete* (the frame and how
//! many bytes it consumed) or *incomplete* (at least how many more bytes it
//! needs) — never an error for a buffer that is merely short. Frames borrow
//! `&'a [u8]` and `&'a str` fields from the buffer, so decoding allocates
//! nothing; [`Frame::encode`] writes into a slice of exactly
//! [`Frame::encoded_len`] bytes, which [`FrameWriter`] takes straight from the
//! connection's outgoing buffers.
//!
//! [`FrameReader`] drives decoding over a connection: bytes stay in their
//! leases until consumed and are copied into an assembly buffer only when one
//! frame spans two leases. `#[derive(Frame)]` generates all of this for
//! annotated structs and enums.
//!
//! ```
//! use corering::frame::{Decoded, DecodeError, Frame};
//!
//! /// A length-prefixed message: u16 big-endian length, then the payload.
//! struct Msg<'a>(&'a [u8]);
//!
//! impl<'a> Frame<'a> for Msg<'a> {
//!     fn decode(buf: &'a [u8]) -> Result<Decoded<Self>, DecodeError> {
//!         if buf.len() < 2 {
//!             return Ok(Decoded::Incomplete { needed: 2 - buf.len() });
//!         }
//!         let n = u16::from_be_bytes([buf[0], buf[1]]) as usize;
//!         if buf.len() < 2 + n {
//!             return Ok(Decoded::Incomplete { needed: 2 + n - buf.len() });
//!         }
//!         Ok(Decoded::Complete { frame: Msg(&buf[2..2 + n]), consumed: 2 + n })
//!     }
//!     fn encoded_len(&self) -> usize {
//!         2 + self.0.len()
//!     }
//!     fn encode(&self, out: &mut [u8]) {
//!         out[..2].copy_from_slice(&(self.0.len() as u16).to_be_bytes());
//!         out[2..2 + self.0.len()].copy_from_slice(self.0);
//!     }
//! }
//!
//! let mut buf = [0u8; 7];
//! Msg(b"hello").encode(&mut buf);
//! assert!(matches!(Msg::decode(&buf[..3]), Ok(Decoded::Incomplete { needed: 4 })));
//! match Msg::decode(&buf).unwrap() {
//!     Decoded::Complete { frame, consumed } => {
//!         assert_eq!(frame.0, b"hello");
//!         assert_eq!(consumed, 7);
//!     }
//!     Decoded::Incomplete { .. } => unreachable!(),
//! }
//! ```

mod error;
mod reader;
mod writer;

pub use error::{DecodeError, DecodeErrorKind, ReadError};
pub use reader::FrameReader;
pub use writer::FrameWriter;

/// Outcome of decoding from a buffer that may hold a partial frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decoded<T> {
    /// A whole frame, and the number of bytes it occupied.
    Complete {
        /// The decoded frame.
        frame: T,
        /// Bytes consumed from the start of the buffer.
        consumed: usize,
    },
    /// The buffer holds the beginning of a frame; at least `needed` more
    /// bytes must arrive before decoding can make progress.
    Incomplete {
        /// Minimum number of additional bytes (at least 1).
        needed: usize,
    },
}

impl<T> Decoded<T> {
    /// Maps the frame of a complete result.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Decoded<U> {
        match self {
            Decoded::Complete { frame, consumed } => Decoded::Complete {
                frame: f(frame),
                consumed,
            },
            Decoded::Incomplete { needed } => Decoded::Incomplete { needed },
        }
    }
}

/// A protocol message that can be decoded from, and encoded to, bytes.
///
/// Implemented by `#[derive(Frame)]`, or by hand for protocols the derive
/// does not cover. Implementations must uphold:
/// - `decode` on a strict prefix of a valid frame returns `Incomplete`;
/// - `decode` returns `Err` only for bytes that can never become valid,
///   naming the field and byte offset;
/// - `encode(out)` writes exactly `encoded_len()` bytes to the start of
///   `out` (which is at least that long), and decoding them yields an equal
///   frame consuming `encoded_len()` bytes.
pub trait Frame<'a>: Sized {
    /// Decodes one frame from the start of `buf`.
    fn decode(buf: &'a [u8]) -> Result<Decoded<Self>, DecodeError>;

    /// Number of bytes `encode` writes.
    fn encoded_len(&self) -> usize;

    /// Writes the frame into `out[..self.encoded_len()]`.
    fn encode(&self, out: &mut [u8]);
}
