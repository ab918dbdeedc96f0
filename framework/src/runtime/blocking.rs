//! Blocking work off the workers: [`spawn_blocking`] runs a closure on a
//! small process-wide thread pool and hands its result back to the task
//! that awaits it.
//!
//! ```text
//!  worker task ── spawn_blocking(f) ──► Pool queue ──► pool thread runs f
//!      ▲                                                    │
//!      └── waker: the task's own worker, through its remote ┘
//!          queue and eventfd (runtime/remote.rs)
//! ```
//!
//! One allocation per call: the job (closure, then its result, and the
//! waiter's waker) lives in one `Arc` shared by the queue and the
//! [`Blocking`] future. The waker is the awaiting task's own, so a corering
//! task is woken on the worker it belongs to (a wake from a pool thread goes
//! through that worker's remote queue), whichever backend runs it; any other
//! executor's waker works as well.
//!
//! The pool starts no thread until the first call, grows one thread at a
//! time while every thread is busy (up to [`BlockingConfig::max_threads`]),
//! and a thread that has waited [`BlockingConfig::idle_timeout`] for work
//! exits. Idle threads sleep on a condition variable: nothing spins.

use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

/// Settings of the process-wide blocking pool.
///
/// Install them with [`BlockingConfig::install`] before the first
/// [`spawn_blocking`]; otherwise the defaults apply, with
/// `CORERING_BLOCKING_THREADS` (if set to a positive number) as the thread
/// limit.
///
/// ```
/// use std::time::Duration;
/// use corering::task::BlockingConfig;
///
/// let installed = BlockingConfig::new()
///     .max_threads(16)
///     .idle_timeout(Duration::from_secs(30))
///     .install();
/// // Fails only if the pool was configured or used before.
/// assert!(installed.is_ok());
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlockingConfig {
    max_threads: usize,
    idle_timeout: Duration,
}

/// Default thread limit of the blocking pool.
const DEFAULT_MAX_THREADS: usize = 64;
/// Default time an idle pool thread waits for work before it exits.
const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(10);

impl Default for BlockingConfig {
    fn default() -> Self {
        BlockingConfig::new()
    }
}

impl BlockingConfig {
    /// The defaults: at most 64 threads (or `CORERING_BLOCKING_THREADS`),
    /// each exiting after 10 s without work.
    pub fn new() -> BlockingConfig {
        let max_threads = std::env::var("CORERING_BLOCKING_THREADS")
            .ok()
            .and_then(|v| v.trim().parse::<usize>().ok())
            .filter(|&n| n > 0)
            .unwrap_or(DEFAULT_MAX_THREADS);
        BlockingConfig {
            max_threads,
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
        }
    }

    /// At most `n` threads run closures at once (at least 1); further calls
    /// wait in a queue, first come first served.
    pub fn max_threads(mut self, n: usize) -> BlockingConfig {
        self.max_threads = n.max(1);
        self
    }

    /// A thread with no work for `d` exits (the pool starts it again when
    /// work comes).
    pub fn idle_timeout(mut self, d: Duration) -> BlockingConfig {
        self.idle_timeout = d;
        self
    }

    /// Makes these the pool's settings. Fails, giving the settings back,
    /// once the pool has been configured or used.
    pub fn install(self) -> Result<(), BlockingConfig> {
        let mut cfg = Some(self);
        POOL.get_or_init(|| Pool::new(cfg.take().expect("taken once")));
        match cfg {
            None => Ok(()),
            Some(cfg) => Err(cfg),
        }
    }
}

/// Runs `f` on the blocking pool and returns a future of its result.
///
/// Use it for anything that would stall a worker: blocking file system
/// calls, CPU-heavy work, synchronous libraries. The closure starts at once
/// (the future need not be polled for that); awaiting the future suspends
/// only the calling task, and the worker goes on serving its other
/// connections.
///
/// Works from any thread, on or off a worker: the result comes back through
/// the awaiting task's waker, which for a corering task wakes it on its own
/// worker.
///
/// # Panics
/// A panic in `f` is caught on the pool thread (which survives it) and
/// resumed, with the same payload, where the future is awaited. In an HTTP
/// handler that makes it a `500` like any handler panic; use
/// [`Blocking::try_wait`] to get it as an `Err` instead.
///
/// # Dropping
/// Dropping the future does not stop the closure (a thread cannot be
/// interrupted safely): it runs to the end and its result is dropped on the
/// pool thread (or where the future is dropped, if it had finished).
///
/// # Cost
/// One allocation per call (the job with its result slot), and one
/// cross-thread wake to the worker when it finishes.
///
/// ```no_run
/// # async fn f() -> std::io::Result<()> {
/// let text = corering::spawn_blocking(|| std::fs::read_to_string("/etc/hostname")).await?;
/// # Ok(()) }
/// ```
pub fn spawn_blocking<F, T>(f: F) -> Blocking<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    let job = Arc::new(Job {
        state: Mutex::new(JobState {
            stage: Stage::Queued(f),
            waker: None,
            detached: false,
        }),
    });
    pool().push(job.clone());
    Blocking { job: Some(job) }
}

