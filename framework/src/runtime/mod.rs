//! The engine: one worker per thread, each with its own driver (io_uring or
//! epoll), receive buffer pool, connection slots, executor and timer wheel.
//!
//! Everything a worker owns is reached through a thread-local pointer set
//! while the worker runs; nothing here is shared between threads except the
//! remote queues (`remote.rs`).

mod blocking;
pub(crate) mod cpus;
mod executor;
pub(crate) mod file_io;
mod join;
pub(crate) mod mesh;
mod remote;
mod stats;
pub(crate) mod task_id;
pub mod time;
mod timer;
mod worker;

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::os::fd::RawFd;
use std::rc::Rc;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

pub use blocking::{
    blocking_pool_stats, spawn_blocking, Blocking, BlockingConfig, BlockingPanic,
    BlockingPoolStats, TryBlocking,
};
pub use join::JoinHandle;
pub(crate) use remote::{Msg, Remote};
pub(crate) use stats::SharedStats;
pub use stats::WorkerStats;
pub(crate) use worker::{NoConns, RunUntil, TypedTasks};

use crate::conn::{Conns, IoParams, RawLease, SockKind};
use crate::driver::{Backend, BufMem, Buffers, Driver, KernelSupport};
use executor::Executor;
use task_id::TaskId;
use timer::TimerWheel;

/// Settings a worker is started with.
#[derive(Clone, Debug)]
pub(crate) struct WorkerConfig {
    pub ring_entries: u32,
    pub buf_count: u16,
    pub buf_size: u32,
    pub params: IoParams,
    pub pool_bytes: usize,
    pub shutdown_timeout: Duration,
    pub cpu: Option<usize>,
    pub support: KernelSupport,
    /// The kernel interface the worker runs on.
    pub backend: Backend,
    pub nodelay: bool,
    pub keepalive: Option<Duration>,
    /// Completion batching for an idle loop: (events, microseconds).
    pub batch: Option<(u32, u32)>,
}

/// State shared by all workers of one runtime.
pub(crate) struct Shared {
    /// Remote queues of the workers, by worker index.
    pub remotes: Vec<Arc<Remote>>,
    /// Set once shutdown has begun.
    pub shutting_down: AtomicBool,
    /// The acceptor thread's queue, in `AcceptMode::Acceptor`.
    pub acceptor: std::sync::OnceLock<Arc<Remote>>,
    /// Published counters, by worker index.
    pub stats: Vec<SharedStats>,
    /// HTTP counters, by worker index (written by that worker only).
    pub http: Vec<crate::metrics::LiveHttpStats>,
    /// Worker threads that have finished (server workers only).
    pub exited: std::sync::atomic::AtomicUsize,
}

impl Shared {
    /// State for `n` workers with the given remote queues.
    pub fn new(remotes: Vec<Arc<Remote>>) -> Shared {
        Shared {
            stats: remotes.iter().map(|_| SharedStats::default()).collect(),
            http: remotes.iter().map(|_| Default::default()).collect(),
            remotes,
            shutting_down: AtomicBool::new(false),
            acceptor: std::sync::OnceLock::new(),
            exited: std::sync::atomic::AtomicUsize::new(0),
        }
    }
}

/// A listening socket served by this worker.
pub(crate) struct ListenerEntry {
    pub fd: RawFd,
    pub kind: SockKind,
    pub armed: bool,
    pub open: bool,
    pub cancel_sent: bool,
    /// Back-off after EMFILE and the like (ticks are milliseconds).
    pub backoff: crate::net::AcceptBackoff,
}

/// The worker's I/O state, borrowed as one unit so that handling a
/// completion can reach the driver, the slots and the listeners together.
pub(crate) struct Io {
    pub drv: Driver,
    pub conns: Conns,
    pub listeners: Vec<ListenerEntry>,
    /// Sockets accepted during this turn, to be given tasks.
    pub accepted: Vec<(RawFd, SockKind)>,
    /// Target of the eventfd read; boxed so its address is stable.
    pub efd_buf: Box<u64>,
    pub efd_armed: bool,
    pub timer_seq: u32,
    pub timer_armed: Option<u64>,
    /// File operations in flight on the ring (`file_io.rs`).
    pub files: file_io::FileOps,
}

/// Shutdown progress of a worker.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum Phase {
    Running,
    /// Not accepting; connections may finish until the tick.
    Draining(u64),
    /// Sockets were shut down; tasks are dropped at the tick.
    Forced(u64),
}

