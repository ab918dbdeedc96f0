//! `SendPace`: holds a client to the minimum response rate
//! ([`Http1Config::min_response_rate`](super::Http1Config::min_response_rate)).
//!
//! A *run* starts when the server finds response bytes queued and not yet
//! sent, and lasts while the bytes queued at each check are still not all
//! sent at the next one. Within a run the bytes sent must keep up with the
//! rate: at `t` into the run, at least `rate * t` bytes (nothing during the
//! grace period). A client that takes everything queued ends the run, so
//! an idle keep-alive client is never measured.
//!
//! Checks happen only where the server would wait on output anyway: a
//! write that finds the write buffer full, a flush, the flush before a
//! close, and the wait for the next request, where the first look comes
//! one grace period into the wait (so the run of a client that stops
//! reading starts up to one grace period after its response was queued;
//! a keep-alive exchange pays nothing for the watch). A write
//! that goes straight into the buffer costs one look at the connection's
//! counters and no clock read.

use std::future::Future;
use std::task::Poll;
use std::time::Instant;

use super::MinRate;
use crate::time::timeout;
use crate::Connection;

/// The response-rate watch of one connection.
#[derive(Debug, Default)]
pub(crate) struct SendPace {
    run: Option<Run>,
    stalled: bool,
}

#[derive(Debug, Clone, Copy)]
struct Run {
    start: Instant,
    /// Bytes sent on the connection when the run started.
    sent0: u64,
    /// Bytes sent plus queued at the last check: once this many are sent,
    /// the client has caught up.
    mark: u64,
}

impl SendPace {
    /// True while output found queued at a check is still being sent.
    pub(crate) fn running(&self) -> bool {
        self.run.is_some()
    }

    /// True once a check found the client too slow.
    pub(crate) fn stalled(&self) -> bool {
        self.stalled
    }

    /// Accounts what `conn` has queued and sent. `Ok(None)`: nothing
    /// waits (or no rate); `Ok(Some(d))`: unless more is sent, the client
    /// falls below `rate` at `d`; `Err(())`: it already has.
    pub(crate) fn check(
        &mut self,
        conn: &Connection,
        rate: Option<MinRate>,
    ) -> Result<Option<Instant>, ()> {
        let Some(rate) = rate else {
            self.run = None;
            return Ok(None);
        };
        let queued = conn.buffered() as u64;
        if queued == 0 {
            self.run = None;
            return Ok(None);
        }
        let (_, sent) = conn.byte_counts();
        let now = Instant::now();
        let run = match self.run {
            Some(r) if sent < r.mark => r,
            _ => Run {
                start: now,
                sent0: sent,
                mark: 0,
            },
        };
        let deadline = run.start + rate.allowed(sent - run.sent0);
        if now >= deadline {
            self.stalled = true;
            return Err(());
        }
        self.run = Some(Run {
            mark: sent + queued,
            ..run
        });
        Ok(Some(deadline))
    }

    /// Waits until `conn` takes more output (its write buffer is under its
    /// limit), holding the client to `rate` meanwhile. Fails with
    /// `TimedOut` if the client falls below it (the connection should then
    /// be reset), or with the connection's write error.
    pub(crate) async fn writable(
        &mut self,
        conn: &mut Connection,
        rate: Option<MinRate>,
    ) -> std::io::Result<()> {
        if rate.is_none() {
            return conn.write_all(&[]).await;
        }
        loop {
            // An empty write is ready exactly when a real one would be.
            if let Some(r) = now_or_never(conn.write_all(&[])).await {
                return r;
            }
            let deadline = match self.check(conn, rate) {
                Ok(Some(d)) => d,
                Ok(None) => return conn.write_all(&[]).await,
                Err(()) => return Err(too_slow()),
            };
            let left = deadline.saturating_duration_since(Instant::now());
            if let Ok(r) = timeout(left, conn.write_all(&[])).await {
                return r;
            }
        }
    }

    /// Queues `n` bytes written by `fill` straight into `conn`'s write
    /// buffer when it has room (the usual case: no future polled, no
    /// clock, no timer); else waits until it has, holding the client to
    /// `rate` (see [`writable`](Self::writable)).
    #[inline]
    pub(crate) async fn write_with(
        &mut self,
        conn: &mut Connection,
        rate: Option<MinRate>,
        n: usize,
        fill: &mut impl FnMut(&mut [u8]),
    ) -> std::io::Result<()> {
        loop {
            if let Some(r) = conn.try_write_with(n, fill) {
                return r;
            }
            self.writable(conn, rate).await?;
        }
    }

