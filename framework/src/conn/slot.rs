//! Connection slots and their state machine.
//!
//! A slot owns everything the kernel may touch for one socket: the queue of
//! received buffers not yet read, the outgoing queue and the in-flight send
//! state. The application's `Connection` is only a handle (index +
//! generation); dropping it never frees memory the kernel still uses.
//!
//! Receive side (multishot recv with buffer selection):
//!
//! ```text
//!            arm                      CQE with F_MORE: queue (bid,len)
//!   idle ──────────► armed ◄───────────────────────────────┐
//!     ▲                │  ready+leased >= max_leases        │
//!     │                ├──────────────► cancel sent ─┐      │
//!     │                │  ENOBUFS (no F_MORE)        │      │
//!     │                ├──────────────► starved ─────┤      │
//!     │                │  EOF / error / closing      │      │
//!     │                └──────────────► done         │      │
//!     │  leases drop to max/2, the reader waits with │      │
//!     │  nothing queued, or buffers return           │      │
//!     └──────────────────────────────────────────────┘      │
//!                                 (re-armed: `sync_recv`) ───┘
//! ```
//!
//! `sync_recv` is the single place that decides whether a receive should be
//! armed (`want_recv`) and arms or cancels it to match.
//!
//! Send side: at most one sendmsg in flight. Writes append to the queue and
//! mark the slot dirty; once per loop turn the worker submits one sendmsg per
//! dirty slot covering everything queued (batching). A completion drops the
//! sent bytes and submits the rest.
//!
//! Write timeout: queuing output onto an empty queue, and every send that
//! moves bytes, stamps the slot with the worker's tick; the slot joins a
//! list the worker sweeps (every quarter of the smallest timeout, between
//! 10 ms and 1 s, and only while the list is not empty). A slot whose output made
//! no progress for its timeout is shut down both ways and its handler's
//! reads and writes fail with `TimedOut`.
//!
//! Close: when the handle is dropped the slot is *closing*: queued output is
//! still sent, the receive is cancelled, and only when no operation is in
//! flight is close(2) submitted. Its completion frees the slot and bumps the
//! generation, so no completion can ever reach a reused slot. One exception:
//! a failed or timed-out slot whose zero-copy send still waits for its
//! notification is closed without waiting for it (the pages may sit in the
//! send queue of a peer that never reads until the socket goes), and is
//! freed, memory and all, only when the notification arrives.

use std::collections::VecDeque;
use std::os::fd::RawFd;
use std::task::Waker;

use super::out::{OutPool, OutQueue, RawLease};
use super::zerocopy::ZcUse;
use crate::driver::op::{buffer, more, notif, zc_copied};
use crate::driver::{Buffers, Op, Request, Submit, Token};

/// The most one `sendfile(2)` of a queued file span is asked to send (a
/// non-blocking socket takes what fits in its buffer anyway).
const MAX_FILE_SEND: usize = 2 << 20;

/// Socket family of a connection, for address queries.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum SockKind {
    Tcp,
    Unix,
}

/// Progress of a `shutdown(SHUT_WR)` or `connect`.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum OpState {
    Idle,
    InFlight,
    Done(i32),
}

/// One connection's kernel-facing state.
pub(crate) struct Slot {
    pub gen: u32,
    pub fd: RawFd,
    pub kind: SockKind,
    pub used: bool,
    /// The application holds a `Connection` for this slot.
    pub handle: bool,
    pub closing: bool,
    close_sent: bool,
    /// The socket is closed but a zero-copy notification is outstanding:
    /// the slot (and the memory the kernel still reads) is freed when it
    /// arrives.
    fd_closed: bool,
    connect_cancel_sent: bool,
    // receive
    recv_armed: bool,
    recv_cancel_sent: bool,
    paused: bool,
    starved: bool,
    pub eof: bool,
    pub read_err: i32,
    pub ready: VecDeque<(u16, u32)>,
    pub leased: u32,
    /// Bytes received and sent on this connection.
    pub bytes_in: u64,
    pub bytes_out: u64,
    pub reader: Option<Waker>,
    // send
    pub out: OutQueue,
    sending: Option<Box<super::out::SendState>>,
    /// Zero-copy use on this connection (see `ZcUse`).
    zc: ZcUse,
    dirty: bool,
    pub write_err: i32,
    pub writer: Option<Waker>,
    // write timeout
    /// Milliseconds queued output may go without progress (0 = no limit).
    pub write_timeout_ms: u64,
    /// Tick when output was last queued onto an empty queue or last sent.
    progress_tick: u64,
    /// The slot is in `Conns::pending_out` (stays there until a sweep finds
    /// its queue empty, across reuse of the slot).
    in_pending: bool,
    /// The write timeout closed this connection.
    pub write_timed_out: bool,
    // shutdown(SHUT_WR) and connect
    pub shut: OpState,
    pub connect: OpState,
    pub connect_state: Option<Box<crate::driver::ConnectState>>,
    pub waiter: Option<Waker>,
}

