//! `Lease`: one buffer of received bytes, on loan from the worker's buffer
//! ring until dropped (or, for bytes a [`Layer`](crate::Layer) decoded
//! outside the ring, a heap buffer from a small per-thread pool).

use std::cell::RefCell;
use std::fmt;
use std::marker::PhantomData;
use std::ops::Deref;
use std::rc::Rc;

use super::out::RawLease;
use crate::driver::BufMem;

/// Heap buffers kept per thread for [`Lease::from_vec`] leases, so a layer
/// that decodes into its own memory allocates nothing once warm.
const POOL_BUFS: usize = 64;
/// Heap buffers with more capacity than this are freed, not pooled.
const POOL_MAX_CAP: usize = 64 << 10;

thread_local! {
    static HEAP_POOL: RefCell<Vec<Vec<u8>>> = const { RefCell::new(Vec::new()) };
}

/// One buffer of received bytes.
///
/// Normally the kernel filled it from the worker's provided-buffer ring; a
/// [`Layer`](crate::Layer) (TLS, for one) may also hand up bytes it decoded
/// into a heap buffer ([`Lease::from_vec`]). Either way a `Lease`
/// dereferences to the bytes received. Dropping it hands the buffer back
/// (to the kernel, or to a per-thread pool), so hold it only as long as you
/// need the bytes: a connection holding too many ring leases has its
/// receives paused (backpressure). To send received bytes back out without
/// copying, pass the lease to
/// [`Connection::write_owned`](crate::Connection::write_owned).
///
/// `Lease` is `!Send`: it belongs to the worker whose ring it came from.
pub struct Lease {
    ptr: *mut u8,
    start: u32,
    end: u32,
    src: Source,
    _not_send: PhantomData<*const ()>,
}

enum Source {
    Ring {
        bid: u16,
        conn: u32,
        gen: u32,
        /// Keeps the buffer memory mapped even if the worker exits first.
        mem: Rc<BufMem>,
    },
    /// `ptr` points into this vector's buffer, which is never touched
    /// through the vector while the lease lives.
    Heap(Vec<u8>),
}

impl Lease {
    pub(crate) fn new(mem: Rc<BufMem>, bid: u16, len: u32, conn: u32, gen: u32) -> Lease {
        Lease {
            ptr: mem.buf_ptr(bid) as *mut u8,
            start: 0,
            end: len,
            src: Source::Ring {
                bid,
                conn,
                gen,
                mem,
            },
            _not_send: PhantomData,
        }
    }

    /// A lease over bytes held in a heap buffer, for a layer that decodes
    /// into memory of its own. Get the buffer from [`Lease::heap_buffer`] to
    /// reuse pooled memory; it returns to that pool when the lease drops.
    ///
    /// # Panics
    /// If `v` is longer than 4 GiB.
    ///
    /// ```
    /// let mut v = corering::Lease::heap_buffer(5);
    /// v.extend_from_slice(b"hello");
    /// let lease = corering::Lease::from_vec(v);
    /// assert_eq!(&lease[..], b"hello");
    /// ```
    pub fn from_vec(mut v: Vec<u8>) -> Lease {
        let end = u32::try_from(v.len()).expect("a lease holds at most 4 GiB");
        Lease {
            ptr: v.as_mut_ptr(),
            start: 0,
            end,
            src: Source::Heap(v),
            _not_send: PhantomData,
        }
    }

    /// An empty heap buffer with room for at least `cap` bytes, from this
    /// thread's pool when one is free.
    pub fn heap_buffer(cap: usize) -> Vec<u8> {
        let pooled = HEAP_POOL.with(|p| p.borrow_mut().pop());
        match pooled {
            Some(mut v) => {
                v.reserve(cap);
                v
            }
            None => Vec::with_capacity(cap.max(4096)),
        }
    }

