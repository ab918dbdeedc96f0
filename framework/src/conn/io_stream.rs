//! `IoStream`: a [`Connection`] behind the `futures-io` traits (and tokio's
//! I/O traits with the `tokio-io` feature), for crates written against
//! those traits: hyper through `hyper_util::rt::TokioIo`, WebSocket
//! libraries, `futures_util::io::copy` and the like.
//!
//! ```text
//!  foreign crate   poll_read(&mut [u8])        poll_write(&[u8])
//!                      ▲ copy                       │ copy
//!  IoStream        current Lease ◄─ read()     write_all / flush / shutdown_write
//!  Connection      layers (TLS...) ── socket ──────┘
//! ```
//!
//! Everything goes through the connection's own read, write, flush and
//! shutdown paths, so layers pushed on the connection (TLS, taps) apply,
//! and so do its idle and write timeouts.
//!
//! See [`IoStream`] for the cost against the native lease API.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use super::{Connection, Lease};
use crate::time::Sleep;

/// A [`Connection`] as a `futures_io` (and, with the `tokio-io` feature,
/// `tokio::io`) byte stream.
///
/// Reads hand out the connection's received buffers through a copy into
/// the caller's buffer (`AsyncRead`) or in place (`AsyncBufRead`); writes
/// queue bytes on the connection; `poll_flush` waits until they are sent;
/// `poll_close` (tokio: `poll_shutdown`) flushes and shuts down the sending
/// side. With an idle timeout set on the connection, a read fails with
/// `ErrorKind::TimedOut` once no bytes arrived for that long after it first
/// waited, as [`Connection::read`] does.
///
/// # Cost against the native API
///
/// The native API hands out [`Lease`]s: the bytes stay where the kernel (or
/// a layer) put them, and a protocol parses them in place: zero copies.
/// `AsyncRead::poll_read` instead copies each received byte once, into the
/// caller's buffer; `AsyncWrite::poll_write` copies into the connection's
/// send buffers, as [`Connection::write_all`] does. `AsyncBufRead`'s
/// `poll_fill_buf` hands out the current lease's bytes without a copy, so a
/// consumer that reads through `AsyncBufRead` pays nothing extra on the
/// receive side. No call allocates.
///
/// Use the native API for protocols written for corering (they can keep
/// request heads borrowed from the receive buffer, write straight into the
/// send buffers, and never copy a body); use `IoStream` to run a crate
/// written for the standard async I/O traits, where one copy per byte is
/// the price of reusing it.
///
/// # hyper
///
/// With the `tokio-io` feature, hyper 1.x's HTTP/1 server runs inside a
/// connection task as `http1::Builder::new().header_read_timeout(None)
/// .serve_connection(hyper_util::rt::TokioIo::new(IoStream::new(conn)), svc)`:
/// it needs no executor and no tokio runtime. Its header timeout needs a
/// hyper `Timer`, hence `None`; bound silent peers with
/// [`Connection::set_idle_timeout`] instead, which fails the adapter's
/// reads. The interop tests (`interop/tests/hyper_http1.rs`) show it,
/// with graceful shutdown.
///
/// ```no_run
/// use corering::IoStream;
/// use futures_io::AsyncRead;
/// use std::future::poll_fn;
/// use std::pin::Pin;
///
/// async fn first_bytes(conn: corering::Connection) -> std::io::Result<Vec<u8>> {
///     let mut io = IoStream::new(conn);
///     let mut buf = [0u8; 64];
///     let n = poll_fn(|cx| Pin::new(&mut io).poll_read(cx, &mut buf)).await?;
///     Ok(buf[..n].to_vec())
/// }
/// ```
pub struct IoStream {
    conn: Connection,
    /// The lease a read is partway through; never empty.
    current: Option<Lease>,
    /// The idle deadline of the read waiting now, armed when it first waits.
    idle: Option<Sleep>,
}

impl std::fmt::Debug for IoStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IoStream")
            .field("conn", &self.conn)
            .field("unread", &self.current.as_ref().map_or(0, |l| l.len()))
            .finish()
    }
}

impl From<Connection> for IoStream {
    fn from(conn: Connection) -> Self {
        IoStream::new(conn)
    }
}

impl IoStream {
    /// Wraps `conn`.
    pub fn new(conn: Connection) -> IoStream {
        IoStream {
            conn,
            current: None,
            idle: None,
        }
    }

    /// The connection.
    pub fn get_ref(&self) -> &Connection {
        &self.conn
    }

    /// The connection, mutably (for its settings: timeouts, features). Reading
    /// from it directly skips the bytes this stream holds.
    pub fn get_mut(&mut self) -> &mut Connection {
        &mut self.conn
    }

    /// Gives the connection back, with the received bytes not read yet
    /// (the rest of the lease a read was partway through).
    pub fn into_inner(self) -> (Connection, Option<Lease>) {
        (self.conn, self.current)
    }