impl Slot {
    fn new() -> Slot {
        Slot {
            gen: 0,
            fd: -1,
            kind: SockKind::Tcp,
            used: false,
            handle: false,
            closing: false,
            close_sent: false,
            fd_closed: false,
            connect_cancel_sent: false,
            recv_armed: false,
            recv_cancel_sent: false,
            paused: false,
            starved: false,
            eof: false,
            read_err: 0,
            ready: VecDeque::new(),
            leased: 0,
            bytes_in: 0,
            bytes_out: 0,
            reader: None,
            out: OutQueue::default(),
            sending: None,
            zc: ZcUse::Probe,
            dirty: false,
            write_err: 0,
            writer: None,
            write_timeout_ms: 0,
            progress_tick: 0,
            in_pending: false,
            write_timed_out: false,
            shut: OpState::Idle,
            connect: OpState::Idle,
            connect_state: None,
            waiter: None,
        }
    }

    fn want_recv(&self) -> bool {
        self.used
            && self.handle
            && !self.closing
            && self.connect == OpState::Idle
            && !self.eof
            && self.read_err == 0
            && !self.paused
            && !self.starved
    }

    /// True while the socket must stay open: some operation is in the
    /// kernel, except a zero-copy notification of a connection whose output
    /// failed or timed out. That one may wait for a peer that never reads
    /// (the pages sit in the socket's send queue): closing the socket purges
    /// the queue and brings the notification, and the slot keeps the memory
    /// until then (see `on_close`).
    fn blocks_close(&self) -> bool {
        let zc_tail =
            self.write_err != 0 && self.sending.as_ref().is_some_and(|st| st.notif_pending);
        self.busy()
            && !(zc_tail
                && !self.recv_armed
                && self.shut != OpState::InFlight
                && self.connect != OpState::InFlight)
    }

    /// True while some operation of this slot is in the kernel.
    fn busy(&self) -> bool {
        self.recv_armed
            || self.sending.is_some()
            || self.shut == OpState::InFlight
            || self.connect == OpState::InFlight
    }
}

/// Asks the driver to cancel the operation `op` of slot `idx` on `fd`.
fn cancel(ring: &mut impl Submit, fd: RawFd, op: Op, idx: u32, gen: u32) {
    let target = Token::new(op, idx, gen);
    // SAFETY: a cancel request references no memory.
    unsafe {
        ring.submit(
            Token::new(Op::Ignore, idx, gen),
            Request::Cancel { fd, target },
        )
    };
}

/// Wakes and clears a stored waker.
pub(crate) fn wake(w: &mut Option<Waker>) {
    if let Some(w) = w.take() {
        w.wake();
    }
}

/// Stores `cx`'s waker unless an equivalent one is stored already.
pub(crate) fn set_waker(slot: &mut Option<Waker>, w: &Waker) {
    match slot {
        Some(old) if old.will_wake(w) => {}
        _ => *slot = Some(w.clone()),
    }
}

/// Slot `idx` of `slots` if it is in use with generation `gen`.
fn live_slot(slots: &mut [Slot], idx: u32, gen: u32) -> Option<&mut Slot> {
    match slots.get_mut(idx as usize) {
        Some(s) if s.used && crate::driver::same_gen(s.gen, gen) => Some(s),
        _ => None,
    }
}

/// Tunables the slot machinery reads on the hot path.
#[derive(Copy, Clone, Debug)]
pub(crate) struct IoParams {
    pub max_leases: u32,
    pub write_limit: usize,
    pub zc_threshold: Option<usize>,
    /// Default write timeout of new connections (`None`: no limit).
    pub write_timeout: Option<std::time::Duration>,
}

