//! Per-worker counters, kept as plain integers on the worker and published
//! to atomics once per loop turn (a few relaxed stores), so counting costs
//! the hot path nothing measurable and any thread can read a snapshot.
//!
//! Idle time while a worker sleeps: the worker adds a wait to `idle_ns`
//! only when it ends, so it also publishes when its current wait began, and
//! a reader adds the time since. A reader may briefly see a wait that just
//! ended as still going on (counting up to one turn of work as idle), so
//! each snapshot's idle time is clamped to never go below an earlier one:
//! the counter only grows, and is exact again at the next turn.
//!
//! Each worker's published block sits on cache lines of its own
//! (`#[repr(align(128))]`: two 64-byte lines, as adjacent-line prefetchers
//! fetch pairs), so workers storing their counters every turn never
//! invalidate each other's lines.

use std::sync::atomic::{fence, AtomicU64, Ordering};

use super::time::now_ns;

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
            /// Clock (ns) when the worker's current wait began; 0 if it is
            /// not waiting.
            waiting_since: AtomicU64,
            /// The largest idle time any snapshot reported.
            idle_seen: AtomicU64,
        }

        impl SharedStats {
            /// Publishes `s` (called by the owning worker only);
            /// `waiting_since` is when the wait the worker is about to
            /// enter began (0 if it will not wait).
            pub fn publish(&self, s: &WorkerStats, waiting_since: u64) {
                self.waiting_since.store(waiting_since, Ordering::Relaxed);
                // A reader that sees this `idle_ns` sees the wait start
                // stored above (pairs with the fence in `snapshot`).
                fence(Ordering::Release);
                $( self.$name.store(s.$name, Ordering::Relaxed); )*
            }

            /// The last published values, with the idle time counted up to
            /// now if the worker is asleep.
            pub fn snapshot(&self) -> WorkerStats {
                let mut s = WorkerStats { $( $name: self.$name.load(Ordering::Relaxed), )* };
                fence(Ordering::Acquire);
                let since = self.waiting_since.load(Ordering::Relaxed);
                if since != 0 {
                    s.idle_ns += now_ns().saturating_sub(since);
                }
                let seen = self.idle_seen.fetch_max(s.idle_ns, Ordering::Relaxed);
                s.idle_ns = s.idle_ns.max(seen);
                s
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
    /// Accepted connections a middleware refused in `on_open` (e.g.
    /// `pipeline::ConnectionLimit`); they are closed at once.
    refused,
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
    /// TLS handshakes that failed, timed out or were abandoned by the
    /// peer; each closed its connection.
    tls_handshake_failures,
    /// Accepts that failed for lack of descriptors or memory (EMFILE,
    /// ENFILE, ENOBUFS, ENOMEM); each is followed by a short back-off.
    /// Counted by the worker's own listeners only (not the acceptor thread).
    accept_errors,
    /// Driver waits made by the worker loop: `io_uring_enter` system
    /// calls, or `epoll_wait` calls on the epoll backend.
    enters,
    /// Requests the driver carried out: submission queue entries the
    /// kernel took (io_uring), or requests (epoll).
    submitted,
    /// Nanoseconds the worker spent blocked in its driver's wait
    /// (asleep), including the wait it is in now.
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
        s.publish(&w, 0);
        assert_eq!(s.snapshot(), w);
        assert_eq!(w.add(&w).write_timeouts, 4);
        assert_eq!(w.open(), 2);
    }

    #[test]
    fn a_sleeping_worker_accrues_idle_time_and_it_never_goes_back() {
        let s = SharedStats::default();
        let idle = WorkerStats {
            idle_ns: 1_000,
            ..Default::default()
        };
        // Asleep since 20 ms ago.
        s.publish(&idle, now_ns() - 20_000_000);
        let a = s.snapshot().idle_ns;
        assert!(a >= 20_001_000, "{a}");
        std::thread::sleep(std::time::Duration::from_millis(5));
        let b = s.snapshot().idle_ns;
        assert!(b >= a + 5_000_000, "{a} then {b}");
        // The wait ended earlier than a reader assumed: no step back.
        s.publish(&idle, 0);
        assert_eq!(s.snapshot().idle_ns, b);
    }
}
