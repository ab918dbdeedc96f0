//! The driver seam: every kernel operation of a worker (accept, receive,
//! send, connect, timeouts, cancel, close, the cross-worker wake) goes
//! through one [`Driver`], either io_uring (`uring/`) or epoll (`epoll/`),
//! chosen once at startup ([`select`](select::select)).
//!
//! Both speak the same language (`op.rs`): a [`Request`] with a [`Token`]
//! in, [`Completion`]s out. The connection slots, leases, out-queues and
//! everything above them never learn which driver runs. The receive
//! buffer pool (`buffers.rs`) is shared: the io_uring driver publishes free
//! buffers in a provided-buffer ring, the epoll driver pops them from a
//! stack. Dispatch is a `match` on a two-variant enum, once per request:
//! no vtable, and nothing per byte.

pub(crate) mod buffers;
mod epoll;
pub(crate) mod op;
mod select;
pub(crate) mod sendfile;
mod token;
pub(crate) mod uring;

use std::io;
use std::time::Duration;

pub(crate) use buffers::{BufMem, Buffers};
pub(crate) use op::{Completion, ConnectState, Request};
pub(crate) use select::select;
pub use select::{Backend, BackendChoice};
pub(crate) use token::{same_gen, Op, Token};
pub use uring::RingMode;
pub(crate) use uring::{is_transient, KernelSupport};

/// The calling thread's last OS error number.
pub(crate) fn errno() -> i32 {
    std::io::Error::last_os_error()
        .raw_os_error()
        .unwrap_or(libc::EIO)
}

/// How long a driver's `wait` may block.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum Wait {
    /// Submit and collect what is ready; never block.
    Poll,
    /// Block until at least one completion.
    Block,
    /// Block until `want` completions, or `min_us` has passed and at least
    /// one is there (io_uring with min-wait; epoll blocks as `Block`).
    Batch { want: u32, min_us: u32 },
    /// Block until one completion or the time has passed.
    Timeout(Duration),
}

enum Imp {
    Uring(uring::Uring),
    Epoll(epoll::Epoll),
}

/// A worker's (or the acceptor's) kernel interface.
pub(crate) struct Driver {
    imp: Imp,
    /// Final completions still to come for requests submitted so far.
    pub inflight: usize,
}

/// What the connection slots need to submit operations.
pub(crate) trait Submit {
    /// Queues one request.
    ///
    /// # Safety
    /// Pointers in `req` must stay valid until its last completion.
    unsafe fn submit(&mut self, token: Token, req: Request);
}

impl Submit for Driver {
    #[inline]
    unsafe fn submit(&mut self, token: Token, req: Request) {
        self.inflight += match &mut self.imp {
            // SAFETY: forwarded from the caller's contract.
            Imp::Uring(u) => unsafe { u.push(token, req) },
            Imp::Epoll(e) => e.push(token, req),
        };
    }
}

impl Driver {
    /// Creates a driver for `backend` with room for `entries` queued
    /// requests (io_uring's submission queue; epoll grows as needed).
    pub fn new(backend: Backend, entries: u32) -> io::Result<Driver> {
        let imp = match backend {
            Backend::IoUring => Imp::Uring(uring::Uring::new(entries)?),
            Backend::Epoll => Imp::Epoll(epoll::Epoll::new()?),
        };
        Ok(Driver { imp, inflight: 0 })
    }

    /// Which backend this is.
    pub fn backend(&self) -> Backend {
        match self.imp {
            Imp::Uring(_) => Backend::IoUring,
            Imp::Epoll(_) => Backend::Epoll,
        }
    }

    /// The io_uring task-run mode (`None` on epoll).
    pub fn ring_mode(&self) -> Option<RingMode> {
        match &self.imp {
            Imp::Uring(u) => Some(u.mode()),
            Imp::Epoll(_) => None,
        }
    }

    /// True if an idle wait can batch completions (see `Wait::Batch`).
    pub fn can_batch(&self) -> bool {
        match &self.imp {
            Imp::Uring(u) => u.can_batch(),
            Imp::Epoll(_) => false,
        }
    }

    /// (waits, requests submitted) so far: `io_uring_enter` calls and
    /// entries the kernel took, or `epoll_wait` calls and requests.
    pub fn counts(&self) -> (u64, u64) {
        match &self.imp {
            Imp::Uring(u) => u.counts(),
            Imp::Epoll(e) => e.counts(),
        }
    }

    /// The worker's receive buffers, set up for this driver.
    pub fn buffers(&self, entries: u16, buf_size: u32) -> io::Result<Buffers> {
        match &self.imp {
            Imp::Uring(u) => u.buffers(entries, buf_size),
            Imp::Epoll(_) => Buffers::stack(entries, buf_size),
        }
    }

    /// Submits what is queued and waits as `how` says.
    pub fn wait(&mut self, how: Wait, bufs: Option<&Buffers>) -> io::Result<()> {
        match &mut self.imp {
            Imp::Uring(u) => u.wait(how),
            Imp::Epoll(e) => e.wait(how, bufs),
        }
    }

    /// Moves up to `out.len()` completions into `out`; returns how many.
    #[inline]
    pub fn reap(&mut self, out: &mut [Completion]) -> usize {
        match &mut self.imp {
            Imp::Uring(u) => u.reap(out),
            Imp::Epoll(e) => e.reap(out),
        }
    }
}
