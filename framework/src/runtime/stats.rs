//! Per-worker counters, kept as plain integers on the worker and published
//! to atomics once per loop turn (a few relaxed stores), so counting costs
//! the hot path nothing measurable and any thread can read a snapshot.
//!
//! Each worker's published block sits on cache lines of its own
//! (`#[repr(align(128))]`: two 64-byte lines, as adjacent-line prefetchers
//! fetch pairs), so workers storing their counters every turn never
//! invalidate each other's lines.

use std::sync::atomic::{AtomicU64, Ordering};

/// Declares `WorkerStats` (plain counters) and `SharedStats` (the published
/// atomics) from one field list, so the two can never disagree.
macro_rules! counters {
    ($( $(#[$doc:meta])* $name:ident, )*) => {
        /// Counters of one worker (or, summed, of a whole server).
        ///
        /// Every field only grows (a counter in Prometheus terms); read them
        /// with [`RunningServer::stats`](crate::RunningServer::stats) or
        /// [`total_stats`](crate::RunningServer::total_stats).
        ///
        /// ```no_run
        /// # let server: corering::RunningServer = todo!();
        /// let t = server.total_stats();
        /// println!("{} open, {} write timeouts", t.open(), t.write_timeouts);
        /// ```
        #[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
        pub struct WorkerStats {
            $( $(#[$doc])* pub $name: u64, )*
        }

        impl WorkerStats {
            /// Field-wise sum.
            pub fn add(&self, o: &WorkerStats) -> WorkerStats {
                WorkerStats { $( $name: self.$name + o.$name, )* }
            }
        }

        /// The published copy of a worker's counters, alone on its cache
        /// lines.
        #[derive(Debug, Default)]
        #[repr(align(128))]
        pub(crate) struct SharedStats {
            $( $name: AtomicU64, )*
        }

        impl SharedStats {
            /// Publishes `s` (called by the owning worker only).
            pub fn publish(&self, s: &WorkerStats) {
                $( self.$name.store(s.$name, Ordering::Relaxed); )*
            }

            /// The last published values.
            pub fn snapshot(&self) -> WorkerStats {
                WorkerStats { $( $name: self.$name.load(Ordering::Relaxed), )* }
            }
        }
    };
}

counters! {
    /// Connections accepted by this worker (or handed to it).
    accepted,
    /// Client connections opened with `Connector`.
    connected,
    /// Connections whose socket has been closed.
    closed,
    /// Bytes received.
    bytes_in,
    /// Bytes sent.
    bytes_out,
    /// Times a connection's receive was paused because it held too many
    /// unreturned buffers (backpressure).
    recv_pauses,
    /// Times a receive found the buffer ring empty (ENOBUFS).
    ring_exhausted,
    /// Connections closed because their queued output made no progress for
    /// the write timeout (a peer that stopped reading).
    write_timeouts,
    /// Accepts that failed for lack of descriptors or memory (EMFILE,
    /// ENFILE, ENOBUFS, ENOMEM); each is followed by a short back-off.
    /// Counted by the worker's own listeners only (not the acceptor thread).
    accept_errors,
    /// `io_uring_enter` system calls made by the worker loop.
    enters,
    /// Submission queue entries handed to the kernel by those calls.
    submitted,
    /// Nanoseconds the worker spent blocked in `io_uring_enter` waiting for
    /// completions (asleep). Counted when each wait ends, so a worker that
    /// sleeps for a long time shows it when it wakes.
    idle_ns,
    /// Nanoseconds the worker loop spent outside those waits (running
    /// tasks, submitting, handling completions), since the worker started.
    busy_ns,
}

impl WorkerStats {
    /// Connections currently open (accepted or connected, not yet closed).
    pub fn open(&self) -> u64 {
        (self.accepted + self.connected).saturating_sub(self.closed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_stats_fill_their_own_cache_lines() {
        assert_eq!(std::mem::align_of::<SharedStats>(), 128);
        assert!(std::mem::size_of::<SharedStats>().is_multiple_of(128));
        let v: Vec<SharedStats> = (0..2).map(|_| SharedStats::default()).collect();
        let a = &v[0] as *const SharedStats as usize;
        let b = &v[1] as *const SharedStats as usize;
        assert!(b - a >= 128 && a.is_multiple_of(128));
    }

    #[test]
    fn publish_and_snapshot_round_trip() {
        let s = SharedStats::default();
        let w = WorkerStats {
            accepted: 3,
            closed: 1,
            write_timeouts: 2,
            idle_ns: 7,
            ..Default::default()
        };
        s.publish(&w);
        assert_eq!(s.snapshot(), w);
        assert_eq!(w.add(&w).write_timeouts, 4);
        assert_eq!(w.open(), 2);
    }
}
