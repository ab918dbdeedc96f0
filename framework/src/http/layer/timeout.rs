//! `Timeout`: an answer when the handler takes too long.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use super::Layer;
use crate::http::{Handler, Request, Response, Status};
use crate::runtime::time::{sleep_from_turn, Sleep};

/// A layer that stops a handler running longer than a duration and
/// answers `503 Service Unavailable` with the body `request timed out`
/// (`text/plain`) instead; the handler's future is dropped. It uses the
/// worker's timer wheel (no allocation; a timer only for a handler that
/// waits, none for one that answers at once).
///
/// The time covers the handler up to its response (reading the body
/// included), not the sending of it. It counts from the start of the
/// worker's loop turn in which the handler was called and first polled
/// (when that turn's requests were taken from the kernel; the worker
/// reads its clock once per turn, not once per request), so time the
/// request waited behind others of a pipelined batch counts too; a
/// handler that has started a streamed response ([`Request::stream`])
/// and is cut leaves that response cut short.
///
/// ```
/// use std::time::Duration;
/// use corering::http::layer::Timeout;
/// use corering::http::Status;
///
/// #[corering::get("/slow")]
/// async fn slow() -> &'static str {
///     corering::time::sleep(Duration::from_secs(60)).await;
///     "late"
/// }
///
/// let app = corering::routes![slow]
///     .layer(Timeout::new(Duration::from_secs(2)).status(Status::REQUEST_TIMEOUT));
/// # let _ = app;
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Timeout {
    /// The time allowed, in nanoseconds.
    after_ns: u64,
    status: Status,
}

impl Timeout {
    /// Answers `503` to requests whose handler takes longer than `after`.
    ///
    /// ```
    /// let t = corering::http::layer::Timeout::new(std::time::Duration::from_secs(5));
    /// # let _ = t;
    /// ```
    pub fn new(after: Duration) -> Timeout {
        Timeout {
            after_ns: crate::runtime::time::duration_ns(after),
            status: Status::SERVICE_UNAVAILABLE,
        }
    }

    /// The status of the answer (`503` by default; `408` is another
    /// common choice).
    ///
    /// ```
    /// use std::time::Duration;
    /// use corering::http::layer::Timeout;
    /// use corering::http::Status;
    /// let t = Timeout::new(Duration::from_secs(5)).status(Status::REQUEST_TIMEOUT);
    /// # let _ = t;
    /// ```
    pub fn status(mut self, status: Status) -> Timeout {
        self.status = status;
        self
    }
}

impl<H> Layer<H> for Timeout {
    type Handler = WithTimeout<H>;
    fn layer(self, inner: H) -> WithTimeout<H> {
        WithTimeout { cfg: self, inner }
    }
}

/// A handler under a [`Timeout`].
#[derive(Debug, Clone, Copy)]
pub struct WithTimeout<H> {
    cfg: Timeout,
    inner: H,
}

impl<'a, H: Handler<'a>> Handler<'a> for WithTimeout<H> {
    type Future = TimedOut<H::Future>;
    #[inline(always)]
    fn call(&self, req: Request<'a>) -> Self::Future {
        TimedOut {
            fut: self.inner.call(req),
            sleep: None,
            // Field by field: copied as one 16-byte block, the pair went
            // through the stack and was read back in a stalled load.
            after_ns: self.cfg.after_ns,
            status: self.cfg.status,
        }
    }
    #[inline(always)]
    fn poll_into(fut: Pin<&mut Self::Future>, cx: &mut Context<'_>, out: &mut Poll<Response>) {
        // SAFETY: `fut` is pinned structurally (never moved out); `sleep`
        // is `Unpin`, the rest plain data.
        let this = unsafe { fut.get_unchecked_mut() };
        if let Some(late) = this.late(cx) {
            *out = Poll::Ready(late);
            return;
        }
        // SAFETY: as above.
        H::poll_into(unsafe { Pin::new_unchecked(&mut this.fut) }, cx, out);
        this.arm_if_waiting(out.is_pending(), cx);
    }
}

/// The future of a request under a [`Timeout`].
#[must_use = "futures do nothing unless polled"]
pub struct TimedOut<F> {
    fut: F,
    /// The deadline, set when the handler first waits (in the loop turn
    /// it was called in: the first poll follows the call at once). A
    /// handler that answers at once never needs one.
    sleep: Option<Sleep>,
    /// [`Timeout`]'s fields.
    after_ns: u64,
    status: Status,
}

impl<F> TimedOut<F> {
    /// The answer if the deadline, once set, has passed. It is checked
    /// before the handler's poll, so that after that poll there is one way
    /// out: its result, handed on where that poll wrote it.
    #[inline(always)]
    fn late(&mut self, cx: &mut Context<'_>) -> Option<Response> {
        let sleep = self.sleep.as_mut()?;
        match Pin::new(sleep).poll(cx) {
            Poll::Ready(()) => Some(Response::text("request timed out\n").with_status(self.status)),
            Poll::Pending => None,
        }
    }

    /// Sets the deadline when the handler first waits.
    #[inline(always)]
    fn arm_if_waiting(&mut self, pending: bool, cx: &mut Context<'_>) {
        if pending && self.sleep.is_none() {
            let mut sleep = sleep_from_turn(self.after_ns);
            // Polled to arm its timer; already past (a deadline shorter
            // than the turn so far), it asks for the poll that answers.
            if Pin::new(&mut sleep).poll(cx).is_ready() {
                cx.waker().wake_by_ref();
            }
            self.sleep = Some(sleep);
        }
    }
}

impl<F: Future<Output = Response>> Future for TimedOut<F> {
    type Output = Response;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Response> {
        // SAFETY: `fut` is pinned structurally (never moved out); `sleep`
        // is `Unpin`, the rest plain data.
        let this = unsafe { self.get_unchecked_mut() };
        if let Some(late) = this.late(cx) {
            return Poll::Ready(late);
        }
        // SAFETY: as above.
        let polled = unsafe { Pin::new_unchecked(&mut this.fut) }.poll(cx);
        this.arm_if_waiting(polled.is_pending(), cx);
        polled
    }
}
