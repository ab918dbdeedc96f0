//! `WsWriter`: the sending half of a WebSocket, cloneable, so that the
//! task reading the socket and any number of others (a chat room's
//! broadcaster) send frames on it.
//!
//! All halves share one [`Connection`] in a `RefCell`, borrowed only
//! inside a single poll (never across an await), so a reader waiting for
//! data and writers waiting for room never block each other. Each frame
//! goes into the connection's out-queue whole, in one step, so frames of
//! different writers never interleave. A write waits while the
//! out-queue is over the connection's write-buffer limit (backpressure;
//! [`WsWriter::buffered`] shows how far behind the peer is).
//!
//! With permessage-deflate agreed, data messages of at least
//! `compress_min_size` bytes are compressed (RSV1 set) in the same step
//! that queues them, never earlier: under context takeover each message
//! refers to the ones before it, so messages are compressed in the order
//! they go out, whichever writer sends them. Control frames never are.
//!
//! A server's frames go out unmasked, the payload copied as it is; a
//! client's carry a fresh masking key each, and the payload is masked
//! while it is copied into the send buffers (one pass, no copy of its
//! own).

use std::cell::{Cell, RefCell};
use std::fmt;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use super::close::close_payload;
use super::compression::SendDeflate;
use super::frame::{encode_header, OpCode, MAX_CONTROL_PAYLOAD, MAX_HEADER};
use super::mask::mask_copy;
use super::{CloseCode, Message, WsError};
use crate::Connection;

/// What the halves of one WebSocket share.
pub(crate) struct Shared {
    conn: RefCell<Connection>,
    /// The client role: every frame is masked with a fresh key.
    masked: bool,
    /// A close frame went out: no more frames may follow it.
    close_sent: Cell<bool>,
    /// Writes waiting for room besides the one whose waker the
    /// connection holds (it keeps one): woken when any write completes.
    waiters: RefCell<Vec<Waker>>,
    /// The reading half while it waits for data: woken when a close frame
    /// goes out, so that it starts waiting for the peer's answer with
    /// the close timeout.
    reader: RefCell<Option<Waker>>,
    /// The compressor, when permessage-deflate was agreed.
    deflate: RefCell<Option<SendDeflate>>,
}

impl Shared {
    /// Wakes every waiting write (one of them is woken by the connection;
    /// the others re-register when they poll).
    fn wake_waiters(&self) {
        for w in self.waiters.borrow_mut().drain(..) {
            w.wake();
        }
    }

    /// Marks the socket closing (true if it already was) and wakes the
    /// reading half.
    fn mark_closing(&self) -> bool {
        let was = self.close_sent.replace(true);
        if let Some(w) = self.reader.borrow_mut().take() {
            w.wake();
        }
        was
    }

    /// Polls `op` on the connection once.
    fn poll_conn<R>(&self, op: impl FnOnce(&mut Connection) -> R) -> R {
        op(&mut self.conn.borrow_mut())
    }
}

impl Drop for Shared {
    fn drop(&mut self) {
        // Dropped without a close: say goodbye if the frame fits in the
        // out-queue now (the connection sends what is queued as it closes).
        // Only on a worker: a socket that outlived its runtime (returned
        // from `Runtime::block_on`) has no connection left to write to.
        let on_worker = crate::runtime::try_with(|_| ()).is_some();
        if !self.close_sent.get() && on_worker {
            let mut payload = [0; 125];
            let n = close_payload(&mut payload, CloseCode::NORMAL, "");
            let mut cx = Context::from_waker(Waker::noop());
            let conn = self.conn.get_mut();
            let _ = queue_frame(conn, &mut cx, OpCode::Close, &payload[..n], self.masked);
        }
    }
}

/// The sending half of a [`WebSocket`](super::WebSocket): clone it freely
/// (an `Rc`; it stays on its worker). The connection closes once every
/// half is dropped.
///
/// ```no_run
/// use corering::ws::{WebSocket, WsWriter};
/// /// Sends a tick every second while the reader half echoes.
/// async fn ticks(ws: WebSocket) {
///     let (mut rx, tx) = ws.split();
///     let ticker: WsWriter = tx.clone();
///     corering::spawn_local(async move {
///         while ticker.send_text("tick").await.is_ok() {
///             corering::time::sleep(std::time::Duration::from_secs(1)).await;
///         }
///     });
///     while let Ok(Some(msg)) = rx.recv().await {
///         if tx.send(msg).await.is_err() {
///             break;
///         }
///     }
/// }
/// ```
#[derive(Clone)]
pub struct WsWriter {
    shared: Rc<Shared>,
}

