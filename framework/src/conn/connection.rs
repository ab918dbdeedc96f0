//! `Connection`: the application's handle to one socket, for servers and
//! clients alike.

use std::fmt;
use std::future::Future;
use std::io;
use std::marker::PhantomData;
use std::net::SocketAddr;
use std::os::fd::RawFd;
use std::path::PathBuf;
use std::pin::Pin;
use std::task::{Context, Poll};

use super::slot::{set_waker, OpState, SockKind};
use super::{Features, Layer, LayerKind, Layers, Lease, OutBuf};
use crate::runtime::{self, Io, Worker};

/// The address of one end of a connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Address {
    /// A TCP endpoint (IPv4 or IPv6).
    Tcp(SocketAddr),
    /// A Unix domain socket endpoint; `None` for an unnamed socket (as
    /// clients usually are).
    Unix(Option<PathBuf>),
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Address::Tcp(a) => write!(f, "{a}"),
            Address::Unix(Some(p)) => write!(f, "unix:{}", p.display()),
            Address::Unix(None) => f.write_str("unix:(unnamed)"),
        }
    }
}

/// A connected socket served by the current worker.
///
/// One read and one write at a time: `read` and the write methods take
/// `&mut self`, so the borrow checker enforces it. Every future returned here
/// can be dropped at any point: the kernel only ever uses memory owned by the
/// connection's slot, never by the future.
///
/// Writes are buffered in the slot and sent at the end of the current
/// scheduling round (several writes in a row become one `sendmsg`); a write
/// waits only when more than the configured write-buffer limit is queued.
/// Use [`flush`](Connection::flush) to wait until everything is sent.
///
/// Dropping a `Connection` sends what is still queued, then closes the
/// socket in the background.
///
/// ```no_run
/// async fn echo(mut conn: corering::Connection) -> std::io::Result<()> {
///     while let Some(buf) = conn.read().await? {
///         conn.write_all(&buf).await?;
///     }
///     conn.close().await
/// }
/// ```
pub struct Connection {
    worker: u16,
    idx: u32,
    gen: u32,
    fd: RawFd,
    kind: SockKind,
    features: Features,
    idle_timeout: Option<std::time::Duration>,
    /// Byte-stream layers between the socket and the protocol (TLS...);
    /// `None` for a plain connection.
    layers: Option<Box<Layers>>,
    /// A TCP peer's address once looked up (it does not change; an access
    /// log asks for it on every request).
    peer: std::cell::Cell<Option<SocketAddr>>,
    _not_send: PhantomData<*const ()>,
}

impl fmt::Debug for Connection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connection")
            .field("fd", &self.fd)
            .field("slot", &self.idx)
            .finish()
    }
}

impl Connection {
    pub(crate) fn from_slot(worker: u16, idx: u32, gen: u32, fd: RawFd, kind: SockKind) -> Self {
        Connection {
            worker,
            idx,
            gen,
            fd,
            kind,
            features: Features::new(),
            idle_timeout: None,
            layers: None,
            peer: std::cell::Cell::new(None),
            _not_send: PhantomData,
        }
    }

    /// Puts `layer` on top of this connection's byte stream: from now on
    /// every read returns what the layer delivers, and every write goes
    /// through it (see [`Layer`]). Layers stack: the last one pushed is
    /// next to the protocol.
    ///
    /// Bytes already returned by earlier reads are not seen by the layer.
    pub fn push_layer(&mut self, layer: impl Layer) {
        self.push_layer_kind(LayerKind::Dyn(Box::new(layer)));
    }

    pub(crate) fn push_layer_kind(&mut self, kind: LayerKind) {
        self.push_layer_first(kind, None);
    }

    /// Pushes a built-in layer whose first delivery (`first`: bytes its
    /// setup already decoded, e.g. a request that came with the TLS
    /// handshake's last flight) is ready before anything more arrives.
    pub(crate) fn push_layer_first(&mut self, kind: LayerKind, first: Option<Lease>) {
        self.layers
            .get_or_insert_with(Default::default)
            .push(kind, first);
    }

