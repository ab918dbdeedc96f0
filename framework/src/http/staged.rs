//! Small responses staged for one send: the answers to a pipelined batch
//! are written back to back into one buffer of the connection loop and
//! queued on the connection once, before the loop next waits, instead of
//! each reaching into the worker's connection slot on its own.
//!
//! Staged bytes are always older than anything else written on the
//! connection, so they leave first: before the loop waits for input
//! (the client may be waiting for them), before a response that does not
//! stage (a large or closing one, an upgrade, an error), before the
//! handler writes (`100 Continue`, a streamed head) or reads more of a
//! body, and the moment the handler's future is pending (it may wait
//! for anything, for as long as it likes).
//!
//! Connections with layers (TLS) do not stage: their bytes must go
//! through the layers, which a handler holding the connection keeps out
//! of reach.

use std::cell::RefCell;
use std::io;

use super::pace::SendPace;
use super::MinRate;
use super::INLINE_VALUE_MAX;
use crate::conn::RawOut;
use crate::Connection;

/// Most bytes staged before they are queued regardless.
const MAX: usize = 8 << 10;

/// The staging buffer of one connection loop.
pub(crate) struct Staged {
    buf: RefCell<Vec<u8>>,
    /// How to queue without the connection; `None`: staging is off.
    raw: Option<RawOut>,
}

impl Staged {
    /// Staging for `conn` (off if it has layers).
    pub(crate) fn new(conn: &Connection) -> Staged {
        Staged {
            buf: RefCell::new(Vec::new()),
            raw: conn.raw_out(),
        }
    }

    /// Staging that is off (nothing is ever staged).
    pub(crate) fn off() -> Staged {
        Staged {
            buf: RefCell::new(Vec::new()),
            raw: None,
        }
    }

    /// Appends `n` bytes written by `fill` if staging is on and they fit;
    /// false (nothing done) otherwise.
    #[inline]
    pub(crate) fn push(&self, n: usize, fill: impl FnOnce(&mut [u8])) -> bool {
        if self.raw.is_none() {
            return false;
        }
        let mut buf = self.buf.borrow_mut();
        let at = buf.len();
        if !Self::fits(at, n) {
            return false;
        }
        buf.resize(at + n, 0);
        fill(&mut buf[at..]);
        true
    }

    /// Appends `head` and `body` if staging is on and they fit; false
    /// (nothing done) otherwise. Always inlined: the pipelined hot path
    /// is this and a copy.
    #[inline(always)]
    pub(crate) fn push_parts(&self, head: &[u8], body: &[u8]) -> bool {
        if self.raw.is_none() {
            return false;
        }
        let mut buf = self.buf.borrow_mut();
        let at = buf.len();
        if !Self::fits(at, head.len() + body.len()) {
            return false;
        }
        buf.extend_from_slice(head);
        buf.extend_from_slice(body);
        true
    }

    /// Whether `n` more bytes may join the `at` staged: up to [`MAX`], or
    /// any amount into an empty buffer.
    #[inline(always)]
    fn fits(at: usize, n: usize) -> bool {
        at + n <= MAX || at == 0
    }

    /// As [`push_parts`](Self::push_parts) for a head that ends with a
    /// field's value, the first `len` bytes of `value`: `head` is the bytes
    /// before the value; the value's CRLF and the empty line are added
    /// here. Room for all of it is reserved once, and the value goes in as
    /// one fixed-size block whose tail the CRLFs and the body overwrite.
    #[inline(always)]
    pub(crate) fn push_parts_with(
        &self,
        head: &[u8],
        value: (&[u8; INLINE_VALUE_MAX], usize),
        body: &[u8],
    ) -> bool {
        if self.raw.is_none() {
            return false;
        }
        let (value, len) = value;
        let len = len.min(INLINE_VALUE_MAX);
        let mut buf = self.buf.borrow_mut();
        let at = buf.len();
        let n = head.len() + len + 4 + body.len();
        if !Self::fits(at, n) {
            return false;
        }
        // The block may reach past the end of what is kept: room for it.
        buf.reserve(head.len() + INLINE_VALUE_MAX + 4 + body.len());
        let to = buf.spare_capacity_mut().as_mut_ptr().cast::<u8>();
        // SAFETY: `reserve` made room for `head`, the whole value block, 4
        // bytes and `body` past the vector's end (`to`), and every copy
        // below ends within it: the value block at `head.len()` ends at
        // `head.len() + INLINE_VALUE_MAX`, the CRLFs at
        // `head.len() + len + 4` and the body at `n`, with `len` at most
        // `INLINE_VALUE_MAX`. The sources are other memory (slices and an
        // array borrowed from elsewhere) and the `n` bytes kept are all
        // written: the head, the value's first `len`, the CRLFs, the body.
        unsafe {
            std::ptr::copy_nonoverlapping(head.as_ptr(), to, head.len());
            let v = to.add(head.len());
            std::ptr::copy_nonoverlapping(value.as_ptr(), v, INLINE_VALUE_MAX);
            std::ptr::copy_nonoverlapping(b"\r\n\r\n".as_ptr(), v.add(len), 4);
            std::ptr::copy_nonoverlapping(body.as_ptr(), v.add(len + 4), body.len());
            buf.set_len(at + n);
        }
        true
    }

    /// True if nothing is staged.
    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.buf.borrow().is_empty()
    }

    /// Queues what is staged now, without waiting for room (the amount is
    /// bounded): for when the handler's future is pending.
    #[inline]
    pub(crate) fn queue_now(&self) {
        if let Some(raw) = self.raw {
            let mut buf = self.buf.borrow_mut();
            if !buf.is_empty() {
                raw.queue(&buf);
                buf.clear();
            }
        }
    }

    /// Takes what is staged (to send it ahead of a last response).
    pub(crate) fn take(&self) -> Vec<u8> {
        std::mem::take(&mut *self.buf.borrow_mut())
    }

    /// Queues what is staged on `conn` once its write buffer has room,
    /// holding the client to the response `rate` meanwhile.
    pub(crate) async fn flush(
        &self,
        conn: &mut Connection,
        pace: &mut SendPace,
        rate: Option<MinRate>,
    ) -> io::Result<()> {
        if self.is_empty() {
            return Ok(());
        }
        let buf = self.take();
        let mut copy = |out: &mut [u8]| out.copy_from_slice(&buf);
        let r = pace.write_with(conn, rate, buf.len(), &mut copy).await;
        self.give_back(buf);
        r
    }

    /// Writes what is staged on `conn` (before the handler's own writes
    /// and waits on it).
    pub(crate) async fn write_out(&self, conn: &mut Connection) -> io::Result<()> {
        if self.is_empty() {
            return Ok(());
        }
        let buf = self.take();
        let r = conn.write_all(&buf).await;
        self.give_back(buf);
        r
    }

    /// Makes `buf`, taken and sent, the (empty) staging buffer again, so
    /// its capacity is kept.
    fn give_back(&self, mut buf: Vec<u8>) {
        buf.clear();
        *self.buf.borrow_mut() = buf;
    }
}
