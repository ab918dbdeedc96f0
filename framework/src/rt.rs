//! `Runtime`: run futures on a corering worker created on the calling
//! thread — for clients, tools and tests that are not servers.

use std::future::Future;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use crate::conn::IoParams;
use crate::driver::{Backend, BackendChoice};
use crate::runtime::{NoConns, Remote, RunUntil, Shared, Worker, WorkerConfig};

/// A single-worker runtime on the calling thread.
///
/// ```no_run
/// let rt = corering::Runtime::new().unwrap();
/// let n = rt.block_on(async {
///     corering::time::sleep(std::time::Duration::from_millis(1)).await;
///     42
/// });
/// assert_eq!(n, 42);
/// ```
#[derive(Debug, Clone)]
pub struct Runtime {
    cfg: WorkerConfig,
}

impl Runtime {
    /// Chooses the backend (io_uring where it works with everything
    /// corering needs, else epoll; `CORERING_BACKEND` may say otherwise)
    /// and returns a runtime with default settings (256 receive buffers of
    /// 16 KiB, 60 s write timeout).
    pub fn new() -> io::Result<Runtime> {
        Runtime::choose(None)
    }

    /// Like [`Runtime::new`] on the backend `choice` asks for (it wins over
    /// `CORERING_BACKEND`): [`BackendChoice::IoUring`] fails with a clear
    /// error where io_uring cannot run.
    pub fn with_backend(choice: BackendChoice) -> io::Result<Runtime> {
        Runtime::choose(Some(choice))
    }

    fn choose(choice: Option<BackendChoice>) -> io::Result<Runtime> {
        let selected = crate::driver::select(choice)?;
        Ok(Runtime {
            cfg: WorkerConfig {
                ring_entries: 256,
                buf_count: 256,
                buf_size: 16 << 10,
                params: IoParams {
                    max_leases: 32,
                    write_limit: 1 << 20,
                    zc_threshold: Some(64 << 10),
                    write_timeout: Some(Duration::from_secs(60)),
                },
                pool_bytes: 4 << 20,
                shutdown_timeout: Duration::from_secs(1),
                cpu: None,
                support: selected.support,
                backend: selected.backend,
                nodelay: true,
                keepalive: None,
                batch: Some((64, 50)),
            },
        })
    }

    /// The kernel interface this runtime's worker runs on.
    pub fn backend(&self) -> Backend {
        self.cfg.backend
    }

    /// The write timeout of connections opened on this runtime (default
    /// 60 s; `None` disables): see
    /// [`ServerBuilder::write_timeout`](crate::ServerBuilder::write_timeout).
    pub fn write_timeout(mut self, t: impl Into<Option<Duration>>) -> Self {
        self.cfg.params.write_timeout = t.into();
        self
    }

    /// Runs `fut` to completion on a fresh worker on this thread; tasks it
    /// spawned are dropped and connections closed before returning.
    ///
    /// On io_uring, the kernel tears the worker's ring down asynchronously
    /// after this returns, and then notifies this thread with signal-like
    /// task work: a blocking socket call with a timeout made on this thread
    /// just then can fail with `EINTR` (`ErrorKind::Interrupted`). Retry
    /// such calls, or run `block_on` on a thread of its own, as
    /// [`corering::test::TestServer`](crate::test::TestServer) does.
    ///
    /// # Panics
    /// If the worker's ring cannot be created (see [`Runtime::new`] for the
    /// checks done up front), or when called from inside a worker.
    pub fn block_on<F: Future>(&self, fut: F) -> F::Output {
        assert!(
            crate::runtime::try_with(|_| ()).is_none(),
            "corering: block_on called from inside a worker"
        );
        let remote = Remote::new().expect("eventfd for the worker");
        let shared = Arc::new(Shared::new(vec![remote.clone()]));
        let worker = Worker::new(0, self.cfg.clone(), shared, remote, Vec::new())
            .unwrap_or_else(|e| panic!("corering: cannot start a worker: {e}"));
        let out = std::rc::Rc::new(std::cell::RefCell::new(None));
        let out2 = out.clone();
        // The future is not 'static; it is boxed and run as a local task
        // while `fut` outlives the loop below.
        let task: std::pin::Pin<Box<dyn Future<Output = ()> + '_>> = Box::pin(async move {
            let v = CatchUnwind(std::pin::pin!(fut)).await;
            *out2.borrow_mut() = Some(v);
        });
        // SAFETY: the task is dropped (teardown drops all boxed tasks) before
        // `run` returns, so extending the lifetime to 'static never lets it
        // outlive the data it borrows.
        let task: std::pin::Pin<Box<dyn Future<Output = ()> + 'static>> =
            unsafe { std::mem::transmute(task) };
        crate::runtime::enter(&worker, || worker.exec.spawn_boxed(task));
        let done = || out.borrow().is_some();
        worker.run(&mut NoConns, RunUntil::Done(&done));
        let v = out.borrow_mut().take();
        match v.expect("block_on future completed") {
            Ok(v) => v,
            Err(panic) => std::panic::resume_unwind(panic),
        }
    }
}

/// Catches a panic of the inner future so `block_on` can re-raise it on the
/// caller's thread after the worker has shut down cleanly.
struct CatchUnwind<F>(F);

impl<F: Future + Unpin> Future for CatchUnwind<F> {
    type Output = std::thread::Result<F::Output>;
    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Self::Output> {
        let inner = &mut self.0;
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            std::pin::Pin::new(inner).poll(cx)
        })) {
            Ok(std::task::Poll::Ready(v)) => std::task::Poll::Ready(Ok(v)),
            Ok(std::task::Poll::Pending) => std::task::Poll::Pending,
            Err(p) => std::task::Poll::Ready(Err(p)),
        }
    }
}