    /// Hands `data` to the top layer as received input (bytes read before
    /// the layer was pushed, e.g. records that came with the TLS
    /// handshake's last flight); what it delivers is read next.
    #[cfg(feature = "tls")]
    pub(crate) fn layer_received(&mut self, data: Lease) -> io::Result<()> {
        let idx = self.idx;
        let layers = self.layers.as_deref_mut().expect("a layer was pushed");
        on_worker(self.worker, |_, io| {
            layers.received_top(&mut io.conns, idx, data)
        })
    }

    /// The names of the layers on this connection, bottom (next to the
    /// socket) first; empty for a plain connection.
    pub fn layer_names(&self) -> Vec<&'static str> {
        self.layers
            .as_ref()
            .map_or_else(Vec::new, |l| l.names().collect())
    }

    /// Slot index and generation.
    pub(crate) fn slot(&self) -> (u32, u32) {
        (self.idx, self.gen)
    }

    fn with_io<R>(&self, f: impl FnOnce(&Worker, &mut Io) -> R) -> R {
        on_worker(self.worker, f)
    }

    /// Waits for the next buffer of received bytes.
    ///
    /// Resolves to `Ok(None)` once the peer has closed its sending side and
    /// every received byte has been read.
    ///
    /// With an idle timeout set, fails with `ErrorKind::TimedOut` when no
    /// data arrives for that long.
    pub fn read(&mut self) -> Read<'_> {
        Read {
            conn: self,
            idle: None,
        }
    }

    /// Polls for the next buffer as [`read`](Connection::read) does, without
    /// its idle timeout (the caller keeps its own deadline).
    pub(crate) fn poll_read_lease(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<Option<Lease>>> {
        poll_read(self, cx)
    }

    /// Makes every `read` fail with `ErrorKind::TimedOut` after `timeout`
    /// without data (`None`, the default, waits forever).
    pub fn set_idle_timeout(&mut self, timeout: Option<std::time::Duration>) {
        self.idle_timeout = timeout;
    }

    /// The idle timeout in force.
    pub fn idle_timeout(&self) -> Option<std::time::Duration> {
        self.idle_timeout
    }

    /// Closes the connection when its queued output makes no progress for
    /// `timeout` (a peer that stopped reading); `None` lets output wait
    /// forever. New connections start with the server's (or runtime's)
    /// setting, 60 s by default.
    ///
    /// Progress is any part of a send completing. On timeout both
    /// directions of the socket are shut down, queued output is freed, and
    /// the next read, write or flush fails with `ErrorKind::TimedOut`.
    ///
    /// ```no_run
    /// # async fn f(mut conn: corering::Connection) {
    /// // A long-poll stream that may legitimately stall for a while.
    /// conn.set_write_timeout(Some(std::time::Duration::from_secs(300)));
    /// # }
    /// ```
    pub fn set_write_timeout(&mut self, timeout: Option<std::time::Duration>) {
        self.with_io(|_, io| {
            if io.conns.get(self.idx, self.gen).is_some() {
                io.conns.set_write_timeout(self.idx, timeout);
            }
        })
    }

    /// The write timeout in force (`None`: no limit).
    pub fn write_timeout(&self) -> Option<std::time::Duration> {
        self.with_io(|_, io| {
            io.conns
                .get(self.idx, self.gen)
                .and_then(|s| match s.write_timeout_ms {
                    0 => None,
                    ms => Some(std::time::Duration::from_millis(ms)),
                })
        })
    }

    /// Bytes received and sent on this connection so far.
    pub fn byte_counts(&self) -> (u64, u64) {
        self.with_io(|_, io| {
            io.conns
                .get(self.idx, self.gen)
                .map_or((0, 0), |s| (s.bytes_in, s.bytes_out))
        })
    }

    /// Queues all of `buf` for sending (copied into the connection's
    /// buffers); waits only while the write buffer is over its limit.
    pub fn write_all<'a>(&'a mut self, buf: &'a [u8]) -> WriteAll<'a> {
        WriteAll {
            conn: self,
            parts: &[],
            single: buf,
        }
    }

    /// Queues several buffers for one scattered send.
    pub fn write_all_vectored<'a>(&'a mut self, bufs: &'a [&'a [u8]]) -> WriteAll<'a> {
        WriteAll {
            conn: self,
            parts: bufs,
            single: &[],
        }
    }

    /// Queues an owned buffer without copying it: a `Vec<u8>`, static
    /// bytes, or a received [`Lease`] (sent straight back out of the receive
    /// buffer, which returns to the ring once sent).
    pub fn write_owned(&mut self, buf: impl Into<OutBuf>) -> WriteOwned<'_> {
        WriteOwned {
            conn: self,
            buf: Some(buf.into()),
        }
    }

    /// Queues `len` bytes of the file `fd` from `offset`, sent with
    /// `sendfile(2)` from the page cache once what is queued ahead has
    /// gone: no copy into or out of user memory. Only for a connection
    /// without layers (`raw_out` is `Some`; else `Unsupported`), and only
    /// for spans the page cache holds (`driver::sendfile::cached`), or the
    /// worker may wait on the disk.
    pub(crate) fn write_file(
        &mut self,
        fd: &std::sync::Arc<std::fs::File>,
        offset: u64,
        len: usize,
    ) -> WriteFile<'_> {
        WriteFile {
            conn: self,
            file: Some((std::sync::Arc::clone(fd), offset, len)),
        }
    }

    /// Queues `n` bytes written in place by `fill`, which gets exactly `n`
    /// bytes of the connection's send buffers (no intermediate copy).
    pub(crate) fn write_with<F: FnOnce(&mut [u8])>(
        &mut self,
        n: usize,
        fill: F,
    ) -> WriteWith<'_, F> {
        WriteWith {
            conn: self,
            n,
            fill: Some(fill),
        }
    }

    /// Queues `n` bytes written in place by `fill` if the write buffer has
    /// room now (the usual case): [`write_with`](Connection::write_with)
    /// without a future. `None`, with `fill` not called, when the buffer
    /// is full; the caller then waits for room (its own way).
    #[inline]
    pub(crate) fn try_write_with(
        &mut self,
        n: usize,
        fill: &mut impl FnMut(&mut [u8]),
    ) -> Option<io::Result<()>> {
        let (idx, gen) = (self.idx, self.gen);
        let layers = self.layers.as_deref_mut();
        on_worker(self.worker, |_, io| {
            let limit = io.conns.params.write_limit;
            let s = io.conns.get(idx, gen).expect("live connection slot");
            if let Some(e) = write_error(s.write_err, s.write_timed_out, s.shut) {
                return Some(Err(e));
            }
            if s.out.len() >= limit {
                return None;
            }
            let mut out = Output {
                conns: &mut io.conns,
                idx,
                layers,
            };
            Some(out.fill(n, |buf| fill(buf)))
        })
    }

    /// A handle that queues bytes on this connection without borrowing it,
    /// for output staged by a protocol loop while a handler holds the
    /// connection (`None` for a connection with layers: its bytes must go
    /// through them).
    #[inline]
    pub(crate) fn raw_out(&self) -> Option<RawOut> {
        self.layers.is_none().then_some(RawOut {
            worker: self.worker,
            idx: self.idx,
            gen: self.gen,
        })
    }

    /// Encodes `frame` straight into the connection's send buffers.
    pub fn write_frame<'a, 'f, F: crate::frame::Frame<'a>>(
        &'f mut self,
        frame: &'f F,
    ) -> WriteFrame<'f, F> {
        WriteFrame { conn: self, frame }
    }

    /// Waits until everything queued has been handed to the kernel.
    pub fn flush(&mut self) -> Flush<'_> {
        Flush { conn: self }
    }

    /// Bytes queued for sending and not yet sent.
    pub fn buffered(&self) -> usize {
        self.with_io(|_, io| io.conns.get(self.idx, self.gen).map_or(0, |s| s.out.len()))
    }

    /// Flushes, then shuts down the sending side (the peer reads
    /// end-of-stream); reading continues to work.
    pub fn shutdown_write(&mut self) -> ShutdownWrite<'_> {
        ShutdownWrite { conn: self }
    }

    /// Flushes and closes the connection, reporting a failed flush.
    pub async fn close(mut self) -> io::Result<()> {
        self.flush().await
    }

    /// The peer's address (a TCP peer's is looked up once, then kept).
    #[inline]
    pub fn peer_addr(&self) -> io::Result<Address> {
        match self.peer.get() {
            Some(a) => Ok(Address::Tcp(a)),
            None => self.look_up_peer(),
        }
    }

    /// The peer as the access log shows it, without a system call or an
    /// allocation per request: a TCP peer's address (looked up once, then
    /// kept), a Unix-socket peer as an unnamed one (its name, when it has
    /// one, is not looked up: proxies in front connect from unnamed
    /// sockets), `None` if the lookup failed.
    #[inline]
    pub(crate) fn log_peer(&self) -> Option<Address> {
        match self.peer.get() {
            Some(a) => Some(Address::Tcp(a)),
            None => self.look_up_log_peer(),
        }
    }

    /// [`log_peer`](Self::log_peer) before a TCP peer's address is kept.
    #[inline(never)]
    fn look_up_log_peer(&self) -> Option<Address> {
        match self.kind {
            SockKind::Unix => Some(Address::Unix(None)),
            SockKind::Tcp => self.look_up_peer().ok(),
        }
    }

    /// Asks the kernel for the peer's address (kept if TCP).
    #[inline(never)]
    fn look_up_peer(&self) -> io::Result<Address> {
        let a = crate::net::peer_address(self.fd, self.kind)?;
        if let Address::Tcp(t) = a {
            self.peer.set(Some(t));
        }
        Ok(a)
    }

    /// This end's address.
    pub fn local_addr(&self) -> io::Result<Address> {
        crate::net::local_address(self.fd, self.kind)
    }

    /// The connection's feature map.
    pub fn features(&self) -> &Features {
        &self.features
    }

    /// The connection's feature map, mutably.
    pub fn features_mut(&mut self) -> &mut Features {
        &mut self.features
    }

    /// The socket descriptor, for socket options. Do not read, write or
    /// close it directly.
    pub fn as_raw_fd(&self) -> RawFd {
        self.fd
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        runtime::try_with(|w| {
            if w.id != self.worker {
                return;
            }
            // Dropped during a completion handler is impossible (handles live
            // in tasks), but be defensive: a failed borrow leaks the slot
            // until teardown instead of panicking in drop.
            if let Ok(mut io) = w.io.try_borrow_mut() {
                let io = &mut *io;
                // The layers' end markers (TLS close_notify) go out with what
                // is still queued, unless the socket's sending side is done.
                if let Some(layers) = self.layers.as_deref_mut() {
                    let open = io
                        .conns
                        .get(self.idx, self.gen)
                        .is_some_and(|s| s.shut == OpState::Idle && s.write_err == 0);
                    if open {
                        let _ = layers.shutdown(&mut io.conns, self.idx);
                    }
                }
                io.conns
                    .handle_dropped(self.idx, self.gen, &mut io.drv, &w.bufs);
            }
        });
    }
}

