//! `JoinHandle`: the output of a `spawn_local` task.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

struct Shared<T> {
    value: Option<T>,
    waiter: Option<Waker>,
    done: bool,
}

/// Resolves to the output of a task spawned with [`spawn_local`](crate::spawn_local).
///
/// Dropping the handle detaches the task; it keeps running.
pub struct JoinHandle<T> {
    shared: Rc<RefCell<Shared<T>>>,
}

impl<T> JoinHandle<T> {
    /// True once the task has finished.
    pub fn is_finished(&self) -> bool {
        self.shared.borrow().done
    }
}

impl<T> std::fmt::Debug for JoinHandle<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JoinHandle")
            .field("finished", &self.is_finished())
            .finish()
    }
}

impl<T> Future for JoinHandle<T> {
    type Output = T;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        let mut s = self.shared.borrow_mut();
        if let Some(v) = s.value.take() {
            return Poll::Ready(v);
        }
        assert!(!s.done, "JoinHandle polled after completion");
        s.waiter = Some(cx.waker().clone());
        Poll::Pending
    }
}

/// Wraps `fut` so its output lands in the returned handle.
pub(crate) fn pair<F: Future + 'static>(
    fut: F,
) -> (impl Future<Output = ()> + 'static, JoinHandle<F::Output>) {
    let shared = Rc::new(RefCell::new(Shared {
        value: None,
        waiter: None,
        done: false,
    }));
    let s2 = shared.clone();
    let task = async move {
        let v = fut.await;
        let waiter = {
            let mut s = s2.borrow_mut();
            s.value = Some(v);
            s.done = true;
            s.waiter.take()
        };
        if let Some(w) = waiter {
            w.wake();
        }
    };
    (task, JoinHandle { shared })
}
