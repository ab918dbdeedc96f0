//! `FrameReader`: decodes frames from a connection's received leases,
//! through the connection's byte seam, [`Inbound`].
//!
//! Frames are decoded in place from the lease they arrived in (lease mode).
//! Only a frame that is incomplete at the end of a lease is assembled: its
//! start is copied into the assembly buffer, then just the bytes it still
//! needs from the following leases. Once it is complete, decoding goes back
//! to the rest of the current lease, in place.
//!
//! ```text
//!  lease mode:     [ lease: frame | frame | fra ]   decode in place
//!                                          └─ incomplete: copy the start
//!  assembly mode:  asm [ fra ] ◄── [ me | frame | fr ]  copy only what the
//!                  asm [ fra+me ]    └─ taken           frame still needs
//!  frame done:     asm emptied;  [ frame | fr ]  lease mode again
//! ```
//!
//! So the reader holds at most one lease plus an assembly buffer of at most
//! `max_frame` bytes, however long the stream; the buffer is emptied (not
//! grown) after every assembled frame, and freed after an unusually large
//! one (over 32 KiB).
//!
//! A decoder that answers "incomplete, need K more" is not called again
//! until K more bytes have arrived (what it examined is not re-parsed for
//! every small read); one that keeps asking for a single byte (a line
//! waiting for its end) is given 2, 4, 8... bytes, so a long line is parsed
//! a logarithmic number of times (and at most about its own length is
//! copied past its end, then decoded again from the lease). The frame
//! returned by [`FrameReader::read`] borrows the reader, so the borrow
//! checker makes sure it is finished with before the next read releases
//! its bytes.

use super::{Decoded, Frame, ReadError};
use crate::{Connection, Inbound};

/// Default largest frame: 1 MiB.
const DEFAULT_MAX: usize = 1 << 20;

/// Reads frames of any [`Frame`] type from a connection.
///
/// Memory stays bounded however long the stream: one lease, plus an
/// assembly buffer ([`capacity`](FrameReader::capacity)) of at most
/// [`max_frame`](FrameReader::max_frame) bytes, used only while a frame
/// spans leases.
///
/// ```no_run
/// use corering::frame::{Frame, FrameReader};
/// # async fn f<T: for<'a> Frame<'a>>(mut conn: corering::Connection) -> Result<(), corering::frame::ReadError> {
/// let mut reader = FrameReader::new().max_frame(64 * 1024);
/// while let Some(frame) = reader.read::<T>(&mut conn).await? {
///     // `frame` borrows `reader`, not `conn`: replies can be written here.
///     conn.write_frame(&frame).await?;
/// }
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct FrameReader {
    input: Inbound,
    /// Least bytes to copy at the next fill: grows while the decoder keeps
    /// asking for a single byte (it cannot tell how far its frame goes).
    step: usize,
    /// What the frame last returned consumed, released at the next read.
    pending: usize,
    /// Do not decode again until this many bytes are in view.
    need: usize,
    max: usize,
}

impl Default for FrameReader {
    fn default() -> Self {
        FrameReader::new()
    }
}

impl FrameReader {
    /// A reader with a 1 MiB frame limit.
    pub fn new() -> FrameReader {
        FrameReader::from_inbound(Inbound::new())
    }

    /// A reader that starts with the bytes already in `input` (for
    /// example those an [`Upgraded`](crate::http::Upgraded) connection
    /// hands over), with a 1 MiB frame limit.
    pub fn from_inbound(input: Inbound) -> FrameReader {
        FrameReader {
            input: input.max_assembly(DEFAULT_MAX),
            step: 0,
            pending: 0,
            need: 0,
            max: DEFAULT_MAX,
        }
    }

    /// The received bytes not yet consumed by a frame, to read on with
    /// another reader.
    pub fn into_inbound(mut self) -> Inbound {
        self.input.consume(self.pending);
        self.input
    }

    /// Sets the largest frame accepted; a frame that needs more is a
    /// [`ReadError::TooLarge`] (the connection should then be closed).
    /// It also bounds the assembly buffer.
    pub fn max_frame(mut self, bytes: usize) -> FrameReader {
        self.max = bytes.max(1);
        self.input = self.input.max_assembly(self.max);
        self
    }