/// One worker: everything needed to run tasks and I/O on this thread.
pub(crate) struct Worker {
    /// Process-wide id (for wakers); index within the runtime is `index`.
    pub id: u16,
    pub index: usize,
    pub io: RefCell<Io>,
    pub bufs: Buffers,
    pub exec: Executor,
    pub timers: RefCell<TimerWheel>,
    pub remote: Arc<Remote>,
    pub shared: Arc<Shared>,
    pub cfg: WorkerConfig,
    pub phase: Cell<Phase>,
    /// The clock tick read at the start of the current loop turn.
    pub turn_tick: Cell<u64>,
    /// The same clock read, in nanoseconds.
    pub turn_ns: Cell<u64>,
    /// Clock (ns) when the worker started, for its busy time.
    pub started_ns: u64,
    /// When the next write-timeout sweep is due (only while some
    /// connection has output queued).
    pub sweep_at: Cell<Option<u64>>,
    /// (completions, microseconds): how long an idle loop waits for a batch.
    pub batch: Option<(u32, u32)>,
    /// Completions the next idle wait asks for (adapts to the load).
    pub batch_want: Cell<u32>,
    pub shutdown_waiters: RefCell<ShutdownWaiters>,
    /// Leases dropped while `io` was borrowed; returned at the next turn.
    pub deferred_leases: RefCell<Vec<RawLease>>,
    /// Layer work to run just before this round's sends ([`before_send`]).
    pub before_send: RefCell<Vec<Rc<dyn crate::conn::BeforeSend>>>,
}

thread_local! {
    static CURRENT: Cell<*const Worker> = const { Cell::new(std::ptr::null()) };
}

/// Runs `f` with the worker of this thread.
///
/// # Panics
/// When called outside a corering worker.
#[inline]
pub(crate) fn with<R>(f: impl FnOnce(&Worker) -> R) -> R {
    try_with(f).expect(
        "corering: this must be called on a corering worker thread (inside a server \
         handler, Runtime::block_on, or a task spawned there)",
    )
}

/// Runs `f` with the worker of this thread, if there is one.
#[inline]
pub(crate) fn try_with<R>(f: impl FnOnce(&Worker) -> R) -> Option<R> {
    let p = CURRENT.with(|c| c.get());
    if p.is_null() {
        None
    } else {
        // SAFETY: CURRENT is non-null only while `Worker::enter` keeps the
        // worker alive on this thread's stack.
        Some(f(unsafe { &*p }))
    }
}

/// Sets the thread's current worker for the duration of `f`.
pub(crate) fn enter<R>(w: &Worker, f: impl FnOnce() -> R) -> R {
    struct Reset(*const Worker);
    impl Drop for Reset {
        fn drop(&mut self) {
            CURRENT.with(|c| c.set(self.0));
        }
    }
    let prev = CURRENT.with(|c| c.replace(w as *const Worker));
    let _reset = Reset(prev);
    f()
}

/// Queues task `id` on its worker, locally or through the remote queue.
pub(crate) fn schedule(id: TaskId) {
    let local = try_with(|w| {
        if w.id == id.worker() {
            w.exec.schedule(id);
            true
        } else {
            false
        }
    });
    if local != Some(true) {
        remote::wake_remote(id);
    }
}

/// Returns a dropped lease's buffer to its ring.
pub(crate) fn release_lease(mem: &Rc<BufMem>, raw: RawLease) {
    try_with(|w| {
        if !Rc::ptr_eq(w.bufs.mem(), mem) {
            // The lease outlived its worker (or moved to another runtime on
            // this thread): the memory stays mapped until the Rc drops.
            return;
        }
        w.bufs.recycle(raw.bid);
        match w.io.try_borrow_mut() {
            Ok(mut io) => {
                let io = &mut *io;
                io.conns.lease_returned(raw.conn, raw.gen, &mut io.drv);
            }
            Err(_) => w.deferred_leases.borrow_mut().push(raw),
        }
    });
}

/// Runs `work` once, on this worker, just before the sends of the current
/// round are submitted (a layer finishing what it gathered this round).
#[cfg_attr(not(feature = "tls"), allow(dead_code))]
pub(crate) fn before_send(work: Rc<dyn crate::conn::BeforeSend>) {
    with(|w| w.before_send.borrow_mut().push(work));
}

/// Returns a lease that was taken apart for the send queue but not queued.
pub(crate) fn release_lease_later(raw: RawLease) {
    try_with(|w| {
        w.bufs.recycle(raw.bid);
        w.deferred_leases.borrow_mut().push(raw);
    });
}