impl fmt::Debug for WsWriter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WsWriter")
            .field("close_sent", &self.shared.close_sent.get())
            .finish_non_exhaustive()
    }
}

impl WsWriter {
    /// The server role: frames go out unmasked.
    pub(crate) fn new(conn: Connection) -> WsWriter {
        WsWriter::with_role(conn, false)
    }

    /// The client role: every frame masked with a fresh key.
    pub(crate) fn new_client(conn: Connection) -> WsWriter {
        WsWriter::with_role(conn, true)
    }

    fn with_role(conn: Connection, masked: bool) -> WsWriter {
        WsWriter {
            shared: Rc::new(Shared {
                conn: RefCell::new(conn),
                masked,
                close_sent: Cell::new(false),
                waiters: RefCell::new(Vec::new()),
                reader: RefCell::new(None),
                deflate: RefCell::new(None),
            }),
        }
    }

    /// Sends a text message (one frame).
    pub async fn send_text(&self, text: &str) -> Result<(), WsError> {
        self.data(OpCode::Text, text.as_bytes()).await
    }

    /// Sends a binary message (one frame).
    pub async fn send_binary(&self, data: &[u8]) -> Result<(), WsError> {
        self.data(OpCode::Binary, data).await
    }

    /// Sends a message (one frame): a received one can be sent on as it
    /// is.
    pub async fn send(&self, msg: Message<'_>) -> Result<(), WsError> {
        match msg {
            Message::Text(t) => self.send_text(t).await,
            Message::Binary(b) => self.send_binary(b).await,
        }
    }

    /// Sends a ping (the peer answers with a pong carrying `payload`).
    /// `WsError::TooBig` for a payload over 125 bytes.
    pub async fn ping(&self, payload: &[u8]) -> Result<(), WsError> {
        self.control(OpCode::Ping, payload).await
    }

    /// Sends an unsolicited pong (a one-way heartbeat).
    pub async fn pong(&self, payload: &[u8]) -> Result<(), WsError> {
        self.control(OpCode::Pong, payload).await
    }

    /// Starts the closing handshake: sends a close frame with `code` and
    /// `reason` (cut to 123 bytes at a character boundary). Nothing may
    /// be sent after it; the reading half reads on until the peer's close
    /// frame, then ends with `Ok(None)`. A second call does nothing.
    ///
    /// # Panics
    /// If `code` may not be sent on the wire (see
    /// [`CloseCode::is_sendable`]: 1005, 1006, 1015 and unassigned codes).
    pub async fn close(&self, code: CloseCode, reason: &str) -> Result<(), WsError> {
        assert!(
            code.is_sendable(),
            "close code {code} may not be sent in a close frame"
        );
        if self.shared.close_sent.get() {
            return Ok(());
        }
        let mut payload = [0; 125];
        let n = close_payload(&mut payload, code, reason);
        self.close_frame(&payload[..n]).await
    }

    /// Bytes queued on the connection and not yet sent: how far behind
    /// the peer is. A broadcaster can skip or drop peers above a bound of
    /// its own; writes themselves wait while the connection's write-buffer
    /// limit is exceeded.
    pub fn buffered(&self) -> usize {
        self.shared.poll_conn(|c| c.buffered())
    }

    /// Waits until everything queued has been handed to the kernel.
    pub async fn flush(&self) -> Result<(), WsError> {
        self.wait(|c, cx| Pin::new(&mut c.flush()).poll(cx)).await?;
        Ok(())
    }

    /// True once a close frame was sent (by either half, or in answer to
    /// the peer's): sends fail with [`WsError::Closed`].
    pub fn is_closed(&self) -> bool {
        self.shared.close_sent.get()
    }

    /// Sends a close frame with this exact payload (empty, or a code and
    /// a reason) and marks the socket closing.
    pub(crate) async fn close_frame(&self, payload: &[u8]) -> Result<(), WsError> {
        if self.shared.mark_closing() {
            return Err(WsError::Closed);
        }
        self.frame(OpCode::Close, payload).await
    }

