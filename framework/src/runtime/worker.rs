//! The worker loop: poll ready tasks, submit, reap completions in batches,
//! dispatch each by its token.
//!
//! ```text
//!  ┌─► run queued tasks (bounded batch)
//!  │   return leases dropped during the batch
//!  │   fire due timers, sweep write timeouts if due, check shutdown phase
//!  │   submit sends for dirty slots, re-arm starved receives, arm timeout
//!  │   driver wait (io_uring_enter or epoll_wait; blocks only if no task is ready;
//!  │   the time spent waiting is the worker's idle time)
//!  │   reap completions in batches of 256 and dispatch by token
//!  └── give accepted sockets their tasks
//! ```

use std::future::Future;
use std::io;
use std::os::fd::RawFd;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::task::Context;

use super::executor::Executor;
use super::remote::{self, Msg, Remote};
use super::task_id::{TaskId, TaskKind};
use super::time::{deadline_tick, ms_to_tick, now_ns, now_tick, ns_to_tick};
use super::timer::TimerWheel;
use super::{Io, ListenerEntry, Phase, Shared, Worker, WorkerConfig};
use crate::conn::{Connection, Conns, SockKind};
use crate::driver::op::more;
use crate::driver::{is_transient, Completion, Driver, Op, Request, Submit, Token, Wait};

/// Where connection tasks live: a typed slab owned by the loop, so that
/// accepting a connection allocates nothing once the slab is warm.
pub(crate) trait ConnTasks {
    /// Creates the task for a new connection.
    fn spawn(&mut self, w: &Worker, conn: Connection);
    /// Polls the task named by `id`.
    fn poll(&mut self, w: &Worker, id: TaskId);
    /// Number of live connection tasks.
    fn live(&self) -> usize;
    /// Drops every task (forced shutdown).
    fn drop_all(&mut self, w: &Worker);
}

/// A worker with no connection handler (clients, `block_on`).
pub(crate) struct NoConns;

impl ConnTasks for NoConns {
    fn spawn(&mut self, _w: &Worker, conn: Connection) {
        drop(conn);
    }
    fn poll(&mut self, _w: &Worker, _id: TaskId) {}
    fn live(&self) -> usize {
        0
    }
    fn drop_all(&mut self, _w: &Worker) {}
}

const PAGE: usize = 64;

/// Connection tasks of one handler type, in pages that never move.
pub(crate) struct TypedTasks<H, F> {
    handler: Arc<H>,
    pages: Vec<Box<[Option<F>]>>,
    free: Vec<u32>,
    next: u32,
    live: usize,
}

impl<H, F> TypedTasks<H, F>
where
    H: Fn(Connection) -> F,
    F: Future<Output = ()>,
{
    pub fn new(handler: Arc<H>) -> Self {
        TypedTasks {
            handler,
            pages: Vec::new(),
            free: Vec::new(),
            next: 0,
            live: 0,
        }
    }

    fn slot(&mut self, index: u32) -> &mut Option<F> {
        &mut self.pages[index as usize / PAGE][index as usize % PAGE]
    }
}

impl<H, F> ConnTasks for TypedTasks<H, F>
where
    H: Fn(Connection) -> F,
    F: Future<Output = ()>,
{
    fn spawn(&mut self, w: &Worker, conn: Connection) {
        let index = match self.free.pop() {
            Some(i) => i,
            None => {
                let i = self.next;
                self.next += 1;
                if i as usize / PAGE >= self.pages.len() {
                    self.pages.push((0..PAGE).map(|_| None).collect());
                }
                i
            }
        };
        let fut = (self.handler)(conn);
        *self.slot(index) = Some(fut);
        self.live += 1;
        w.exec.conn_started(index);
    }

    fn poll(&mut self, w: &Worker, id: TaskId) {
        if !w.exec.conn_current(id) {
            return;
        }
        let index = id.index();
        let waker = id.waker();
        let mut cx = Context::from_waker(&waker);
        let slot = self.slot(index);
        let Some(fut) = slot.as_mut() else {
            return;
        };
        // SAFETY: pages are boxed slices that are never moved or resized; the
        // future stays at this address until it is dropped in place below.
        let fut = unsafe { Pin::new_unchecked(fut) };
        // A panicking handler ends only its own connection: the task is
        // dropped as if it had finished (the panic hook reported it).
        let done = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            fut.poll(&mut cx).is_ready()
        }))
        .unwrap_or(true);
        if done {
            // Dropped in place; its Connection handle closes the socket.
            *slot = None;
            w.exec.conn_finished(index);
            self.free.push(index);
            self.live -= 1;
        }
    }

    fn live(&self) -> usize {
        self.live
    }

    fn drop_all(&mut self, w: &Worker) {
        for index in 0..self.next {
            if self.slot(index).take().is_some() {
                w.exec.conn_finished(index);
                self.free.push(index);
                self.live -= 1;
            }
        }
    }
}

