//! `CatchUnwind`: a handler's future whose panics are caught and kept
//! aside, so the connection loop can answer `500` instead of losing the
//! connection.

use std::any::Any;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::task::{Context, Poll};

use super::staged::Staged;
use super::{Response, Status};

/// A panic payload, as `catch_unwind` gives it.
pub(crate) type Payload = Box<dyn Any + Send>;

/// Polls the pinned handler future; a panic in a poll is stored in
/// `panicked` (the panic hook has already reported it, once, where it
/// happened) and the future resolves to a bare `500` that the caller must
/// not send as it is: it checks `panicked` first.
///
/// It holds the handler's future by pinned reference: the caller pins
/// that future where `Handler::call` wrote it, so the future (often
/// hundreds of bytes) is not moved into a wrapper per request; and the
/// output is the inner poll's own, written in place.
///
/// When the handler's future is pending, the responses staged before it
/// are queued ([`Staged::queue_now`]): it may wait for long.
pub(crate) struct CatchUnwind<'f, 'p, F> {
    pub(crate) fut: Pin<&'f mut F>,
    pub(crate) panicked: &'p mut Option<Payload>,
    pub(crate) staged: &'p Staged,
}

impl<F: Future<Output = Response>> Future for CatchUnwind<'_, '_, F> {
    type Output = Response;

    #[inline]
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Response> {
        let this = &mut *self;
        // Unwind safety: after a panic the future is never polled again
        // (the caller drops it), and what it borrowed is only used to send
        // a `500` and close.
        // The poll writes its result here rather than returning it through
        // `catch_unwind` (which would move the response twice more).
        let mut polled = Poll::Pending;
        match catch_unwind(AssertUnwindSafe(|| polled = this.fut.as_mut().poll(cx))) {
            Ok(()) => {
                if polled.is_pending() {
                    this.staged.queue_now();
                }
                polled
            }
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
