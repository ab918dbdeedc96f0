//! Prometheus text exposition (format 0.0.4) of a server's counters.
//!
//! Engine counters are written per worker (label `worker="N"`); HTTP
//! counters are summed over the workers. Each engine counter is one row of
//! [`ENGINE`]: adding a counter to [`WorkerStats`] and a row here is all it
//! takes to export it.

use std::fmt::Write;

use super::http::{HttpStats, CLASSES};
use crate::WorkerStats;

/// The `Content-Type` of the text exposition format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Prometheus metric types used here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Counter,
    Gauge,
}

/// How a raw value is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Unit {
    /// As is.
    One,
    /// Nanoseconds, written as seconds.
    Nanos,
}

/// One per-worker engine metric: a row of the table.
struct EngineMetric {
    name: &'static str,
    help: &'static str,
    kind: Kind,
    unit: Unit,
    get: fn(&WorkerStats) -> u64,
}

const fn counter(
    name: &'static str,
    help: &'static str,
    get: fn(&WorkerStats) -> u64,
) -> EngineMetric {
    EngineMetric {
        name,
        help,
        kind: Kind::Counter,
        unit: Unit::One,
        get,
    }
}

/// A counter of nanoseconds, exported in seconds (for busy/idle time).
const fn seconds(
    name: &'static str,
    help: &'static str,
    get: fn(&WorkerStats) -> u64,
) -> EngineMetric {
    EngineMetric {
        name,
        help,
        kind: Kind::Counter,
        unit: Unit::Nanos,
        get,
    }
}

/// The engine counters, in the order they are written.
const ENGINE: &[EngineMetric] = &[
    EngineMetric {
        name: "corering_connections_open",
        help: "Connections open now (accepted or connected, not yet closed).",
        kind: Kind::Gauge,
        unit: Unit::One,
        get: |s| s.open(),
    },
    counter(
        "corering_connections_accepted_total",
        "Connections accepted by the worker (or handed to it).",
        |s| s.accepted,
    ),
    counter(
        "corering_connections_connected_total",
        "Client connections opened with Connector.",
        |s| s.connected,
    ),
    counter(
        "corering_connections_closed_total",
        "Connections whose socket has been closed.",
        |s| s.closed,
    ),
    counter("corering_received_bytes_total", "Bytes received.", |s| {
        s.bytes_in
    }),
    counter("corering_sent_bytes_total", "Bytes sent.", |s| s.bytes_out),
    counter(
        "corering_recv_pauses_total",
        "Receives paused because a connection held too many unreturned buffers.",
        |s| s.recv_pauses,
    ),
    counter(
        "corering_buffer_ring_exhausted_total",
        "Receives that found the provided-buffer ring empty (ENOBUFS).",
        |s| s.ring_exhausted,
    ),
    counter(
        "corering_connections_refused_total",
        "Accepted connections a middleware refused (e.g. a connection limit).",
        |s| s.refused,
    ),
    counter(
        "corering_write_timeouts_total",
        "Connections closed because their queued output made no progress for the write timeout.",
        |s| s.write_timeouts,
    ),
    counter(
        "corering_tls_handshake_failures_total",
        "TLS handshakes that failed, timed out or were abandoned; each closed its connection.",
        |s| s.tls_handshake_failures,
    ),
    counter(
        "corering_accept_errors_total",
        "Accepts that failed for lack of descriptors or memory (EMFILE, ENFILE, ENOBUFS, ENOMEM).",
        |s| s.accept_errors,
    ),
    counter(
        "corering_ring_enters_total",
        "Driver waits: io_uring_enter (or, on the epoll backend, epoll_wait) system calls.",
        |s| s.enters,
    ),
    counter(
        "corering_ring_submitted_total",
        "Requests handed to the driver (io_uring submission queue entries).",
        |s| s.submitted,
    ),
    seconds(
        "corering_worker_idle_seconds_total",
        "Time the worker spent asleep waiting for completions.",
        |s| s.idle_ns,
    ),
    seconds(
        "corering_worker_busy_seconds_total",
        "Time the worker spent running (not waiting for completions).",
        |s| s.busy_ns,
    ),
];

const REQUESTS: &str = "corering_http_requests_total";
const DURATION: &str = "corering_http_request_duration_seconds";

/// Writes the exposition of `engine` (one entry per worker, by index) and
/// `http` (summed over workers) to `out`.
pub(crate) fn render(engine: &[WorkerStats], http: &HttpStats, out: &mut String) {
    // Writing to a String cannot fail.
    let _ = render_fmt(engine, http, out);
}

fn render_fmt(engine: &[WorkerStats], http: &HttpStats, out: &mut String) -> std::fmt::Result {
    header(
        out,
        "corering_workers",
        "Worker threads of the server.",
        Kind::Gauge,
    )?;
    writeln!(out, "corering_workers {}", engine.len())?;
    for m in ENGINE {
        header(out, m.name, m.help, m.kind)?;
        for (i, s) in engine.iter().enumerate() {
            let v = (m.get)(s);
            match m.unit {
                Unit::One => writeln!(out, "{}{{worker=\"{i}\"}} {v}", m.name)?,
                Unit::Nanos => writeln!(out, "{}{{worker=\"{i}\"}} {}", m.name, v as f64 / 1e9)?,
            }
        }
    }
    header(
        out,
        REQUESTS,
        "HTTP responses sent, by status class (including protocol errors).",
        Kind::Counter,
    )?;
    for (class, n) in CLASSES.iter().zip(http.by_class) {
        writeln!(out, "{REQUESTS}{{class=\"{class}\"}} {n}")?;
    }
    writeln!(
        out,
        "# HELP {DURATION} Time from a request's head being complete to its response being queued (loop-turn resolution)."
    )?;
    writeln!(out, "# TYPE {DURATION} histogram")?;
    for (le, n) in http.duration.cumulative() {
        writeln!(out, "{DURATION}_bucket{{le=\"{le}\"}} {n}")?;
    }
    writeln!(out, "{DURATION}_sum {}", http.duration.sum_secs())?;
    writeln!(out, "{DURATION}_count {}", http.duration.count())
}

fn header(out: &mut String, name: &str, help: &str, kind: Kind) -> std::fmt::Result {
    let kind = match kind {
        Kind::Counter => "counter",
        Kind::Gauge => "gauge",
    };
    writeln!(out, "# HELP {name} {help}")?;
    writeln!(out, "# TYPE {name} {kind}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_valid_and_unique() {
        let mut seen = std::collections::HashSet::new();
        for m in ENGINE {
            assert!(seen.insert(m.name), "{} twice", m.name);
            assert!(m
                .name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b == b'_' || b.is_ascii_digit()));
            assert_eq!(m.kind == Kind::Counter, m.name.ends_with("_total"));
            assert!(!m.help.contains('\n') && !m.help.contains('\\'));
        }
    }

    #[test]
    fn every_series_line_has_a_value() {
        let w = WorkerStats {
            accepted: 3,
            closed: 1,
            ..WorkerStats::default()
        };
        let mut out = String::new();
        render(&[w, w], &HttpStats::default(), &mut out);
        assert!(out.contains("corering_connections_open{worker=\"1\"} 2\n"));
        for line in out.lines().filter(|l| !l.starts_with('#')) {
            let v = line.rsplit(' ').next().unwrap();
            assert!(v.parse::<f64>().is_ok(), "{line}");
        }
    }
}