/// How long the worker keeps running.
pub(crate) enum RunUntil<'a> {
    /// Serve until shutdown completes.
    Shutdown,
    /// Run until the predicate turns true (used by `block_on`).
    Done(&'a dyn Fn() -> bool),
}

const TASK_BUDGET: usize = 256;
const CQE_BATCH: usize = 256;

impl Worker {
    /// Creates the worker on the current thread: driver, buffers, slots.
    pub fn new(
        index: usize,
        cfg: WorkerConfig,
        shared: Arc<Shared>,
        remote: Arc<Remote>,
        listeners: Vec<(RawFd, SockKind)>,
    ) -> io::Result<Worker> {
        if let Some(cpu) = cfg.cpu {
            pin_to_cpu(cpu)?;
        }
        let drv = Driver::new(cfg.backend, cfg.ring_entries)?;
        let bufs = drv.buffers(cfg.buf_count, cfg.buf_size)?;
        let id = remote::register(remote.clone());
        let conns = Conns::new(cfg.params, cfg.support.send_zc, cfg.pool_bytes);
        let listeners = listeners
            .into_iter()
            .map(|(fd, kind)| ListenerEntry {
                fd,
                kind,
                armed: false,
                open: true,
                cancel_sent: false,
                backoff: Default::default(),
            })
            .collect();
        // Batching needs a driver that can do it without holding a lone
        // completion back (io_uring with min-wait and DEFER_TASKRUN).
        let batch = cfg.batch.filter(|_| drv.can_batch());
        Ok(Worker {
            batch,
            batch_want: std::cell::Cell::new(1),
            id,
            index,
            io: std::cell::RefCell::new(Io {
                drv,
                conns,
                listeners,
                accepted: Vec::new(),
                efd_buf: Box::new(0),
                efd_armed: false,
                timer_seq: 0,
                timer_armed: None,
                files: super::file_io::FileOps::new(
                    cfg.backend == crate::driver::Backend::IoUring && cfg.support.files,
                ),
            }),
            bufs,
            exec: Executor::new(id),
            timers: std::cell::RefCell::new(TimerWheel::new(now_tick())),
            remote,
            shared,
            cfg,
            phase: std::cell::Cell::new(Phase::Running),
            turn_tick: std::cell::Cell::new(now_tick()),
            turn_ns: std::cell::Cell::new(now_ns()),
            started_ns: now_ns(),
            sweep_at: std::cell::Cell::new(None),
            shutdown_waiters: Default::default(),
            deferred_leases: std::cell::RefCell::new(Vec::new()),
            before_send: std::cell::RefCell::new(Vec::new()),
        })
    }

    /// Runs the loop; returns after shutdown (or when `until` is done).
    pub fn run(&self, tasks: &mut dyn ConnTasks, until: RunUntil<'_>) {
        super::enter(self, || {
            self.arm_listeners();
            let mut cqes = [Completion::default(); CQE_BATCH];
            let mut msgs = Vec::new();
            // The clock read that ended the last wait, if the turn waited:
            // it serves as the next turn's tick (two clock reads per turn).
            let mut woke: Option<u64> = None;
            loop {
                let turn_ns = woke.take().unwrap_or_else(now_ns);
                // The clock HTTP request durations are measured with.
                if let Some(h) = self.shared.http.get(self.index) {
                    h.set_clock(turn_ns);
                }
                self.turn_tick.set(ns_to_tick(turn_ns));
                self.turn_ns.set(turn_ns);
                self.run_tasks(tasks);
                let ns = now_ns();
                let now = ns_to_tick(ns);
                self.timers.borrow_mut().advance(now);
                if self.sweep_at.get().is_some_and(|t| now >= t) {
                    self.sweep_write_timeouts(now);
                }
                match &until {
                    RunUntil::Done(done) if done() => break,
                    RunUntil::Shutdown if self.shutdown_step(tasks, now) => break,
                    _ => {}
                }
                woke = self.turn(&mut cqes, &mut msgs, tasks, ns);
            }
            self.teardown(tasks);
        });
    }