/// Future of [`Connection::read`].
#[must_use = "futures do nothing unless polled"]
pub struct Read<'a> {
    conn: &'a mut Connection,
    idle: Option<crate::time::Sleep>,
}

impl Future for Read<'_> {
    type Output = io::Result<Option<Lease>>;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let r = poll_read(this.conn, cx);
        if r.is_pending() {
            if let Some(d) = this.conn.idle_timeout {
                let sleep = this.idle.get_or_insert_with(|| crate::time::sleep(d));
                if Pin::new(sleep).poll(cx).is_ready() {
                    return Poll::Ready(Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        format!("idle timeout: no data received for {d:?}"),
                    )));
                }
            }
        }
        r
    }
}

/// Runs `f` with the I/O state of `worker`, which must be the calling
/// thread's: a connection never leaves the worker it was opened on.
#[inline]
fn on_worker<R>(worker: u16, f: impl FnOnce(&Worker, &mut Io) -> R) -> R {
    runtime::with(|w| {
        assert_eq!(
            w.id, worker,
            "corering: a Connection was used on a worker other than its own"
        );
        let mut io = w.io.borrow_mut();
        f(w, &mut io)
    })
}

#[inline]
fn poll_read(c: &mut Connection, cx: &mut Context<'_>) -> Poll<io::Result<Option<Lease>>> {
    let (idx, gen) = (c.idx, c.gen);
    let layers = &mut c.layers;
    on_worker(c.worker, |w, io| match layers {
        None => poll_slot(w, &mut io.conns, &mut io.drv, idx, gen, cx),
        Some(layers) => {
            let drv = &mut io.drv;
            let mut raw = |conns: &mut super::Conns| poll_slot(w, conns, drv, idx, gen, cx);
            layers.poll_read(&mut io.conns, idx, &mut raw)
        }
    })
}

