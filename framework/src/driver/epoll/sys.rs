//! The epoll driver's hot system calls, made directly: glibc's `recv`,
//! `readv`, `send` and `sendmsg` are thread-cancellation points, and entering and
//! leaving asynchronous-cancel mode around each costs about as much as the
//! wrapper itself. corering never cancels threads, so it skips that.
//! Results follow the libc convention: -1 with `errno` set on error.

use std::os::fd::RawFd;

/// `recv(fd, buf, len, 0)`.
///
/// # Safety
/// `buf` must be valid for writes of `len` bytes.
#[inline]
pub(super) unsafe fn recv(fd: RawFd, buf: *mut u8, len: usize) -> isize {
    // SAFETY: forwarded from the caller; recvfrom with no address is recv.
    unsafe {
        libc::syscall(
            libc::SYS_recvfrom,
            fd,
            buf,
            len,
            0,
            std::ptr::null_mut::<libc::sockaddr>(),
            std::ptr::null_mut::<libc::socklen_t>(),
        ) as isize
    }
}

/// `readv(fd, iov, n)`: one receive scattered over several buffers.
///
/// # Safety
/// Each of the `n` iovecs at `iov` must describe memory valid for writes
/// of its length.
#[inline]
pub(super) unsafe fn readv(fd: RawFd, iov: *const libc::iovec, n: usize) -> isize {
    // SAFETY: forwarded from the caller.
    unsafe { libc::syscall(libc::SYS_readv, fd, iov, n) as isize }
}

/// `send(fd, buf, len, MSG_NOSIGNAL | more)`.
///
/// # Safety
/// `buf` must be valid for reads of `len` bytes.
#[inline]
pub(super) unsafe fn send(fd: RawFd, buf: *const libc::c_void, len: usize, more: i32) -> isize {
    // SAFETY: forwarded from the caller; sendto with no address is send.
    unsafe {
        libc::syscall(
            libc::SYS_sendto,
            fd,
            buf,
            len,
            libc::MSG_NOSIGNAL | more,
            std::ptr::null::<libc::sockaddr>(),
            0 as libc::socklen_t,
        ) as isize
    }
}

/// `sendmsg(fd, msg, MSG_NOSIGNAL | more)`.
///
/// # Safety
/// `msg` and the iovecs and bytes it points to must be valid.
#[inline]
pub(super) unsafe fn sendmsg(fd: RawFd, msg: *const libc::msghdr, more: i32) -> isize {
    // SAFETY: forwarded from the caller.
    unsafe { libc::syscall(libc::SYS_sendmsg, fd, msg, libc::MSG_NOSIGNAL | more) as isize }
}
