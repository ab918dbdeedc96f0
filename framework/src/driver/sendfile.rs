//! A queued file span sent with `sendfile(2)`: the kernel hands page-cache
//! pages to the socket, so a large static file costs no copy into user
//! memory and none out of it (see `conn/out.rs`, `OutQueue::push_file`).
//!
//! Both drivers make the call on the worker and must never block on it.
//! The socket side: it is made with the socket in non-blocking mode, so a
//! full send buffer returns `EAGAIN` (the drivers then wait for
//! writability: epoll's `EPOLLOUT`, io_uring's poll; io_uring's sockets
//! are non-blocking only for the call, [`send_on_blocking`]). The file side:
//! callers queue only spans the page cache holds ([`cached`]), so no disk
//! read is waited for, short of pages evicted in between.

use std::os::fd::RawFd;

use crate::conn::FileSpan;

/// `sendfile(sock, span.fd, &span.offset, span.len)`: bytes sent, or a
/// negated errno (`-EAGAIN` when the socket's buffer is full). The socket
/// must be non-blocking (else see [`send_on_blocking`]).
pub(crate) fn send(sock: RawFd, span: FileSpan) -> i32 {
    let mut off = span.offset as libc::off_t;
    let len = span.len.min(i32::MAX as usize);
    loop {
        // SAFETY: `off` is a live local; both descriptors are open (the slot
        // owns the socket, its queue the file) and no memory is read.
        let n = unsafe { libc::sendfile(sock, span.fd, &mut off, len) };
        if n >= 0 {
            return n as i32;
        }
        let e = super::errno();
        if e != libc::EINTR {
            return -e;
        }
    }
}

/// [`send`] on a socket that is blocking (io_uring's: io_uring never
/// needs `O_NONBLOCK`, and a send the kernel retries on its own threads
/// must not see it), put in non-blocking mode for the call and back after.
/// Nothing else runs on the socket meanwhile: its one send is this, and a
/// receive armed on the ring is carried out only when the worker enters
/// the kernel.
pub(crate) fn send_on_blocking(sock: RawFd, span: FileSpan) -> i32 {
    // SAFETY: F_GETFL reads a flag word of a descriptor the slot owns.
    let fl = unsafe { libc::fcntl(sock, libc::F_GETFL) };
    if fl < 0 || fl & libc::O_NONBLOCK != 0 {
        return send(sock, span);
    }
    let set = |on: libc::c_int| {
        let mut v = on;
        // SAFETY: FIONBIO reads one int and sets only O_NONBLOCK.
        unsafe { libc::ioctl(sock, libc::FIONBIO, &mut v) }
    };
    if set(1) < 0 {
        return -libc::EIO;
    }
    let r = send(sock, span);
    set(0);
    r
}

/// `cachestat(2)` (Linux 6.5): whether every page of `len` bytes of `fd`
/// from `offset` is in the page cache, so `sendfile(2)` of them waits for
/// no disk. `false` where the kernel cannot tell (older kernels), which
/// sends the span the copying way.
pub(crate) fn cached(fd: RawFd, offset: u64, len: u64) -> bool {
    use std::sync::atomic::{AtomicBool, Ordering};
    /// `__NR_cachestat`: the same on every architecture (Linux 6.5+).
    const SYS_CACHESTAT: libc::c_long = 451;
    #[repr(C)]
    struct Range {
        off: u64,
        len: u64,
    }
    #[repr(C)]
    #[derive(Default)]
    struct Stat {
        nr_cache: u64,
        nr_dirty: u64,
        nr_writeback: u64,
        nr_evicted: u64,
        nr_recently_evicted: u64,
    }
    static MISSING: AtomicBool = AtomicBool::new(false);
    if len == 0 || MISSING.load(Ordering::Relaxed) {
        return false;
    }
    let range = Range { off: offset, len };
    let mut st = Stat::default();
    // SAFETY: both structs are live locals of the layout the kernel
    // defines (`struct cachestat_range`, `struct cachestat`).
    let r = unsafe { libc::syscall(SYS_CACHESTAT, fd, &range, &mut st, 0) };
    if r != 0 {
        if super::errno() == libc::ENOSYS {
            MISSING.store(true, Ordering::Relaxed);
        }
        return false;
    }
    // The pages the range touches, counted as the kernel does.
    let page = page_size();
    let first = offset / page;
    let last = (offset + len - 1) / page;
    st.nr_cache > last - first
}

fn page_size() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static PAGE: AtomicU64 = AtomicU64::new(0);
    let p = PAGE.load(Ordering::Relaxed);
    if p != 0 {
        return p;
    }
    // SAFETY: sysconf reads a constant.
    let p = unsafe { libc::sysconf(libc::_SC_PAGESIZE) }.max(4096) as u64;
    PAGE.store(p, Ordering::Relaxed);
    p
}