    fn run_tasks(&self, tasks: &mut dyn ConnTasks) {
        for _ in 0..TASK_BUDGET {
            let Some(id) = self.exec.pop() else { break };
            match id.kind() {
                TaskKind::Conn => tasks.poll(self, id),
                TaskKind::Boxed => self.exec.poll_boxed(id),
            }
        }
        self.return_deferred_leases();
    }

    /// Runs the layer work registered for the end of this round (TLS
    /// seals the records it gathered), so it leaves with this round's
    /// sends. The list keeps its capacity: nothing is allocated per round.
    fn run_before_send(&self, conns: &mut crate::conn::Conns) {
        if self.before_send.borrow().is_empty() {
            return;
        }
        let mut list = std::mem::take(&mut *self.before_send.borrow_mut());
        for work in list.drain(..) {
            work.before_send(conns);
        }
        let mut slot = self.before_send.borrow_mut();
        if slot.is_empty() {
            *slot = list;
        }
    }

    fn return_deferred_leases(&self) {
        let mut io = self.io.borrow_mut();
        let io = &mut *io;
        // Leases dropped while `io` was borrowed: buffers already recycled.
        if !self.deferred_leases.borrow().is_empty() {
            let mut list = std::mem::take(&mut *self.deferred_leases.borrow_mut());
            for raw in list.drain(..) {
                io.conns.lease_returned(raw.conn, raw.gen, &mut io.drv);
            }
            *self.deferred_leases.borrow_mut() = list;
        }
        // Leases whose sends finished: they still own their buffers.
        let mut list = Vec::new();
        io.conns.take_lease_returns(&mut list);
        for raw in list.drain(..) {
            self.bufs.recycle(raw.bid);
            io.conns.lease_returned(raw.conn, raw.gen, &mut io.drv);
        }
        io.conns.take_lease_returns(&mut list);
    }

    /// Runs the write-timeout sweep and schedules the next one while some
    /// connection still has output queued (none otherwise, so an idle
    /// worker is never woken for it).
    fn sweep_write_timeouts(&self, now: u64) {
        let mut io = self.io.borrow_mut();
        let io = &mut *io;
        io.conns.sweep_write_timeouts(now, &mut io.drv);
        self.sweep_at.set(
            io.conns
                .has_pending_out()
                .then(|| now + io.conns.sweep_interval_ms()),
        );
    }

    /// One submit-and-reap round; `ns` is the clock read after this turn's
    /// tasks ran. Returns the clock read that ended the wait, if it waited.
    fn turn(
        &self,
        cqes: &mut [Completion],
        msgs: &mut Vec<Msg>,
        tasks: &mut dyn ConnTasks,
        ns: u64,
    ) -> Option<u64> {
        let woke;
        {
            let mut io = self.io.borrow_mut();
            let io = &mut *io;
            self.run_before_send(&mut io.conns);
            io.conns.flush_dirty(&mut io.drv);
            io.conns.rearm_starved(&mut io.drv, &self.bufs);
            if !io.efd_armed {
                let fd = self.remote.fd();
                let buf: *mut u64 = &mut *io.efd_buf;
                let t = Token::new(Op::Remote, 0, 0);
                // SAFETY: efd_buf is boxed and lives as long as the driver.
                unsafe { io.drv.submit(t, Request::ReadEventfd { fd, buf }) };
                io.efd_armed = true;
            }
            if self.phase.get() == Phase::Running {
                self.arm_listeners_io(io);
            }
            if self.sweep_at.get().is_none() && io.conns.has_pending_out() {
                let now = ns_to_tick(ns);
                self.sweep_at.set(Some(now + io.conns.sweep_interval_ms()));
            }
            self.arm_timer(io);
            io.conns.now = ns_to_tick(ns);
            let st = &mut io.conns.stats;
            (st.enters, st.submitted) = io.drv.counts();
            st.busy_ns = ns.saturating_sub(self.started_ns + st.idle_ns);
            let wait = self.exec.is_idle() && self.deferred_leases.borrow().is_empty();
            if let Some(s) = self.shared.stats.get(self.index) {
                // A waiting turn publishes when its wait starts, so readers
                // can count a long sleep as idle while it lasts.
                s.publish(st, if wait { ns } else { 0 });
            }
            let how = match self.batch {
                Some((_, min_us)) if wait => Wait::Batch {
                    want: self.batch_want.get(),
                    min_us,
                },
                _ if wait => Wait::Block,
                _ => Wait::Poll,
            };
            if let Err(e) = io.drv.wait(how, Some(&self.bufs)) {
                if !is_transient(&e) {
                    panic!("corering: waiting for I/O failed: {e}");
                }
            }
            woke = wait.then(now_ns);
            if let Some(t) = woke {
                io.conns.stats.idle_ns += t.saturating_sub(ns);
                // Completions of this turn (send progress) carry the time
                // the wait ended, not the time it began.
                io.conns.now = ns_to_tick(t);
            }
        }
        let mut reaped = 0;
        loop {
            let n = self.io.borrow_mut().drv.reap(cqes);
            reaped += n;
            for c in &cqes[..n] {
                self.dispatch(*c, msgs);
            }
            if n < cqes.len() {
                break;
            }
        }
        if let Some((max, _)) = self.batch {
            // Adaptive batch: wait next time for a little more than this turn
            // brought. A lone request/response connection brings one or two
            // completions per turn, so it never waits for more than it gets;
            // under load the target grows turn by turn up to `max`.
            let want = reaped as u32 + reaped as u32 / 4;
            self.batch_want.set(want.clamp(1, max));
        }
        if !msgs.is_empty() {
            self.handle_msgs(msgs);
        }
        let accepted = std::mem::take(&mut self.io.borrow_mut().accepted);
        let mut accepted = accepted;
        for (fd, kind) in accepted.drain(..) {
            self.serve_socket(fd, kind, tasks);
        }
        let mut io = self.io.borrow_mut();
        if io.accepted.is_empty() {
            io.accepted = accepted;
        }
        woke
    }

