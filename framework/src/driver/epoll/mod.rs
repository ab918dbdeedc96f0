//! The epoll driver: the same requests and completions as the io_uring
//! driver, carried out on non-blocking sockets when epoll says they are
//! ready. For kernels and containers where io_uring is missing or denied.
//!
//! ```text
//!  submit(token, request) ─► todo queue
//!  wait():  run the todo queue in order (send, close, connect ... at once;
//!           receive, accept, eventfd read: armed on the descriptor and
//!           tried at once if it may be ready)
//!           run descriptors queued for more work (a receive that filled
//!           its buffer, an accept batch cut short)
//!           epoll_wait (edge-triggered; the timeout is the earliest armed
//!           timeout or connect deadline; no wait while work is queued)
//!           per event: mark readable / writable, make progress on the
//!           requests waiting on that descriptor
//!           expire due timeouts and connect deadlines
//!  reap():  hand the queued completions to the worker
//! ```
//!
//! Receives: one `recv` per descriptor per round into a buffer popped from
//! the worker's pool (so the per-connection backpressure of the slots
//! works as with io_uring); a receive that filled the whole buffer queues
//! the descriptor for another round, a shorter one means the socket was
//! drained and the next arrival brings a new edge. Sends go out at once
//! with `sendmsg` from the slot's iovecs; one that finds no room waits for
//! `EPOLLOUT`. Every descriptor is registered once, for input and output,
//! edge-triggered, on its first request, and removed when closed.

mod fds;
mod io;
mod sys;

use std::collections::VecDeque;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

use super::buffers::Buffers;
use super::op::{Completion, Request};
use super::token::Token;
use super::{errno, Wait};
use fds::Fds;

/// Events taken per `epoll_wait`.
const EVENTS: usize = 256;

/// A worker's epoll instance and the requests waiting in it.
pub(crate) struct Epoll {
    epfd: OwnedFd,
    events: Vec<libc::epoll_event>,
    fds: Fds,
    todo: VecDeque<(Token, Request)>,
    done: VecDeque<Completion>,
    /// Descriptors with work to do without waiting for an event.
    again: Vec<RawFd>,
    again_next: Vec<RawFd>,
    /// Armed timeouts: (token, deadline in monotonic ns).
    timers: Vec<(Token, u64)>,
    /// Descriptors with a connect in progress (checked for deadlines).
    connecting: Vec<RawFd>,
    /// The last `wait` skipped `epoll_wait` because completions were
    /// queued: the next one polls, so events are never starved.
    skipped: bool,
    enters: u64,
    submitted: u64,
}

impl Epoll {
    pub fn new() -> std::io::Result<Epoll> {
        // SAFETY: epoll_create1 has no memory preconditions.
        let fd = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
        if fd < 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(Epoll {
            // SAFETY: a fresh descriptor nothing else owns.
            epfd: unsafe { OwnedFd::from_raw_fd(fd) },
            events: vec![libc::epoll_event { events: 0, u64: 0 }; EVENTS],
            fds: Fds::default(),
            // Sized up front so that queuing a request (which a reader or
            // writer may do from inside a poll) allocates nothing in the
            // usual case; the queues only grow past a burst this large.
            todo: VecDeque::with_capacity(1024),
            done: VecDeque::with_capacity(1024),
            again: Vec::with_capacity(256),
            again_next: Vec::with_capacity(256),
            timers: Vec::with_capacity(16),
            connecting: Vec::with_capacity(16),
            skipped: false,
            enters: 0,
            submitted: 0,
        })
    }

    pub fn counts(&self) -> (u64, u64) {
        (self.enters, self.submitted)
    }