/// A timeout in whole milliseconds, at least 1; 0 means none.
pub(crate) fn timeout_ms(t: Option<std::time::Duration>) -> u64 {
    t.map_or(0, |d| (d.as_millis().min(u64::MAX as u128) as u64).max(1))
}

/// The worker's slots and everything needed to drive their operations.
pub(crate) struct Conns {
    slots: Vec<Slot>,
    free: Vec<u32>,
    live: usize,
    dirty: Vec<u32>,
    starved: Vec<u32>,
    pub pool: OutPool,
    lease_returns: Vec<RawLease>,
    pub params: IoParams,
    send_zc: bool,
    /// This worker's counters.
    pub stats: crate::runtime::WorkerStats,
    /// The worker's clock tick for this stretch of the loop (set by the
    /// worker after each wait), for write-progress times without a clock
    /// read per send.
    pub now: u64,
    /// Slots that have had output queued since the last write-timeout sweep
    /// found them empty: the only ones a sweep needs to look at.
    pending_out: Vec<u32>,
    /// Smallest write timeout in force, in ms (0 = none), for the sweep
    /// interval.
    min_write_timeout_ms: u64,
}

impl Conns {
    pub fn new(params: IoParams, send_zc: bool, pool_bytes: usize) -> Conns {
        Conns {
            slots: Vec::new(),
            free: Vec::new(),
            live: 0,
            dirty: Vec::new(),
            starved: Vec::new(),
            pool: OutPool::new(pool_bytes),
            lease_returns: Vec::new(),
            params,
            send_zc,
            stats: Default::default(),
            now: 0,
            pending_out: Vec::new(),
            min_write_timeout_ms: timeout_ms(params.write_timeout),
        }
    }

    /// Number of slots in use (open or closing).
    pub fn live(&self) -> usize {
        self.live
    }

    /// The slot `idx` if its generation is `gen`.
    pub fn get(&mut self, idx: u32, gen: u32) -> Option<&mut Slot> {
        live_slot(&mut self.slots, idx, gen)
    }

    /// Takes a slot for socket `fd`; the caller arms what it needs.
    pub fn open(&mut self, fd: RawFd, kind: SockKind) -> (u32, u32) {
        let idx = match self.free.pop() {
            Some(i) => i,
            None => {
                self.slots.push(Slot::new());
                (self.slots.len() - 1) as u32
            }
        };
        let s = &mut self.slots[idx as usize];
        s.fd = fd;
        s.kind = kind;
        s.used = true;
        s.handle = true;
        s.closing = false;
        s.close_sent = false;
        s.fd_closed = false;
        s.zc = ZcUse::Probe;
        s.connect_cancel_sent = false;
        s.eof = false;
        s.read_err = 0;
        s.write_err = 0;
        s.bytes_in = 0;
        s.bytes_out = 0;
        s.leased = 0;
        s.paused = false;
        s.starved = false;
        s.shut = OpState::Idle;
        s.connect = OpState::Idle;
        s.write_timeout_ms = timeout_ms(self.params.write_timeout);
        s.write_timed_out = false;
        self.live += 1;
        (idx, s.gen)
    }

    // ---- receive ------------------------------------------------------------

    /// Arms or cancels the slot's multishot receive to match `want_recv`.
    pub fn sync_recv(&mut self, idx: u32, ring: &mut impl Submit) {
        let s = &mut self.slots[idx as usize];
        let want = s.want_recv();
        if want && !s.recv_armed {
            let t = Token::new(Op::Recv, idx, s.gen);
            // SAFETY: a multishot recv references no memory of ours;
            // buffers come from the worker's pool.
            unsafe { ring.submit(t, Request::Recv { fd: s.fd }) };
            s.recv_armed = true;
            s.recv_cancel_sent = false;
        } else if !want && s.recv_armed && !s.recv_cancel_sent {
            cancel(ring, s.fd, Op::Recv, idx, s.gen);
            s.recv_cancel_sent = true;
        }
    }

