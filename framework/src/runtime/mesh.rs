//! Cross-worker calls: run a closure on another worker of the same runtime
//! and await its result, so state can be sharded per worker without locks.
//!
//! The closure is sent through the target worker's remote queue (one
//! eventfd write per burst); the target runs the future it returns as a local
//! task and sends the value back through a one-shot reply that wakes the
//! caller through its own remote queue.
//!
//! ```no_run
//! use std::cell::RefCell;
//! thread_local!(static COUNT: RefCell<u64> = const { RefCell::new(0) });
//! # async fn f() {
//! // Increment the counter that lives on worker 1.
//! let n = corering::call_on(1, || async {
//!     COUNT.with(|c| { *c.borrow_mut() += 1; *c.borrow() })
//! }).await.unwrap();
//! # }
//! ```

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use super::Msg;

/// Error of [`call_on`]: the target worker does not exist or stopped before
/// answering.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallError {
    worker: usize,
    no_such_worker: bool,
}

impl fmt::Display for CallError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.no_such_worker {
            write!(f, "no worker {} in this runtime", self.worker)
        } else {
            write!(f, "worker {} stopped before answering", self.worker)
        }
    }
}

impl std::error::Error for CallError {}

struct Reply<R> {
    state: Mutex<ReplyState<R>>,
}

struct ReplyState<R> {
    value: Option<R>,
    closed: bool,
    waiter: Option<Waker>,
}

impl<R> Reply<R> {
    fn finish(&self, value: Option<R>) {
        let w = {
            let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
            if s.closed {
                return;
            }
            s.value = value;
            s.closed = true;
            s.waiter.take()
        };
        if let Some(w) = w {
            w.wake();
        }
    }
}

/// Sends `None` if the call is dropped unanswered (target shut down).
struct ReplyGuard<R>(Arc<Reply<R>>);

impl<R> Drop for ReplyGuard<R> {
    fn drop(&mut self) {
        self.0.finish(None);
    }
}

/// Future returned by [`call_on`].
#[must_use = "futures do nothing unless polled"]
pub struct Call<R> {
    reply: Option<Arc<Reply<R>>>,
    worker: usize,
}

impl<R> fmt::Debug for Call<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Call")
            .field("worker", &self.worker)
            .finish()
    }
}

/// Runs `f` on worker `worker` of the current runtime and resolves to the
/// output of the future it returns.
///
/// The closure is `Send` (it crosses threads); the future it creates runs on
/// the target worker and need not be. Calling the current worker works too.
///
/// # Panics
/// When called outside a corering worker.
pub fn call_on<F, Fut, R>(worker: usize, f: F) -> Call<R>
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: Future<Output = R> + 'static,
    R: Send + 'static,
{
    let remote = super::with(|w| w.shared.remotes.get(worker).cloned());
    let Some(remote) = remote else {
        return Call {
            reply: None,
            worker,
        };
    };
    let reply = Arc::new(Reply {
        state: Mutex::new(ReplyState {
            value: None,
            closed: false,
            waiter: None,
        }),
    });
    let guard = ReplyGuard(reply.clone());
    remote.send(Msg::Run(Box::new(move || {
        super::spawn_local(async move {
            let v = f().await;
            guard.0.finish(Some(v));
        });
    })));
    Call {
        reply: Some(reply),
        worker,
    }
}

impl<R> Future for Call<R> {
    type Output = Result<R, CallError>;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let worker = self.worker;
        let Some(reply) = self.reply.as_ref() else {
            return Poll::Ready(Err(CallError {
                worker,
                no_such_worker: true,
            }));
        };
        let mut s = reply.state.lock().unwrap_or_else(|e| e.into_inner());
        if s.closed {
            return Poll::Ready(s.value.take().ok_or(CallError {
                worker,
                no_such_worker: false,
            }));
        }
        s.waiter = Some(cx.waker().clone());
        Poll::Pending
    }
}
