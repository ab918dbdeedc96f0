//! The request-duration histogram: fixed buckets from 100 µs to 10 s, one
//! writer (the worker that owns it), any number of readers.
//!
//! Observing is a short scan of the bucket bounds (most requests stop at the
//! first) and two relaxed load/store pairs: no lock, no read-modify-write,
//! no allocation.

use std::sync::atomic::{AtomicU64, Ordering};

/// Number of finite buckets; one more (`+Inf`) catches the rest.
pub const BUCKETS: usize = 16;

/// Upper bounds of the finite buckets, in nanoseconds (inclusive, as
/// Prometheus's `le`).
pub const BOUNDS_NS: [u64; BUCKETS] = [
    100_000,
    250_000,
    500_000,
    1_000_000,
    2_500_000,
    5_000_000,
    10_000_000,
    25_000_000,
    50_000_000,
    100_000_000,
    250_000_000,
    500_000_000,
    1_000_000_000,
    2_500_000_000,
    5_000_000_000,
    10_000_000_000,
];

/// [`BOUNDS_NS`] in seconds, as written in the `le` label.
pub const BOUNDS_LABELS: [&str; BUCKETS] = [
    "0.0001", "0.00025", "0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1",
    "0.25", "0.5", "1", "2.5", "5", "10",
];

/// A snapshot of a duration histogram (or the sum of several).
///
/// ```
/// use corering::metrics::Histogram;
/// let h = Histogram::default();
/// assert_eq!(h.count(), 0);
/// assert_eq!(h.cumulative().count(), 17); // 16 bounds and +Inf
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Histogram {
    /// Observations per bucket (not cumulative); the last is `+Inf`.
    pub counts: [u64; BUCKETS + 1],
    /// Sum of all observations, in nanoseconds.
    pub sum_ns: u64,
}

impl Histogram {
    /// Number of observations.
    pub fn count(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// Sum of all observations, in seconds.
    pub fn sum_secs(&self) -> f64 {
        self.sum_ns as f64 / 1e9
    }

    /// Bucket-wise sum.
    pub fn add(&self, o: &Histogram) -> Histogram {
        let mut h = *self;
        for (a, b) in h.counts.iter_mut().zip(o.counts) {
            *a += b;
        }
        h.sum_ns += o.sum_ns;
        h
    }

    /// `(le label, cumulative count)` for each bucket, `+Inf` last, as the
    /// Prometheus `_bucket` series are written.
    pub fn cumulative(&self) -> impl Iterator<Item = (&'static str, u64)> + '_ {
        let labels = BOUNDS_LABELS.iter().copied().chain(["+Inf"]);
        labels.zip(self.counts.iter().scan(0u64, |acc, c| {
            *acc += c;
            Some(*acc)
        }))
    }
}

/// The live histogram of one worker.
#[derive(Debug, Default)]
pub(crate) struct AtomicHistogram {
    counts: [AtomicU64; BUCKETS + 1],
    sum_ns: AtomicU64,
}

impl AtomicHistogram {
    /// Counts one observation of `ns` nanoseconds. Called by the owning
    /// worker only: a plain load and store (no read-modify-write) is then
    /// exact, and readers see each counter whole.
    #[inline]
    pub fn observe(&self, ns: u64) {
        let i = BOUNDS_NS.iter().position(|&b| ns <= b).unwrap_or(BUCKETS);
        bump(&self.counts[i], 1);
        bump(&self.sum_ns, ns);
    }

    /// The current counts.
    pub fn snapshot(&self) -> Histogram {
        let mut h = Histogram {
            sum_ns: self.sum_ns.load(Ordering::Relaxed),
            ..Histogram::default()
        };
        for (c, a) in h.counts.iter_mut().zip(&self.counts) {
            *c = a.load(Ordering::Relaxed);
        }
        h
    }
}

/// Adds `n` to a counter that only the calling thread writes.
#[inline]
pub(crate) fn bump(c: &AtomicU64, n: u64) {
    c.store(c.load(Ordering::Relaxed).wrapping_add(n), Ordering::Relaxed);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_inclusive_upper_bounds() {
        let h = AtomicHistogram::default();
        h.observe(0);
        h.observe(100_000);
        h.observe(100_001);
        h.observe(20_000_000_000);
        let s = h.snapshot();
        assert_eq!(s.counts[0], 2);
        assert_eq!(s.counts[1], 1);
        assert_eq!(s.counts[BUCKETS], 1);
        assert_eq!(s.count(), 4);
        assert_eq!(s.sum_ns, 20_000_200_001);
        let cum: Vec<u64> = s.cumulative().map(|(_, c)| c).collect();
        assert_eq!(cum[0], 2);
        assert_eq!(cum[BUCKETS - 1], 3);
        assert_eq!(cum[BUCKETS], 4);
    }

    #[test]
    fn labels_match_bounds() {
        for (ns, label) in BOUNDS_NS.iter().zip(BOUNDS_LABELS) {
            assert_eq!(*ns as f64 / 1e9, label.parse::<f64>().unwrap());
        }
    }
}
