//! `CatchUnwind`: a handler's future whose panics are caught and kept
//! aside, so the connection loop can answer `500` instead of losing the
//! connection.

use std::any::Any;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::task::{Context, Poll};

use super::{Response, Status};

/// A panic payload, as `catch_unwind` gives it.
pub(crate) type Payload = Box<dyn Any + Send>;

/// Polls the inner future; a panic in a poll is stored in `panicked` (the
/// panic hook has already reported it, once, where it happened) and the
/// future resolves to a bare `500` that the caller must not send as it is:
/// it checks `panicked` first.
///
/// The output is the inner future's own (not wrapped in a `Result`), and
/// the inner poll writes it in place, so a response is not moved once
/// more per request for the catch.
pub(crate) struct CatchUnwind<'p, F> {
    pub(crate) fut: F,
    pub(crate) panicked: &'p mut Option<Payload>,
}

impl<F: Future<Output = Response>> Future for CatchUnwind<'_, F> {
    type Output = Response;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Response> {
        // SAFETY: the inner future is structurally pinned: it is never
        // moved out of `self`; `panicked` is not pinned.
        let this = unsafe { self.get_unchecked_mut() };
        // SAFETY: see above; `this` stays pinned where it is.
        let fut = unsafe { Pin::new_unchecked(&mut this.fut) };
        // Unwind safety: after a panic the future is never polled again
        // (the caller drops it), and what it borrowed is only used to send
        // a `500` and close.
        match catch_unwind(AssertUnwindSafe(|| fut.poll(cx))) {
            Ok(polled) => polled,
            Err(payload) => {
                *this.panicked = Some(payload);
                Poll::Ready(Response::new(Status::INTERNAL_SERVER_ERROR))
            }
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
