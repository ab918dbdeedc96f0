//! `FrameReader`: decodes frames from a connection's received leases.
//!
//! Bytes stay in the lease they arrived in while frames are decoded from
//! it in place. Only when a frame is incomplete at the end of a lease are
//! the remaining bytes (and then the following leases) copied into an
//! assembly buffer, from which decoding continues until it is empty again.
//!
//! ```text
//!  lease mode:     [ lease: frame | frame | fra ]      decode in place
//!                                           └─ incomplete: copy into asm
//!  assembly mode:  asm [ fra + me | frame | fr ] ◄── next leases appended
//!                      decode from asm until it empties, then lease mode
//! ```
//!
//! A decoder that answers "incomplete, need K more" is not called again
//! until K more bytes have arrived (what it examined is not re-parsed for
//! every small read). The frame returned by [`FrameReader::read`] borrows
//! the reader, so the borrow checker makes sure it is finished with before
//! the next read releases its bytes.

use super::{Decoded, Frame, ReadError};
use crate::{Connection, Lease};

/// Default largest frame: 1 MiB.
const DEFAULT_MAX: usize = 1 << 20;

/// Reads frames of any [`Frame`] type from a connection.
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
    lease: Option<Lease>,
    asm: Vec<u8>,
    asm_pos: usize,
    /// Bytes the previous frame consumed, released at the next read.
    pending: usize,
    /// Do not decode again until this many bytes are buffered.
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
        FrameReader {
            lease: None,
            asm: Vec::new(),
            asm_pos: 0,
            pending: 0,
            need: 0,
            max: DEFAULT_MAX,
        }
    }

    /// Sets the largest frame accepted; a frame that needs more is a
    /// [`ReadError::TooLarge`] (the connection should then be closed).
    pub fn max_frame(mut self, bytes: usize) -> FrameReader {
        self.max = bytes.max(1);
        self
    }

    /// Bytes received and not yet consumed by a frame.
    pub fn buffered(&self) -> usize {
        let asm = self.asm.len() - self.asm_pos;
        asm + self.lease.as_ref().map_or(0, |l| l.len()) - self.pending
    }

    /// True if the bytes after the last frame are in the assembly buffer
    /// (a frame spanned leases).
    pub fn is_assembling(&self) -> bool {
        self.asm.len() > self.asm_pos
    }

    fn release_pending(&mut self) {
        let n = std::mem::take(&mut self.pending);
        if n == 0 {
            return;
        }
        if self.is_assembling() {
            self.asm_pos += n;
            if self.asm_pos == self.asm.len() {
                self.asm.clear();
                self.asm_pos = 0;
            }
        } else if let Some(l) = self.lease.as_mut() {
            l.consume(n);
            if l.is_empty() {
                self.lease = None;
            }
        }
    }

    /// Moves the current lease's bytes to the end of the assembly buffer.
    fn assemble(&mut self) {
        if let Some(l) = self.lease.take() {
            if self.asm_pos > 0 && self.asm_pos == self.asm.len() {
                self.asm.clear();
                self.asm_pos = 0;
            }
            self.asm.extend_from_slice(&l);
        }
    }

    /// Reads the next frame. `Ok(None)` means the peer closed the connection
    /// cleanly between frames.
    pub async fn read<'s, F: Frame<'s>>(
        &'s mut self,
        conn: &mut Connection,
    ) -> Result<Option<F>, ReadError> {
        self.release_pending();
        loop {
            // Everything buffered is either the lease (lease mode) or the
            // assembly buffer followed by at most one not yet copied lease.
            if self.is_assembling() {
                self.assemble();
            }
            let (ptr, len) = if self.is_assembling() {
                let v = &self.asm[self.asm_pos..];
                (v.as_ptr(), v.len())
            } else {
                match &self.lease {
                    Some(l) => (l.as_ptr(), l.len()),
                    None => (std::ptr::null(), 0),
                }
            };
            if len > 0 && len >= self.need {
                // SAFETY: `ptr..ptr+len` is the live buffered region (the
                // lease or the assembly buffer), and it is not modified
                // while the decoded frame can exist: on `Complete` we return
                // at once and the frame keeps `self` borrowed for 's; on the
                // other outcomes nothing borrowing the view survives.
                let view: &'s [u8] = unsafe { std::slice::from_raw_parts(ptr, len) };
                match F::decode(view)? {
                    Decoded::Complete { frame, consumed } => {
                        debug_assert!(consumed > 0 && consumed <= len);
                        self.pending = consumed.min(len);
                        self.need = 0;
                        return Ok(Some(frame));
                    }
                    Decoded::Incomplete { needed } => {
                        let total = len.saturating_add(needed.max(1));
                        if total > self.max {
                            return Err(ReadError::TooLarge {
                                needed: total,
                                limit: self.max,
                            });
                        }
                        self.need = total;
                        // The frame continues in the next lease: switch to
                        // the assembly buffer.
                        self.assemble();
                    }
                }
            }
            match conn.read().await? {
                Some(l) => {
                    debug_assert!(self.lease.is_none());
                    self.lease = Some(l);
                }
                None => {
                    let buffered = self.buffered();
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
