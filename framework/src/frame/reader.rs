//! `FrameReader`: decodes frames from a connection's received leases.
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
use crate::{Connection, Lease};

/// Default largest frame: 1 MiB.
const DEFAULT_MAX: usize = 1 << 20;
/// Smallest assembly buffer allocated, so that frames of similar sizes
/// reuse it instead of growing it a few bytes at a time.
const MIN_ASSEMBLY: usize = 512;
/// An assembly buffer larger than this is freed once its frame is done
/// (a rare large frame does not pin its memory to the connection).
const RETAIN: usize = 32 << 10;

/// What the frame last returned consumed, released at the next read.
#[derive(Debug, Clone, Copy)]
enum Pending {
    None,
    /// Bytes at the front of the lease (lease mode).
    Lease(usize),
    /// Bytes at the front of the assembly buffer.
    Assembled(usize),
}

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
    lease: Option<Lease>,
    /// Non-empty: the start of a frame that spans leases (assembly mode).
    asm: Vec<u8>,
    /// Bytes at the front of `lease` that are also the last bytes of `asm`.
    taken: usize,
    /// Least bytes to copy at the next fill: grows while the decoder keeps
    /// asking for a single byte (it cannot tell how far its frame goes).
    step: usize,
    pending: Pending,
    /// Do not decode again until this many bytes are in view.
    need: usize,
    max: usize,
    received: u64,
    copied: u64,
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
            taken: 0,
            step: 0,
            pending: Pending::None,
            need: 0,
            max: DEFAULT_MAX,
            received: 0,
            copied: 0,
        }
    }

    /// Sets the largest frame accepted; a frame that needs more is a
    /// [`ReadError::TooLarge`] (the connection should then be closed).
    /// It also bounds the assembly buffer.
    pub fn max_frame(mut self, bytes: usize) -> FrameReader {
        self.max = bytes.max(1);
        self
    }

    /// Bytes received and not yet consumed by a frame.
    pub fn buffered(&self) -> usize {
        let lease = self.lease.as_ref().map_or(0, |l| l.len()) - self.taken;
        match self.pending {
            Pending::None => self.asm.len() + lease,
            Pending::Lease(n) => lease - n,
            Pending::Assembled(n) => self.asm.len() - n + lease,
        }
    }

    /// True if the bytes after the last frame start in the assembly buffer
    /// (a frame spans leases).
    pub fn is_assembling(&self) -> bool {
        match self.pending {
            Pending::Assembled(n) => self.asm.len() - n > self.taken,
            _ => !self.asm.is_empty(),
        }
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
        self.asm.capacity()
    }

    /// Total bytes received from the connection so far.
    pub fn bytes_received(&self) -> u64 {
        self.received
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
        self.copied
    }

    /// Consumes `n` bytes of the lease; drops it once empty.
    fn consume_lease(&mut self, n: usize) {
        if let Some(l) = self.lease.as_mut() {
            l.consume(n);
            if l.is_empty() {
                self.lease = None;
            }
        }
    }

    fn release_pending(&mut self) {
        match std::mem::replace(&mut self.pending, Pending::None) {
            Pending::None => {}
            Pending::Lease(n) => self.consume_lease(n),
            Pending::Assembled(n) => {
                self.step = 0;
                let leftover = self.asm.len() - n;
                if leftover <= self.taken {
                    // The frame ended in the current lease: what follows it
                    // is decoded there, in place.
                    self.asm.clear();
                    if self.asm.capacity() > RETAIN {
                        self.asm = Vec::new();
                    }
                    let used = self.taken - leftover;
                    self.taken = 0;
                    self.consume_lease(used);
                } else {
                    // Only for a decoder that completes a frame shorter than
                    // a prefix it called incomplete: keep what follows.
                    self.asm.drain(..n);
                }
            }
        }
    }

    /// Makes room for `total` assembled bytes (at most `max`), doubling so
    /// that a buffer in use stops growing after a few frames.
    fn reserve(&mut self, total: usize) {
        let cap = self.asm.capacity();
        if total > cap {
            let want = total
                .max(cap.saturating_mul(2))
                .max(MIN_ASSEMBLY)
                .min(self.max.max(total));
            self.asm.reserve_exact(want - self.asm.len());
        }
    }

    /// The lease ends inside a frame: copies its bytes to the assembly
    /// buffer and lets it go.
    fn start_assembly(&mut self) {
        if let Some(l) = self.lease.take() {
            self.reserve(self.need.max(l.len()));
            self.asm.extend_from_slice(&l);
            self.copied += l.len() as u64;
        }
        self.taken = 0;
        self.step = 0;
    }

    /// Copies from the current lease what the frame being assembled still
    /// needs. False if the lease has nothing left (it is then dropped).
    fn fill(&mut self) -> bool {
        let avail = self.lease.as_ref().map_or(0, |l| l.len()) - self.taken;
        if avail == 0 {
            self.lease = None;
            self.taken = 0;
            return false;
        }
        let len = self.asm.len();
        let must = self.need.saturating_sub(len).max(1);
        let n = must
            .max(self.step.min(self.max.saturating_sub(len)))
            .min(avail);
        // Room for the whole frame as far as the decoder can tell.
        self.reserve((len + n).max(self.need));
        if let Some(l) = &self.lease {
            self.asm.extend_from_slice(&l[self.taken..self.taken + n]);
        }
        self.taken += n;
        self.copied += n as u64;
        true
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
        self.release_pending();
        loop {
            let assembling = !self.asm.is_empty();
            let (ptr, len) = if assembling {
                (self.asm.as_ptr(), self.asm.len())
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
                        let consumed = consumed.min(len);
                        self.pending = if assembling {
                            Pending::Assembled(consumed)
                        } else {
                            Pending::Lease(consumed)
                        };
                        self.need = 0;
                        return Ok(Some(frame));
                    }
                    Decoded::Incomplete { needed } => {
                        self.need = self.needs(len, needed)?;
                        if !assembling {
                            self.start_assembly();
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
            if assembling && self.fill() {
                continue;
            }
            match conn.read().await? {
                Some(l) => {
                    debug_assert!(self.lease.is_none());
                    self.received += l.len() as u64;
                    if !l.is_empty() {
                        self.lease = Some(l);
                    }
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