    fn arm_timer(&self, io: &mut Io) {
        let earliest = |a: Option<u64>, b: Option<u64>| match (a, b) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let mut next = self.timers.borrow().next_tick();
        if let Phase::Draining(d) | Phase::Forced(d) = self.phase.get() {
            next = earliest(next, Some(d));
        }
        next = earliest(next, self.sweep_at.get());
        // A listener backing off after EMFILE is re-armed at its retry tick
        // (listeners whose back-off is over were re-armed just before this).
        if self.phase.get() == Phase::Running {
            for l in io.listeners.iter().filter(|l| l.open && !l.armed) {
                next = earliest(next, l.backoff.retry_at());
            }
        }
        let Some(next) = next else { return };
        let at_ns = next * super::time::NS_PER_TICK;
        if let Some(armed) = io.timer_armed {
            if armed <= next {
                return;
            }
            // Move the armed timeout earlier rather than adding a second
            // one: a stale timeout left in the kernel would fire for
            // nothing later and hold up teardown until it did.
            let target = Token::new(Op::Timer, 0, io.timer_seq);
            let t = Token::new(Op::Ignore, 0, 0);
            // SAFETY: a timeout update references no memory of ours.
            unsafe { io.drv.submit(t, Request::TimeoutUpdate { target, at_ns }) };
            io.timer_armed = Some(next);
            return;
        }
        io.timer_seq = io.timer_seq.wrapping_add(1);
        let t = Token::new(Op::Timer, 0, io.timer_seq);
        // SAFETY: a timeout references no memory of ours.
        unsafe { io.drv.submit(t, Request::Timeout { at_ns }) };
        io.timer_armed = Some(next);
    }

    fn dispatch(&self, c: Completion, msgs: &mut Vec<Msg>) {
        let t = Token::decode(c.user_data);
        let mut io = self.io.borrow_mut();
        let io = &mut *io;
        if !more(c.flags) {
            io.drv.inflight -= 1;
        }
        match t.op {
            Op::Ignore | Op::AcceptCancel => {}
            Op::Recv => io
                .conns
                .on_recv(t, c.result, c.flags, &mut io.drv, &self.bufs),
            Op::Send => io.conns.on_send(t, c.result, c.flags, &mut io.drv),
            Op::Close => io.conns.on_close(t, &self.bufs),
            Op::Shutdown => io.conns.on_shutdown(t, c.result, &mut io.drv),
            Op::Connect => io.conns.on_connect(t, c.result, &mut io.drv),
            Op::Accept => self.on_accept(io, t.index, c.result, c.flags),
            Op::File => io.files.complete(t, c.result, &mut io.drv),
            Op::Timer => {
                if crate::driver::same_gen(t.gen, io.timer_seq) {
                    io.timer_armed = None;
                }
            }
            Op::Remote => {
                io.efd_armed = false;
                self.remote.take(msgs);
            }
        }
    }