    /// Queues a close frame now if the out-queue has room, without
    /// waiting (a failing connection does not wait on a peer that may not
    /// read); marks the socket closing either way.
    pub(crate) fn close_now(&self, code: CloseCode, reason: &str) {
        if self.shared.mark_closing() {
            return;
        }
        let mut payload = [0; 125];
        let n = close_payload(&mut payload, code, reason);
        let mut cx = Context::from_waker(Waker::noop());
        let _ = self.poll_frame(&mut cx, OpCode::Close, &payload[..n]);
        // The no-op waker may have displaced a waiting write's.
        self.shared.wake_waiters();
    }

    /// Tries once to queue a ping (keep-alive), without waiting.
    pub(crate) fn ping_now(&self, cx: &mut Context<'_>) {
        if self.shared.close_sent.get() {
            return;
        }
        if self.poll_frame(cx, OpCode::Ping, b"").is_pending() {
            self.shared.wake_waiters();
        }
    }

    /// Flushes, then ends the sending side (TCP FIN): the close handshake
    /// is done.
    pub(crate) async fn shutdown(&self) -> Result<(), WsError> {
        self.wait(|c, cx| Pin::new(&mut c.shutdown_write()).poll(cx))
            .await?;
        Ok(())
    }

    async fn data(&self, opcode: OpCode, payload: &[u8]) -> Result<(), WsError> {
        if self.shared.close_sent.get() {
            return Err(WsError::Closed);
        }
        let compress = matches!(opcode, OpCode::Text | OpCode::Binary)
            && self
                .shared
                .deflate
                .borrow()
                .as_ref()
                .is_some_and(|d| d.should_compress(payload.len()));
        if compress {
            let deflate = &self.shared.deflate;
            let masked = self.shared.masked;
            return self
                .wait(|c, cx| queue_compressed(c, cx, deflate, opcode, payload, masked))
                .await
                .map_err(WsError::Io);
        }
        self.frame(opcode, payload).await
    }

    async fn control(&self, opcode: OpCode, payload: &[u8]) -> Result<(), WsError> {
        if payload.len() > MAX_CONTROL_PAYLOAD {
            return Err(WsError::TooBig);
        }
        self.data(opcode, payload).await
    }

    /// One whole unfragmented frame into the out-queue.
    pub(crate) async fn frame(&self, opcode: OpCode, payload: &[u8]) -> Result<(), WsError> {
        let masked = self.shared.masked;
        self.wait(|c, cx| queue_frame(c, cx, opcode, payload, masked))
            .await
            .map_err(WsError::Io)
    }

    /// [`queue_frame`] once.
    fn poll_frame(
        &self,
        cx: &mut Context<'_>,
        opcode: OpCode,
        payload: &[u8],
    ) -> Poll<io::Result<()>> {
        let masked = self.shared.masked;
        self.shared
            .poll_conn(|c| queue_frame(c, cx, opcode, payload, masked))
    }

