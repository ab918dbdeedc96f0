//! `CatchUnwind`: a handler's future whose panics become a value, so the
//! connection loop can answer `500` instead of losing the connection.

use std::any::Any;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::task::{Context, Poll};

/// Polls the inner future; a panic in a poll resolves to `Err(payload)`
/// (the panic hook has already reported it, once, where it happened).
pub(crate) struct CatchUnwind<F>(pub(crate) F);

impl<F: Future> Future for CatchUnwind<F> {
    type Output = Result<F::Output, Box<dyn Any + Send>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // SAFETY: the inner future is structurally pinned: it is never
        // moved out of `self`.
        let fut = unsafe { self.map_unchecked_mut(|s| &mut s.0) };
        // Unwind safety: after a panic the future is never polled again
        // (the caller drops it), and what it borrowed is only used to send
        // a `500` and close.
        match catch_unwind(AssertUnwindSafe(|| fut.poll(cx))) {
            Ok(Poll::Ready(v)) => Poll::Ready(Ok(v)),
            Ok(Poll::Pending) => Poll::Pending,
            Err(payload) => Poll::Ready(Err(payload)),
        }
    }
}

/// The message of a panic payload (`panic!("...")` gives a `&str` or a
/// `String`).
pub(crate) fn message(payload: &(dyn Any + Send)) -> &str {
    if let Some(s) = payload.downcast_ref::<&'static str>() {
        s
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s
    } else {
        "(non-text panic payload)"
    }
}