    /// Handles a receive completion.
    pub fn on_recv(
        &mut self,
        t: Token,
        res: i32,
        flags: u32,
        ring: &mut impl Submit,
        bufs: &Buffers,
    ) {
        let bid = buffer(flags);
        if let Some(b) = bid {
            bufs.take(b);
        }
        let max = self.params.max_leases;
        let Some(s) = live_slot(&mut self.slots, t.index, t.gen) else {
            if let Some(b) = bid {
                bufs.recycle(b);
            }
            return;
        };
        if !more(flags) {
            s.recv_armed = false;
            s.recv_cancel_sent = false;
        }
        if res > 0 {
            self.stats.bytes_in += res as u64;
            s.bytes_in += res as u64;
            let b = bid.expect("a receive with data names its buffer");
            if s.handle && !s.closing {
                s.ready.push_back((b, res as u32));
                if s.ready.len() as u32 + s.leased >= max && !s.paused {
                    s.paused = true;
                    self.stats.recv_pauses += 1;
                }
            } else {
                bufs.recycle(b);
            }
        } else {
            if let Some(b) = bid {
                bufs.recycle(b);
            }
            match -res {
                0 => s.eof = true,
                libc::ENOBUFS => {
                    self.stats.ring_exhausted += 1;
                    if !s.starved {
                        s.starved = true;
                        self.starved.push(t.index);
                    }
                }
                libc::ECANCELED => {}
                e => s.read_err = e,
            }
        }
        let s = &mut self.slots[t.index as usize];
        wake(&mut s.reader);
        if s.closing {
            self.maybe_close(t.index, ring);
        } else {
            self.sync_recv(t.index, ring);
        }
    }

    /// Byte counts of connection (`idx`, `gen`), also right after its slot
    /// was freed (zero once the slot is reused).
    pub fn final_counts(&self, idx: u32, gen: u32) -> (u64, u64) {
        match self.slots.get(idx as usize) {
            Some(s) if crate::driver::same_gen(s.gen, gen) => (s.bytes_in, s.bytes_out),
            Some(s) if !s.used && crate::driver::same_gen(s.gen, gen.wrapping_add(1)) => {
                (s.bytes_in, s.bytes_out)
            }
            _ => (0, 0),
        }
    }

    /// Pops the next received buffer of slot `idx`, counting it as leased.
    pub fn pop_ready(&mut self, idx: u32) -> Option<(u16, u32)> {
        let s = &mut self.slots[idx as usize];
        let r = s.ready.pop_front()?;
        s.leased += 1;
        Some(r)
    }

    /// A lease of connection (`conn`, `gen`) was dropped; its buffer is
    /// already back in the ring. Resumes a paused receive if drained enough.
    pub fn lease_returned(&mut self, conn: u32, gen: u32, ring: &mut impl Submit) {
        let max = self.params.max_leases;
        if let Some(s) = self.get(conn, gen) {
            s.leased = s.leased.saturating_sub(1);
            if s.paused && s.ready.len() as u32 + s.leased <= max / 2 {
                s.paused = false;
                self.sync_recv(conn, ring);
            }
        }
    }

    /// The application waits on slot `idx`'s receive with nothing queued:
    /// a pause it no longer needs (fewer than `max_leases` held) ends now,
    /// rather than when leases drop to half, which would deadlock a reader
    /// that holds some leases while it waits for more.
    pub fn reader_waiting(&mut self, idx: u32, ring: &mut impl Submit) {
        let max = self.params.max_leases;
        let s = &mut self.slots[idx as usize];
        if s.paused && s.ready.is_empty() && s.leased < max {
            s.paused = false;
            self.sync_recv(idx, ring);
        }
    }

    /// Re-arms receives that stopped for lack of buffers, once some are back:
    /// at most one connection per free buffer, oldest first, so a nearly
    /// empty ring is not hammered with receives that fail again at once.
    pub fn rearm_starved(&mut self, ring: &mut impl Submit, bufs: &Buffers) {
        if self.starved.is_empty() {
            return;
        }
        let free = (bufs.entries() as u32 - bufs.handed_out()) as usize;
        let n = free.min(self.starved.len());
        if n == 0 {
            return;
        }
        let mut list = std::mem::take(&mut self.starved);
        for idx in list.drain(..n) {
            if let Some(s) = self.slots.get_mut(idx as usize) {
                s.starved = false;
                if s.used {
                    self.sync_recv(idx, ring);
                }
            }
        }
        // Connections that starved again meanwhile were appended to the
        // (new) list; keep the ones not yet re-armed ahead of them.
        list.append(&mut self.starved);
        self.starved = list;
    }

    // ---- send ---------------------------------------------------------------

