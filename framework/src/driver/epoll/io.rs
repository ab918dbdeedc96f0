//! The epoll driver's operations on a descriptor: receive, accept, eventfd
//! read, send and connect, each tried on a non-blocking socket and, when it
//! would block, left waiting on the descriptor's next readiness event.

use std::os::fd::RawFd;

use super::fds::FdState;
use super::{errno, sys, Epoll};
use crate::conn::SendState;
use crate::driver::buffers::Buffers;
use crate::driver::op::{buffer_flags, ConnectState, F_MORE};
use crate::driver::token::Token;

/// Pool buffers one receive may fill (4 x 8 KiB by default: a 16 KiB
/// WebSocket frame in one system call).
const RECV_BUFS: usize = 4;
/// Accepts per listener per round before other work gets a turn.
const ACCEPT_BATCH: usize = 64;

impl Epoll {
    /// Makes progress on every request waiting on `fd` that its known
    /// readiness allows.
    pub(super) fn progress(&mut self, fd: RawFd, bufs: Option<&Buffers>) {
        let st = self.fds.get(fd);
        if st.readable {
            let (read, accept, recv) = (st.read, st.accept, st.recv);
            if let Some((token, buf)) = read {
                self.read_eventfd(fd, token, buf);
            }
            if let Some(token) = accept {
                self.accept(fd, token);
            }
            if let Some(token) = recv {
                // (A listener or an eventfd never has a receive armed, so
                // the readiness seen above still holds here.)
                self.recv(fd, token, bufs);
            }
        }
        let st = self.fds.get(fd);
        if st.writable {
            if let Some((token, state)) = st.send.take() {
                self.send(fd, token, state);
            }
            let st = self.fds.get(fd);
            if let (true, Some((token, _))) = (st.writable, st.connect) {
                st.connect = None;
                self.connected(fd, token);
            }
        }
    }

    /// One receive into up to [`RECV_BUFS`] pool buffers (a `readv`): a
    /// message larger than one buffer arrives in one system call rather
    /// than one per buffer, each filled buffer its own completion, as
    /// from io_uring's multishot receive. Only a socket whose last receive
    /// filled a buffer gets several (see `FdState::wide`).
    fn recv(&mut self, fd: RawFd, token: Token, bufs: Option<&Buffers>) {
        let Some((bufs, first)) = bufs.and_then(|b| Some((b, b.pop_free()?))) else {
            // Like a provided-buffer ring running dry: the slot re-arms once
            // buffers come back.
            self.fds.get(fd).recv = None;
            return self.complete(token, -libc::ENOBUFS, 0);
        };
        let size = bufs.buf_size() as usize;
        let mut bids = [first; RECV_BUFS];
        let mut k = 1;
        // Small messages (the last receive fit one buffer) take one
        // buffer: nothing to hand back unused.
        let want = if self.fds.get(fd).wide { RECV_BUFS } else { 1 };
        while k < want {
            match bufs.pop_free() {
                Some(b) => bids[k] = b,
                None => break,
            }
            k += 1;
        }
        let n = if k == 1 {
            // SAFETY: `first` was just taken off the free stack, so
            // nothing else reads or writes its `size` bytes until the
            // completion hands it to the slot (or it goes back unused).
            unsafe { sys::recv(fd, bufs.mem().buf_mut_ptr(first), size) }
        } else {
            let mut iov = [libc::iovec {
                iov_base: std::ptr::null_mut(),
                iov_len: 0,
            }; RECV_BUFS];
            for (v, &bid) in iov.iter_mut().zip(&bids[..k]) {
                v.iov_base = bufs.mem().buf_mut_ptr(bid).cast();
                v.iov_len = size;
            }
            // SAFETY: as above, for each of the `k` buffers.
            unsafe { sys::readv(fd, iov.as_ptr(), k) }
        };
        if n > 0 {
            let n = n as usize;
            let used = n.div_ceil(size);
            self.fds.get(fd).wide = used > 1 || n == size;
            for (i, &bid) in bids[..used].iter().enumerate() {
                let len = (n - i * size).min(size);
                self.complete(token, len as i32, F_MORE | buffer_flags(bid));
            }
            for &bid in bids[used..k].iter().rev() {
                bufs.unpop(bid);
            }
            if n == k * size {
                // Maybe more: another receive next round (a few buffers
                // per connection per round, so the slot's limit holds
                // within as many).
                self.queue_again(fd);
            } else {
                // A short read drained the socket: the next arrival makes a
                // new edge. Not so for the end of the stream: its edge may
                // have come with the data just read, so after a hang-up the
                // next receive (which sees it) runs next round.
                let st = self.fds.get(fd);
                if st.hup {
                    self.queue_again(fd);
                } else {
                    st.readable = false;
                }
            }
            return;
        }
        for &bid in bids[..k].iter().rev() {
            bufs.unpop(bid);
        }
        if n == 0 {
            self.fds.get(fd).recv = None;
            return self.complete(token, 0, 0);
        }
        self.read_failed(fd, token, |st| st.recv = None);
    }

