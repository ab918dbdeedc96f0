//! HTTP counters of one worker: responses by status class and the
//! request-duration histogram, written by that worker only (see
//! [`bump`](super::histogram::bump)) and read by whoever renders them.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crate::runtime::Shared;

use super::histogram::{bump, AtomicHistogram, Histogram};

/// Status classes counted: `1xx` to `5xx`.
pub const CLASSES: [&str; 5] = ["1xx", "2xx", "3xx", "4xx", "5xx"];

/// A snapshot of HTTP counters (of one worker, or summed).
///
/// ```
/// use corering::metrics::HttpStats;
/// let s = HttpStats::default();
/// assert_eq!(s.requests(), 0);
/// assert_eq!(s.class(404), 0);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HttpStats {
    /// Responses by status class, `1xx` first (see [`CLASSES`]).
    pub by_class: [u64; 5],
    /// Time from a request's head being complete to its response being
    /// queued, for requests that reached the handler.
    ///
    /// Measured on the worker's loop-turn clock (read once per turn of the
    /// worker loop, not per request), so it costs no clock read per
    /// request; its resolution is one loop turn: a request answered within
    /// the turn its head was parsed in counts as 0. A turn runs at most 256
    /// tasks, so the error is the time those take (microseconds; more only
    /// if handlers compute for long without awaiting).
    pub duration: Histogram,
}

impl HttpStats {
    /// Responses of any status.
    pub fn requests(&self) -> u64 {
        self.by_class.iter().sum()
    }

    /// Responses in the class of `status` (`class(404)`: all `4xx`).
    pub fn class(&self, status: u16) -> u64 {
        self.by_class[class_index(status)]
    }

    /// Field-wise sum.
    pub fn add(&self, o: &HttpStats) -> HttpStats {
        let mut s = *self;
        for (a, b) in s.by_class.iter_mut().zip(o.by_class) {
            *a += b;
        }
        s.duration = s.duration.add(&o.duration);
        s
    }
}

/// Index into [`CLASSES`]; codes outside 100..=599 count as `5xx`.
#[inline]
fn class_index(status: u16) -> usize {
    // Ranges, not a division: `2xx` (the usual answer) is two compares.
    match status {
        200..=299 => 1,
        100..=199 => 0,
        300..=399 => 2,
        400..=499 => 3,
        _ => 4,
    }
}

/// The live HTTP counters of one worker, on their own cache lines so that
/// workers writing their own never contend.
#[derive(Debug, Default)]
#[repr(align(128))]
pub(crate) struct LiveHttpStats {
    by_class: [AtomicU64; 5],
    duration: AtomicHistogram,
    /// The worker's loop-turn clock (ns), stored by the worker once per
    /// turn: what request durations are measured with.
    clock: AtomicU64,
}

impl LiveHttpStats {
    /// Counts a response; `ns` is its duration when it has one.
    #[inline]
    pub fn record(&self, status: u16, ns: Option<u64>) {
        bump(&self.by_class[class_index(status)], 1);
        if let Some(ns) = ns {
            self.duration.observe(ns);
        }
    }

    /// Publishes the worker's loop-turn clock (called by the owning
    /// worker once per turn: one relaxed store).
    #[inline]
    pub fn set_clock(&self, ns: u64) {
        self.clock.store(ns, Ordering::Relaxed);
    }

    /// The current values.
    pub fn snapshot(&self) -> HttpStats {
        let mut s = HttpStats {
            duration: self.duration.snapshot(),
            ..HttpStats::default()
        };
        for (v, a) in s.by_class.iter_mut().zip(&self.by_class) {
            *v = a.load(Ordering::Relaxed);
        }
        s
    }
}

/// The HTTP counters and clock of the worker a connection runs on, looked
/// up once per connection, so that counting a request reaches no
/// thread-local: a request reads the clock once when its head is complete
/// and counts its response with a few relaxed loads and stores.
pub(crate) struct WorkerHttp {
    shared: Arc<Shared>,
    index: usize,
}

impl WorkerHttp {
    /// The current worker's; `None` off a worker.
    pub fn current() -> Option<WorkerHttp> {
        crate::runtime::try_with(|w| WorkerHttp {
            shared: w.shared.clone(),
            index: w.index,
        })
        .filter(|h| h.shared.http.get(h.index).is_some())
    }

    #[inline]
    fn stats(&self) -> &LiveHttpStats {
        &self.shared.http[self.index]
    }

    /// The clock request durations are measured with: the worker's
    /// loop-turn clock in nanoseconds. Reading it costs no system call;
    /// see [`HttpStats::duration`] for its resolution.
    #[inline]
    pub fn clock(&self) -> u64 {
        self.stats().clock.load(Ordering::Relaxed)
    }

    /// Counts a response to a request whose head was complete at `began`
    /// (from [`clock`](Self::clock)).
    #[inline]
    pub fn record_response(&self, status: u16, began: u64) {
        let s = self.stats();
        s.record(
            status,
            Some(s.clock.load(Ordering::Relaxed).saturating_sub(began)),
        );
    }

    /// True once the server has begun shutting down (from the moment
    /// shutdown is requested: the same flag
    /// [`Metrics::is_shutting_down`](super::Metrics::is_shutting_down)
    /// reads, set before any worker begins draining).
    #[inline]
    pub fn shutting_down(&self) -> bool {
        self.shared.shutting_down.load(Ordering::Relaxed)
    }
}

/// Counts a response that did not come from a handler (a request-level
/// error such as `400` or `408`): its class only, no duration.
#[inline]
pub(crate) fn record_error(status: u16) {
    record(status, None);
}

#[inline]
fn record(status: u16, ns: Option<u64>) {
    crate::runtime::try_with(|w| {
        if let Some(s) = w.shared.http.get(w.index) {
            s.record(status, ns);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes() {
        let s = LiveHttpStats::default();
        s.record(200, Some(10));
        s.record(204, Some(10));
        s.record(404, None);
        s.record(101, None);
        s.record(503, Some(1));
        let snap = s.snapshot();
        assert_eq!(snap.by_class, [1, 2, 0, 1, 1]);
        assert_eq!(snap.class(299), 2);
        assert_eq!(snap.requests(), 5);
        assert_eq!(snap.duration.count(), 3);
        assert_eq!(snap.add(&snap).class(404), 2);
    }
}