    /// Copies `data` into slot `idx`'s outgoing queue.
    #[inline]
    pub fn queue_bytes(&mut self, idx: u32, data: &[u8]) {
        self.output_starts(idx);
        let s = &mut self.slots[idx as usize];
        s.out.copy_in(data, &mut self.pool);
        if !s.dirty {
            s.dirty = true;
            self.dirty.push(idx);
        }
    }

    /// Queues `n` bytes on slot `idx`, written in place by `fill`.
    #[inline]
    pub fn queue_fill(&mut self, idx: u32, n: usize, fill: impl FnOnce(&mut [u8])) {
        self.output_starts(idx);
        let s = &mut self.slots[idx as usize];
        s.out.fill_in(n, &mut self.pool, fill);
        if !s.dirty {
            s.dirty = true;
            self.dirty.push(idx);
        }
    }

    /// Queues an owned buffer on slot `idx` without copying.
    pub fn queue_owned(&mut self, idx: u32, buf: super::OutBuf) {
        self.output_starts(idx);
        let s = &mut self.slots[idx as usize];
        s.out.push_owned(buf);
        if !s.dirty {
            s.dirty = true;
            self.dirty.push(idx);
        }
    }

    /// Queues `len` bytes of the file `fd` from `offset` on slot `idx`
    /// (sent with `sendfile(2)`; see `OutQueue::push_file`).
    pub fn queue_file(
        &mut self,
        idx: u32,
        fd: std::sync::Arc<std::fs::File>,
        offset: u64,
        len: usize,
    ) {
        self.output_starts(idx);
        let s = &mut self.slots[idx as usize];
        s.out.push_file(fd, offset, len);
        if !s.dirty {
            s.dirty = true;
            self.dirty.push(idx);
        }
    }

    /// Called before bytes are queued on slot `idx`: output queued onto an
    /// empty queue starts the write-progress clock, and the slot joins the
    /// list the write-timeout sweep looks at.
    #[inline]
    fn output_starts(&mut self, idx: u32) {
        let s = &mut self.slots[idx as usize];
        if s.out.is_empty() {
            s.progress_tick = self.now;
            if !s.in_pending {
                s.in_pending = true;
                self.pending_out.push(idx);
            }
        }
    }

    /// True while some slot may have output queued (the worker then keeps
    /// a write-timeout sweep scheduled; otherwise none is).
    pub fn has_pending_out(&self) -> bool {
        !self.pending_out.is_empty()
    }

    /// How often the write-timeout sweep should run: a quarter of the
    /// smallest timeout in force, between 10 ms and 1 s.
    pub fn sweep_interval_ms(&self) -> u64 {
        (self.min_write_timeout_ms / 4).clamp(10, 1000)
    }

    /// Sets slot `idx`'s write timeout (`None`: no limit).
    pub fn set_write_timeout(&mut self, idx: u32, t: Option<std::time::Duration>) {
        let ms = timeout_ms(t);
        self.slots[idx as usize].write_timeout_ms = ms;
        if ms != 0 && (self.min_write_timeout_ms == 0 || ms < self.min_write_timeout_ms) {
            self.min_write_timeout_ms = ms;
        }
    }

    /// The write-timeout sweep: drops slots whose queue has emptied from the
    /// list, and times out those whose queued output made no progress for
    /// their write timeout as of tick `now`.
    pub fn sweep_write_timeouts(&mut self, now: u64, ring: &mut impl Submit) {
        let mut i = 0;
        while i < self.pending_out.len() {
            let idx = self.pending_out[i];
            let s = &mut self.slots[idx as usize];
            if !s.used || s.out.is_empty() {
                s.in_pending = false;
                self.pending_out.swap_remove(i);
                continue;
            }
            if s.write_timeout_ms != 0
                && !s.write_timed_out
                && now.saturating_sub(s.progress_tick) >= s.write_timeout_ms
            {
                self.time_out_write(idx, ring);
            }
            i += 1;
        }
    }