    /// Queues `req` (carried out at the next `wait`); returns how many
    /// final completions it will bring (always one).
    #[inline]
    pub fn push(&mut self, token: Token, req: Request) -> usize {
        self.submitted += 1;
        match req {
            // A send on a registered, writable socket with nothing queued
            // ahead of it goes out now (its completion is queued as
            // usual): the common case skips the queue round trip.
            Request::Send { fd, state } if self.todo.is_empty() && self.sendable(fd) => {
                self.send(fd, token, state)
            }
            _ => self.todo.push_back((token, req)),
        }
        1
    }

    #[inline]
    fn sendable(&mut self, fd: RawFd) -> bool {
        let st = self.fds.get(fd);
        st.registered && st.writable
    }

    fn complete(&mut self, token: Token, result: i32, flags: u32) {
        self.done.push_back(Completion::new(token, result, flags));
    }

    /// Carries out what was submitted, then waits for readiness as `how`
    /// says (not at all while completions or queued work are waiting).
    pub fn wait(&mut self, how: Wait, bufs: Option<&Buffers>) -> std::io::Result<()> {
        while let Some((token, req)) = self.todo.pop_front() {
            self.run(token, req, bufs);
        }
        self.run_again(bufs);
        if !self.done.is_empty() && !self.skipped {
            // Completions are ready: hand them over first. The next wait
            // polls for events even if more completions are ready then.
            self.skipped = true;
            return Ok(());
        }
        self.skipped = false;
        let busy = !self.done.is_empty() || !self.again.is_empty();
        let timeout = match how {
            _ if busy => 0,
            Wait::Poll => 0,
            Wait::Block | Wait::Batch { .. } => self.timeout_ms(None),
            Wait::Timeout(d) => self.timeout_ms(Some(d)),
        };
        // SAFETY: the events buffer is valid for EVENTS entries.
        let n = unsafe {
            libc::epoll_wait(
                self.epfd.as_raw_fd(),
                self.events.as_mut_ptr(),
                EVENTS as i32,
                timeout,
            )
        };
        self.enters += 1;
        if n < 0 {
            let e = std::io::Error::last_os_error();
            if e.raw_os_error() == Some(libc::EINTR) {
                return Ok(());
            }
            return Err(e);
        }
        for i in 0..n as usize {
            let ev = self.events[i];
            self.on_event(ev.u64 as RawFd, ev.events, bufs);
        }
        if !self.timers.is_empty() || !self.connecting.is_empty() {
            self.expire(crate::runtime::time::now_ns());
        }
        Ok(())
    }

    /// Moves up to `out.len()` completions into `out`; returns how many.
    pub fn reap(&mut self, out: &mut [Completion]) -> usize {
        let mut n = 0;
        while n < out.len() {
            match self.done.pop_front() {
                Some(c) => {
                    out[n] = c;
                    n += 1;
                }
                None => break,
            }
        }
        n
    }

    /// Milliseconds until the earliest timeout or connect deadline (at
    /// most `limit`), rounded up so nothing wakes early; -1 for none.
    fn timeout_ms(&mut self, limit: Option<std::time::Duration>) -> i32 {
        let mut earliest = self.timers.iter().map(|t| t.1).min();
        for &fd in &self.connecting {
            if let Some((_, dl)) = self.fds.get(fd).connect {
                earliest = Some(earliest.map_or(dl, |e| e.min(dl)));
            }
        }
        let mut ms = earliest.filter(|&d| d != u64::MAX).map(|at| {
            let now = crate::runtime::time::now_ns();
            at.saturating_sub(now).div_ceil(1_000_000)
        });
        if let Some(l) = limit {
            let l = l.as_millis() as u64;
            ms = Some(ms.map_or(l, |m| m.min(l)));
        }
        ms.map_or(-1, |m| m.min(i32::MAX as u64) as i32)
    }

