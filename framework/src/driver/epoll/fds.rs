//! The epoll driver's table of descriptors: per descriptor, whether it is
//! registered, what readiness was last seen, and which requests wait on it.

use std::os::fd::RawFd;

use crate::driver::token::Token;

/// One descriptor's state in the epoll driver.
#[derive(Default)]
pub(super) struct FdState {
    pub registered: bool,
    /// Readable (or at end of stream / in error) as far as we know: set by
    /// an event, cleared when a read finds nothing (`EAGAIN`) or a receive
    /// came back short (the socket is drained; the next arrival brings a
    /// new edge).
    pub readable: bool,
    /// Writable as far as we know: cleared by `EAGAIN`, set by an event.
    pub writable: bool,
    /// The peer hung up or the socket is in error (sticky: that edge
    /// comes once, so a short receive does not mean "drained" any more).
    pub hup: bool,
    /// The descriptor is on the driver's list of work to do without
    /// waiting (more may be readable, or an accept batch was cut short).
    pub queued: bool,
    /// Receives here fill several buffers at once: the last one filled
    /// more than one (large messages), so one system call takes the next
    /// few; cleared by a receive that fits one buffer.
    pub wide: bool,
    /// An armed multishot receive.
    pub recv: Option<Token>,
    /// An armed multishot accept.
    pub accept: Option<Token>,
    /// A pending eventfd read and where its counter goes.
    pub read: Option<(Token, *mut u64)>,
    /// A send waiting for room.
    pub send: Option<(Token, *mut crate::conn::SendState)>,
    /// A connect in progress and its deadline (monotonic ns; `u64::MAX`
    /// for none).
    pub connect: Option<(Token, u64)>,
}

impl FdState {
    /// Takes the waiting request named `target`, if any.
    pub fn take(&mut self, target: Token) -> bool {
        let t = Some(target);
        if self.recv == t {
            self.recv = None;
        } else if self.accept == t {
            self.accept = None;
        } else if self.read.map(|r| r.0) == t {
            self.read = None;
        } else if self.send.map(|s| s.0) == t {
            self.send = None;
        } else if self.connect.map(|c| c.0) == t {
            self.connect = None;
        } else {
            return false;
        }
        true
    }

    /// Takes every waiting request's token (cancel all, close).
    pub fn take_all(&mut self, mut f: impl FnMut(Token)) {
        for t in [
            self.recv.take(),
            self.accept.take(),
            self.read.take().map(|r| r.0),
            self.send.take().map(|s| s.0),
            self.connect.take().map(|c| c.0),
        ]
        .into_iter()
        .flatten()
        {
            f(t);
        }
    }
}

/// Descriptor states indexed by descriptor number (descriptors are small
/// integers, reused lowest first, so the table stays as large as the
/// most descriptors open at once).
#[derive(Default)]
pub(super) struct Fds {
    table: Vec<FdState>,
}

impl Fds {
    #[inline]
    pub fn get(&mut self, fd: RawFd) -> &mut FdState {
        let i = fd as usize;
        if i >= self.table.len() {
            self.grow(i);
        }
        &mut self.table[i]
    }

    #[cold]
    fn grow(&mut self, i: usize) {
        self.table.resize_with((i + 1).max(64), FdState::default);
    }

    /// The state of `fd` if the table has one.
    pub fn get_existing(&mut self, fd: RawFd) -> Option<&mut FdState> {
        self.table.get_mut(fd as usize)
    }

    /// Every descriptor's state.
    pub fn iter_mut(&mut self) -> impl Iterator<Item = &mut FdState> {
        self.table.iter_mut()
    }

    /// Forgets `fd` (it was closed).
    pub fn forget(&mut self, fd: RawFd) {
        if let Some(s) = self.table.get_mut(fd as usize) {
            *s = FdState::default();
        }
    }
}
