//! Time: `sleep`, `timeout` and deadlines on the worker's timer wheel.
//!
//! Timers have millisecond resolution and never fire early. The wheel is
//! driven by one io_uring timeout operation armed for the next due tick.
//!
//! ```no_run
//! use std::time::Duration;
//! # async fn f() {
//! corering::time::sleep(Duration::from_millis(10)).await;
//! let r = corering::time::timeout(Duration::from_secs(1), async { 7 }).await;
//! assert_eq!(r.unwrap(), 7);
//! # }
//! ```

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use super::timer::TimerKey;

pub(crate) const NS_PER_TICK: u64 = 1_000_000;

/// Monotonic clock in nanoseconds (CLOCK_MONOTONIC, as io_uring timeouts).
pub(crate) fn now_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes into the timespec we pass.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

/// The current tick (whole milliseconds of the monotonic clock).
pub(crate) fn now_tick() -> u64 {
    ns_to_tick(now_ns())
}

/// The tick of a monotonic clock reading in nanoseconds.
pub(crate) fn ns_to_tick(ns: u64) -> u64 {
    ns / NS_PER_TICK
}

/// Milliseconds to ticks.
pub(crate) fn ms_to_tick(ms: u64) -> u64 {
    ms
}

/// The first tick at or after `ns`.
fn ceil_tick(ns: u64) -> u64 {
    ns.div_ceil(NS_PER_TICK)
}

/// The first tick at which `d` from now has fully passed.
pub(crate) fn deadline_tick(d: Duration) -> u64 {
    tick_after(now_ns(), d)
}

/// The first tick at which `d` from the monotonic clock reading `start_ns`
/// has fully passed.
fn tick_after(start_ns: u64, d: Duration) -> u64 {
    ceil_tick(start_ns.saturating_add(duration_ns(d)))
}

/// Future returned by [`sleep`] and [`sleep_until`].
#[must_use = "futures do nothing unless polled"]
pub struct Sleep {
    tick: u64,
    key: Option<TimerKey>,
    done: bool,
}

impl fmt::Debug for Sleep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sleep").field("tick", &self.tick).finish()
    }
}

/// Waits for `d` on the current worker's timer wheel.
pub fn sleep(d: Duration) -> Sleep {
    Sleep {
        tick: deadline_tick(d),
        key: None,
        done: false,
    }
}

/// Waits for `d_ns` nanoseconds counted from the start of this worker's
/// loop turn (the turn's clock, read once per turn; from now off a
/// worker): no clock read of its own, for deadlines that may count the
/// time the turn has already run, such as a request's.
#[inline]
pub(crate) fn sleep_from_turn(d_ns: u64) -> Sleep {
    let start = super::turn_ns().unwrap_or_else(now_ns);
    Sleep {
        tick: ceil_tick(start.saturating_add(d_ns)),
        key: None,
        done: false,
    }
}

/// `d` in nanoseconds, for [`sleep_from_turn`] (capped where a deadline
/// would no longer fit).
pub(crate) fn duration_ns(d: Duration) -> u64 {
    d.as_nanos().min(u64::MAX as u128 / 2) as u64
}

/// Waits until `deadline`.
pub fn sleep_until(deadline: Instant) -> Sleep {
    sleep(deadline.saturating_duration_since(Instant::now()))
}

impl Sleep {
    /// Moves the deadline to `d` from now (re-arming if armed).
    pub fn reset(&mut self, d: Duration) {
        self.cancel();
        self.tick = deadline_tick(d);
        self.done = false;
    }

    /// True once the deadline has passed and the sleep has completed.
    pub fn is_elapsed(&self) -> bool {
        self.done
    }

    fn cancel(&mut self) {
        if let Some(key) = self.key.take() {
            super::try_with(|w| w.timers.borrow_mut().remove(key));
        }
    }
}

impl Future for Sleep {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.done {
            return Poll::Ready(());
        }
        let tick = self.tick;
        let key = self.key;
        let res = super::with(|w| {
            let mut wheel = w.timers.borrow_mut();
            match key {
                None => {
                    if super::time::now_tick() >= tick {
                        return (true, None);
                    }
                    (false, Some(wheel.insert(tick, cx.waker().clone())))
                }
                Some(k) if wheel.fired(k) => {
                    wheel.remove(k);
                    (true, None)
                }
                Some(k) => {
                    wheel.set_waker(k, cx.waker());
                    (false, Some(k))
                }
            }
        });
        self.key = res.1;
        if res.0 {
            self.done = true;
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}

impl Drop for Sleep {
    #[inline]
    fn drop(&mut self) {
        // A sleep never polled (a request answered at once under a
        // `Timeout`) has no timer: nothing to call.
        if self.key.is_some() {
            self.cancel();
        }
    }
}

/// Error of a [`timeout`] whose deadline passed first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Elapsed(());

impl fmt::Display for Elapsed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("deadline elapsed")
    }
}

impl std::error::Error for Elapsed {}

impl From<Elapsed> for std::io::Error {
    fn from(_: Elapsed) -> std::io::Error {
        std::io::Error::new(std::io::ErrorKind::TimedOut, "deadline elapsed")
    }
}

/// Future returned by [`timeout`].
#[must_use = "futures do nothing unless polled"]
pub struct Timeout<F> {
    fut: F,
    sleep: Sleep,
}

/// Runs `fut` for at most `d`; `Err(Elapsed)` if the deadline passes first.
///
/// Dropping the inner future on timeout is always safe: connection I/O
/// buffers are owned by the connection, not by the future.
pub fn timeout<F: Future>(d: Duration, fut: F) -> Timeout<F> {
    Timeout {
        fut,
        sleep: sleep(d),
    }
}

impl<F: Future> Future for Timeout<F> {
    type Output = Result<F::Output, Elapsed>;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // SAFETY: `fut` is structurally pinned: it is never moved out of
        // `self`, and `sleep` is Unpin.
        let this = unsafe { self.get_unchecked_mut() };
        // SAFETY: see above.
        let fut = unsafe { Pin::new_unchecked(&mut this.fut) };
        if let Poll::Ready(v) = fut.poll(cx) {
            return Poll::Ready(Ok(v));
        }
        match Pin::new(&mut this.sleep).poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(Elapsed(()))),
            Poll::Pending => Poll::Pending,
        }
    }
}
