//! `CatchUnwind`: a handler's future whose panics are caught and kept
//! aside, so the connection loop can answer `500` instead of losing the
//! connection.

use std::any::Any;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::task::{Context, Poll};

use super::staged::Staged;
use super::Response;

/// A panic payload, as `catch_unwind` gives it.
pub(crate) type Payload = Box<dyn Any + Send>;

/// Polls the pinned handler future with `poll` (the handler's
/// [`Handler::poll_into`](super::Handler::poll_into)) into `out`, a slot
/// the connection loop keeps, so the response is written once, where the
/// loop reads it. It resolves when `out` holds the response, or when a
/// poll panicked: the panic is stored in `panicked` (the panic hook has
/// already reported it, once, where it happened) and `out` is left
/// `Pending`.
///
/// It holds the handler's future by pinned reference: the caller pins
/// that future where `Handler::call` wrote it, so the future (often
/// hundreds of bytes) is not moved into a wrapper per request.
///
/// When the handler's future is pending, the responses staged before it
/// are queued ([`Staged::queue_now`]): it may wait for long.
pub(crate) struct CatchUnwind<'f, 'p, F, P> {
    pub(crate) fut: Pin<&'f mut F>,
    pub(crate) poll: P,
    pub(crate) out: &'p mut Poll<Response>,
    pub(crate) panicked: &'p mut Option<Payload>,
    pub(crate) staged: &'p Staged,
}

impl<F, P> Future for CatchUnwind<'_, '_, F, P>
where
    P: FnMut(Pin<&mut F>, &mut Context<'_>, &mut Poll<Response>) + Unpin,
{
    type Output = ();

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        // Nothing here is pinned structurally (`fut` is a pinned reference
        // already; `poll` is a function or a closure capturing nothing).
        let this = self.get_mut();
        // Unwind safety: after a panic the future is never polled again
        // (the caller drops it), and what it borrowed is only used to send
        // a `500` and close.
        let fut = this.fut.as_mut();
        let poll = &mut this.poll;
        let out = &mut *this.out;
        match catch_unwind(AssertUnwindSafe(|| poll(fut, cx, out))) {
            Ok(()) if this.out.is_pending() => {
                this.staged.queue_now();
                Poll::Pending
            }
            Ok(()) => Poll::Ready(()),
            Err(payload) => {
                *this.panicked = Some(payload);
                Poll::Ready(())
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
