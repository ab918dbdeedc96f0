//! `WsReader`: the receiving half of a WebSocket: frames read over the
//! connection's [`Inbound`], messages reassembled, control frames
//! answered.
//!
//! ```text
//!  frame whole in the current buffer, unfragmented ─► unmask in place ─► Message borrows the lease
//!  frame cut by the buffer's end, or fragmented    ─► unmask + validate each piece as it arrives
//!                                                     into one reusable Vec ─► Message borrows it
//!  ping ─► pong (waits for room: a peer that does not read stops being read)
//!  close ─► close answered, sending side shut ─► recv() = Ok(None)
//! ```
//!
//! A compressed message (permessage-deflate agreed, RSV1 on its first
//! frame) never goes the in-place path: each piece of its payload is
//! unmasked where it lies and inflated straight into the reassembly
//! buffer, at most the largest message's worth (1009 past it: zip bombs
//! stop there), text checked as UTF-8 on the inflated bytes as they come.
//! Data the inflater refuses closes with 1007.
//!
//! Waiting for data also runs the idle timeout and the keep-alive pings
//! on one timer that is re-armed only when it fires, never per message.
//!
//! # Close handshake (RFC 6455 §7)
//!
//! | state  | event                              | action                                   | next   |
//! |--------|------------------------------------|------------------------------------------|--------|
//! | Open   | peer's close frame (valid)         | answer with its code unless ours went out; shut the sending side (the server closes TCP first) | Closed |
//! | Open   | we sent close (`WsWriter::close`)  | sends fail; reading goes on (data still delivered) for at most the close timeout | Open   |
//! | Open   | protocol error / bad UTF-8 / too big / idle | close frame 1002 / 1007 / 1009 / 1001 if the out-queue takes it now | Failed |
//! | Open   | end of stream, socket error        | nothing to send                          | Failed |
//! | Open   | the server shuts down              | close frame 1001; the peer's close awaited for the close timeout | Open |
//! | Closed | `recv`                             | `Ok(None)`                               | Closed |
//! | Failed | `recv`                             | `Err(WsError::Closed)`                   | Failed |
//!
//! ```text
//!            peer close ─► answer + FIN ─────────────► Closed ─► recv: Ok(None)
//!  Open ──┤  error ─► close(code), no waiting ─────────► Failed ─► recv: Err(Closed)
//!            our close ─► Open (sends refused) ─► peer close ─► FIN ─► Closed
//! ```
//!
//! Reading takes leases from the connection itself (`poll_read_lease`,
//! the connection shared with the writers) and pushes them into the
//! socket's [`Inbound`], which does the rest as for every other protocol.

use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use super::close::{parse_close, BadClose};
use super::compression::RecvInflate;
use super::deflate::{Agreed, DeflateError};
use super::frame::{apply_mask, parse_header, FrameError, FrameHeader, OpCode, Parsed, Rules};
use super::mask::mask_extend;
use super::utf8::Utf8Validator;
use super::{CloseCode, Message, WsConfig, WsError, WsWriter};
use crate::time::{sleep_until, Sleep};
use crate::{Inbound, Lease, ShutdownRequested};

/// A reassembly buffer larger than this is freed after its message (a
/// rare large message does not pin its memory to the socket).
const RETAIN: usize = 64 << 10;
/// Most reassembly memory reserved ahead of the bytes arriving (a
/// declared length is only a promise).
const RESERVE_AHEAD: usize = 64 << 10;

/// Where the next message's bytes are.
enum Delivery {
    /// In the inbound buffer, `start..start + len` of its bytes.
    InPlace {
        start: usize,
        len: usize,
        text: bool,
    },
    /// In the reassembly buffer.
    Assembled { text: bool },
}

/// Where reading stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Open,
    /// The close handshake is done: `recv` returns `Ok(None)`.
    Closed,
    /// Failed (an error was returned): `recv` returns `Err(Closed)`.
    Failed,
}

/// What waiting for data ended with besides data.
enum Stop {
    Io(std::io::Error),
    Idle,
}

