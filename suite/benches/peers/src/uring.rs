//! The io_uring plumbing of the two floors (`uring_floor`, `echo_floor`): one ring
//! (`SINGLE_ISSUER | DEFER_TASKRUN` when the kernel has them), a provided buffer ring, a
//! multishot accept that sets `TCP_NODELAY` and arms one multishot recv per connection,
//! and a wait that copies the completions out so that handling them can queue more work.
//!
//! An entry's `user_data` is its operation in the top byte and the fd below.

use std::io;
use std::net::{SocketAddr, TcpListener};
use std::os::fd::{AsRawFd, RawFd};
use std::sync::atomic::{AtomicU16, Ordering};

use io_uring::{cqueue, opcode, squeue, types, IoUring};

/// Submission queue entries (the completion queue gets 4x as many).
pub const RING_ENTRIES: u32 = 1024;
/// Provided buffers: count (a power of two) and size.
pub const BUFS: u16 = 512;
pub const BUF_SIZE: usize = 4096;
const BUF_GROUP: u16 = 0;

pub const OP_ACCEPT: u64 = 1 << 56;
pub const OP_RECV: u64 = 2 << 56;
pub const OP_SEND: u64 = 3 << 56;
pub const OP_CLOSE: u64 = 4 << 56;
const OP_MASK: u64 = 0xff << 56;

/// A provided buffer ring: `BUFS` entries shared with the kernel, plus their memory.
pub struct BufRing {
    entries: *mut types::BufRingEntry,
    memory: Vec<u8>,
    tail: u16,
}

impl BufRing {
    fn new() -> io::Result<BufRing> {
        let bytes = BUFS as usize * std::mem::size_of::<types::BufRingEntry>();
        // SAFETY: an anonymous private mapping; checked for failure below.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                bytes,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        let mut ring = BufRing {
            entries: ptr.cast(),
            memory: vec![0; BUFS as usize * BUF_SIZE],
            tail: 0,
        };
        for bid in 0..BUFS {
            ring.push(bid);
        }
        ring.publish();
        Ok(ring)
    }

    /// Hands buffer `bid` back to the kernel (visible after `publish`).
    #[inline]
    pub fn push(&mut self, bid: u16) {
        let slot = (self.tail & (BUFS - 1)) as usize;
        // SAFETY: slot < BUFS, inside the mapping; the kernel only reads entries up to the
        // published tail, and this one is past it.
        let entry = unsafe { &mut *self.entries.add(slot) };
        let addr = self.memory[bid as usize * BUF_SIZE..].as_ptr() as u64;
        entry.set_addr(addr);
        entry.set_len(BUF_SIZE as u32);
        entry.set_bid(bid);
        self.tail = self.tail.wrapping_add(1);
    }

    /// Makes the buffers pushed so far visible to the kernel.
    #[inline]
    pub fn publish(&self) {
        // SAFETY: the tail field lives in the first entry of the mapping and is only
        // written here; the kernel reads it atomically.
        unsafe {
            let tail = types::BufRingEntry::tail(self.entries) as *const AtomicU16;
            (*tail).store(self.tail, Ordering::Release);
        }
    }

    /// The first `len` bytes of buffer `bid`. They stay at the same address for the life
    /// of the ring, so a send may point into them.
    #[inline]
    pub fn buf(&self, bid: u16, len: usize) -> &[u8] {
        &self.memory[bid as usize * BUF_SIZE..][..len]
    }
}

/// A completion, copied out of the queue.
#[derive(Clone, Copy, Debug)]
pub struct Cqe {
    /// One of the `OP_*` constants.
    pub op: u64,
    pub fd: RawFd,
    pub res: i32,
    pub flags: u32,
}

impl Cqe {
    /// True if the multishot operation that made this completion goes on.
    pub fn more(&self) -> bool {
        cqueue::more(self.flags)
    }

    /// The provided buffer the data of a recv completion is in.
    pub fn buffer(&self) -> Option<u16> {
        cqueue::buffer_select(self.flags)
    }
}

/// The ring, its provided buffers and the listening socket of a floor.
pub struct Uring {
    ring: IoUring,
    pub bufs: BufRing,
    listener: TcpListener,
    /// Completion batching: wait for up to this many completions, at most this many µs
    /// (then for one). `None`: wait for one.
    batch: Option<(u32, u32)>,
    /// Completions the next wait asks for (adaptive, up to the batch's count).
    batch_want: u32,
}

impl Uring {
    /// Binds `addr`, sets up the ring and the provided buffers and arms the multishot
    /// accept. With `batch` = `Some((count, µs))` and a kernel that has min-wait (6.12+),
    /// [`wait`](Self::wait) waits for up to `count` completions, at most `µs` µs; the count
    /// adapts to what the last wait brought, as corering's `batch_wait` does.
    pub fn bind(addr: SocketAddr, batch: Option<(u32, u32)>) -> io::Result<Uring> {
        let listener = TcpListener::bind(addr)?;
        let ring = IoUring::builder()
            .setup_cqsize(RING_ENTRIES * 4)
            .setup_single_issuer()
            .setup_defer_taskrun()
            .build(RING_ENTRIES)
            .or_else(|_| {
                IoUring::builder()
                    .setup_cqsize(RING_ENTRIES * 4)
                    .build(RING_ENTRIES)
            })?;
        let bufs = BufRing::new()?;
        // SAFETY: the ring memory stays mapped (and `bufs` alive) as long as the ring.
        unsafe {
            ring.submitter().register_buf_ring_with_flags(
                bufs.entries as u64,
                BUFS,
                BUF_GROUP,
                0,
            )?;
        }
        let batch = batch.filter(|_| ring.params().is_feature_min_timeout());
        let mut uring = Uring {
            ring,
            bufs,
            listener,
            batch,
            batch_want: 1,
        };
        uring.arm_accept()?;
        Ok(uring)
    }

    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// True if [`wait`](Self::wait) batches completions.
    pub fn batching(&self) -> bool {
        self.batch.is_some()
    }

