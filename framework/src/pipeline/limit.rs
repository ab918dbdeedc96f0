//! `ConnectionLimit`: caps open connections per worker and in total.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use super::{Closed, Middleware, Refused, Side};
use crate::Connection;

/// Worker slots tracked per limit; worker indexes wrap beyond this.
const MAX_WORKERS: usize = 256;

/// Refuses connections beyond a per-worker and a total limit; refused
/// connections are closed at once and counted.
///
/// ```
/// use std::sync::Arc;
/// use corering::pipeline::ConnectionLimit;
///
/// // Shared through an `Arc`, so the counts can be read while it runs.
/// let limit = Arc::new(ConnectionLimit::new().per_worker(5_000).total(20_000));
/// let builder = corering::Server::builder().middleware(Arc::clone(&limit));
/// # let _ = builder;
/// println!("{} open, {} refused", limit.open(), limit.refused());
/// ```
#[derive(Debug)]
pub struct ConnectionLimit {
    per_worker: usize,
    total: usize,
    open: AtomicUsize,
    open_by_worker: Box<[AtomicUsize]>,
    refused: AtomicU64,
}

impl Default for ConnectionLimit {
    fn default() -> Self {
        ConnectionLimit::new()
    }
}

impl ConnectionLimit {
    /// No limits yet (everything allowed); set them with the methods below.
    ///
    /// ```
    /// let limit = corering::pipeline::ConnectionLimit::new();
    /// assert_eq!((limit.open(), limit.refused()), (0, 0));
    /// ```
    pub fn new() -> ConnectionLimit {
        ConnectionLimit {
            per_worker: usize::MAX,
            total: usize::MAX,
            open: AtomicUsize::new(0),
            open_by_worker: (0..MAX_WORKERS).map(|_| AtomicUsize::new(0)).collect(),
            refused: AtomicU64::new(0),
        }
    }

    /// At most `n` open connections on any one worker.
    ///
    /// ```
    /// let limit = corering::pipeline::ConnectionLimit::new().per_worker(1000);
    /// # let _ = limit;
    /// ```
    pub fn per_worker(mut self, n: usize) -> ConnectionLimit {
        self.per_worker = n;
        self
    }

    /// At most `n` open connections over all workers.
    ///
    /// ```
    /// let limit = corering::pipeline::ConnectionLimit::new().total(10_000);
    /// # let _ = limit;
    /// ```
    pub fn total(mut self, n: usize) -> ConnectionLimit {
        self.total = n;
        self
    }

    /// Connections currently counted as open.
    pub fn open(&self) -> usize {
        self.open.load(Ordering::Relaxed)
    }

    /// Connections refused so far.
    pub fn refused(&self) -> u64 {
        self.refused.load(Ordering::Relaxed)
    }
}

impl Middleware for ConnectionLimit {
    fn on_open(&self, _conn: &mut Connection, _side: Side) -> Result<(), Refused> {
        let w = &self.open_by_worker[crate::worker_index() % MAX_WORKERS];
        // Take a place in both counts, or neither.
        if w.fetch_add(1, Ordering::AcqRel) >= self.per_worker {
            w.fetch_sub(1, Ordering::AcqRel);
            self.refused.fetch_add(1, Ordering::Relaxed);
            return Err(Refused::new("per-worker connection limit reached"));
        }
        if self.open.fetch_add(1, Ordering::AcqRel) >= self.total {
            self.open.fetch_sub(1, Ordering::AcqRel);
            w.fetch_sub(1, Ordering::AcqRel);
            self.refused.fetch_add(1, Ordering::Relaxed);
            return Err(Refused::new("connection limit reached"));
        }
        Ok(())
    }

    fn on_close(&self, closed: &Closed) {
        self.open_by_worker[closed.worker % MAX_WORKERS].fetch_sub(1, Ordering::AcqRel);
        self.open.fetch_sub(1, Ordering::AcqRel);
    }
}