/// The idle timeout and keep-alive pings, on one timer.
struct Keepalive {
    idle: Option<std::time::Duration>,
    ping: Option<std::time::Duration>,
    last_rx: Instant,
    last_ping: Instant,
    /// Armed for the earliest deadline known when it was armed; when it
    /// fires, the deadlines are checked against the clock and it is armed
    /// again (they only ever move later in between).
    timer: Option<Sleep>,
}

impl Keepalive {
    fn next_deadline(&self) -> Option<Instant> {
        let idle = self.idle.map(|d| self.last_rx + d);
        let ping = self.ping.map(|d| self.last_rx.max(self.last_ping) + d);
        match (idle, ping) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
}

/// The receiving half of a [`WebSocket`](super::WebSocket) (from
/// [`split`](super::WebSocket::split)); it answers pings and the peer's
/// close through its own handle on the sending side.
pub struct WsReader {
    writer: WsWriter,
    inbound: Inbound,
    /// Reassembly of fragmented messages and of frames cut by a buffer's
    /// end; reused from message to message.
    msg: Vec<u8>,
    /// The kind of the fragmented message in progress.
    partial: Option<OpCode>,
    /// The message in progress is compressed (RSV1 on its first frame).
    compressed: bool,
    /// permessage-deflate, when agreed: the parameters and the inflater.
    deflate: Option<(Agreed, RecvInflate)>,
    utf8: Utf8Validator,
    /// Bytes of `inbound` the last message borrowed: consumed on the next
    /// call.
    pending: usize,
    /// The last message borrowed `msg`: cleared on the next call.
    clear_msg: bool,
    cfg: WsConfig,
    rules: Rules,
    state: State,
    peer_close: Option<(CloseCode, String)>,
    protocol: Option<String>,
    keepalive: Keepalive,
    /// The server's shutdown, watched while waiting for data.
    shutdown: Option<ShutdownRequested>,
    /// A close frame of ours went out: the idle timeout became the close
    /// timeout.
    closing: bool,
}

impl std::fmt::Debug for WsReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WsReader")
            .field("state", &self.state)
            .field("protocol", &self.protocol)
            .finish_non_exhaustive()
    }
}

impl WsReader {
    pub(crate) fn new(
        writer: WsWriter,
        inbound: Inbound,
        cfg: WsConfig,
        rules: Rules,
        protocol: Option<String>,
    ) -> WsReader {
        let now = Instant::now();
        WsReader {
            writer,
            inbound,
            msg: Vec::new(),
            partial: None,
            compressed: false,
            deflate: None,
            utf8: Utf8Validator::default(),
            pending: 0,
            clear_msg: false,
            cfg,
            rules,
            state: State::Open,
            peer_close: None,
            protocol,
            keepalive: Keepalive {
                idle: cfg.idle(),
                ping: cfg.ping(),
                last_rx: now,
                last_ping: now,
                timer: None,
            },
            shutdown: Some(crate::shutdown_requested()),
            closing: false,
        }
    }