    /// Runs `op` on the connection until it is ready, taking part in the
    /// shared wake-up of waiting writes.
    fn wait<F>(&self, op: F) -> Wait<'_, F>
    where
        F: FnMut(&mut Connection, &mut Context<'_>) -> Poll<io::Result<()>>,
    {
        Wait {
            shared: &self.shared,
            op,
            waiting: false,
        }
    }
}

/// Queues a frame (header and payload in one step) if the out-queue has
/// room. Server frames (`masked` false) go out as they are; a client's
/// get a fresh masking key, and the payload is masked while it is copied
/// into the send buffers (`Connection::write_with`).
fn queue_frame(
    c: &mut Connection,
    cx: &mut Context<'_>,
    opcode: OpCode,
    payload: &[u8],
    masked: bool,
) -> Poll<io::Result<()>> {
    queue_frame_rsv1(c, cx, opcode, false, payload, masked)
}

/// [`queue_frame`] with RSV1 as given (set: a compressed message).
fn queue_frame_rsv1(
    c: &mut Connection,
    cx: &mut Context<'_>,
    opcode: OpCode,
    rsv1: bool,
    payload: &[u8],
    masked: bool,
) -> Poll<io::Result<()>> {
    let mut head = [0; MAX_HEADER];
    if !masked {
        let n = encode_header(&mut head, true, rsv1, opcode, None, payload.len() as u64);
        let parts = [&head[..n], payload];
        return Pin::new(&mut c.write_all_vectored(&parts)).poll(cx);
    }
    // A key per poll: a frame that waited for room gets a new one when it
    // is finally queued.
    let key = super::rand::mask_key();
    let n = encode_header(
        &mut head,
        true,
        rsv1,
        opcode,
        Some(key),
        payload.len() as u64,
    );
    let head = &head[..n];
    Pin::new(&mut c.write_with(n + payload.len(), |buf| {
        let (h, p) = buf.split_at_mut(n);
        h.copy_from_slice(head);
        mask_copy(p, payload, key);
    }))
    .poll(cx)
}

/// Compresses `payload` and queues it as one frame with RSV1, once the
/// out-queue has room: compressing and queueing happen in one poll, so
/// messages are compressed in the order they are queued. A client's frame
/// (`masked`) is masked as the compressed bytes are copied into the send
/// buffers.
fn queue_compressed(
    c: &mut Connection,
    cx: &mut Context<'_>,
    deflate: &RefCell<Option<SendDeflate>>,
    opcode: OpCode,
    payload: &[u8],
    masked: bool,
) -> Poll<io::Result<()>> {
    // Queueing nothing: ready once the out-queue takes more, and nothing
    // changes it before the frame below is queued.
    match Pin::new(&mut c.write_all(&[])).poll(cx) {
        Poll::Ready(Ok(())) => {}
        other => return other,
    }
    let mut deflate = deflate.borrow_mut();
    let Some(d) = deflate.as_mut() else {
        return queue_frame(c, cx, opcode, payload, masked);
    };
    let r = queue_frame_rsv1(c, cx, opcode, true, d.compress(payload), masked);
    debug_assert!(r.is_ready(), "the out-queue had room a moment ago");
    r
}

/// A connection operation retried on each poll: it may wait on the
/// connection's single writer waker, which another writer may take over,
/// so every waiting write is also listed in `Shared::waiters`, and a write
/// that completes or gives up wakes them all.
struct Wait<'a, F> {
    shared: &'a Shared,
    op: F,
    waiting: bool,
}

impl<F> Unpin for Wait<'_, F> {}

impl<F> Future for Wait<'_, F>
where
    F: FnMut(&mut Connection, &mut Context<'_>) -> Poll<io::Result<()>>,
{
    type Output = io::Result<()>;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let r = {
            let mut conn = this.shared.conn.borrow_mut();
            (this.op)(&mut conn, cx)
        };
        match r {
            Poll::Pending => {
                let mut waiters = this.shared.waiters.borrow_mut();
                if !waiters.iter().any(|w| w.will_wake(cx.waker())) {
                    waiters.push(cx.waker().clone());
                }
                this.waiting = true;
                Poll::Pending
            }
            Poll::Ready(r) => {
                if std::mem::take(&mut this.waiting) {
                    this.shared.wake_waiters();
                }
                Poll::Ready(r)
            }
        }
    }
}

impl<F> Drop for Wait<'_, F> {
    fn drop(&mut self) {
        if self.waiting {
            self.shared.wake_waiters();
        }
    }
}

/// Crate-internal access for the reading half.
impl WsWriter {
    /// Registers the reading half's waker, woken when a close frame goes
    /// out.
    pub(crate) fn reader_waiting(&self, waker: &Waker) {
        let mut slot = self.shared.reader.borrow_mut();
        if !slot.as_ref().is_some_and(|w| w.will_wake(waker)) {
            *slot = Some(waker.clone());
        }
    }

    /// Compresses data messages from now on (permessage-deflate agreed).
    pub(crate) fn set_deflate(&self, deflate: SendDeflate) {
        *self.shared.deflate.borrow_mut() = Some(deflate);
    }

    /// Runs `f` with the connection (within one poll, never across an
    /// await).
    pub(crate) fn with_conn<R>(&self, f: impl FnOnce(&mut Connection) -> R) -> R {
        self.shared.poll_conn(f)
    }
}
