//! The pipeline: middleware between the transport and the protocol.
//!
//! ```text
//!   Listener / Connector ──► Middleware (outer) ──► Middleware ──► protocol / app
//!                            on_open: inspect, tag, refuse          handler(conn)
//!                            on_close: account, log  ◄──────────────  (returns)
//! ```
//!
//! A [`Middleware`] sees every connection when it opens (it may configure it,
//! attach [`Features`](crate::Features), or refuse it, which closes it at
//! once) and is told when it closes. Middleware is composed statically:
//! tuples `(A, B)` run `A` then `B` on open and the reverse on close, and the
//! server and connector builders nest them as you add them, so there is no
//! boxing or dynamic dispatch per connection. The same middleware value
//! (wrap it in an `Arc` to share its state) works on a [`Server`](crate::Server)
//! and on a [`Connector`](crate::Connector).
//!
//! Built in: [`ConnectionLimit`], [`IdleTimeout`], [`Logging`]. Per-worker
//! counters (connections, bytes, receive pauses, buffer-ring exhaustion) are
//! kept by the engine itself and read with
//! [`RunningServer::stats`](crate::RunningServer::stats).
//!
//! ```no_run
//! use std::sync::Arc;
//! use std::time::Duration;
//! use corering::pipeline::{ConnectionLimit, IdleTimeout};
//!
//! # fn main() -> std::io::Result<()> {
//! let limit = Arc::new(ConnectionLimit::new().per_worker(10_000).total(50_000));
//! let server = corering::Server::builder()
//!     .bind("127.0.0.1:7000")
//!     .middleware(limit.clone())
//!     .middleware(IdleTimeout(Duration::from_secs(30)))
//!     .build()?
//!     .start(|conn| async move { drop(conn) })?;
//! println!("refused so far: {}", limit.refused());
//! # Ok(()) }
//! ```

mod limit;
mod logging;

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub use limit::ConnectionLimit;
pub use logging::Logging;

use crate::Connection;

/// Which end opened the connection.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Side {
    /// Accepted by a server.
    Server,
    /// Opened with a `Connector`.
    Client,
}

/// Why a middleware refused a connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    reason: &'static str,
}

impl Refused {
    /// A refusal with a short reason (shown in client errors and logs).
    pub fn new(reason: &'static str) -> Refused {
        Refused { reason }
    }

    /// The reason given.
    pub fn reason(&self) -> &'static str {
        self.reason
    }
}

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "connection refused by middleware: {}", self.reason)
    }
}

impl std::error::Error for Refused {}

/// What a middleware learns when a connection it accepted closes.
#[derive(Debug, Clone)]
pub struct Closed {
    /// Server or client side.
    pub side: Side,
    /// Index of the worker that served it.
    pub worker: usize,
    /// Time since it opened.
    pub duration: Duration,
    /// Bytes received.
    pub bytes_in: u64,
    /// Bytes sent.
    pub bytes_out: u64,
}

/// A layer between the transport and the protocol; see the module docs.
pub trait Middleware: Send + Sync + 'static {
    /// True for layers that do nothing (`()`), so the server and connector
    /// skip per-connection bookkeeping entirely.
    #[doc(hidden)]
    const NOOP: bool = false;

    /// Called when a connection opens, before the protocol sees it. An
    /// error refuses the connection: it is closed at once, and `on_close`
    /// is not called for it.
    fn on_open(&self, conn: &mut Connection, side: Side) -> Result<(), Refused> {
        let _ = (conn, side);
        Ok(())
    }

    /// Called once when a connection this middleware let through closes.
    fn on_close(&self, closed: &Closed) {
        let _ = closed;
    }
}

impl Middleware for () {
    const NOOP: bool = true;
}

impl<A: Middleware, B: Middleware> Middleware for (A, B) {
    const NOOP: bool = A::NOOP && B::NOOP;

    fn on_open(&self, conn: &mut Connection, side: Side) -> Result<(), Refused> {
        self.0.on_open(conn, side)?;
        if let Err(e) = self.1.on_open(conn, side) {
            // A let the connection through and may have counted it.
            self.0.on_close(&Closed {
                side,
                worker: crate::worker_index(),
                duration: Duration::ZERO,
                bytes_in: 0,
                bytes_out: 0,
            });
            return Err(e);
        }
        Ok(())
    }