    /// Closes slot `idx` for a write timeout: both directions are shut down
    /// (an in-flight send fails at once), reads and writes of the handler
    /// fail with `TimedOut`, and queued output is freed (now, or when the
    /// in-flight send returns).
    fn time_out_write(&mut self, idx: u32, ring: &mut impl Submit) {
        let s = &mut self.slots[idx as usize];
        log::debug!(
            "connection {idx}: write timeout: {} bytes queued made no progress for {} ms; closing",
            s.out.len(),
            s.write_timeout_ms
        );
        s.write_timed_out = true;
        if s.write_err == 0 {
            s.write_err = libc::ETIMEDOUT;
        }
        if s.read_err == 0 {
            s.read_err = libc::ETIMEDOUT;
        }
        if !s.close_sent {
            // SAFETY: shutdown on a descriptor this slot owns; no memory.
            unsafe { libc::shutdown(s.fd, libc::SHUT_RDWR) };
        }
        if s.sending.is_none() {
            s.out.clear(&mut self.pool, &mut self.lease_returns);
        }
        wake(&mut s.reader);
        wake(&mut s.writer);
        wake(&mut s.waiter);
        self.stats.write_timeouts += 1;
        if s.closing {
            self.maybe_close(idx, ring);
        }
    }

    /// Submits one send for every slot written to since the last call.
    pub fn flush_dirty(&mut self, ring: &mut impl Submit) {
        let mut list = std::mem::take(&mut self.dirty);
        for idx in list.drain(..) {
            self.slots[idx as usize].dirty = false;
            self.start_send(idx, ring);
        }
        self.dirty = list;
    }

    fn start_send(&mut self, idx: u32, ring: &mut impl Submit) {
        let s = &mut self.slots[idx as usize];
        if s.sending.is_some() || s.out.is_empty() || s.write_err != 0 || !s.used {
            return;
        }
        let mut st = self.pool.get_send();
        st.result = 0;
        st.notif_pending = false;
        st.file = s.out.front_file().map(|mut span| {
            // A file span goes out on its own, straight from the page cache.
            span.len = span.len.min(MAX_FILE_SEND);
            span
        });
        if st.file.is_some() {
            st.more = false;
            st.zc = false;
        } else {
            let mut n = s.out.fill_iovecs(&mut st.iov);
            if n == 0 {
                self.pool.put_send(st);
                return;
            }
            st.more = s.out.file_after(n);
            let total: usize = st.iov[..n].iter().map(|v| v.iov_len).sum();
            // Zero-copy is a TCP feature; Unix sockets reject it. Where it is
            // used is up to `ZcUse` (see `conn/zerocopy.rs`).
            let threshold = self.params.zc_threshold.filter(|&t| total >= t);
            st.zc = threshold.is_some()
                && self.send_zc
                && s.kind == SockKind::Tcp
                && s.zc != ZcUse::Off;
            if let (true, Some(cap)) = (st.zc, s.zc.cap()) {
                n = super::out::cap_iovecs(&mut st.iov[..n], cap);
            }
            st.msg.msg_iov = st.iov.as_mut_ptr();
            st.msg.msg_iovlen = n;
        }
        let t = Token::new(Op::Send, idx, s.gen);
        let state: *mut super::out::SendState = &mut *st;
        // SAFETY: the msghdr and iovecs live in a Box kept in the slot until
        // the completion (and, for zero-copy, its notification) arrives; the
        // bytes they point to are owned by the slot's queue, which releases
        // nothing before that completion, and so is a file span's descriptor.
        unsafe { ring.submit(t, Request::Send { fd: s.fd, state }) };
        s.sending = Some(st);
    }

