//! How much memory the connections' `FrameReader`s hold and how much they
//! copy, for `INFO` (section `# Reader`):
//!
//! - `reader_peak_capacity`: the largest assembly buffer any connection has
//!   held, in bytes (frames within one receive buffer need none);
//! - `reader_bytes_received` / `reader_bytes_copied`: bytes received, and
//!   bytes copied to assemble requests that spanned receive buffers, by the
//!   connections that have ended.
//!
//! The shared counters are touched only when a connection's buffer grows
//! and when it ends, not per request.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use corering::frame::FrameReader;

static PEAK_CAPACITY: AtomicU64 = AtomicU64::new(0);
static RECEIVED: AtomicU64 = AtomicU64::new(0);
static COPIED: AtomicU64 = AtomicU64::new(0);

/// One connection's share of the figures.
#[derive(Debug, Default)]
pub struct Tracker {
    /// The capacity last reported for this connection.
    seen: usize,
}

impl Tracker {
    /// Notes the reader's current assembly capacity.
    #[inline]
    pub fn observe(&mut self, reader: &FrameReader) {
        let cap = reader.capacity();
        if cap > self.seen {
            self.seen = cap;
            PEAK_CAPACITY.fetch_max(cap as u64, Relaxed);
        }
    }

    /// Adds the ended connection's byte counts.
    pub fn finish(mut self, reader: &FrameReader) {
        self.observe(reader);
        RECEIVED.fetch_add(reader.bytes_received(), Relaxed);
        COPIED.fetch_add(reader.bytes_copied(), Relaxed);
    }
}

/// Appends the `# Reader` section of `INFO`.
pub fn info(out: &mut String) {
    let _ = write!(
        out,
        "# Reader\r\nreader_peak_capacity:{}\r\nreader_bytes_received:{}\r\n\
         reader_bytes_copied:{}\r\n",
        PEAK_CAPACITY.load(Relaxed),
        RECEIVED.load(Relaxed),
        COPIED.load(Relaxed)
    );
}
