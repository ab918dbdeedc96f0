//! The socket's side of permessage-deflate (RFC 7692): the compressor the
//! writing halves share ([`SendDeflate`]) and the inflater of the reading
//! half ([`RecvInflate`]), made from what the handshake
//! [`Agreed`](super::deflate::Agreed).
//!
//! ```text
//!  send: message ≥ compress_min_size ─► Deflater into `buf` (reused) ─► frame with RSV1
//!  recv: RSV1 on a message's first frame ─► each piece unmasked in the receive buffer
//!        ─► Inflater::push into the reassembly buffer (limit: the largest message) ─► finish
//! ```
//!
//! Without the `ws-deflate` feature nothing is ever agreed, and neither
//! type is ever made (`new` gives `None`): the socket's code compiles
//! unchanged and its compressed branches are never taken.

#[cfg(feature = "ws-deflate")]
pub(crate) use enabled::{RecvInflate, SendDeflate};

#[cfg(not(feature = "ws-deflate"))]
pub(crate) use disabled::{RecvInflate, SendDeflate};

/// A compression buffer larger than this is freed when the next message
/// is compressed (a rare large message does not pin its memory to the
/// socket for long).
#[cfg(feature = "ws-deflate")]
const RETAIN: usize = 64 << 10;

#[cfg(feature = "ws-deflate")]
mod enabled {
    use super::RETAIN;
    use crate::ws::deflate::{Agreed, DeflateError, Deflater, Inflater};

    /// The sending direction: the compressor (with its window, under
    /// context takeover) and the buffer compressed messages are built in.
    pub(crate) struct SendDeflate {
        deflater: Deflater,
        buf: Vec<u8>,
    }

    impl SendDeflate {
        /// The compressor this server sends with under `agreed`.
        pub(crate) fn new(agreed: &Agreed) -> Option<SendDeflate> {
            Some(SendDeflate {
                deflater: Deflater::for_agreed(agreed),
                buf: Vec::new(),
            })
        }

        /// Whether a message of `len` bytes goes compressed.
        pub(crate) fn should_compress(&self, len: usize) -> bool {
            self.deflater.should_compress(len)
        }

        /// Compresses `payload` as one message; the frame payload (valid
        /// until the next call).
        pub(crate) fn compress(&mut self, payload: &[u8]) -> &[u8] {
            if self.buf.capacity() > RETAIN {
                self.buf = Vec::new();
            }
            self.buf.clear();
            self.deflater.compress_message(payload, &mut self.buf);
            &self.buf
        }
    }

    /// The receiving direction: the inflater and the largest message it
    /// may produce.
    pub(crate) struct RecvInflate {
        inflater: Inflater,
        limit: usize,
    }

    impl RecvInflate {
        /// The inflater for what the peer sends under `agreed`, stopping
        /// one byte past `max_message` (or the deflate config's own limit,
        /// if smaller).
        pub(crate) fn new(agreed: &Agreed, max_message: usize) -> Option<RecvInflate> {
            Some(RecvInflate {
                inflater: Inflater::for_agreed(agreed),
                limit: max_message.min(agreed.max_message_size()),
            })
        }

        /// Inflates the next piece of the current message onto `out`.
        pub(crate) fn push(&mut self, piece: &[u8], out: &mut Vec<u8>) -> Result<(), DeflateError> {
            self.inflater.push(piece, out, self.limit)
        }

        /// Ends the current message (what the last piece left onto `out`).
        pub(crate) fn finish(&mut self, out: &mut Vec<u8>) -> Result<(), DeflateError> {
            self.inflater.finish(out, self.limit)
        }
    }
}

#[cfg(not(feature = "ws-deflate"))]
mod disabled {
    use crate::ws::deflate::{Agreed, DeflateError};

    const NEVER: &str = "permessage-deflate is never agreed without the ws-deflate feature";

    /// Never made: nothing is agreed without the feature.
    pub(crate) struct SendDeflate(());

    impl SendDeflate {
        pub(crate) fn new(_: &Agreed) -> Option<SendDeflate> {
            None
        }
        pub(crate) fn should_compress(&self, _: usize) -> bool {
            unreachable!("{NEVER}")
        }
        pub(crate) fn compress(&mut self, _: &[u8]) -> &[u8] {
            unreachable!("{NEVER}")
        }
    }

    /// Never made: nothing is agreed without the feature.
    pub(crate) struct RecvInflate(());

    impl RecvInflate {
        pub(crate) fn new(_: &Agreed, _: usize) -> Option<RecvInflate> {
            None
        }
        pub(crate) fn push(&mut self, _: &[u8], _: &mut Vec<u8>) -> Result<(), DeflateError> {
            unreachable!("{NEVER}")
        }
        pub(crate) fn finish(&mut self, _: &mut Vec<u8>) -> Result<(), DeflateError> {
            unreachable!("{NEVER}")
        }
    }
}