    /// The received bytes not yet consumed.
    pub fn as_slice(&self) -> &[u8] {
        // SAFETY: ptr points at a buffer of at least `end` initialized bytes
        // (written by the kernel, or the heap vector's length); the memory
        // stays alive while `src` lives and is not recycled before this lease
        // drops.
        unsafe {
            std::slice::from_raw_parts(
                self.ptr.add(self.start as usize),
                (self.end - self.start) as usize,
            )
        }
    }

    /// The received bytes not yet consumed, mutably: a layer decodes in
    /// place (TLS decrypts a record where it arrived).
    pub fn as_mut_slice(&mut self) -> &mut [u8] {
        // SAFETY: as in `as_slice`; the buffer is lent to this lease alone
        // (the kernel wrote it before the completion was reaped and will not
        // touch it until it is recycled), and `&mut self` makes this view
        // unique.
        unsafe {
            std::slice::from_raw_parts_mut(
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

    /// Keeps only the first `n` remaining bytes.
    ///
    /// # Panics
    /// If `n` exceeds the remaining length.
    pub fn truncate(&mut self, n: usize) {
        assert!(n <= self.len(), "truncate past the end of a lease");
        self.end = self.start + n as u32;
    }

    /// Whether the bytes live in a heap buffer rather than the kernel's
    /// buffer ring.
    pub fn is_heap(&self) -> bool {
        matches!(self.src, Source::Heap(_))
    }

    /// Splits into raw parts for the send queue (the caller releases them),
    /// or, for a heap lease, into its vector and the range still to send.
    pub(crate) fn into_raw(self) -> Result<(RawLease, u32), (Vec<u8>, usize, usize)> {
        let (start, end) = (self.start, self.end);
        // SAFETY: each field is read out exactly once and `self` is forgotten
        // right after, so nothing is dropped twice and Drop never runs.
        let src = unsafe { std::ptr::read(&self.src) };
        let ptr = self.ptr;
        std::mem::forget(self);
        match src {
            Source::Ring {
                bid,
                conn,
                gen,
                mem,
            } => {
                drop(mem);
                let raw = RawLease {
                    // SAFETY: start <= end <= buffer size.
                    ptr: unsafe { ptr.add(start as usize) },
                    bid,
                    conn,
                    gen,
                };
                Ok((raw, end - start))
            }
            Source::Heap(v) => Err((v, start as usize, end as usize)),
        }
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
        let mut d = f.debug_struct("Lease");
        if let Source::Ring { bid, .. } = self.src {
            d.field("bid", &bid);
        } else {
            d.field("heap", &true);
        }
        d.field("len", &self.len()).finish()
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        match &mut self.src {
            Source::Ring {
                bid,
                conn,
                gen,
                mem,
            } => {
                let raw = RawLease {
                    ptr: self.ptr,
                    bid: *bid,
                    conn: *conn,
                    gen: *gen,
                };
                crate::runtime::release_lease(mem, raw);
            }
            Source::Heap(v) => recycle_heap(std::mem::take(v)),
        }
    }
}

/// Has `fill` write `n` bytes into a pooled heap buffer, hands them to
/// `use_bytes`, and returns the buffer to the pool: for a write that
/// cannot be filled in place (a layer in the way).
pub(crate) fn staged<R>(
    n: usize,
    fill: impl FnOnce(&mut [u8]),
    use_bytes: impl FnOnce(&[u8]) -> R,
) -> R {
    let mut tmp = Lease::heap_buffer(n);
    tmp.resize(n, 0);
    fill(&mut tmp);
    let r = use_bytes(&tmp);
    recycle_heap(tmp);
    r
}

/// Returns a heap buffer to this thread's pool (or frees it).
pub(crate) fn recycle_heap(mut v: Vec<u8>) {
    if v.capacity() == 0 || v.capacity() > POOL_MAX_CAP {
        return;
    }
    v.clear();
    // try_with: the pool may be gone while the thread exits.
    let _ = HEAP_POOL.try_with(|p| {
        if let Ok(mut p) = p.try_borrow_mut() {
            if p.len() < POOL_BUFS {
                p.push(v);
            }
        }
    });
}