/// Spawns a task on the current worker.
///
/// The task runs on this thread only (it need not be `Send`). Returns a
/// handle that resolves to the task's output.
///
/// # Panics
/// When called outside a corering worker.
///
/// ```no_run
/// # async fn f() {
/// let h = corering::spawn_local(async { 1 + 1 });
/// assert_eq!(h.await, 2);
/// # }
/// ```
pub fn spawn_local<F>(fut: F) -> JoinHandle<F::Output>
where
    F: Future + 'static,
{
    let (task, handle) = join::pair(fut);
    with(|w| w.exec.spawn_boxed(Box::pin(task)));
    handle
}

/// Index of the current worker within its runtime (0-based).
///
/// # Panics
/// When called outside a corering worker.
pub fn worker_index() -> usize {
    with(|w| w.index)
}

/// Number of workers in the current runtime.
///
/// # Panics
/// When called outside a corering worker.
pub fn worker_count() -> usize {
    with(|w| w.shared.remotes.len())
}

/// The millisecond tick at which this worker's current loop turn began
/// (`None` off a worker): a clock that costs no system call, for values
/// that may be a turn old, such as the HTTP `Date` header. Never use it
/// for deadlines: they would come early.
#[inline]
pub(crate) fn turn_tick() -> Option<u64> {
    try_with(|w| w.turn_tick.get())
}

/// The monotonic clock (`CLOCK_MONOTONIC`) at the start of this
/// worker's current loop turn, in nanoseconds (`None` off a worker): the
/// time the turn's requests were taken from the kernel, free to read. A
/// span measured from it includes the time spent earlier in the turn.
#[inline]
pub(crate) fn turn_ns() -> Option<u64> {
    try_with(|w| w.turn_ns.get())
}

/// True once the server has begun shutting down; long-lived handlers (such
/// as keep-alive loops) should finish their current exchange and return.
///
/// Returns false outside a worker.
pub fn is_shutting_down() -> bool {
    try_with(|w| w.phase.get() != Phase::Running).unwrap_or(false)
}

/// Resolves when the server begins shutting down.
///
/// # Panics
/// When polled outside a corering worker.
pub fn shutdown_requested() -> ShutdownRequested {
    ShutdownRequested { slot: None }
}

/// Future returned by [`shutdown_requested`].
#[derive(Debug)]
#[must_use = "futures do nothing unless polled"]
pub struct ShutdownRequested {
    /// Where this future's waker is registered, once polled.
    slot: Option<usize>,
}

/// Wakers of pending [`ShutdownRequested`] futures. Each future keeps one
/// slot for its lifetime (re-polling replaces the waker in place) and frees
/// it when dropped, so a handler that races shutdown against every read
/// neither allocates per poll nor grows the list.
#[derive(Default)]
pub(crate) struct ShutdownWaiters {
    slots: Vec<Option<std::task::Waker>>,
    free: Vec<usize>,
}

impl ShutdownWaiters {
    fn register(&mut self, slot: &mut Option<usize>, waker: &std::task::Waker) {
        let i = *slot.get_or_insert_with(|| match self.free.pop() {
            Some(i) => i,
            None => {
                self.slots.push(None);
                self.slots.len() - 1
            }
        });
        match &mut self.slots[i] {
            Some(w) if w.will_wake(waker) => {}
            other => *other = Some(waker.clone()),
        }
    }

    fn release(&mut self, slot: usize) {
        self.slots[slot] = None;
        self.free.push(slot);
    }

    /// Wakes every registered future (their slots stay theirs).
    pub(crate) fn wake_all(&mut self) {
        for w in self.slots.iter_mut().filter_map(Option::take) {
            w.wake();
        }
    }
}

impl Future for ShutdownRequested {
    type Output = ();
    fn poll(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<()> {
        with(|w| {
            if w.phase.get() != Phase::Running {
                std::task::Poll::Ready(())
            } else {
                let this = self.get_mut();
                w.shutdown_waiters
                    .borrow_mut()
                    .register(&mut this.slot, cx.waker());
                std::task::Poll::Pending
            }
        })
    }
}

impl Drop for ShutdownRequested {
    fn drop(&mut self) {
        if let Some(slot) = self.slot {
            // Off the worker (its teardown already dropped the list) there
            // is nothing to release.
            try_with(|w| w.shutdown_waiters.borrow_mut().release(slot));
        }
    }
}
