//! The worker's receive buffer pool: a fixed set of equal-sized buffers that
//! receives fill, handed to the application as `Lease`s.
//!
//! Memory: the buffers are one anonymous mapping, so pages are only
//! resident once written; an idle connection holds no receive memory.
//!
//! Ownership: a buffer id is either *free* (a receive may fill it) or
//! *handed out* (a completion named it; a `Lease` owns it until dropped,
//! and then `recycle` frees it). The two sets never overlap.
//!
//! How free buffers are kept depends on the driver: for io_uring they sit
//! in a provided-buffer ring registered with the kernel, which picks one
//! per completion; for epoll they sit on a stack the driver pops from
//! before each `recv`.

use std::cell::{Cell, RefCell};
use std::io;
use std::ptr;
use std::rc::Rc;
use std::sync::atomic::{AtomicU16, Ordering};

use io_uring::types::BufRingEntry;

/// The receive buffers' memory. Reference counted so that a `Lease` that
/// outlives its worker still points at mapped memory.
pub(crate) struct BufMem {
    ptr: *mut u8,
    len: usize,
    buf_size: u32,
}

impl BufMem {
    /// Start of buffer `bid`.
    pub fn buf_ptr(&self, bid: u16) -> *const u8 {
        let off = bid as usize * self.buf_size as usize;
        assert!(off < self.len);
        // SAFETY: off < len, so the pointer stays inside the mapping.
        unsafe { self.ptr.add(off) }
    }

    /// Writable start of buffer `bid` (for a receive into a free buffer).
    pub fn buf_mut_ptr(&self, bid: u16) -> *mut u8 {
        self.buf_ptr(bid) as *mut u8
    }
}

impl Drop for BufMem {
    fn drop(&mut self) {
        // SAFETY: mapped in `Buffers::map` with this length; dropped only
        // when no receive can write into it and no lease points into it.
        unsafe { libc::munmap(self.ptr.cast(), self.len) };
    }
}

/// The io_uring provided-buffer ring the free buffers are published in.
pub(crate) struct KernelRing {
    pub ring: *mut BufRingEntry,
    pub ring_len: usize,
    /// Local copy of the tail we publish to the kernel.
    pub tail: Cell<u16>,
}

/// Where free buffers wait.
enum Free {
    /// In a ring registered with io_uring (the kernel picks).
    Ring(KernelRing),
    /// On a stack the epoll driver pops from.
    Stack(RefCell<Vec<u16>>),
}

/// A worker's receive buffers.
pub(crate) struct Buffers {
    mem: Rc<BufMem>,
    entries: u16,
    buf_size: u32,
    free: Free,
    /// Buffers named by a completion and not yet recycled.
    handed_out: Cell<u32>,
}

pub(crate) fn mmap_anon(len: usize) -> io::Result<*mut u8> {
    // SAFETY: an anonymous private mapping has no preconditions; the result is
    // checked against MAP_FAILED.
    let p = unsafe {
        libc::mmap(
            ptr::null_mut(),
            len,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        )
    };
    if p == libc::MAP_FAILED {
        return Err(io::Error::last_os_error());
    }
    Ok(p.cast())
}

impl Buffers {
    /// Maps `entries` buffers of `buf_size` bytes, kept free on a stack
    /// (the epoll driver's pool).
    pub fn stack(entries: u16, buf_size: u32) -> io::Result<Buffers> {
        let b = Buffers::map(entries, buf_size, Free::Stack(RefCell::new(Vec::new())))?;
        if let Free::Stack(s) = &b.free {
            s.borrow_mut().reserve_exact(entries as usize);
        }
        b.recycle_all();
        Ok(b)
    }

    /// Maps `entries` buffers of `buf_size` bytes whose free ids go to
    /// `ring` once it is registered (`publish_all`).
    pub fn with_ring(entries: u16, buf_size: u32, ring: KernelRing) -> io::Result<Buffers> {
        Buffers::map(entries, buf_size, Free::Ring(ring))
    }

    fn map(entries: u16, buf_size: u32, free: Free) -> io::Result<Buffers> {
        assert!(
            entries.is_power_of_two(),
            "buffer count must be a power of two"
        );
        let len = entries as usize * buf_size as usize;
        let ptr = mmap_anon(len)?;
        Ok(Buffers {
            mem: Rc::new(BufMem { ptr, len, buf_size }),
            entries,
            buf_size,
            free,
            handed_out: Cell::new(entries as u32),
        })
    }

    /// Frees every buffer (at creation, all are counted as handed out).
    pub fn recycle_all(&self) {
        for bid in 0..self.entries {
            self.recycle(bid);
        }
    }

    /// Number of buffers.
    pub fn entries(&self) -> u16 {
        self.entries
    }

    /// Size of each buffer.
    pub fn buf_size(&self) -> u32 {
        self.buf_size
    }

    /// Buffers currently handed out.
    pub fn handed_out(&self) -> u32 {
        self.handed_out.get()
    }

    /// Records that a completion handed buffer `bid` to us.
    pub fn take(&self, bid: u16) {
        debug_assert!(bid < self.entries);
        self.handed_out.set(self.handed_out.get() + 1);
    }

    /// The buffers' memory, shared with leases.
    pub fn mem(&self) -> &Rc<BufMem> {
        &self.mem
    }

    /// A free buffer for a receive the driver is about to make (epoll);
    /// `None` when none is free (and always for io_uring, where the
    /// kernel picks).
    pub fn pop_free(&self) -> Option<u16> {
        match &self.free {
            Free::Stack(s) => s.borrow_mut().pop(),
            Free::Ring(_) => None,
        }
    }

    /// Returns a buffer taken with `pop_free` that a receive did not fill.
    pub fn unpop(&self, bid: u16) {
        if let Free::Stack(s) = &self.free {
            s.borrow_mut().push(bid);
        }
    }

    /// Frees buffer `bid`.
    pub fn recycle(&self, bid: u16) {
        debug_assert!(bid < self.entries);
        match &self.free {
            Free::Stack(s) => s.borrow_mut().push(bid),
            Free::Ring(r) => {
                let tail = r.tail.get();
                let idx = (tail & (self.entries - 1)) as usize;
                // SAFETY: idx < entries; the slot at `tail` is not visible to
                // the kernel until the tail store below, and we are the only
                // producer.
                unsafe {
                    let e = &mut *r.ring.add(idx);
                    e.set_addr(self.mem.buf_ptr(bid) as u64);
                    e.set_len(self.buf_size);
                    e.set_bid(bid);
                }
                let tail = tail.wrapping_add(1);
                r.tail.set(tail);
                // SAFETY: the tail field lives in the first entry of the
                // mapped ring and is only ever accessed atomically by the
                // kernel and by us.
                unsafe {
                    let tail_ptr = BufRingEntry::tail(r.ring) as *const AtomicU16;
                    (*tail_ptr).store(tail, Ordering::Release);
                }
            }
        }
        self.handed_out.set(self.handed_out.get() - 1);
    }
}

impl Drop for Buffers {
    fn drop(&mut self) {
        if let Free::Ring(r) = &self.free {
            // SAFETY: the ring was mapped with this length; the worker drops
            // this only after its ring has no operation in flight.
            unsafe { libc::munmap(r.ring.cast(), r.ring_len) };
        }
    }
}