/// The next kernel-filled buffer of slot `idx`.
#[inline]
fn poll_slot(
    w: &Worker,
    conns: &mut super::Conns,
    drv: &mut impl crate::driver::Submit,
    idx: u32,
    gen: u32,
    cx: &mut Context<'_>,
) -> Poll<io::Result<Option<Lease>>> {
    if let Some((bid, len)) = conns.pop_ready(idx) {
        let lease = Lease::new(w.bufs.mem().clone(), bid, len, idx, gen);
        return Poll::Ready(Ok(Some(lease)));
    }
    let s = conns.get(idx, gen).expect("live connection slot");
    if s.read_err != 0 {
        return Poll::Ready(Err(os_error(s.read_err, s.write_timed_out)));
    }
    if s.eof {
        return Poll::Ready(Ok(None));
    }
    set_waker(&mut s.reader, cx.waker());
    conns.reader_waiting(idx, drv);
    Poll::Pending
}

/// Checks whether a write may queue more bytes now: `None` if it may,
/// otherwise the poll result to return (an error, or pending until the
/// queue drains below the write-buffer limit).
fn write_ready(io: &mut Io, c: (u32, u32), cx: &Context<'_>) -> Option<Poll<io::Result<()>>> {
    let limit = io.conns.params.write_limit;
    let s = io.conns.get(c.0, c.1).expect("live connection slot");
    if let Some(e) = write_error(s.write_err, s.write_timed_out, s.shut) {
        return Some(Poll::Ready(Err(e)));
    }
    if s.out.len() >= limit {
        set_waker(&mut s.writer, cx.waker());
        return Some(Poll::Pending);
    }
    None
}

