//! Per-worker counters, kept as plain integers on the worker and published
//! to atomics once per loop turn (a few relaxed stores), so counting costs
//! the hot path nothing measurable and any thread can read a snapshot.

use std::sync::atomic::{AtomicU64, Ordering};

/// Counters of one worker (or, summed, of a whole server).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WorkerStats {
    /// Connections accepted by this worker (or handed to it).
    pub accepted: u64,
    /// Client connections opened with `Connector`.
    pub connected: u64,
    /// Connections whose socket has been closed.
    pub closed: u64,
    /// Bytes received.
    pub bytes_in: u64,
    /// Bytes sent.
    pub bytes_out: u64,
    /// Times a connection's receive was paused because it held too many
    /// unreturned buffers (backpressure).
    pub recv_pauses: u64,
    /// Times a receive found the buffer ring empty (ENOBUFS).
    pub ring_exhausted: u64,
}

impl WorkerStats {
    /// Connections currently open (accepted or connected, not yet closed).
    pub fn open(&self) -> u64 {
        (self.accepted + self.connected).saturating_sub(self.closed)
    }

    /// Field-wise sum.
    pub fn add(&self, o: &WorkerStats) -> WorkerStats {
        WorkerStats {
            accepted: self.accepted + o.accepted,
            connected: self.connected + o.connected,
            closed: self.closed + o.closed,
            bytes_in: self.bytes_in + o.bytes_in,
            bytes_out: self.bytes_out + o.bytes_out,
            recv_pauses: self.recv_pauses + o.recv_pauses,
            ring_exhausted: self.ring_exhausted + o.ring_exhausted,
        }
    }
}

/// The published copy of a worker's counters.
#[derive(Debug, Default)]
pub(crate) struct SharedStats {
    accepted: AtomicU64,
    connected: AtomicU64,
    closed: AtomicU64,
    bytes_in: AtomicU64,
    bytes_out: AtomicU64,
    recv_pauses: AtomicU64,
    ring_exhausted: AtomicU64,
}

impl SharedStats {
    /// Publishes `s` (called by the owning worker only).
    pub fn publish(&self, s: &WorkerStats) {
        let o = Ordering::Relaxed;
        self.accepted.store(s.accepted, o);
        self.connected.store(s.connected, o);
        self.closed.store(s.closed, o);
        self.bytes_in.store(s.bytes_in, o);
        self.bytes_out.store(s.bytes_out, o);
        self.recv_pauses.store(s.recv_pauses, o);
        self.ring_exhausted.store(s.ring_exhausted, o);
    }

    /// The last published values.
    pub fn snapshot(&self) -> WorkerStats {
        let o = Ordering::Relaxed;
        WorkerStats {
            accepted: self.accepted.load(o),
            connected: self.connected.load(o),
            closed: self.closed.load(o),
            bytes_in: self.bytes_in.load(o),
            bytes_out: self.bytes_out.load(o),
            recv_pauses: self.recv_pauses.load(o),
            ring_exhausted: self.ring_exhausted.load(o),
        }
    }
}