    /// Queues `sqe`, submitting what is queued if the queue is full.
    ///
    /// # Safety
    /// Every buffer `sqe` points to must stay valid until its completion.
    #[inline]
    unsafe fn push(&mut self, sqe: squeue::Entry) -> io::Result<()> {
        loop {
            // SAFETY: the caller keeps the buffers of `sqe` valid.
            if unsafe { self.ring.submission().push(&sqe) }.is_ok() {
                return Ok(());
            }
            self.ring.submit()?;
        }
    }

    fn arm_accept(&mut self) -> io::Result<()> {
        let sqe = opcode::AcceptMulti::new(types::Fd(self.listener.as_raw_fd()))
            .build()
            .user_data(OP_ACCEPT);
        // SAFETY: no buffer.
        unsafe { self.push(sqe) }
    }

    /// Arms a multishot recv on `fd` (again, after one ended with `!more()`).
    pub fn arm_recv(&mut self, fd: RawFd) -> io::Result<()> {
        let sqe = opcode::RecvMulti::new(types::Fd(fd), BUF_GROUP)
            .build()
            .user_data(OP_RECV | fd as u64);
        // SAFETY: its buffers are provided ones, which live as long as the ring.
        unsafe { self.push(sqe) }
    }

    /// Queues a send on `fd` (`MSG_NOSIGNAL`) of the `len` bytes at `buf`.
    ///
    /// # Safety
    /// The bytes must stay valid and unchanged until the send completes.
    #[inline]
    pub unsafe fn send(&mut self, fd: RawFd, buf: *const u8, len: usize) -> io::Result<()> {
        let sqe = opcode::Send::new(types::Fd(fd), buf, len as u32)
            .flags(libc::MSG_NOSIGNAL)
            .build()
            .user_data(OP_SEND | fd as u64);
        // SAFETY: the caller keeps the bytes valid.
        unsafe { self.push(sqe) }
    }

    /// Queues a close of `fd`.
    pub fn close(&mut self, fd: RawFd) -> io::Result<()> {
        let sqe = opcode::Close::new(types::Fd(fd))
            .build()
            .user_data(OP_CLOSE | fd as u64);
        // SAFETY: no buffer.
        unsafe { self.push(sqe) }
    }

    /// Submits what is queued, waits for completions and copies them into `out`
    /// (cleared first); `out` may come back empty after an interrupted wait.
    pub fn wait(&mut self, out: &mut Vec<Cqe>) -> io::Result<()> {
        let res = match self.batch {
            Some((_, us)) => {
                // A general timeout beside the min-wait: without one the kernel takes
                // the min-wait as the whole timeout, and an idle server wakes with ETIME
                // every `us` (corering's worker does the same since it was fixed).
                let idle = types::Timespec::new().sec(3600);
                let args = types::SubmitArgs::new().min_wait_usec(us).timespec(&idle);
                self.ring
                    .submitter()
                    .submit_with_args(self.batch_want as usize, &args)
            }
            None => self.ring.submit_and_wait(1),
        };
        match res {
            Ok(_) => {}
            Err(e)
                if matches!(
                    e.raw_os_error(),
                    Some(libc::EINTR | libc::EBUSY | libc::ETIME)
                ) => {}
            Err(e) => return Err(e),
        }
        out.clear();
        out.extend(self.ring.completion().map(|c| Cqe {
            op: c.user_data() & OP_MASK,
            fd: (c.user_data() & !OP_MASK) as RawFd,
            res: c.result(),
            flags: c.flags(),
        }));
        if let Some((max, _)) = self.batch {
            // Wait next time for a little more than this time brought.
            let n = out.len() as u32;
            self.batch_want = (n + n / 4).clamp(1, max);
        }
        Ok(())
    }

    /// Handles an accept completion: sets `TCP_NODELAY` on the new socket, arms its recv
    /// and re-arms the accept if the multishot one ended. Returns the new socket; prints
    /// failures prefixed with `name`.
    pub fn on_accept(&mut self, name: &str, cqe: &Cqe) -> io::Result<Option<RawFd>> {
        let accepted = if cqe.res >= 0 {
            let fd = cqe.res;
            set_nodelay(fd);
            self.arm_recv(fd)?;
            Some(fd)
        } else {
            let e = io::Error::from_raw_os_error(-cqe.res);
            eprintln!("{name}: accept: {e}");
            None
        };
        if !cqe.more() {
            self.arm_accept()?;
        }
        Ok(accepted)
    }
}

fn set_nodelay(fd: RawFd) {
    let one: libc::c_int = 1;
    // SAFETY: setsockopt reads an int from a valid pointer.
    unsafe {
        libc::setsockopt(
            fd,
            libc::IPPROTO_TCP,
            libc::TCP_NODELAY,
            (&one as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        );
    }
}

/// Starts the state of connection `fd` in a table indexed by descriptor.
pub fn new_conn<C: Default>(conns: &mut Vec<Option<C>>, fd: RawFd) {
    let i = fd as usize;
    if conns.len() <= i {
        conns.resize_with(i + 1, || None);
    }
    conns[i] = Some(C::default());
}