/// The error for errno `err` of a connection; `timed_out` marks one the
/// write timeout closed, which gets a message saying so.
fn os_error(err: i32, timed_out: bool) -> io::Error {
    if timed_out && err == libc::ETIMEDOUT {
        io::Error::new(
            io::ErrorKind::TimedOut,
            "write timeout: queued output made no progress (the peer stopped reading); \
             connection closed",
        )
    } else {
        io::Error::from_raw_os_error(err)
    }
}

#[inline]
fn write_error(err: i32, timed_out: bool, shut: OpState) -> Option<io::Error> {
    if err == 0 && shut == OpState::Idle {
        return None;
    }
    Some(write_failure(err, timed_out))
}

/// The error of a connection that cannot be written to (out of line: the
/// check above is on every write).
#[cold]
#[inline(never)]
fn write_failure(err: i32, timed_out: bool) -> io::Error {
    if err != 0 {
        return os_error(err, timed_out);
    }
    io::Error::new(io::ErrorKind::BrokenPipe, "write after shutdown_write")
}

/// Queues bytes on a plain connection's send buffers by its slot, without
/// the `Connection` (see [`Connection::raw_out`]).
#[derive(Clone, Copy, Debug)]
pub(crate) struct RawOut {
    worker: u16,
    idx: u32,
    gen: u32,
}

impl RawOut {
    /// Queues `bytes` now, past the write limit if need be (callers stage
    /// a bounded amount). A connection that can no longer be written to,
    /// or is gone, takes nothing: its next write reports why.
    pub(crate) fn queue(self, bytes: &[u8]) {
        on_worker(self.worker, |_, io| {
            let Some(s) = io.conns.get(self.idx, self.gen) else {
                return;
            };
            if write_error(s.write_err, s.write_timed_out, s.shut).is_none() {
                io.conns
                    .queue_fill(self.idx, bytes.len(), |b| b.copy_from_slice(bytes));
            }
        })
    }
}

