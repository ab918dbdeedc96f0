//! The worker's provided-buffer ring: a fixed set of equal-sized receive
//! buffers that the kernel picks from when a multishot receive completes.
//!
//! Memory: both the ring of descriptors and the buffers are anonymous
//! mappings, so pages are only resident once the kernel has written to them;
//! an idle connection holds no receive memory at all.
//!
//! Ownership: a buffer id is either *in the ring* (the kernel may fill it) or
//! *handed out* (a completion named it; a `Lease` owns it until dropped, and
//! then `recycle` puts it back). The two sets never overlap.

use std::cell::Cell;
use std::io;
use std::ptr;
use std::rc::Rc;
use std::sync::atomic::{AtomicU16, Ordering};

use io_uring::types::BufRingEntry;

use super::Ring;
use crate::error;

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
}

impl Drop for BufMem {
    fn drop(&mut self) {
        // SAFETY: mapped in `BufRing::new` with this length; dropped only
        // when no ring can write into it and no lease points into it.
        unsafe { libc::munmap(self.ptr.cast(), self.len) };
    }
}

/// A registered provided-buffer ring (one buffer group).
pub(crate) struct BufRing {
    ring: *mut BufRingEntry,
    ring_len: usize,
    mem: Rc<BufMem>,
    entries: u16,
    buf_size: u32,
    bgid: u16,
    /// Local copy of the tail we publish to the kernel.
    tail: Cell<u16>,
    /// Buffers named by a completion and not yet recycled.
    handed_out: Cell<u32>,
}

fn mmap_anon(len: usize) -> io::Result<*mut u8> {
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

impl BufRing {
    /// Maps and registers `entries` buffers of `buf_size` bytes as group `bgid`.
    pub fn new(ring: &Ring, entries: u16, buf_size: u32, bgid: u16) -> io::Result<BufRing> {
        assert!(
            entries.is_power_of_two(),
            "buffer count must be a power of two"
        );
        let ring_len = entries as usize * std::mem::size_of::<BufRingEntry>();
        let bufs_len = entries as usize * buf_size as usize;
        let ring_ptr = mmap_anon(ring_len)?.cast::<BufRingEntry>();
        let bufs = match mmap_anon(bufs_len) {
            Ok(p) => p,
            Err(e) => {
                // SAFETY: ring_ptr was mapped above with ring_len bytes.
                unsafe { libc::munmap(ring_ptr.cast(), ring_len) };
                return Err(e);
            }
        };
        let br = BufRing {
            ring: ring_ptr,
            ring_len,
            mem: Rc::new(BufMem {
                ptr: bufs,
                len: bufs_len,
                buf_size,
            }),
            entries,
            buf_size,
            bgid,
            tail: Cell::new(0),
            handed_out: Cell::new(entries as u32),
        };
        // SAFETY: the ring memory is page aligned, `ring_len` long and lives
        // until `self` is dropped, after the ring that uses it is gone.
        unsafe {
            ring.uring()
                .submitter()
                .register_buf_ring_with_flags(ring_ptr as u64, entries, bgid, 0)
        }
        .map_err(error::buf_ring_setup)?;
        for bid in 0..entries {
            br.recycle(bid);
        }
        Ok(br)
    }

    /// The buffer group id to name in receive submissions.
    pub fn bgid(&self) -> u16 {
        self.bgid
    }

    /// Number of buffers in the ring.
    pub fn entries(&self) -> u16 {
        self.entries
    }

    /// Buffers currently out of the kernel's hands.
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

    /// Gives buffer `bid` back to the kernel.
    pub fn recycle(&self, bid: u16) {
        debug_assert!(bid < self.entries);
        let tail = self.tail.get();
        let idx = (tail & (self.entries - 1)) as usize;
        // SAFETY: idx < entries; the slot at `tail` is not visible to the
        // kernel until the tail store below, and we are the only producer.
        unsafe {
            let e = &mut *self.ring.add(idx);
            e.set_addr(self.mem.buf_ptr(bid) as u64);
            e.set_len(self.buf_size);
            e.set_bid(bid);
        }
        let tail = tail.wrapping_add(1);
        self.tail.set(tail);
        // SAFETY: the tail field lives in the first entry of the mapped ring
        // and is only ever accessed atomically by the kernel and by us.
        unsafe {
            let tail_ptr = BufRingEntry::tail(self.ring) as *const AtomicU16;
            (*tail_ptr).store(tail, Ordering::Release);
        }
        self.handed_out.set(self.handed_out.get() - 1);
    }
}

impl Drop for BufRing {
    fn drop(&mut self) {
        // SAFETY: the ring was mapped in `new` with this length; the worker
        // drops this only after its ring has no operation in flight.
        unsafe { libc::munmap(self.ring.cast(), self.ring_len) };
    }
}