    fn on_accept(&self, io: &mut Io, index: u32, res: i32, flags: u32) {
        let Some(l) = io.listeners.get_mut(index as usize) else {
            if res >= 0 {
                // SAFETY: a socket we were handed and will not use.
                unsafe { libc::close(res) };
            }
            return;
        };
        if !more(flags) {
            l.armed = false;
        }
        if res >= 0 {
            io.accepted.push((res, l.kind));
            if l.backoff.on_success() {
                eprintln!("corering: accept: worker {} accepting again", self.index);
            }
        } else {
            // Out of descriptors or memory: no accept for 100 ms (the loop's
            // timeout includes the retry time, see `arm_timer`), said once
            // per episode.
            let index = self.index;
            let log =
                |what: &str| eprintln!("corering: accept: {what}; worker {index} backing off");
            if l.backoff.on_error(-res, now_tick(), log) {
                io.conns.stats.accept_errors += 1;
            }
        }
        if !l.armed && self.phase.get() == Phase::Running {
            self.arm_listeners_io(io);
        } else if !l.armed && l.open {
            close_listener(l);
        }
    }

    fn arm_listeners(&self) {
        let mut io = self.io.borrow_mut();
        self.arm_listeners_io(&mut io);
    }

    fn arm_listeners_io(&self, io: &mut Io) {
        // Read the clock only when some listener needs arming (rarely: a
        // multishot accept stays armed).
        let mut now = None;
        for (i, l) in io.listeners.iter_mut().enumerate() {
            if !l.open || l.armed {
                continue;
            }
            let now = *now.get_or_insert_with(now_tick);
            if l.backoff.waiting_until(now).is_none() {
                let t = Token::new(Op::Accept, i as u32, 0);
                // SAFETY: multishot accept without an address references no
                // memory.
                unsafe { io.drv.submit(t, Request::Accept { fd: l.fd }) };
                l.armed = true;
            }
        }
    }

    /// Gives an accepted (or handed-over) socket its slot and task.
    fn serve_socket(&self, fd: RawFd, kind: SockKind, tasks: &mut dyn ConnTasks) {
        if self.phase.get() != Phase::Running {
            // SAFETY: a socket we own and will not serve.
            unsafe { libc::close(fd) };
            return;
        }
        if kind == SockKind::Tcp {
            crate::net::tune_accepted(fd, self.cfg.nodelay, self.cfg.keepalive);
        }
        let (idx, gen) = {
            let mut io = self.io.borrow_mut();
            let io = &mut *io;
            let (idx, gen) = io.conns.open(fd, kind);
            io.conns.stats.accepted += 1;
            io.conns.sync_recv(idx, &mut io.drv);
            (idx, gen)
        };
        tasks.spawn(self, Connection::from_slot(self.id, idx, gen, fd, kind));
    }

    fn handle_msgs(&self, msgs: &mut Vec<Msg>) {
        for m in msgs.drain(..) {
            match m {
                Msg::Wake(id) => self.exec.schedule(id),
                Msg::Conn(fd, kind) => self.io.borrow_mut().accepted.push((fd, kind)),
                Msg::Run(f) => f(),
                Msg::Shutdown => self.begin_shutdown(),
                Msg::ForceShutdown => {
                    self.begin_shutdown();
                    self.phase.set(Phase::Draining(0));
                }
            }
        }
    }

    /// Stops accepting and starts the grace period.
    pub(crate) fn begin_shutdown(&self) {
        if self.phase.get() != Phase::Running {
            return;
        }
        // Rounded up: the grace period is never shorter than configured.
        let deadline = deadline_tick(self.cfg.shutdown_timeout);
        self.phase.set(Phase::Draining(deadline));
        let mut guard = self.io.borrow_mut();
        let io = &mut *guard;
        for (i, l) in io.listeners.iter_mut().enumerate() {
            if l.armed && !l.cancel_sent {
                let target = Token::new(Op::Accept, i as u32, 0);
                let t = Token::new(Op::AcceptCancel, i as u32, 0);
                let fd = l.fd;
                // SAFETY: a cancel references no memory.
                unsafe { io.drv.submit(t, Request::Cancel { fd, target }) };
                l.cancel_sent = true;
            } else if !l.armed && l.open {
                close_listener(l);
            }
        }
        drop(guard);
        self.shutdown_waiters.borrow_mut().wake_all();
    }

