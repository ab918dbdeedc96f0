//! A server's counters, readable from its handlers: engine counters per
//! worker ([`WorkerStats`]), HTTP responses by status class and a
//! request-duration histogram ([`HttpStats`]), and their Prometheus text
//! exposition.
//!
//! Counting costs the hot path no lock and no allocation: each worker
//! writes its own counters (engine counters are published once per loop
//! turn, HTTP counters as each response is queued) with relaxed stores,
//! and a reader sums the workers when it is asked. [`Metrics`] is the
//! handle: [`Metrics::current`] in a handler, or
//! [`RunningServer::metrics`](crate::RunningServer::metrics).
//!
//! ```no_run
//! use corering::http::{self, observe, Http1Config, Response};
//! use corering::{get, routes};
//!
//! #[get("/metrics")]
//! async fn metrics() -> Response {
//!     observe::metrics()
//! }
//!
//! #[get("/stats")]
//! async fn stats() -> String {
//!     let m = corering::metrics::Metrics::current().expect("on a worker");
//!     format!("{} requests\n", m.http().requests())
//! }
//!
//! fn main() -> std::io::Result<()> {
//!     let cfg = Http1Config::new();
//!     let router = routes![metrics, stats];
//!     corering::Server::builder()
//!         .bind("127.0.0.1:8080")
//!         .build()?
//!         .serve(move |conn| http::serve(conn, cfg, router.clone()))
//! }
//! ```

mod histogram;
pub(crate) mod http;
mod text;

use std::sync::Arc;

pub use histogram::{Histogram, BOUNDS_LABELS, BOUNDS_NS, BUCKETS};
pub(crate) use http::{record_error, LiveHttpStats, WorkerHttp};
pub use http::{HttpStats, CLASSES};
pub use text::CONTENT_TYPE;

use crate::runtime::Shared;
use crate::WorkerStats;

/// The counters of one running server (or `Runtime`): cheap to clone,
/// `Send + Sync`, readable from any thread.
#[derive(Clone)]
pub struct Metrics {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics")
            .field("workers", &self.workers())
            .finish()
    }
}

impl Metrics {
    pub(crate) fn new(shared: Arc<Shared>) -> Metrics {
        Metrics { shared }
    }

    /// The counters of the server the calling worker belongs to; `None`
    /// off a corering worker thread.
    pub fn current() -> Option<Metrics> {
        crate::runtime::try_with(|w| Metrics::new(w.shared.clone()))
    }

    /// Number of workers.
    pub fn workers(&self) -> usize {
        self.shared.stats.len()
    }

    /// Engine counters of each worker, by worker index (as of each
    /// worker's last loop turn).
    pub fn engine(&self) -> Vec<WorkerStats> {
        self.shared.stats.iter().map(|s| s.snapshot()).collect()
    }

    /// Engine counters summed over the workers.
    pub fn engine_total(&self) -> WorkerStats {
        self.engine()
            .iter()
            .fold(WorkerStats::default(), |a, s| a.add(s))
    }

    /// HTTP counters of worker `index` (`None` past the last worker).
    pub fn http_worker(&self, index: usize) -> Option<HttpStats> {
        self.shared.http.get(index).map(|s| s.snapshot())
    }

    /// HTTP counters summed over the workers.
    pub fn http(&self) -> HttpStats {
        self.shared
            .http
            .iter()
            .fold(HttpStats::default(), |a, s| a.add(&s.snapshot()))
    }

    /// True once the server has begun shutting down (from the moment
    /// shutdown is requested, on every worker and thread).
    pub fn is_shutting_down(&self) -> bool {
        self.shared
            .shutting_down
            .load(std::sync::atomic::Ordering::Acquire)
    }

    /// Appends the Prometheus text exposition (format 0.0.4, served with
    /// [`CONTENT_TYPE`]) of all counters to `out`.
    pub fn render_prometheus(&self, out: &mut String) {
        text::render(&self.engine(), &self.http(), out);
    }
}
