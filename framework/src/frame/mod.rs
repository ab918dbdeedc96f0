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
//! leases until consumed, and only a frame that spans two leases is copied
//! into an assembly buffer (just that frame's bytes). Its memory stays
//! bounded by the frame limit plus one lease however long the stream.
//!
//! # Deriving frames
//!
//! `#[derive(Frame)]` (the same `use corering::frame::Frame;` imports the
//! trait and the derive) generates `decode`, `encoded_len` and `encode` for
//! structs and tagged enums: numbers of every width in either byte order,
//! byte arrays, magic bytes and constants, lengths taken from an earlier
//! field or from a prefix, borrowed and owned bytes and strings, repeated
//! and nested frames, optional fields, and space-separated text lines. The
//! [derive's documentation](derive@Frame) lists every attribute.
//!
//! ```
//! use corering::frame::{Decoded, DecodeErrorKind, Frame};
//!
//! #[derive(Frame, Debug, PartialEq)]
//! #[frame(magic = b"CRNG")]              // 4 bytes that must match
//! struct Packet<'a> {
//!     version: u8,
//!     #[frame(endian = "little")]         // big-endian unless told
//!     flags: u16,
//!     count: u16,
//!     #[frame(len = count, max = 4096)]   // length from an earlier field
//!     payload: &'a [u8],
//!     #[frame(prefix = u8)]               // u8 length prefix; UTF-8 checked
//!     name: &'a str,
//!     #[frame(if = flags & 1 != 0)]       // present when the condition holds
//!     seq: Option<u64>,
//!     body: Body<'a>,                     // a nested frame
//! }
//!
//! #[derive(Frame, Debug, PartialEq)]
//! #[frame(tag = u8)]
//! enum Body<'a> {
//!     #[frame(id = 0)]
//!     Empty,
//!     #[frame(id = 1)]
//!     Text(#[frame(prefix = u16)] &'a str),
//!     #[frame(id = b'P')]
//!     Pair { a: u32, b: i64 },
//!     #[frame(other)]                     // any other tag
//!     Unknown(u8),
//! }
//!
//! let p = Packet {
//!     version: 1,
//!     flags: 1,
//!     count: 0, // encode writes the payload's real length here
//!     payload: b"abc",
//!     name: "héllo",
//!     seq: Some(42),
//!     body: Body::Text("hi"),
//! };
//! let mut buf = [0u8; 64];
//! let n = p.encoded_len();
//! p.encode(&mut buf[..n]);
//! assert_eq!(&buf[..9], b"CRNG\x01\x01\x00\x00\x03");
//!
//! // A prefix of a frame asks for more; the whole frame decodes, borrowing
//! // from `buf`.
//! assert!(matches!(Packet::decode(&buf[..10]), Ok(Decoded::Incomplete { .. })));
//! let Ok(Decoded::Complete { frame, consumed }) = Packet::decode(&buf[..n]) else {
//!     panic!()
//! };
//! assert_eq!((frame.count, frame.name, frame.body), (3, "héllo", Body::Text("hi")));
//! assert_eq!(consumed, n);
//!
//! // Errors name the field and the byte offset.
//! buf[n - 2] = 0xff; // inside the text of the nested body
//! let err = Packet::decode(&buf[..n]).unwrap_err();
//! assert_eq!(err.kind(), &DecodeErrorKind::BadUtf8);
//! assert_eq!(err.to_string(), "invalid UTF-8 in field `Packet.body.Text.0` at byte 30");
//!
//! /// A text line: `SET key 60 some value\r\n`.
//! #[derive(Frame, Debug, PartialEq)]
//! #[frame(line, magic = "SET")]
//! struct Set<'a> {
//!     key: &'a str,
//!     ttl: u32,
//!     #[frame(rest)]
//!     value: &'a [u8],
//! }
//!
//! let line = b"SET color 60 light blue\r\n";
//! let Ok(Decoded::Complete { frame, .. }) = Set::decode(line) else { panic!() };
//! assert_eq!(frame, Set { key: "color", ttl: 60, value: b"light blue" });
//! ```
//!
//! # Implementing `Frame` by hand
//!
//! For protocols the derive does not cover. Paths in errors start with the
//! type's name, so that a frame nested in a derived one reports
//! `"Outer.field.inner"`.
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

#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;

pub use corering_macros::Frame;
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