    /// The current lease, waiting for the next one if none is held;
    /// `None` at the end of the stream.
    fn poll_lease(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<Option<&mut Lease>>> {
        while self.current.is_none() {
            let r = match self.conn.poll_read_lease(cx) {
                Poll::Pending => return self.poll_idle(cx),
                Poll::Ready(r) => r,
            };
            self.idle = None;
            match r {
                // Skip an empty buffer (layers never deliver one).
                Ok(Some(lease)) => self.current = Some(lease).filter(|l| !l.is_empty()),
                Ok(None) => return Poll::Ready(Ok(None)),
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
        Poll::Ready(Ok(self.current.as_mut()))
    }

    /// Pending, or the idle timeout's error once it has passed (as
    /// [`Connection::read`] does).
    fn poll_idle<T>(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<T>> {
        let Some(d) = self.conn.idle_timeout() else {
            return Poll::Pending;
        };
        let sleep = self.idle.get_or_insert_with(|| crate::time::sleep(d));
        if Pin::new(sleep).poll(cx).is_ready() {
            self.idle = None;
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("idle timeout: no data received for {d:?}"),
            )));
        }
        Poll::Pending
    }

    /// Copies up to `buf.len()` received bytes into `buf`.
    fn poll_copy(&mut self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        let lease = match self.poll_lease(cx) {
            Poll::Ready(Ok(Some(l))) => l,
            Poll::Ready(Ok(None)) => return Poll::Ready(Ok(0)),
            Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
            Poll::Pending => return Poll::Pending,
        };
        let n = lease.len().min(buf.len());
        buf[..n].copy_from_slice(&lease[..n]);
        self.consume_bytes(n);
        Poll::Ready(Ok(n))
    }

    /// Marks `n` bytes of the current lease as read, dropping it (back to
    /// the ring) once empty.
    fn consume_bytes(&mut self, n: usize) {
        if let Some(l) = &mut self.current {
            l.consume(n.min(l.len()));
            if l.is_empty() {
                self.current = None;
            }
        }
    }

    /// Queues `buf` on the connection, whole; pending while the
    /// connection's write buffer is over its limit.
    fn poll_queue(&mut self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        // `WriteAll` keeps no state between polls: a fresh one per poll is
        // the same as polling one future repeatedly.
        match Pin::new(&mut self.conn.write_all(buf)).poll(cx) {
            Poll::Ready(Ok(())) => Poll::Ready(Ok(buf.len())),
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => Poll::Pending,
        }
    }

    /// Queues as many whole buffers of `bufs` as the write buffer takes
    /// now (at least one, else pending).
    fn poll_queue_vectored(
        &mut self,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let mut total = 0;
        for b in bufs.iter().filter(|b| !b.is_empty()) {
            match self.poll_queue(cx, b) {
                Poll::Ready(Ok(n)) => total += n,
                Poll::Ready(Err(e)) if total == 0 => return Poll::Ready(Err(e)),
                Poll::Pending if total == 0 => return Poll::Pending,
                // Report what was queued; the error or the wait comes back
                // on the next call.
                Poll::Ready(Err(_)) | Poll::Pending => break,
            }
        }
        Poll::Ready(Ok(total))
    }

    fn poll_flush_conn(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.conn.flush()).poll(cx)
    }

    fn poll_shutdown_conn(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.conn.shutdown_write()).poll(cx)
    }
}

impl futures_io::AsyncRead for IoStream {
    /// Copies received bytes into `buf` (one copy; see the module docs).
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        self.get_mut().poll_copy(cx, buf)
    }
}

impl futures_io::AsyncBufRead for IoStream {
    /// The current lease's unread bytes, in place (no copy).
    fn poll_fill_buf(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
        match self.get_mut().poll_lease(cx) {
            Poll::Ready(Ok(Some(l))) => Poll::Ready(Ok(&l[..])),
            Poll::Ready(Ok(None)) => Poll::Ready(Ok(&[])),
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => Poll::Pending,
        }
    }

    fn consume(self: Pin<&mut Self>, amt: usize) {
        self.get_mut().consume_bytes(amt);
    }
}

impl futures_io::AsyncWrite for IoStream {
    /// Queues all of `buf` on the connection (copied into its send
    /// buffers); sent at the end of the worker's round.
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.get_mut().poll_queue(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.get_mut().poll_queue_vectored(cx, bufs)
    }

    /// Waits until everything queued has been handed to the kernel.
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().poll_flush_conn(cx)
    }

    /// Flushes, then shuts down the sending side
    /// ([`Connection::shutdown_write`]: layers send their end markers).
    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().poll_shutdown_conn(cx)
    }
}

#[cfg(feature = "tokio-io")]
mod tokio_io {
    use super::*;

    impl tokio::io::AsyncRead for IoStream {
        /// Copies received bytes into `buf` (one copy; see the module docs).
        fn poll_read(
            self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            buf: &mut tokio::io::ReadBuf<'_>,
        ) -> Poll<io::Result<()>> {
            let this = self.get_mut();
            if buf.remaining() == 0 {
                return Poll::Ready(Ok(()));
            }
            let lease = match this.poll_lease(cx) {
                Poll::Ready(Ok(Some(l))) => l,
                Poll::Ready(Ok(None)) => return Poll::Ready(Ok(())),
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            };
            let n = lease.len().min(buf.remaining());
            buf.put_slice(&lease[..n]);
            this.consume_bytes(n);
            Poll::Ready(Ok(()))
        }
    }

    impl tokio::io::AsyncBufRead for IoStream {
        /// The current lease's unread bytes, in place (no copy).
        fn poll_fill_buf(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
            futures_io::AsyncBufRead::poll_fill_buf(self, cx)
        }

        fn consume(self: Pin<&mut Self>, amt: usize) {
            self.get_mut().consume_bytes(amt);
        }
    }

    impl tokio::io::AsyncWrite for IoStream {
        /// Queues all of `buf` on the connection (copied into its send
        /// buffers).
        fn poll_write(
            self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            buf: &[u8],
        ) -> Poll<io::Result<usize>> {
            self.get_mut().poll_queue(cx, buf)
        }

        fn poll_write_vectored(
            self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            bufs: &[io::IoSlice<'_>],
        ) -> Poll<io::Result<usize>> {
            self.get_mut().poll_queue_vectored(cx, bufs)
        }

        fn is_write_vectored(&self) -> bool {
            true
        }

        /// Waits until everything queued has been handed to the kernel.
        fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
            self.get_mut().poll_flush_conn(cx)
        }

        /// Flushes, then shuts down the sending side.
        fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
            self.get_mut().poll_shutdown_conn(cx)
        }
    }
}