/// A closure's panic payload, as caught by [`Blocking::try_wait`].
pub struct BlockingPanic(Box<dyn std::any::Any + Send + 'static>);

impl BlockingPanic {
    /// The panic's message, when it was a string (as `panic!` makes it).
    pub fn message(&self) -> Option<&str> {
        self.0
            .downcast_ref::<&'static str>()
            .copied()
            .or_else(|| self.0.downcast_ref::<String>().map(String::as_str))
    }

    /// The payload, for [`std::panic::resume_unwind`].
    pub fn into_payload(self) -> Box<dyn std::any::Any + Send + 'static> {
        self.0
    }
}

impl fmt::Debug for BlockingPanic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("BlockingPanic")
            .field(&self.message())
            .finish()
    }
}

impl fmt::Display for BlockingPanic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.message() {
            Some(m) => write!(f, "blocking closure panicked: {m}"),
            None => f.write_str("blocking closure panicked"),
        }
    }
}

impl std::error::Error for BlockingPanic {}

/// Future returned by [`spawn_blocking`]: resolves to the closure's result
/// (resuming its panic, if it panicked).
#[must_use = "the closure runs anyway; await the future for its result"]
pub struct Blocking<T> {
    /// `None` once the result has been taken.
    job: Option<Arc<dyn Slot<T>>>,
}

impl<T> fmt::Debug for Blocking<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Blocking")
            .field("done", &self.job.is_none())
            .finish()
    }
}

impl<T> Blocking<T> {
    /// A future that resolves to `Err` with the panic's payload instead of
    /// resuming the panic.
    ///
    /// ```no_run
    /// # async fn f() {
    /// let r = corering::spawn_blocking(|| -> u32 { panic!("no") }).try_wait().await;
    /// assert_eq!(r.unwrap_err().message(), Some("no"));
    /// # }
    /// ```
    pub fn try_wait(self) -> TryBlocking<T> {
        TryBlocking(self)
    }