    /// Accepts what is waiting, up to a batch.
    fn accept(&mut self, fd: RawFd, token: Token) {
        for _ in 0..ACCEPT_BATCH {
            // SAFETY: accept4 without an address buffer writes no memory.
            let s = unsafe {
                libc::accept4(
                    fd,
                    std::ptr::null_mut(),
                    std::ptr::null_mut(),
                    libc::SOCK_CLOEXEC | libc::SOCK_NONBLOCK,
                )
            };
            if s >= 0 {
                self.complete(token, s, F_MORE);
                continue;
            }
            match errno() {
                libc::EAGAIN => {
                    self.fds.get(fd).readable = false;
                    return;
                }
                // The peer gave up before we took it, or a signal: go on.
                libc::ECONNABORTED | libc::EINTR | libc::EPROTO => continue,
                e => {
                    // Out of descriptors or memory: the accept ends, the
                    // worker backs off and arms it again.
                    self.fds.get(fd).accept = None;
                    return self.complete(token, -e, 0);
                }
            }
        }
        self.queue_again(fd);
    }

    fn read_eventfd(&mut self, fd: RawFd, token: Token, buf: *mut u64) {
        // SAFETY: the worker keeps `buf` (8 bytes) alive until completion.
        let n = unsafe { libc::read(fd, buf.cast(), 8) };
        if n == 8 {
            self.fds.get(fd).read = None;
            return self.complete(token, 8, 0);
        }
        self.read_failed(fd, token, |st| st.read = None);
    }

    /// A read that returned -1: nothing there yet (wait for the next
    /// edge), interrupted (again next round), or an error that ends the
    /// request (`disarm` takes it off the descriptor).
    fn read_failed(&mut self, fd: RawFd, token: Token, disarm: impl FnOnce(&mut FdState)) {
        match errno() {
            libc::EAGAIN => self.fds.get(fd).readable = false,
            libc::EINTR => self.queue_again(fd),
            e => {
                disarm(self.fds.get(fd));
                self.complete(token, -e, 0);
            }
        }
    }

    /// Sends the iovecs (or the file span) of `state` now, or waits for
    /// room.
    pub(super) fn send(&mut self, fd: RawFd, token: Token, state: *mut SendState) {
        if !self.fds.get(fd).writable {
            self.fds.get(fd).send = Some((token, state));
            return;
        }
        // SAFETY: the slot keeps the send state, its iovecs and the bytes
        // they point to alive and unchanged until the completion.
        let st = unsafe { &*state };
        loop {
            let r = if let Some(span) = st.file {
                // Its socket is non-blocking, as every socket here.
                crate::driver::sendfile::send(fd, span)
            } else {
                let more = if st.more { libc::MSG_MORE } else { 0 };
                let n = if st.msg.msg_iovlen == 1 {
                    let v = st.iov[0];
                    // SAFETY: as above; one iovec of valid bytes.
                    unsafe { sys::send(fd, v.iov_base, v.iov_len, more) }
                } else {
                    // SAFETY: as above; the msghdr points at the state's iovecs.
                    unsafe { sys::sendmsg(fd, &st.msg, more) }
                };
                if n >= 0 {
                    n as i32
                } else {
                    -errno()
                }
            };
            match -r {
                libc::EINTR => continue,
                libc::EAGAIN => {
                    let s = self.fds.get(fd);
                    s.writable = false;
                    s.send = Some((token, state));
                    return;
                }
                _ => return self.complete(token, r, 0),
            }
        }
    }

    /// Starts a connect; completes at once or waits for writability.
    pub(super) fn connect(&mut self, fd: RawFd, token: Token, state: *const ConnectState) {
        // SAFETY: the slot keeps the connect state until completion.
        let st = unsafe { &*state };
        // SAFETY: the address lives in `st`, `len` bytes long.
        let r = unsafe {
            libc::connect(
                fd,
                (&st.addr as *const libc::sockaddr_storage).cast(),
                st.len,
            )
        };
        let e = if r == 0 { 0 } else { errno() };
        // Registered only now: a socket registered before it connects
        // reports itself writable (and hung up) at once.
        if let Err(re) = self.register(fd, false) {
            return self.complete(token, -re, 0);
        }
        match e {
            0 => self.complete(token, 0, 0),
            libc::EINPROGRESS | libc::EINTR => {
                let deadline = st.timeout.map_or(u64::MAX, |t| {
                    crate::runtime::time::now_ns()
                        .saturating_add(t.as_nanos().min(u64::MAX as u128 / 2) as u64)
                });
                let s = self.fds.get(fd);
                s.writable = false;
                s.connect = Some((token, deadline));
                self.connecting.push(fd);
            }
            e => self.complete(token, -e, 0),
        }
    }

    /// A connecting socket became writable: connected, or failed.
    fn connected(&mut self, fd: RawFd, token: Token) {
        let mut err: libc::c_int = 0;
        let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
        // SAFETY: getsockopt writes an int into `err` and its size into
        // `len`.
        let r = unsafe {
            libc::getsockopt(
                fd,
                libc::SOL_SOCKET,
                libc::SO_ERROR,
                (&mut err as *mut libc::c_int).cast(),
                &mut len,
            )
        };
        let res = if r != 0 { -errno() } else { -err };
        self.complete(token, res, 0);
    }
}