    /// Completes timeouts and connects whose deadline has passed.
    fn expire(&mut self, now: u64) {
        let mut i = 0;
        while i < self.timers.len() {
            if self.timers[i].1 <= now {
                let (t, _) = self.timers.swap_remove(i);
                self.complete(t, -libc::ETIME, 0);
            } else {
                i += 1;
            }
        }
        let mut i = 0;
        while i < self.connecting.len() {
            let fd = self.connecting[i];
            let st = self.fds.get(fd);
            match st.connect {
                Some((t, dl)) if dl <= now => {
                    st.connect = None;
                    self.complete(t, -libc::ECANCELED, 0);
                    self.connecting.swap_remove(i);
                }
                Some(_) => i += 1,
                None => {
                    self.connecting.swap_remove(i);
                }
            }
        }
    }

    /// Runs the descriptors queued for more work, once each; work they
    /// queue meanwhile waits for the next round.
    fn run_again(&mut self, bufs: Option<&Buffers>) {
        if self.again.is_empty() {
            return;
        }
        let next = std::mem::take(&mut self.again_next);
        let mut list = std::mem::replace(&mut self.again, next);
        for fd in list.drain(..) {
            self.fds.get(fd).queued = false;
            self.progress(fd, bufs);
        }
        // Emptied, it keeps its capacity for the next swap.
        self.again_next = list;
    }

    fn queue_again(&mut self, fd: RawFd) {
        let st = self.fds.get(fd);
        if !st.queued {
            st.queued = true;
            self.again.push(fd);
        }
    }

    fn on_event(&mut self, fd: RawFd, bits: u32, bufs: Option<&Buffers>) {
        let Some(st) = self.fds.get_existing(fd) else {
            return;
        };
        let bits = bits as i32;
        if bits & (libc::EPOLLIN | libc::EPOLLRDHUP | libc::EPOLLHUP | libc::EPOLLERR) != 0 {
            st.readable = true;
        }
        if bits & (libc::EPOLLRDHUP | libc::EPOLLHUP | libc::EPOLLERR) != 0 {
            st.hup = true;
        }
        if bits & (libc::EPOLLOUT | libc::EPOLLHUP | libc::EPOLLERR) != 0 {
            st.writable = true;
        }
        self.progress(fd, bufs);
    }

    /// Registers `fd` for edge-triggered input and output readiness, once.
    /// Returns an errno if epoll refuses it.
    #[inline]
    fn register(&mut self, fd: RawFd, set_nonblocking: bool) -> Result<(), i32> {
        if self.fds.get(fd).registered {
            return Ok(());
        }
        self.register_new(fd, set_nonblocking)
    }

    #[cold]
    fn register_new(&mut self, fd: RawFd, set_nonblocking: bool) -> Result<(), i32> {
        if set_nonblocking {
            // SAFETY: fcntl on a descriptor the caller owns; no memory.
            unsafe {
                let fl = libc::fcntl(fd, libc::F_GETFL);
                if fl >= 0 && fl & libc::O_NONBLOCK == 0 {
                    libc::fcntl(fd, libc::F_SETFL, fl | libc::O_NONBLOCK);
                }
            }
        }
        let mut ev = libc::epoll_event {
            events: (libc::EPOLLIN | libc::EPOLLOUT | libc::EPOLLRDHUP | libc::EPOLLET) as u32,
            u64: fd as u64,
        };
        // SAFETY: `ev` is a valid event for the duration of the call.
        if unsafe { libc::epoll_ctl(self.epfd.as_raw_fd(), libc::EPOLL_CTL_ADD, fd, &mut ev) } != 0
        {
            return Err(errno());
        }
        let st = self.fds.get(fd);
        st.registered = true;
        // Until epoll says otherwise, assume it may be ready: one try that
        // finds nothing costs less than a round through epoll_wait.
        st.readable = true;
        st.writable = true;
        Ok(())
    }

    fn unregister(&mut self, fd: RawFd) {
        if let Some(st) = self.fds.get_existing(fd) {
            if st.registered {
                // SAFETY: removes our own registration; no memory involved.
                unsafe {
                    libc::epoll_ctl(
                        self.epfd.as_raw_fd(),
                        libc::EPOLL_CTL_DEL,
                        fd,
                        std::ptr::null_mut(),
                    )
                };
            }
        }
    }