/// Future of [`Connection::write_all`] and [`Connection::write_all_vectored`].
#[must_use = "futures do nothing unless polled"]
pub struct WriteAll<'a> {
    conn: &'a mut Connection,
    parts: &'a [&'a [u8]],
    single: &'a [u8],
}

impl Future for WriteAll<'_> {
    type Output = io::Result<()>;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let (single, parts) = (this.single, this.parts);
        this.conn.with_output(cx, |out| {
            out.bytes(single)?;
            for p in parts {
                out.bytes(p)?;
            }
            Ok(())
        })
    }
}

/// Future of [`Connection::write_owned`].
#[must_use = "futures do nothing unless polled"]
pub struct WriteOwned<'a> {
    conn: &'a mut Connection,
    buf: Option<OutBuf>,
}

impl Future for WriteOwned<'_> {
    type Output = io::Result<()>;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let buf = &mut this.buf;
        this.conn.with_output(cx, |out| match buf.take() {
            Some(b) => out.owned(b),
            None => Ok(()),
        })
    }
}

/// Future of `Connection::write_file`.
#[must_use = "futures do nothing unless polled"]
pub(crate) struct WriteFile<'a> {
    conn: &'a mut Connection,
    file: Option<(std::sync::Arc<std::fs::File>, u64, usize)>,
}

impl Future for WriteFile<'_> {
    type Output = io::Result<()>;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let file = &mut this.file;
        this.conn.with_output(cx, |out| match file.take() {
            Some((fd, offset, len)) => out.file(fd, offset, len),
            None => Ok(()),
        })
    }
}

/// Future of [`Connection::write_frame`].
#[must_use = "futures do nothing unless polled"]
pub struct WriteFrame<'f, F> {
    conn: &'f mut Connection,
    frame: &'f F,
}

impl<'a, F: crate::frame::Frame<'a>> Future for WriteFrame<'_, F> {
    type Output = io::Result<()>;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let frame = this.frame;
        this.conn
            .with_output(cx, |out| out.fill(frame.encoded_len(), |b| frame.encode(b)))
    }
}

/// Future of [`Connection::write_with`].
#[must_use = "futures do nothing unless polled"]
pub(crate) struct WriteWith<'a, F> {
    conn: &'a mut Connection,
    n: usize,
    fill: Option<F>,
}

// The closure is only ever moved out, never pinned.
impl<F> Unpin for WriteWith<'_, F> {}

impl<F: FnOnce(&mut [u8])> Future for WriteWith<'_, F> {
    type Output = io::Result<()>;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let (n, fill) = (this.n, &mut this.fill);
        this.conn.with_output(cx, |out| match fill.take() {
            Some(f) => out.fill(n, f),
            None => Ok(()),
        })
    }
}

/// Where a write's bytes go: the slot's send queue, or the top of the
/// connection's layer stack.
struct Output<'a> {
    conns: &'a mut super::Conns,
    idx: u32,
    layers: Option<&'a mut Layers>,
}

impl Output<'_> {
    #[inline]
    fn bytes(&mut self, data: &[u8]) -> io::Result<()> {
        if data.is_empty() {
            return Ok(());
        }
        match &mut self.layers {
            None => {
                self.conns.queue_bytes(self.idx, data);
                Ok(())
            }
            Some(l) => l.send(self.conns, self.idx, data),
        }
    }

    #[inline]
    fn owned(&mut self, buf: OutBuf) -> io::Result<()> {
        match &mut self.layers {
            None => {
                self.conns.queue_owned(self.idx, buf);
                Ok(())
            }
            Some(l) => l.send_owned(self.conns, self.idx, buf),
        }
    }

    fn file(
        &mut self,
        fd: std::sync::Arc<std::fs::File>,
        offset: u64,
        len: usize,
    ) -> io::Result<()> {
        match &mut self.layers {
            None => {
                self.conns.queue_file(self.idx, fd, offset, len);
                Ok(())
            }
            Some(_) => Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "a file span cannot be sent through connection layers",
            )),
        }
    }

    #[inline]
    fn fill(&mut self, n: usize, fill: impl FnOnce(&mut [u8])) -> io::Result<()> {
        match &mut self.layers {
            None => {
                self.conns.queue_fill(self.idx, n, fill);
                Ok(())
            }
            // Into the top layer: in place into the record being built
            // for TLS, staged for others.
            Some(l) => l.send_with(self.conns, self.idx, n, fill),
        }
    }
}

