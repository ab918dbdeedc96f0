//! What the engine asks of a driver ([`Request`]) and what it gets back
//! ([`Completion`]), in terms that name no kernel interface.
//!
//! The engine speaks in completions: it submits a request carrying a
//! [`Token`] and later receives one completion for it (several for the
//! multishot requests, `Recv` and `Accept`, all but the last flagged
//! [`F_MORE`]). The io_uring driver turns requests into submission entries
//! and passes the kernel's completions through; the epoll driver carries
//! them out itself on non-blocking sockets when they are ready and queues
//! the same completions. Flag bits are chosen to coincide with io_uring's
//! CQE flags, so the io_uring driver copies them unchanged.

use std::os::fd::RawFd;
use std::time::Duration;

use super::token::Token;

/// Completion flag: a receive buffer id is in the upper 16 bits.
pub(crate) const F_BUFFER: u32 = 1;
/// Completion flag: more completions follow for this request.
pub(crate) const F_MORE: u32 = 2;
/// Completion flag: the zero-copy notification of a send.
pub(crate) const F_NOTIF: u32 = 8;
const BUFFER_SHIFT: u32 = 16;
/// Result bit of a zero-copy notification: the kernel copied the data after
/// all (loopback, or a device without scatter-gather), so zero-copy only
/// held the pages longer (io_uring's `IORING_NOTIF_USAGE_ZC_COPIED`).
const NOTIF_ZC_COPIED: u32 = 1 << 31;

/// True if more completions follow for the same request.
#[inline]
pub(crate) fn more(flags: u32) -> bool {
    flags & F_MORE != 0
}

/// True for a zero-copy send's notification.
#[inline]
pub(crate) fn notif(flags: u32) -> bool {
    flags & F_NOTIF != 0
}

/// True if the zero-copy notification with result `res` says the kernel
/// copied the bytes anyway.
#[inline]
pub(crate) fn zc_copied(res: i32) -> bool {
    res as u32 & NOTIF_ZC_COPIED != 0
}

/// The receive buffer a completion names, if any.
#[inline]
pub(crate) fn buffer(flags: u32) -> Option<u16> {
    (flags & F_BUFFER != 0).then_some((flags >> BUFFER_SHIFT) as u16)
}

/// Flags naming receive buffer `bid`.
#[inline]
pub(crate) fn buffer_flags(bid: u16) -> u32 {
    F_BUFFER | (bid as u32) << BUFFER_SHIFT
}

/// One completion: the request's token, its result (a count, a new
/// descriptor, or a negated errno) and flags.
#[derive(Copy, Clone, Debug, Default)]
pub(crate) struct Completion {
    pub user_data: u64,
    pub result: i32,
    pub flags: u32,
}

impl Completion {
    pub fn new(token: Token, result: i32, flags: u32) -> Completion {
        Completion {
            user_data: token.encode(),
            result,
            flags,
        }
    }
}

/// Where a connect goes; owned by the connection's slot until the connect
/// completes, so the address outlives the operation.
pub(crate) struct ConnectState {
    pub addr: libc::sockaddr_storage,
    pub len: libc::socklen_t,
    /// Fail with `ECANCELED` if not connected within this long.
    pub timeout: Option<Duration>,
}

/// `openat2(2)`'s flags for a file opened to be served
/// ([`Request::OpenFile`], and the epoll backend's cached open): reading,
/// non-blocking, close-on-exec, never a controlling terminal.
pub(crate) const OPEN_FILE_FLAGS: i32 =
    libc::O_RDONLY | libc::O_NONBLOCK | libc::O_CLOEXEC | libc::O_NOCTTY;

/// `openat2(2)`'s resolve flags for such a file: no symbolic link
/// anywhere in the path, and with `beneath` no escape from the directory.
pub(crate) fn open_file_resolve(beneath: bool) -> u64 {
    let beneath = if beneath { libc::RESOLVE_BENEATH } else { 0 };
    libc::RESOLVE_NO_SYMLINKS | libc::RESOLVE_NO_MAGICLINKS | beneath
}

/// A kernel operation, as the engine asks for it.
///
/// Pointers in a request must stay valid until its last completion: the
/// slot, the worker or the acceptor owns what they point to.
#[derive(Copy, Clone, Debug)]
pub(crate) enum Request {
    /// Receive repeatedly into buffers of the worker's pool (multishot),
    /// until cancelled, end of stream, an error or no free buffer
    /// (`ENOBUFS`).
    Recv { fd: RawFd },
    /// Send the iovecs of a send state (`msg.msg_iov`, `msg.msg_iovlen`);
    /// zero-copy when `state.zc` is set (io_uring only).
    Send {
        fd: RawFd,
        state: *mut crate::conn::SendState,
    },
    /// Cancel the request `target` on `fd`: it ends with `ECANCELED`; this
    /// request's own result is 0, or `ENOENT` if nothing matched.
    Cancel { fd: RawFd, target: Token },
    /// Cancel every request in flight (teardown).
    CancelAll,
    /// close(2).
    Close { fd: RawFd },
    /// shutdown(2).
    Shutdown { fd: RawFd, how: i32 },
    /// connect(2) to the address in `state`, within its timeout.
    Connect {
        fd: RawFd,
        state: *const ConnectState,
    },
    /// Accept repeatedly on a listening socket (multishot); sockets come
    /// close-on-exec (and non-blocking on the epoll driver).
    Accept { fd: RawFd },
    /// Read the 8-byte counter of an eventfd into `buf`.
    ReadEventfd { fd: RawFd, buf: *mut u64 },
    /// Complete with `ETIME` at `at_ns` on the monotonic clock.
    Timeout { at_ns: u64 },
    /// Move the pending `Timeout` named `target` to `at_ns`.
    TimeoutUpdate { target: Token, at_ns: u64 },
    /// Open the file at `path` (NUL-terminated, relative to the directory
    /// `dir`, or absolute with `libc::AT_FDCWD`) for reading, non-blocking
    /// and close-on-exec, following no symbolic link (`ELOOP` if the path
    /// has one) and, with `beneath`, never leaving `dir` (`EXDEV`). The
    /// result is the new descriptor. io_uring only (`KernelSupport::files`).
    OpenFile {
        dir: RawFd,
        path: *const libc::c_char,
        beneath: bool,
    },
    /// pread(2) of up to `len` bytes at `offset` of the file `fd` into
    /// `buf`. io_uring only.
    ReadAt {
        fd: RawFd,
        buf: *mut u8,
        len: u32,
        offset: u64,
    },
}