    /// The next message; `Ok(None)` once the peer's close frame has
    /// arrived and been answered (its code in
    /// [`peer_close`](WsReader::peer_close)). The message borrows this
    /// reader's buffers until the next call.
    ///
    /// Pings are answered and pongs taken in along the way. A peer that
    /// breaks the protocol gets the matching close frame (1002, 1007 for
    /// text that is not UTF-8, 1009 for a message over the limit) and an
    /// `Err`; so does a peer silent past the idle timeout (1001). After
    /// an error, `recv` returns `Err(WsError::Closed)`.
    pub async fn recv(&mut self) -> Result<Option<Message<'_>>, WsError> {
        Ok(match self.next().await? {
            None => None,
            Some(Delivery::InPlace { start, len, text }) => {
                let bytes = &self.inbound.bytes()[start..start + len];
                Some(if text {
                    // SAFETY: `next` checked these bytes are UTF-8, and
                    // nothing changed them since.
                    Message::Text(unsafe { std::str::from_utf8_unchecked(bytes) })
                } else {
                    Message::Binary(bytes)
                })
            }
            Some(Delivery::Assembled { text }) => Some(if text {
                // SAFETY: every piece went through the incremental
                // validator, which ended on a whole code point.
                Message::Text(unsafe { std::str::from_utf8_unchecked(&self.msg) })
            } else {
                Message::Binary(&self.msg)
            }),
        })
    }

    /// The code and reason of the peer's close frame, once it arrived
    /// (1005, "no status", for an empty one).
    pub fn peer_close(&self) -> Option<(CloseCode, &str)> {
        self.peer_close.as_ref().map(|(c, r)| (*c, r.as_str()))
    }

    /// The subprotocol agreed in the handshake.
    pub fn protocol(&self) -> Option<&str> {
        self.protocol.as_deref()
    }

    /// The permessage-deflate parameters agreed in the handshake (`None`:
    /// uncompressed).
    pub fn compression(&self) -> Option<&Agreed> {
        self.deflate.as_ref().map(|(a, _)| a)
    }

    /// Takes compressed messages from now on: RSV1 becomes legal on a
    /// data message's first frame.
    pub(crate) fn set_deflate(&mut self, agreed: Agreed, inflate: RecvInflate) {
        self.rules.rsv1_allowed = true;
        self.deflate = Some((agreed, inflate));
    }

    /// A handle on the sending side.
    pub fn writer(&self) -> &WsWriter {
        &self.writer
    }

    /// The closing handshake from this side: sends a close frame, reads
    /// (and drops) what the peer still sends until its close frame, at
    /// most for the configured close timeout.
    pub(crate) async fn close(&mut self, code: CloseCode, reason: &str) -> Result<(), WsError> {
        self.writer.close(code, reason).await?;
        let wait = self.cfg.close_wait();
        let drain = async {
            loop {
                match self.next().await {
                    Ok(Some(_)) => continue,
                    Ok(None) => return Ok(()),
                    Err(e) => return Err(e),
                }
            }
        };
        match crate::time::timeout(wait, drain).await {
            Ok(r) => r,
            Err(_) => {
                self.state = State::Failed;
                Ok(())
            }
        }
    }

    async fn next(&mut self) -> Result<Option<Delivery>, WsError> {
        if self.pending > 0 {
            self.inbound.consume(std::mem::take(&mut self.pending));
        }
        if std::mem::take(&mut self.clear_msg) {
            self.msg.clear();
            if self.msg.capacity() > RETAIN {
                self.msg = Vec::new();
            }
        }
        match self.state {
            State::Open => {}
            State::Closed => return Ok(None),
            State::Failed => return Err(WsError::Closed),
        }
        loop {
            let h = self.header().await?;
            if h.opcode.is_control() {
                if self.control(h).await? {
                    return Ok(None);
                }
                continue;
            }
            let kind = match (h.opcode, self.partial) {
                (OpCode::Continuation, Some(kind)) => kind,
                (OpCode::Continuation, None) => {
                    return Err(self.fail_protocol("continuation frame outside a message"))
                }
                (_, Some(_)) => {
                    return Err(self.fail_protocol("new message inside a fragmented one"))
                }
                (op, None) => op,
            };
            if h.rsv1 {
                // RFC 7692 §6: RSV1 marks a compressed message, on its
                // first frame only (the parser lets it through only once
                // permessage-deflate was agreed).
                if self.deflate.is_none() {
                    return Err(self.fail_protocol("RSV1 without a compression extension"));
                }
                if h.opcode == OpCode::Continuation {
                    return Err(self.fail_protocol("RSV1 on a continuation frame"));
                }
            }
            if self.partial.is_none() {
                self.compressed = h.rsv1;
            }
            let len = h.payload_len;
            let max_frame = self.cfg.max_frame() as u64;
            // A compressed message's size is what it inflates to (checked
            // by the inflater); its frames only have to fit `max_frame`.
            let room = if self.compressed {
                u64::MAX
            } else {
                self.cfg.max_message().saturating_sub(self.msg.len()) as u64
            };
            if len > max_frame || len > room {
                return Err(self.fail(CloseCode::TOO_BIG, "message too big", WsError::TooBig));
            }
            let len = len as usize;
            let text = kind == OpCode::Text;
            let total = h.header_len + len;
            if self.partial.is_none()
                && h.fin
                && !self.compressed
                && self.inbound.bytes().len() >= total
            {
                // Whole in one buffer: unmask in place, deliver in place.
                let (start, mask) = (h.header_len, h.mask);
                if let Some(key) = mask {
                    self.inbound
                        .with_bytes_mut(|b| apply_mask(&mut b[start..total], key, 0));
                }
                if text && std::str::from_utf8(&self.inbound.bytes()[start..total]).is_err() {
                    return Err(self.fail_utf8());
                }
                self.pending = total;
                return Ok(Some(Delivery::InPlace { start, len, text }));
            }
            self.inbound.consume(h.header_len);
            if self.partial.is_none() {
                self.partial = Some(kind);
                self.utf8.reset();
                self.msg.clear();
            }
            if self.compressed {
                self.payload(len, h.mask, text, true).await?;
            } else {
                self.msg.reserve(len.min(RESERVE_AHEAD));
                self.payload(len, h.mask, text, false).await?;
            }
            if h.fin {
                self.partial = None;
                if self.compressed {
                    self.inflate_finish(text)?;
                }
                if text && self.utf8.finish().is_err() {
                    return Err(self.fail_utf8());
                }
                self.clear_msg = true;
                return Ok(Some(Delivery::Assembled { text }));
            }
        }
    }

    /// Reads the next frame header (the rules the header alone decides
    /// checked as its bytes arrive).
    async fn header(&mut self) -> Result<FrameHeader, WsError> {
        loop {
            match parse_header(self.inbound.bytes(), self.rules) {
                Ok(Parsed::Header(h)) => return Ok(h),
                Ok(Parsed::Incomplete(n)) => {
                    if !self.need(n).await? {
                        return Err(self.eof());
                    }
                }
                Err(e) => return Err(self.fail_protocol(frame_error_reason(e, self.rules))),
            }
        }
    }

    /// Handles a control frame; true once the close handshake is done.
    async fn control(&mut self, h: FrameHeader) -> Result<bool, WsError> {
        if h.rsv1 {
            // Reachable only once an extension allows RSV1, and no
            // extension may set it on a control frame (RFC 7692 §6.1).
            return Err(self.fail_protocol("RSV1 on a control frame"));
        }
        let len = h.payload_len as usize; // at most 125: checked by the parser
        let total = h.header_len + len;
        if !self.need(total).await? {
            return Err(self.eof());
        }
        let start = h.header_len;
        let mut payload = [0u8; 125];
        self.inbound.with_bytes_mut(|b| {
            let p = &mut b[start..total];
            if let Some(key) = h.mask {
                apply_mask(p, key, 0);
            }
            payload[..len].copy_from_slice(p);
        });
        self.inbound.consume(total);
        let payload = &payload[..len];
        match h.opcode {
            OpCode::Ping => {
                if !self.writer.is_closed() {
                    self.writer.pong(payload).await?;
                }
                Ok(false)
            }
            OpCode::Pong => Ok(false),
            _ => {
                let answer = match parse_close(payload) {
                    Err(BadClose::Protocol) => {
                        return Err(self.fail_protocol("malformed close frame"))
                    }
                    Err(BadClose::Utf8) => return Err(self.fail_utf8()),
                    Ok(None) => {
                        self.peer_close = Some((CloseCode::NO_STATUS, String::new()));
                        &payload[..0]
                    }
                    Ok(Some((code, reason))) => {
                        self.peer_close = Some((code, reason.to_owned()));
                        // Echo the code (RFC 6455 §5.5.1), without the reason.
                        &payload[..2]
                    }
                };
                self.state = State::Closed;
                if !self.writer.is_closed() {
                    // The peer may have stopped reading already: errors
                    // here change nothing.
                    let _ = self.writer.close_frame(answer).await;
                }
                // The server ends the TCP connection first (RFC 6455 §7.1.1).
                let _ = self.writer.shutdown().await;
                Ok(true)
            }
        }
    }

    /// Reads `len` payload bytes into `msg` piece by piece as they
    /// arrive: unmasked and (for text) validated, or, for a compressed
    /// message, unmasked where they lie and inflated onto `msg`.
    async fn payload(
        &mut self,
        mut len: usize,
        mask: Option<[u8; 4]>,
        text: bool,
        compressed: bool,
    ) -> Result<(), WsError> {
        let mut offset = 0;
        loop {
            let k = len.min(self.inbound.bytes().len());
            if k > 0 {
                if compressed {
                    self.inflate_piece(k, mask, offset, text)?;
                } else {
                    self.copy_piece(k, mask, offset, text)?;
                }
                self.inbound.consume(k);
                offset += k;
                len -= k;
            }
            if len == 0 {
                return Ok(());
            }
            if !self.more().await? {
                return Err(self.eof());
            }
        }
    }

    /// Appends the first `k` bytes of input to `msg`, unmasked (`offset`:
    /// where they start in the frame's payload) and, for text, validated.
    fn copy_piece(
        &mut self,
        k: usize,
        mask: Option<[u8; 4]>,
        offset: usize,
        text: bool,
    ) -> Result<(), WsError> {
        let start = self.msg.len();
        let piece = &self.inbound.bytes()[..k];
        match mask {
            Some(key) => mask_extend(&mut self.msg, piece, key, offset),
            None => self.msg.extend_from_slice(piece),
        }
        if text && self.utf8.feed(&self.msg[start..]).is_err() {
            return Err(self.fail_utf8());
        }
        Ok(())
    }

    /// Unmasks the first `k` bytes of input where they lie and inflates
    /// them onto `msg` (for text, validating what they yield).
    fn inflate_piece(
        &mut self,
        k: usize,
        mask: Option<[u8; 4]>,
        offset: usize,
        text: bool,
    ) -> Result<(), WsError> {
        if let Some(key) = mask {
            self.inbound
                .with_bytes_mut(|b| apply_mask(&mut b[..k], key, offset));
        }
        let start = self.msg.len();
        let Some((_, inflate)) = self.deflate.as_mut() else {
            unreachable!("a compressed message without permessage-deflate");
        };
        let r = inflate.push(&self.inbound.bytes()[..k], &mut self.msg);
        self.inflated(r, start, text)
    }

    /// Ends a compressed message: inflates what its last piece left.
    fn inflate_finish(&mut self, text: bool) -> Result<(), WsError> {
        let start = self.msg.len();
        let Some((_, inflate)) = self.deflate.as_mut() else {
            unreachable!("a compressed message without permessage-deflate");
        };
        let r = inflate.finish(&mut self.msg);
        self.inflated(r, start, text)
    }

    /// Checks what inflating gave: the error's close code (1009 past the
    /// limit, 1007 for corrupt data), and for text the new bytes
    /// `msg[start..]` as UTF-8.
    fn inflated(
        &mut self,
        r: Result<(), DeflateError>,
        start: usize,
        text: bool,
    ) -> Result<(), WsError> {
        match r {
            Ok(()) => {}
            Err(DeflateError::TooLarge { .. }) => {
                return Err(self.fail(
                    CloseCode::TOO_BIG,
                    "message too big (inflated)",
                    WsError::TooBig,
                ))
            }
            Err(e) => {
                return Err(self.fail(
                    CloseCode(e.close_code()),
                    "invalid compressed data",
                    WsError::Compression(e),
                ))
            }
        }
        if text && self.utf8.feed(&self.msg[start..]).is_err() {
            return Err(self.fail_utf8());
        }
        Ok(())
    }

    /// Waits until `n` bytes are contiguous in the inbound buffer; false
    /// if the peer closed first.
    async fn need(&mut self, n: usize) -> Result<bool, WsError> {
        while !self.inbound.gather(n) {
            if !self.more().await? {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Reads one more buffer from the connection; false at end of stream.
    async fn more(&mut self) -> Result<bool, WsError> {
        match poll_fn(|cx| self.poll_lease(cx)).await {
            Ok(Some(lease)) => {
                self.keepalive.last_rx = Instant::now();
                self.inbound.push(lease);
                Ok(true)
            }
            Ok(None) => Ok(false),
            Err(Stop::Idle) => {
                Err(self.fail(CloseCode::GOING_AWAY, "idle timeout", WsError::IdleTimeout))
            }
            Err(Stop::Io(e)) => {
                self.state = State::Failed;
                log::debug!("websocket: read failed: {e}");
                Err(WsError::Io(e))
            }
        }
    }

    fn poll_lease(&mut self, cx: &mut Context<'_>) -> Poll<Result<Option<Lease>, Stop>> {
        if let Poll::Ready(r) = self.writer.with_conn(|c| c.poll_read_lease(cx)) {
            return Poll::Ready(r.map_err(Stop::Io));
        }
        if let Some(shutdown) = &mut self.shutdown {
            if Pin::new(shutdown).poll(cx).is_ready() {
                // The server is stopping: say so (1001).
                self.shutdown = None;
                self.writer
                    .close_now(CloseCode::GOING_AWAY, "server shutting down");
            }
        }
        if !self.closing {
            if self.writer.is_closed() {
                // Our close frame went out: the peer has the close timeout
                // to answer.
                self.closing = true;
                let k = &mut self.keepalive;
                k.idle = Some(self.cfg.close_wait());
                k.last_rx = Instant::now();
                k.timer = None;
            } else {
                self.writer.reader_waiting(cx.waker());
            }
        }
        loop {
            let Some(deadline) = self.keepalive.next_deadline() else {
                return Poll::Pending;
            };
            let timer = self
                .keepalive
                .timer
                .get_or_insert_with(|| sleep_until(deadline));
            if Pin::new(timer).poll(cx).is_pending() {
                return Poll::Pending;
            }
            self.keepalive.timer = None;
            let now = Instant::now();
            let k = &mut self.keepalive;
            if k.idle.is_some_and(|d| now >= k.last_rx + d) {
                return Poll::Ready(Err(Stop::Idle));
            }
            if k.ping
                .is_some_and(|d| now >= k.last_rx.max(k.last_ping) + d)
            {
                k.last_ping = now;
                self.writer.ping_now(cx);
            }
        }
    }

    /// The peer closed the TCP connection without a close frame.
    fn eof(&mut self) -> WsError {
        self.state = State::Failed;
        log::debug!("websocket: connection closed without a close frame");
        WsError::Io(std::io::ErrorKind::UnexpectedEof.into())
    }

    fn fail_protocol(&mut self, what: &'static str) -> WsError {
        self.fail(CloseCode::PROTOCOL, what, WsError::Protocol(what))
    }

    fn fail_utf8(&mut self) -> WsError {
        self.fail(
            CloseCode::INVALID_DATA,
            "text is not UTF-8",
            WsError::InvalidUtf8,
        )
    }

    /// Fails the connection (RFC 6455 §7.1.7): a close frame with `code`
    /// if the out-queue takes it now, and no more reading.
    fn fail(&mut self, code: CloseCode, reason: &str, err: WsError) -> WsError {
        log::debug!("websocket: closing with {code}: {reason}");
        self.state = State::Failed;
        self.writer.close_now(code, reason);
        err
    }
}

/// The close reason for a header that breaks the rules (`rules`: which
/// side reads).
fn frame_error_reason(e: FrameError, rules: Rules) -> &'static str {
    match e {
        FrameError::ReservedBits => "reserved bits set",
        FrameError::ReservedOpcode(_) => "reserved opcode",
        FrameError::ControlTooLong => "control frame longer than 125 bytes",
        FrameError::ControlFragmented => "fragmented control frame",
        FrameError::Masking if rules.masked => "unmasked client frame",
        FrameError::Masking => "masked server frame",
        FrameError::LengthOverflow => "frame length over 2^63",
    }
}