    /// Advances shutdown; returns true when the worker may exit.
    fn shutdown_step(&self, tasks: &mut dyn ConnTasks, now: u64) -> bool {
        if self.phase.get() == Phase::Running && self.shared.shutting_down.load(Ordering::Acquire) {
            self.begin_shutdown();
        }
        match self.phase.get() {
            Phase::Running => false,
            Phase::Draining(deadline) => {
                if tasks.live() == 0 && self.listeners_closed() {
                    return true;
                }
                if now >= deadline {
                    // Grace period over: make every socket return EOF/errors so
                    // handlers finish, and give them a moment to do so.
                    {
                        let mut io = self.io.borrow_mut();
                        let io = &mut *io;
                        io.conns.abort_all(&mut io.drv);
                    }
                    self.phase.set(Phase::Forced(now + ms_to_tick(1000)));
                }
                false
            }
            Phase::Forced(deadline) => {
                if tasks.live() == 0 && self.listeners_closed() {
                    return true;
                }
                if now >= deadline {
                    tasks.drop_all(self);
                    return true;
                }
                false
            }
        }
    }

    fn listeners_closed(&self) -> bool {
        self.io.borrow().listeners.iter().all(|l| !l.open)
    }

    /// Drops all tasks, closes everything and waits until the kernel holds
    /// no operation of ours, so no memory or socket outlives the worker.
    fn teardown(&self, tasks: &mut dyn ConnTasks) {
        // Dropping tasks drops their Connection handles: each slot then
        // flushes what is queued, cancels its receive and closes.
        tasks.drop_all(self);
        self.exec.drop_boxed();
        self.return_deferred_leases();
        let start = now_tick();
        let tick = std::time::Duration::from_millis(50);
        let mut cqes = [Completion::default(); CQE_BATCH];
        let mut msgs = Vec::new();
        let mut last_cancel = None;
        loop {
            {
                let mut io = self.io.borrow_mut();
                let io = &mut *io;
                self.run_before_send(&mut io.conns);
                io.conns.flush_dirty(&mut io.drv);
                if io.drv.inflight == 0 {
                    break;
                }
                let housekeeping = io.efd_armed as usize + io.timer_armed.is_some() as usize;
                let settled = io.conns.live() == 0 && io.drv.inflight <= housekeeping;
                let late = now_tick() > start + ms_to_tick(500);
                let due = last_cancel.is_none_or(|t| now_tick() > t + ms_to_tick(100));
                if (settled || late) && due {
                    if late {
                        io.conns.abort_all(&mut io.drv);
                    }
                    let t = Token::new(Op::Ignore, 0, 0);
                    // SAFETY: a cancel references no memory.
                    unsafe { io.drv.submit(t, Request::CancelAll) };
                    last_cancel = Some(now_tick());
                }
                // Wait at most 50 ms so the deadlines above are checked.
                if let Err(e) = io.drv.wait(Wait::Timeout(tick), Some(&self.bufs)) {
                    if !is_transient(&e) {
                        break;
                    }
                }
            }
            loop {
                let n = self.io.borrow_mut().drv.reap(&mut cqes);
                for c in &cqes[..n] {
                    self.dispatch(*c, &mut msgs);
                }
                if n < cqes.len() {
                    break;
                }
            }
            // Late messages are dropped; sockets among them are closed.
            msgs.drain(..).for_each(remote::discard);
            self.return_deferred_leases();
        }
        {
            let mut io = self.io.borrow_mut();
            let io = &mut *io;
            io.conns.close_all_now(&self.bufs);
            for l in io.listeners.iter_mut().filter(|l| l.open) {
                close_listener(l);
            }
        }
        // From now on messages to this worker are dropped on arrival, so a
        // cross-worker call to it fails instead of waiting forever.
        self.remote.close();
        remote::unregister(self.id);
    }
}
fn close_listener(l: &mut ListenerEntry) {
    // SAFETY: the worker owns this descriptor; no accept is armed on it.
    unsafe { libc::close(l.fd) };
    l.open = false;
}

/// Pins the calling thread to one CPU.
fn pin_to_cpu(cpu: usize) -> io::Result<()> {
    // SAFETY: cpu_set_t is a plain bit set; CPU_SET writes inside it.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu, &mut set);
        if libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) != 0 {
            return Err(crate::error::context(
                &format!("pinning worker to CPU {cpu}"),
                io::Error::last_os_error(),
            ));
        }
    }
    Ok(())
}