    fn poll_result(&mut self, cx: &mut Context<'_>) -> Poll<std::thread::Result<T>> {
        let job = self.job.as_ref().expect("Blocking polled after completion");
        match job.poll_result(cx.waker()) {
            Poll::Ready(r) => {
                self.job = None;
                Poll::Ready(r)
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<T> Unpin for Blocking<T> {}

impl<T> Future for Blocking<T> {
    type Output = T;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        match self.get_mut().poll_result(cx) {
            Poll::Ready(Ok(v)) => Poll::Ready(v),
            Poll::Ready(Err(p)) => std::panic::resume_unwind(p),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<T> Drop for Blocking<T> {
    fn drop(&mut self) {
        if let Some(job) = self.job.take() {
            job.detach();
        }
    }
}

/// Future returned by [`Blocking::try_wait`].
#[must_use = "futures do nothing unless polled"]
#[derive(Debug)]
pub struct TryBlocking<T>(Blocking<T>);

impl<T> Future for TryBlocking<T> {
    type Output = Result<T, BlockingPanic>;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.get_mut()
            .0
            .poll_result(cx)
            .map(|r| r.map_err(BlockingPanic))
    }
}

/// One call: the closure until a pool thread takes it, then its result
/// until the future takes it.
struct Job<F, T> {
    state: Mutex<JobState<F, T>>,
}

struct JobState<F, T> {
    stage: Stage<F, T>,
    /// The awaiting task, once it has polled.
    waker: Option<Waker>,
    /// The future was dropped: the result is dropped where it is made.
    detached: bool,
}

enum Stage<F, T> {
    Queued(F),
    Running,
    Done(std::thread::Result<T>),
    Taken,
}

impl<F, T> Job<F, T> {
    fn lock(&self) -> MutexGuard<'_, JobState<F, T>> {
        // A panic never happens while the lock is held (the closure runs
        // outside it), but stay usable regardless.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The pool's side of a job: run it.
trait Run: Send + Sync {
    fn run(&self);
}

/// The future's side of a job: its result, typed by output only.
trait Slot<T>: Send + Sync {
    fn poll_result(&self, waker: &Waker) -> Poll<std::thread::Result<T>>;
    fn detach(&self);
}

impl<F, T> Run for Job<F, T>
where
    F: FnOnce() -> T + Send,
    T: Send,
{
    fn run(&self) {
        let f = match std::mem::replace(&mut self.lock().stage, Stage::Running) {
            Stage::Queued(f) => f,
            _ => unreachable!("a blocking job runs once"),
        };
        let out = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
        let mut s = self.lock();
        if s.detached {
            s.stage = Stage::Taken;
            drop(s);
            // Dropped here, on the pool thread, outside the lock.
            drop(out);
            return;
        }
        s.stage = Stage::Done(out);
        let waker = s.waker.take();
        drop(s);
        if let Some(w) = waker {
            w.wake();
        }
    }
}

impl<F, T> Slot<T> for Job<F, T>
where
    F: Send,
    T: Send,
{
    fn poll_result(&self, waker: &Waker) -> Poll<std::thread::Result<T>> {
        let mut s = self.lock();
        match std::mem::replace(&mut s.stage, Stage::Taken) {
            Stage::Done(r) => Poll::Ready(r),
            other => {
                s.stage = other;
                match &mut s.waker {
                    Some(w) if w.will_wake(waker) => {}
                    slot => *slot = Some(waker.clone()),
                }
                Poll::Pending
            }
        }
    }

    fn detach(&self) {
        let mut s = self.lock();
        s.detached = true;
        s.waker = None;
        let done = std::mem::replace(&mut s.stage, Stage::Taken);
        // Put a closure that has not run yet back: it still runs.
        let left = match done {
            Stage::Queued(f) => {
                s.stage = Stage::Queued(f);
                None
            }
            Stage::Running => {
                s.stage = Stage::Running;
                None
            }
            other => Some(other),
        };
        drop(s);
        // A finished result is dropped by the task that dropped the future.
        drop(left);
    }
}

/// The process-wide pool.
static POOL: OnceLock<Pool> = OnceLock::new();

fn pool() -> &'static Pool {
    POOL.get_or_init(|| Pool::new(BlockingConfig::new()))
}

struct Pool {
    cfg: BlockingConfig,
    state: Mutex<PoolState>,
    /// Signalled once per job handed to an idle thread.
    work: Condvar,
}

struct PoolState {
    queue: VecDeque<Arc<dyn Run>>,
    /// Threads alive.
    threads: usize,
    /// Threads waiting for work that no push has claimed yet.
    idle: usize,
    /// Wake-ups sent and not yet taken by a thread.
    notified: usize,
}

impl Pool {
    fn new(cfg: BlockingConfig) -> Pool {
        Pool {
            cfg,
            state: Mutex::new(PoolState {
                queue: VecDeque::new(),
                threads: 0,
                idle: 0,
                notified: 0,
            }),
            work: Condvar::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, PoolState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queues `job` and makes sure a thread will take it: an idle one, a new
    /// one if under the limit, else the next one to finish its job.
    fn push(&'static self, job: Arc<dyn Run>) {
        let mut s = self.lock();
        s.queue.push_back(job);
        if s.idle > 0 {
            s.idle -= 1;
            s.notified += 1;
            drop(s);
            self.work.notify_one();
            return;
        }
        if s.threads >= self.cfg.max_threads {
            return;
        }
        s.threads += 1;
        let n = s.threads;
        drop(s);
        let spawned = std::thread::Builder::new()
            .name("corering-blocking".into())
            .spawn(move || self.thread_main());
        if let Err(e) = spawned {
            let mut s = self.lock();
            s.threads -= 1;
            if s.threads > 0 {
                // Another thread takes the job when it is free.
                log::warn!("corering: blocking pool: cannot start thread {n}: {e}");
                return;
            }
            // No thread at all: run the work here rather than never.
            let queued: Vec<_> = s.queue.drain(..).collect();
            drop(s);
            log::error!("corering: blocking pool: cannot start a thread ({e}); running inline");
            for job in queued {
                job.run();
            }
        }
    }

    fn thread_main(&self) {
        let mut s = self.lock();
        loop {
            if let Some(job) = s.queue.pop_front() {
                drop(s);
                job.run();
                drop(job);
                s = self.lock();
                continue;
            }
            s.idle += 1;
            let (g, res) = self
                .work
                .wait_timeout(s, self.cfg.idle_timeout)
                .unwrap_or_else(|e| e.into_inner());
            s = g;
            if s.notified > 0 {
                // A push counted this thread out of `idle` already.
                s.notified -= 1;
            } else {
                s.idle -= 1;
                if res.timed_out() && s.queue.is_empty() {
                    s.threads -= 1;
                    return;
                }
            }
        }
    }
}

/// A snapshot of the blocking pool, for diagnostics and metrics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BlockingPoolStats {
    /// Threads alive (running a closure or waiting for one).
    pub threads: usize,
    /// Of those, threads waiting for work.
    pub idle: usize,
    /// Closures waiting for a free thread.
    pub queued: usize,
}

/// How many threads the blocking pool has now, how many of them are idle,
/// and how many closures wait for one (all zero before the first
/// [`spawn_blocking`]).
///
/// ```
/// let s = corering::task::blocking_pool_stats();
/// assert!(s.idle <= s.threads);
/// ```
pub fn blocking_pool_stats() -> BlockingPoolStats {
    match POOL.get() {
        Some(p) => {
            let s = p.lock();
            BlockingPoolStats {
                threads: s.threads,
                idle: s.idle + s.notified,
                queued: s.queue.len(),
            }
        }
        None => BlockingPoolStats::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// Polls `fut` on this thread with a waker that unparks it.
    fn wait<F: Future>(fut: F) -> F::Output {
        struct Unpark(std::thread::Thread);
        impl std::task::Wake for Unpark {
            fn wake(self: Arc<Self>) {
                self.0.unpark();
            }
        }
        let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
        let mut cx = Context::from_waker(&waker);
        let mut fut = std::pin::pin!(fut);
        loop {
            if let Poll::Ready(v) = fut.as_mut().poll(&mut cx) {
                return v;
            }
            std::thread::park();
        }
    }

    #[test]
    fn result_comes_back() {
        assert_eq!(wait(spawn_blocking(|| 6 * 7)), 42);
    }

    #[test]
    fn panic_is_an_error_with_try_wait() {
        let r = wait(spawn_blocking(|| -> u8 { panic!("on purpose") }).try_wait());
        let e = r.unwrap_err();
        assert_eq!(e.message(), Some("on purpose"));
        assert_eq!(e.to_string(), "blocking closure panicked: on purpose");
        // And the pool still works.
        assert_eq!(wait(spawn_blocking(|| 1)), 1);
    }

    #[test]
    fn dropped_future_still_runs_the_closure_and_drops_its_result() {
        static RAN: AtomicUsize = AtomicUsize::new(0);
        static DROPPED: AtomicUsize = AtomicUsize::new(0);
        struct Out;
        impl Drop for Out {
            fn drop(&mut self) {
                DROPPED.fetch_add(1, Ordering::SeqCst);
            }
        }
        let h = spawn_blocking(|| {
            std::thread::sleep(Duration::from_millis(20));
            RAN.fetch_add(1, Ordering::SeqCst);
            Out
        });
        drop(h);
        let t = std::time::Instant::now();
        while DROPPED.load(Ordering::SeqCst) == 0 && t.elapsed() < Duration::from_secs(10) {
            std::thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(RAN.load(Ordering::SeqCst), 1);
        assert_eq!(DROPPED.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn limited_pool_queues_and_threads_exit_when_idle() {
        let pool: &'static Pool = Box::leak(Box::new(Pool::new(
            BlockingConfig::new()
                .max_threads(2)
                .idle_timeout(Duration::from_millis(100)),
        )));
        static RUNNING: AtomicUsize = AtomicUsize::new(0);
        static PEAK: AtomicUsize = AtomicUsize::new(0);
        let jobs: Vec<_> = (0..8)
            .map(|i| {
                let job = Arc::new(Job {
                    state: Mutex::new(JobState {
                        stage: Stage::Queued(move || {
                            let now = RUNNING.fetch_add(1, Ordering::SeqCst) + 1;
                            PEAK.fetch_max(now, Ordering::SeqCst);
                            std::thread::sleep(Duration::from_millis(20));
                            RUNNING.fetch_sub(1, Ordering::SeqCst);
                            i
                        }),
                        waker: None,
                        detached: false,
                    }),
                });
                pool.push(job.clone());
                Blocking::<usize> { job: Some(job) }
            })
            .collect();
        let got: Vec<usize> = jobs.into_iter().map(wait).collect();
        assert_eq!(got, (0..8).collect::<Vec<_>>());
        assert!(PEAK.load(Ordering::SeqCst) <= 2);
        assert_eq!(pool.lock().threads, 2);
        let t = std::time::Instant::now();
        while pool.lock().threads > 0 && t.elapsed() < Duration::from_secs(10) {
            std::thread::sleep(Duration::from_millis(20));
        }
        assert_eq!(pool.lock().threads, 0, "idle threads exit");
        // And the pool starts again.
        let job = Arc::new(Job {
            state: Mutex::new(JobState {
                stage: Stage::Queued(|| 5u8),
                waker: None,
                detached: false,
            }),
        });
        pool.push(job.clone());
        assert_eq!(wait(Blocking::<u8> { job: Some(job) }), 5);
    }
}