    /// Handles a send completion (or a zero-copy notification).
    pub fn on_send(&mut self, t: Token, res: i32, flags: u32, ring: &mut impl Submit) {
        let write_limit = self.params.write_limit;
        let Some(s) = live_slot(&mut self.slots, t.index, t.gen) else {
            return;
        };
        let Some(st) = s.sending.as_mut() else {
            return;
        };
        let res = if notif(flags) {
            if zc_copied(res) && s.zc != ZcUse::Off {
                log::debug!(
                    "connection {}: the kernel copies its zero-copy sends; copying from now on",
                    t.index
                );
            }
            s.zc = s.zc.after_notification(zc_copied(res));
            st.result
        } else if st.zc && more(flags) {
            // Zero-copy: the pages stay in use until the notification.
            st.result = res;
            st.notif_pending = true;
            if res < 0 && res != -libc::EINTR && res != -libc::EAGAIN && s.write_err == 0 {
                s.write_err = -res;
            }
            if s.closing && s.write_err != 0 {
                self.maybe_close(t.index, ring);
            }
            return;
        } else {
            res
        };
        let st = s.sending.take().expect("checked above");
        let was_zc = st.zc;
        // A file span that sends nothing has met the file's end: the file
        // shrank under the response, which can only end by closing.
        let res = if res == 0 && st.file.is_some() {
            log::debug!("connection {}: a file being sent shrank", t.index);
            -libc::EIO
        } else {
            res
        };
        self.pool.put_send(st);
        if s.fd_closed {
            // Closed while the kernel still held the pages: they are free
            // now, and so is the slot.
            self.release(t.index);
            return;
        }
        if was_zc && (res == -libc::EOPNOTSUPP || res == -libc::EINVAL) {
            // This kernel or socket cannot send zero-copy: stop trying and
            // resend the same bytes the ordinary way.
            self.send_zc = false;
            self.start_send(t.index, ring);
            return;
        }
        let s = &mut self.slots[t.index as usize];
        if res >= 0 {
            self.stats.bytes_out += res as u64;
            s.bytes_out += res as u64;
            if res > 0 {
                s.progress_tick = self.now;
            }
            s.out
                .advance(res as usize, &mut self.pool, &mut self.lease_returns);
        } else if res != -libc::EINTR && res != -libc::EAGAIN && s.write_err == 0 {
            s.write_err = -res;
        }
        if s.write_err != 0 {
            // Failed (or timed out while this send was in flight): nothing
            // more will be sent, so the queue is freed now.
            s.out.clear(&mut self.pool, &mut self.lease_returns);
        }
        if s.out.len() < write_limit || s.write_err != 0 {
            wake(&mut s.writer);
        }
        if s.closing {
            self.maybe_close(t.index, ring);
        } else {
            self.start_send(t.index, ring);
        }
    }

    /// Swaps the list of leases whose sends finished with `out` (the worker
    /// returns them to the ring, then swaps the emptied list back so its
    /// capacity is kept).
    pub fn take_lease_returns(&mut self, out: &mut Vec<RawLease>) {
        std::mem::swap(&mut self.lease_returns, out);
    }

    // ---- shutdown(SHUT_WR), connect, close ------------------------------------

    /// Submits `shutdown(fd, SHUT_WR)` for slot `idx`.
    pub fn start_shutdown(&mut self, idx: u32, ring: &mut impl Submit) {
        let s = &mut self.slots[idx as usize];
        let t = Token::new(Op::Shutdown, idx, s.gen);
        let how = libc::SHUT_WR;
        // SAFETY: shutdown references no memory.
        unsafe { ring.submit(t, Request::Shutdown { fd: s.fd, how }) };
        s.shut = OpState::InFlight;
    }

    /// Handles a shutdown completion.
    pub fn on_shutdown(&mut self, t: Token, res: i32, ring: &mut impl Submit) {
        if let Some(s) = self.get(t.index, t.gen) {
            s.shut = OpState::Done(res);
            wake(&mut s.waiter);
            if s.closing {
                self.maybe_close(t.index, ring);
            }
        }
    }

    /// Marks slot `idx` connecting (its connect was just submitted).
    pub fn set_connecting(&mut self, idx: u32, st: Box<crate::driver::ConnectState>) {
        let s = &mut self.slots[idx as usize];
        s.connect = OpState::InFlight;
        s.connect_state = Some(st);
    }

    /// Handles a connect completion; on success starts receiving.
    pub fn on_connect(&mut self, t: Token, res: i32, ring: &mut impl Submit) {
        let Some(s) = live_slot(&mut self.slots, t.index, t.gen) else {
            return;
        };
        s.connect_state = None;
        s.connect = OpState::Done(res);
        if res >= 0 {
            self.stats.connected += 1;
        }
        wake(&mut s.waiter);
        if s.closing {
            self.maybe_close(t.index, ring);
        }
    }

    /// Called by the connect future once it has seen the result.
    pub fn connect_seen(&mut self, idx: u32, ring: &mut impl Submit) {
        let s = &mut self.slots[idx as usize];
        s.connect = OpState::Idle;
        self.sync_recv(idx, ring);
    }