impl Connection {
    /// Runs `f` with this connection's output once the write buffer has
    /// room (else pending, or the connection's write error).
    #[inline]
    fn with_output(
        &mut self,
        cx: &Context<'_>,
        f: impl FnOnce(&mut Output<'_>) -> io::Result<()>,
    ) -> Poll<io::Result<()>> {
        let (idx, gen) = (self.idx, self.gen);
        let layers = self.layers.as_deref_mut();
        on_worker(self.worker, |_, io| {
            if let Some(p) = write_ready(io, (idx, gen), cx) {
                return p;
            }
            Poll::Ready(f(&mut Output {
                conns: &mut io.conns,
                idx,
                layers,
            }))
        })
    }
}

/// Future of [`Connection::flush`].
#[must_use = "futures do nothing unless polled"]
pub struct Flush<'a> {
    conn: &'a mut Connection,
}

impl Future for Flush<'_> {
    type Output = io::Result<()>;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let c = &mut *self.get_mut().conn;
        let (idx, gen) = (c.idx, c.gen);
        let layers = c.layers.as_deref_mut();
        on_worker(c.worker, |_, io| {
            let s = io.conns.get(idx, gen).expect("live connection slot");
            if s.write_err != 0 {
                return Poll::Ready(Err(os_error(s.write_err, s.write_timed_out)));
            }
            if let Some(layers) = layers {
                // What layers hold back (a TLS record being gathered) goes
                // down to the send queue first.
                if let Err(e) = layers.flush(&mut io.conns, idx) {
                    return Poll::Ready(Err(e));
                }
            }
            let s = io.conns.get(idx, gen).expect("live connection slot");
            if s.out.is_empty() {
                return Poll::Ready(Ok(()));
            }
            set_waker(&mut s.writer, cx.waker());
            Poll::Pending
        })
    }
}

/// Future of [`Connection::shutdown_write`].
#[must_use = "futures do nothing unless polled"]
pub struct ShutdownWrite<'a> {
    conn: &'a mut Connection,
}

impl Future for ShutdownWrite<'_> {
    type Output = io::Result<()>;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let c = &mut *self.get_mut().conn;
        let (idx, gen) = (c.idx, c.gen);
        let layers = c.layers.as_deref_mut();
        on_worker(c.worker, |_, io| {
            let s = io.conns.get(idx, gen).expect("live connection slot");
            if let (Some(layers), OpState::Idle) = (layers, s.shut) {
                // The layers' end markers (TLS close_notify) go out first
                // (once: `Layers::shutdown` runs only the first time).
                if let Err(e) = layers.shutdown(&mut io.conns, idx) {
                    return Poll::Ready(Err(e));
                }
            }
            let s = io.conns.get(idx, gen).expect("live connection slot");
            if s.write_err != 0 {
                return Poll::Ready(Err(os_error(s.write_err, s.write_timed_out)));
            }
            match s.shut {
                OpState::Done(res) if res < 0 => {
                    Poll::Ready(Err(io::Error::from_raw_os_error(-res)))
                }
                OpState::Done(_) => Poll::Ready(Ok(())),
                OpState::InFlight => {
                    set_waker(&mut s.waiter, cx.waker());
                    Poll::Pending
                }
                OpState::Idle if !s.out.is_empty() => {
                    set_waker(&mut s.writer, cx.waker());
                    Poll::Pending
                }
                OpState::Idle => {
                    set_waker(&mut s.waiter, cx.waker());
                    io.conns.start_shutdown(idx, &mut io.drv);
                    Poll::Pending
                }
            }
        })
    }
}