    /// Waits until everything queued on `conn` is sent (see
    /// [`Connection::flush`]), holding the client to `rate`.
    pub(crate) async fn flush(
        &mut self,
        conn: &mut Connection,
        rate: Option<MinRate>,
    ) -> std::io::Result<()> {
        self.drain(conn, rate, Drain::Flush).await
    }

    /// Flushes and half-closes `conn` (see
    /// [`Connection::shutdown_write`]), holding the client to `rate`.
    pub(crate) async fn shutdown_write(
        &mut self,
        conn: &mut Connection,
        rate: Option<MinRate>,
    ) -> std::io::Result<()> {
        self.drain(conn, rate, Drain::ShutdownWrite).await
    }

    /// Runs `what` on `conn`, checking `rate` at each deadline meanwhile.
    async fn drain(
        &mut self,
        conn: &mut Connection,
        rate: Option<MinRate>,
        what: Drain,
    ) -> std::io::Result<()> {
        loop {
            let deadline = match self.check(conn, rate) {
                Ok(Some(d)) => d,
                Ok(None) => return what.run(conn).await,
                Err(()) => return Err(too_slow()),
            };
            let left = deadline.saturating_duration_since(Instant::now());
            if let Ok(r) = timeout(left, what.run(conn)).await {
                return r;
            }
        }
    }
}

/// What [`SendPace::drain`] waits for.
#[derive(Clone, Copy)]
enum Drain {
    /// Everything queued sent.
    Flush,
    /// Everything queued sent, then the write side shut down.
    ShutdownWrite,
}

impl Drain {
    async fn run(self, conn: &mut Connection) -> std::io::Result<()> {
        match self {
            Drain::Flush => conn.flush().await,
            Drain::ShutdownWrite => conn.shutdown_write().await,
        }
    }
}

/// Polls `fut` once: its output if it is ready at once, else `None` (and
/// `fut` is dropped).
pub(crate) fn now_or_never<F: Future + Unpin>(fut: F) -> NowOrNever<F> {
    NowOrNever(fut)
}

/// The future of [`now_or_never`]: a plain wrapper rather than an `async
/// fn`, so awaiting it adds no state machine of its own to the caller's.
pub(crate) struct NowOrNever<F>(F);

impl<F: Future + Unpin> Future for NowOrNever<F> {
    type Output = Option<F::Output>;

    #[inline]
    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> Poll<Self::Output> {
        match std::pin::Pin::new(&mut self.0).poll(cx) {
            Poll::Ready(v) => Poll::Ready(Some(v)),
            Poll::Pending => Poll::Ready(None),
        }
    }
}

fn too_slow() -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::TimedOut,
        "client reads the response below the minimum rate",
    )
}

/// Closes `conn` at once with a reset, dropping whatever is queued: for a
/// client that does not take its responses, so that neither this process
/// nor the kernel keeps its output.
pub(crate) fn reset(conn: Connection) {
    let fd = conn.as_raw_fd();
    let linger = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: `unspec` is a live, zeroed `sockaddr` of the size passed, and
    // `linger` likewise; shutdown takes no memory. The descriptor is the
    // connection's and still open (the engine closes it only after the
    // handle is dropped, below).
    //
    // connect(AF_UNSPEC) disconnects a TCP socket at once: it sends a
    // reset and frees the kernel's send queue, which also completes a
    // zero-copy send still waiting for its data to be acknowledged (the
    // engine may not close the socket before that). Other sockets refuse
    // it; for them, and as a second means, shutdown makes a pending send
    // fail and a receive end, so the engine closes the socket, and the
    // zero linger makes that close a reset.
    unsafe {
        libc::setsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            (&linger as *const libc::linger).cast(),
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        );
        let unspec: libc::sockaddr = std::mem::zeroed();
        libc::connect(
            fd,
            &unspec,
            std::mem::size_of::<libc::sockaddr>() as libc::socklen_t,
        );
        libc::shutdown(fd, libc::SHUT_RDWR);
    }
    drop(conn);
}