    /// Bytes received and not yet consumed by a frame.
    pub fn buffered(&self) -> usize {
        self.input.len() - self.pending
    }

    /// True if the bytes after the last frame start in the assembly buffer
    /// (a frame spans leases).
    pub fn is_assembling(&self) -> bool {
        self.input.assembling_after(self.pending)
    }

    /// Bytes of memory the reader holds besides its one lease: the
    /// capacity of the assembly buffer. At most [`max_frame`]; zero until a
    /// frame spans leases, and back to at most 32 KiB after an unusually
    /// large one.
    ///
    /// [`max_frame`]: FrameReader::max_frame
    ///
    /// ```
    /// let reader = corering::frame::FrameReader::new();
    /// assert_eq!(reader.capacity(), 0);
    /// ```
    pub fn capacity(&self) -> usize {
        self.input.capacity()
    }

    /// Total bytes received from the connection so far.
    pub fn bytes_received(&self) -> u64 {
        self.input.bytes_received()
    }

    /// Total bytes copied into the assembly buffer so far: the parts of
    /// frames that spanned leases (and, for decoders that ask for one byte
    /// at a time, a little beyond them). Frames within one lease add
    /// nothing.
    ///
    /// ```
    /// let reader = corering::frame::FrameReader::new();
    /// assert_eq!((reader.bytes_received(), reader.bytes_copied()), (0, 0));
    /// ```
    pub fn bytes_copied(&self) -> u64 {
        self.input.bytes_copied()
    }

    /// The total a frame needs after `len` bytes and `needed` more, checked
    /// against the limit.
    fn needs(&self, len: usize, needed: usize) -> Result<usize, ReadError> {
        let total = len.saturating_add(needed.max(1));
        if total > self.max {
            return Err(ReadError::TooLarge {
                needed: total,
                limit: self.max,
            });
        }
        Ok(total)
    }

    /// Reads the next frame. `Ok(None)` means the peer closed the connection
    /// cleanly between frames.
    pub async fn read<'s, F: Frame<'s>>(
        &'s mut self,
        conn: &mut Connection,
    ) -> Result<Option<F>, ReadError> {
        if self.pending > 0 {
            if self.input.is_assembling() {
                self.step = 0;
            }
            self.input.consume(std::mem::take(&mut self.pending));
        }
        loop {
            let assembling = self.input.is_assembling();
            let view = self.input.bytes();
            let len = view.len();
            if len > 0 && len >= self.need {
                // SAFETY: `view` is the input's contiguous buffered bytes
                // (a lease or the assembly buffer), and they are not
                // modified while the decoded frame can exist: on `Complete`
                // we return at once and the frame keeps `self` borrowed for
                // 's; on the other outcomes nothing borrowing the view
                // survives.
                let view: &'s [u8] = unsafe { std::slice::from_raw_parts(view.as_ptr(), len) };
                match F::decode(view)? {
                    Decoded::Complete { frame, consumed } => {
                        debug_assert!(consumed > 0 && consumed <= len);
                        self.pending = consumed.min(len);
                        self.need = 0;
                        return Ok(Some(frame));
                    }
                    Decoded::Incomplete { needed } => {
                        self.need = self.needs(len, needed)?;
                        if !assembling {
                            self.input.reserve(self.need.max(len));
                            self.input.begin_assembly();
                            self.step = 0;
                        } else if needed <= 1 {
                            // Searching for a delimiter: offer 2, 4, 8...
                            // bytes rather than re-parse for every one.
                            self.step = self.step.saturating_mul(2).max(2);
                        } else {
                            self.step = 0;
                        }
                    }
                }
            }
            if assembling && !self.input.unassembled().is_empty() {
                // Copy what the frame still needs (room for all of it, as
                // far as the decoder can tell).
                let must = self.need.saturating_sub(len).max(1);
                let n = must.max(self.step.min(self.max.saturating_sub(len)));
                self.input.reserve((len + n).max(self.need));
                self.input.assemble(n);
                continue;
            }
            match conn.read().await? {
                Some(l) => self.input.push(l),
                None => {
                    let buffered = self.input.len();
                    return if buffered == 0 {
                        Ok(None)
                    } else {
                        Err(ReadError::Truncated { buffered })
                    };
                }
            }
        }
    }
}