    fn on_close(&self, closed: &Closed) {
        self.1.on_close(closed);
        self.0.on_close(closed);
    }
}

impl<M: Middleware> Middleware for Arc<M> {
    const NOOP: bool = M::NOOP;

    fn on_open(&self, conn: &mut Connection, side: Side) -> Result<(), Refused> {
        (**self).on_open(conn, side)
    }
    fn on_close(&self, closed: &Closed) {
        (**self).on_close(closed)
    }
}

/// Sets an idle timeout on every connection: a `read` that waits longer
/// than this fails with `ErrorKind::TimedOut` (handlers then usually close).
#[derive(Debug, Clone, Copy)]
pub struct IdleTimeout(pub Duration);

impl Middleware for IdleTimeout {
    fn on_open(&self, conn: &mut Connection, _side: Side) -> Result<(), Refused> {
        conn.set_idle_timeout(Some(self.0));
        Ok(())
    }
}

/// Calls `on_close` when dropped: closes the middleware's view of one
/// connection however the handler ends (returns, panics, is dropped at
/// shutdown).
pub(crate) struct CloseGuard<M: Middleware> {
    pub mw: Arc<M>,
    pub side: Side,
    pub opened: Instant,
    pub slot: (u32, u32),
}

impl<M: Middleware> Drop for CloseGuard<M> {
    fn drop(&mut self) {
        let (bytes_in, bytes_out, worker) = crate::runtime::try_with(|w| {
            let io = w.io.borrow();
            let (i, o) = io.conns.final_counts(self.slot.0, self.slot.1);
            (i, o, w.index)
        })
        .unwrap_or((0, 0, 0));
        self.mw.on_close(&Closed {
            side: self.side,
            worker,
            duration: self.opened.elapsed(),
            bytes_in,
            bytes_out,
        });
    }
}

/// Wraps a connection handler with middleware: `on_open` runs before the
/// handler is created (a refused connection is dropped, which closes it),
/// and a guard inside the handler's future runs `on_close` however the
/// future ends. Allocation-free per connection.
pub(crate) fn compose<M, H, F>(
    mw: M,
    handler: H,
) -> impl Fn(Connection) -> Wrapped<M, F> + Send + Sync
where
    M: Middleware,
    H: Fn(Connection) -> F + Send + Sync + 'static,
    F: std::future::Future<Output = ()> + 'static,
{
    let mw = Arc::new(mw);
    move |mut conn: Connection| {
        if M::NOOP {
            return Wrapped {
                fut: Some(handler(conn)),
                guard: None,
            };
        }
        let opened = Instant::now();
        match mw.on_open(&mut conn, Side::Server) {
            Ok(()) => Wrapped {
                guard: Some(CloseGuard {
                    mw: mw.clone(),
                    side: Side::Server,
                    opened,
                    slot: conn.slot(),
                }),
                fut: Some(handler(conn)),
            },
            Err(_) => {
                drop(conn);
                crate::runtime::with(|w| w.io.borrow_mut().conns.stats.refused += 1);
                Wrapped {
                    fut: None,
                    guard: None,
                }
            }
        }
    }
}

/// A handler future with its middleware close guard.
pub(crate) struct Wrapped<M: Middleware, F> {
    fut: Option<F>,
    guard: Option<CloseGuard<M>>,
}

impl<M: Middleware, F: std::future::Future<Output = ()>> std::future::Future for Wrapped<M, F> {
    type Output = ();
    fn poll(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<()> {
        // SAFETY: `fut` is structurally pinned (never moved out while
        // pinned); `guard` is never pinned and only dropped.
        let this = unsafe { self.get_unchecked_mut() };
        let Some(fut) = this.fut.as_mut() else {
            return std::task::Poll::Ready(());
        };
        // SAFETY: see above.
        let fut = unsafe { std::pin::Pin::new_unchecked(fut) };
        match fut.poll(cx) {
            std::task::Poll::Ready(()) => {
                // The handler is done: report the close now, not when the
                // task slot is recycled.
                this.guard = None;
                std::task::Poll::Ready(())
            }
            std::task::Poll::Pending => std::task::Poll::Pending,
        }
    }
}