    /// Arms a request that waits on `fd`'s input readiness (`set` records
    /// it on the descriptor) and tries it at once.
    fn arm(
        &mut self,
        fd: RawFd,
        token: Token,
        set_nonblocking: bool,
        bufs: Option<&Buffers>,
        set: impl FnOnce(&mut fds::FdState),
    ) {
        if let Err(e) = self.register(fd, set_nonblocking) {
            return self.complete(token, -e, 0);
        }
        set(self.fds.get(fd));
        self.progress(fd, bufs);
    }

    /// Carries out one submitted request.
    fn run(&mut self, token: Token, req: Request, bufs: Option<&Buffers>) {
        match req {
            Request::Recv { fd } => self.arm(fd, token, false, bufs, |st| st.recv = Some(token)),
            Request::Accept { fd } => self.arm(fd, token, true, bufs, |st| st.accept = Some(token)),
            Request::ReadEventfd { fd, buf } => {
                self.arm(fd, token, true, bufs, |st| st.read = Some((token, buf)))
            }
            Request::Send { fd, state } => {
                if let Err(e) = self.register(fd, false) {
                    return self.complete(token, -e, 0);
                }
                self.send(fd, token, state);
            }
            Request::Connect { fd, state } => self.connect(fd, token, state),
            Request::Cancel { fd, target } => {
                let found = self.fds.get_existing(fd).is_some_and(|st| st.take(target));
                if found {
                    self.complete(target, -libc::ECANCELED, 0);
                    self.complete(token, 0, 0);
                } else if let Some(i) = self.timers.iter().position(|t| t.0 == target) {
                    self.timers.swap_remove(i);
                    self.complete(target, -libc::ECANCELED, 0);
                    self.complete(token, 0, 0);
                } else {
                    self.complete(token, -libc::ENOENT, 0);
                }
            }
            Request::CancelAll => {
                let mut n = 0;
                let done = &mut self.done;
                for st in self.fds.iter_mut() {
                    st.take_all(|t| {
                        done.push_back(Completion::new(t, -libc::ECANCELED, 0));
                        n += 1;
                    });
                }
                for (t, _) in self.timers.drain(..) {
                    done.push_back(Completion::new(t, -libc::ECANCELED, 0));
                    n += 1;
                }
                self.complete(token, n, 0);
            }
            // Readiness says nothing about files: the file system layer
            // serves these from the blocking pool on this backend.
            Request::OpenFile { .. } | Request::ReadAt { .. } => {
                self.complete(token, -libc::EOPNOTSUPP, 0)
            }
            Request::Close { fd } => {
                self.unregister(fd);
                if let Some(st) = self.fds.get_existing(fd) {
                    let done = &mut self.done;
                    st.take_all(|t| done.push_back(Completion::new(t, -libc::ECANCELED, 0)));
                }
                self.fds.forget(fd);
                // SAFETY: the slot owns `fd` and asked for it to be closed;
                // nothing waits on it any more.
                let r = unsafe { libc::close(fd) };
                self.complete(token, if r == 0 { 0 } else { -errno() }, 0);
            }
            Request::Shutdown { fd, how } => {
                // SAFETY: shutdown on a descriptor the slot owns.
                let r = unsafe { libc::shutdown(fd, how) };
                self.complete(token, if r == 0 { 0 } else { -errno() }, 0);
            }
            Request::Timeout { at_ns } => self.timers.push((token, at_ns)),
            Request::TimeoutUpdate { target, at_ns } => {
                match self.timers.iter_mut().find(|t| t.0 == target) {
                    Some(t) => {
                        t.1 = at_ns;
                        self.complete(token, 0, 0);
                    }
                    None => self.complete(token, -libc::ENOENT, 0),
                }
            }
        }
    }
}