    /// The application dropped its handle: close once nothing is in flight.
    pub fn handle_dropped(&mut self, idx: u32, gen: u32, ring: &mut impl Submit, bufs: &Buffers) {
        let Some(s) = self.get(idx, gen) else {
            return;
        };
        s.handle = false;
        s.closing = true;
        s.reader = None;
        s.writer = None;
        s.waiter = None;
        while let Some((b, _)) = s.ready.pop_front() {
            bufs.recycle(b);
        }
        self.sync_recv(idx, ring);
        self.maybe_close(idx, ring);
    }

    fn maybe_close(&mut self, idx: u32, ring: &mut impl Submit) {
        let s = &mut self.slots[idx as usize];
        if !s.used || s.handle || s.close_sent {
            return;
        }
        if !s.out.is_empty() && s.write_err == 0 && s.sending.is_none() {
            self.start_send(idx, ring);
            return;
        }
        if s.blocks_close() {
            if s.connect == OpState::InFlight && !s.connect_cancel_sent {
                cancel(ring, s.fd, Op::Connect, idx, s.gen);
                s.connect_cancel_sent = true;
            }
            if s.recv_armed && !s.recv_cancel_sent {
                cancel(ring, s.fd, Op::Recv, idx, s.gen);
                s.recv_cancel_sent = true;
            }
            return;
        }
        let t = Token::new(Op::Close, idx, s.gen);
        // SAFETY: close references no memory.
        unsafe { ring.submit(t, Request::Close { fd: s.fd }) };
        s.close_sent = true;
    }

    /// Handles a close completion: frees the slot (or, if a zero-copy
    /// notification is still outstanding, marks it to be freed then).
    pub fn on_close(&mut self, t: Token, bufs: &Buffers) {
        let Some(s) = self.slots.get_mut(t.index as usize) else {
            return;
        };
        if !s.used || !crate::driver::same_gen(s.gen, t.gen) {
            return;
        }
        while let Some((b, _)) = s.ready.pop_front() {
            bufs.recycle(b);
        }
        if s.sending.is_some() {
            s.fd_closed = true;
            s.fd = -1;
            return;
        }
        self.release(t.index);
    }

    /// Frees slot `idx` once its socket is closed and the kernel holds
    /// nothing of it: queued output goes back to the pool, the generation
    /// moves on.
    fn release(&mut self, idx: u32) {
        let s = &mut self.slots[idx as usize];
        s.out.clear(&mut self.pool, &mut self.lease_returns);
        s.used = false;
        s.fd = -1;
        s.connect_state = None;
        s.gen = s.gen.wrapping_add(1);
        s.fd_closed = false;
        self.free.push(idx);
        self.live -= 1;
        self.stats.closed += 1;
    }

    /// Shuts down both directions of every open socket (forced shutdown):
    /// pending reads see end-of-stream, writes fail, handlers return.
    ///
    /// Nothing more is sent either (`ECONNABORTED`), so a closing slot whose
    /// zero-copy send waits on a peer that never reads is closed now rather
    /// than held until the peer reads (see `blocks_close`).
    pub fn abort_all(&mut self, ring: &mut impl Submit) {
        for idx in 0..self.slots.len() as u32 {
            let s = &mut self.slots[idx as usize];
            if !s.used || s.close_sent {
                continue;
            }
            // SAFETY: shutdown on a descriptor we own; no memory involved.
            unsafe { libc::shutdown(s.fd, libc::SHUT_RDWR) };
            // Never receive again: unread data must stay in the socket so
            // that close(2) resets the connection and a writing peer learns
            // at once that nobody reads.
            s.eof = true;
            if s.write_err == 0 {
                s.write_err = libc::ECONNABORTED;
            }
            if s.sending.is_none() {
                s.out.clear(&mut self.pool, &mut self.lease_returns);
            }
            wake(&mut s.writer);
            if s.closing {
                self.maybe_close(idx, ring);
            }
        }
    }

    /// Closes every socket still open without the ring (final teardown, when
    /// no operation is in flight any more).
    pub fn close_all_now(&mut self, bufs: &Buffers) {
        for s in self.slots.iter_mut() {
            if s.used && !s.close_sent {
                // SAFETY: we own the descriptor and nothing uses it any more.
                unsafe { libc::close(s.fd) };
                s.close_sent = true;
            }
            while let Some((b, _)) = s.ready.pop_front() {
                bufs.recycle(b);
            }
            s.out.clear(&mut self.pool, &mut self.lease_returns);
        }
    }
}
