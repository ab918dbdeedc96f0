//! `Lease`: one kernel-filled receive buffer, on loan from the worker's
//! buffer ring until dropped.

use std::fmt;
use std::marker::PhantomData;
use std::ops::Deref;
use std::rc::Rc;

use super::out::RawLease;
use crate::uring::BufMem;

/// One buffer of received bytes, filled by the kernel from the worker's
/// provided-buffer ring.
///
/// A `Lease` dereferences to the bytes received. Dropping it hands the buffer
/// back to the kernel, so hold it only as long as you need the bytes: a
/// connection holding too many leases has its receives paused (backpressure).
/// To send received bytes back out without copying, pass the lease to
/// [`Connection::write_owned`](crate::Connection::write_owned).
///
/// `Lease` is `!Send`: it belongs to the worker whose ring it came from.
pub struct Lease {
    ptr: *const u8,
    start: u32,
    end: u32,
    bid: u16,
    conn: u32,
    gen: u32,
    /// Keeps the buffer memory mapped even if the worker exits first.
    mem: Rc<BufMem>,
    _not_send: PhantomData<*const ()>,
}

impl Lease {
    pub(crate) fn new(mem: Rc<BufMem>, bid: u16, len: u32, conn: u32, gen: u32) -> Lease {
        Lease {
            ptr: mem.buf_ptr(bid),
            start: 0,
            end: len,
            bid,
            conn,
            gen,
            mem,
            _not_send: PhantomData,
        }
    }

    /// The received bytes not yet consumed.
    pub fn as_slice(&self) -> &[u8] {
        // SAFETY: ptr points at a buffer of at least `end` initialized bytes
        // written by the kernel; the memory stays mapped while `mem` lives and
        // the buffer is not recycled before this lease drops.
        unsafe {
            std::slice::from_raw_parts(
                self.ptr.add(self.start as usize),
                (self.end - self.start) as usize,
            )
        }
    }

    /// Marks the first `n` bytes as consumed; later views start after them.
    ///
    /// # Panics
    /// If `n` exceeds the remaining length.
    pub fn consume(&mut self, n: usize) {
        assert!(n <= self.len(), "consume past the end of a lease");
        self.start += n as u32;
    }

    /// Splits into raw parts for the send queue; the caller releases them.
    pub(crate) fn into_raw(self) -> (RawLease, u32) {
        // SAFETY: start <= end <= buffer size.
        let ptr = unsafe { self.ptr.add(self.start as usize) };
        let raw = RawLease {
            ptr,
            bid: self.bid,
            conn: self.conn,
            gen: self.gen,
        };
        let len = self.end - self.start;
        // SAFETY: `mem` is read out exactly once and `self` is forgotten right
        // after, so the Rc is dropped once and the lease's Drop never runs.
        drop(unsafe { std::ptr::read(&self.mem) });
        std::mem::forget(self);
        (raw, len)
    }
}

impl Deref for Lease {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        self.as_slice()
    }
}

impl AsRef<[u8]> for Lease {
    fn as_ref(&self) -> &[u8] {
        self.as_slice()
    }
}

impl fmt::Debug for Lease {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Lease")
            .field("bid", &self.bid)
            .field("len", &self.len())
            .finish()
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        let raw = RawLease {
            ptr: self.ptr,
            bid: self.bid,
            conn: self.conn,
            gen: self.gen,
        };
        crate::runtime::release_lease(&self.mem, raw);
    }
}
