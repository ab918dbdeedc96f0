//! A bridge to tokio (feature `tokio-compat`): [`run`] a future on a shared
//! tokio runtime and await its output from a corering task.
//!
//! A tokio-based library (a database driver, an HTTP client) needs tokio's
//! reactor and timers: polled directly on a corering worker it panics with
//! "there is no reactor running". [`run`] spawns the future on a lazily
//! started, process-wide multi-thread tokio runtime instead; the corering
//! task awaiting it is woken on its own worker (through that worker's
//! remote queue) when the output is ready.
//!
//! ```text
//!  worker task ── run(fut) ──► tokio runtime thread polls fut (its reactor, its timers)
//!      ▲                                   │ output
//!      └──── waker → worker's remote queue ┘
//! ```
//!
//! # Cost, and when to prefer a native client
//! Every call is a spawn on tokio (one allocation for the task) and two
//! thread hops: worker → tokio thread, tokio thread → worker. Each hop is a
//! queue push and usually an eventfd or futex wake-up, some microseconds
//! each, plus the tokio runtime's own threads competing with the workers
//! for CPUs. That is small next to a database round trip, but it is per
//! call: for a hot path that is just a socket exchange (an HTTP call to a
//! backend, a Redis command), a client on corering's own connections
//! ([`crate::http::client`], [`crate::Connector`]) stays on the worker and
//! costs no hop. Use the bridge for libraries that only exist for tokio,
//! and keep a library's connection pool inside the tokio runtime (create
//! the client once, through [`run`] or with [`handle`]).
//!
//! # Settings
//! The runtime has 2 worker threads (or `CORERING_TOKIO_THREADS`) named
//! `corering-tokio`, with every driver the tokio features in the build
//! provide (`enable_all`). [`init`] installs a runtime of your own
//! instead, if called before the first use.
//!
//! ```no_run
//! # async fn f() {
//! // Inside a handler: a tokio timer (any tokio-based client works alike).
//! let v = corering::compat::tokio::run(async {
//!     tokio::time::sleep(std::time::Duration::from_millis(10)).await;
//!     42
//! })
//! .await;
//! assert_eq!(v, 42);
//! # }
//! ```

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::OnceLock;
use std::task::{Context, Poll};

use ::tokio::runtime::{Builder, Handle, Runtime};
use ::tokio::task::JoinHandle;

/// Default number of tokio worker threads.
const DEFAULT_THREADS: usize = 2;

static RUNTIME: OnceLock<Runtime> = OnceLock::new();

fn runtime() -> &'static Runtime {
    RUNTIME.get_or_init(|| {
        let threads = std::env::var("CORERING_TOKIO_THREADS")
            .ok()
            .and_then(|v| v.trim().parse::<usize>().ok())
            .filter(|&n| n > 0)
            .unwrap_or(DEFAULT_THREADS);
        Builder::new_multi_thread()
            .worker_threads(threads)
            .thread_name("corering-tokio")
            .enable_all()
            .build()
            .unwrap_or_else(|e| panic!("corering: cannot start the tokio runtime: {e}"))
    })
}

/// Makes `rt` the runtime [`run`] and [`handle`] use. Fails, giving it
/// back, once the shared runtime exists (after the first `run`, `handle` or
/// `init`).
///
/// ```no_run
/// let rt = tokio::runtime::Builder::new_multi_thread()
///     .worker_threads(4)
///     .enable_all()
///     .build()
///     .unwrap();
/// corering::compat::tokio::init(rt).ok().expect("first");
/// ```
// A `Runtime` in the error is large, but this is called once at startup.
#[allow(clippy::result_large_err)]
pub fn init(rt: Runtime) -> Result<(), Runtime> {
    let mut rt = Some(rt);
    RUNTIME.get_or_init(|| rt.take().expect("taken once"));
    match rt {
        None => Ok(()),
        Some(rt) => Err(rt),
    }
}

/// A handle to the shared tokio runtime (started on first use), for
/// libraries that take a `Handle` or need [`Handle::enter`] while a client
/// is created.
///
/// ```no_run
/// let h = corering::compat::tokio::handle();
/// let _guard = h.enter();
/// // tokio::spawn and tokio resources can be created here.
/// ```
pub fn handle() -> Handle {
    runtime().handle().clone()
}

/// Runs `fut` on the shared tokio runtime and returns a future of its
/// output, to await on a corering worker (or anywhere else).
///
/// The future starts at once on a tokio thread, with tokio's reactor and
/// timers available; when it finishes, the awaiting task is woken through
/// its waker (on its own worker, for a corering task).
///
/// # Panics
/// A panic in `fut` is resumed, with its payload, where the returned
/// future is awaited (in an HTTP handler: a `500`).
///
/// # Dropping
/// Dropping the returned future cancels `fut` (it is aborted on the tokio
/// runtime at its next await), as dropping any future would.
///
/// ```no_run
/// # async fn f() -> std::io::Result<()> {
/// use tokio::io::{AsyncReadExt, AsyncWriteExt};
/// let reply = corering::compat::tokio::run(async {
///     let mut s = tokio::net::TcpStream::connect("127.0.0.1:6379").await?;
///     s.write_all(b"PING\r\n").await?;
///     let mut buf = [0; 7];
///     s.read_exact(&mut buf).await?;
///     Ok::<_, std::io::Error>(buf)
/// })
/// .await?;
/// # Ok(()) }
/// ```
pub fn run<F>(fut: F) -> TokioTask<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    TokioTask {
        join: runtime().spawn(fut),
    }
}

/// Future returned by [`run`]: the output of a future running on the
/// shared tokio runtime.
#[must_use = "dropping it cancels the tokio task"]
pub struct TokioTask<T> {
    join: JoinHandle<T>,
}

impl<T> fmt::Debug for TokioTask<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokioTask")
            .field("finished", &self.join.is_finished())
            .finish()
    }
}

impl<T> Future for TokioTask<T> {
    type Output = T;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        match Pin::new(&mut self.join).poll(cx) {
            Poll::Ready(Ok(v)) => Poll::Ready(v),
            Poll::Ready(Err(e)) => match e.try_into_panic() {
                Ok(payload) => std::panic::resume_unwind(payload),
                // Only an abort cancels a task, and only `drop` aborts; a
                // runtime shutting down (the process exiting) does too.
                Err(e) => panic!("corering: tokio task cancelled: {e}"),
            },
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<T> Drop for TokioTask<T> {
    fn drop(&mut self) {
        self.join.abort();
    }
}
