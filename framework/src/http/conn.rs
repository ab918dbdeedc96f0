//! The per-connection server loop: read a head, run the handler, write the
//! response, finish the body, and decide whether the connection stays open.
//!
//! ```text
//!            ┌──────────────────────── keep-alive ◄────────────────────────┐
//!            ▼                                                             │
//!   ┌─► ReadHead ──complete──► Handle ──► Respond ──► FinishBody ──────────┤
//!   │     │  nothing within idle/first timeout, EOF, I/O error: close      │
//!   │     │  partial head past head timeout: 408, close                    │ drained
//!   │     │  malformed / over a limit: 4xx/5xx, close                      │
//!   │     ▼                                                                │
//!   │   pipelined bytes already buffered: parse at once, no read ──────────┘
//!   │
//!   └── Respond with close (Connection: close, HTTP/1.0, shutdown, body error,
//!       unanswered 100-continue): lingering close (FIN, discard input briefly)
//! ```
//!
//! | state      | buffers                                   | leaves when            |
//! |------------|-------------------------------------------|------------------------|
//! | ReadHead   | lease in place, or assembly buffer        | head complete / error  |
//! | Handle     | head buffer borrowed by the `Request`     | handler's future ends  |
//! | Respond    | head written to a reused `Vec`, then queued | queued               |
//! | FinishBody | unread body read and discarded            | body end / over limit  |
//!
//! Requests are handled one at a time, so pipelined requests are answered
//! strictly in order; their responses are queued back to back and leave in
//! as few sends as the engine can make.

use std::future::Future;
use std::time::{Duration, Instant};

use super::head::{self, HeaderSpan, Version};
use super::request::{end_stream, BodyIo, BodyState, Cursor, Request, StreamState};
use super::response::{self, Body, Framing, HeadKey, HeadOptions};
use super::upgrade::{self, OnUpgrade, Upgraded};
use super::{date, Error, Http1Config, Method, Response, Status};
use crate::time::timeout;
use crate::{Connection, Lease};

/// Bodies up to this size are copied beside the head into one send; larger
/// ones are queued as they are.
const INLINE_BODY: usize = 16 << 10;
/// How long a closing connection keeps discarding input after its last
/// response, so the peer reads that response before any reset.
const LINGER: Duration = Duration::from_millis(500);
/// A collected-body buffer larger than this is freed after its request
/// rather than kept for the connection's next one.
const KEEP_COLLECTED: usize = 64 << 10;
/// Most bytes discarded while lingering.
const LINGER_BYTES: usize = 1 << 20;

/// A request handler: an `async fn(Request<'_>) -> Response`.
///
/// Implemented for every function (or closure) taking a [`Request`] and
/// returning a future of a [`Response`]; a function item such as
/// `async fn handle(req: Request<'_>) -> Response` is the usual form (a
/// closure whose future borrows the request cannot name the lifetime).
pub trait Handler<'a> {
    /// The handler's future.
    type Future: Future<Output = Response>;
    /// Starts handling `req`.
    fn call(&self, req: Request<'a>) -> Self::Future;
}

impl<'a, F, Fut> Handler<'a> for F
where
    F: Fn(Request<'a>) -> Fut,
    Fut: Future<Output = Response>,
{
    type Future = Fut;
    fn call(&self, req: Request<'a>) -> Fut {
        self(req)
    }
}

/// The last response head without fields of its own this connection sent:
/// when the next one has the same key (status, content type, length,
/// framing, `Date` second...) its bytes are the same, and are copied.
#[derive(Default)]
struct HeadCache {
    key: Option<HeadKey>,
    bytes: Vec<u8>,
}

impl HeadCache {
    /// Heads longer than this are not kept.
    const MAX: usize = 512;

    #[inline]
    fn holds(&self, key: Option<HeadKey>) -> bool {
        key.is_some() && key == self.key
    }

    fn keep(&mut self, key: Option<HeadKey>, head: &[u8]) {
        self.key = None;
        if key.is_some() && head.len() <= Self::MAX {
            self.bytes.clear();
            self.bytes.extend_from_slice(head);
            self.key = key;
        }
    }
}

/// The bytes a head is parsed from: the lease it arrived in, or the
/// assembly buffer once a head spans leases.
#[derive(Default)]
struct Input {
    lease: Option<Lease>,
    asm: Vec<u8>,
    in_asm: bool,
}

impl Input {
    fn bytes(&self) -> &[u8] {
        if self.in_asm {
            &self.asm
        } else {
            self.lease.as_deref().unwrap_or(&[])
        }
    }

    fn reset(&mut self) {
        self.lease = None;
        self.asm.clear();
        self.in_asm = false;
    }
}

/// Serves HTTP/1.1 on `conn` until the client closes, the connection is
/// idle too long, or a request is malformed.
///
/// ```no_run
/// use corering::http::{self, Http1Config, Request, Response};
///
/// async fn hello(_req: Request<'_>) -> Response {
///     Response::text("Hello, World!")
/// }
///
/// fn main() -> std::io::Result<()> {
///     let cfg = Http1Config::new();
///     corering::Server::builder()
///         .bind("127.0.0.1:8080")
///         .build()?
///         .serve(move |conn| http::serve(conn, cfg, hello))
/// }
/// ```
pub async fn serve<H>(mut conn: Connection, cfg: Http1Config, handler: H)
where
    H: for<'a> Handler<'a>,
{
    let mut input = Input::default();
    let mut cur = Cursor::default();
    let mut spans: Vec<HeaderSpan> = Vec::with_capacity(16);
    let mut out: Vec<u8> = Vec::with_capacity(256);
    let mut collected: Vec<u8> = Vec::new();
    let mut heads = HeadCache::default();
    let mut first = true;
    loop {
        settle(&mut input, &mut cur);
        let head = match read_head(&mut conn, &mut input, &mut cur, &mut spans, &cfg, first).await {
            Ok(Some(h)) => h,
            Ok(None) => return,
            Err(e) => return fail(conn, &mut out, e, &cfg).await,
        };
        first = false;
        let began = crate::metrics::request_clock();
        let start = cur.pos;
        cur.pos += head.len;
        let mut state = BodyState::new(&head, cfg.max_body, cfg.max_head, cfg.body_timeout);
        let mut resp = {
            let bytes = input.bytes();
            let buf = &bytes[start..start + head.len];
            let (t0, t1) = head.target;
            let req = Request {
                head: &head,
                buf,
                // SAFETY: `parse_head` was given these very bytes (the
                // input is not touched in between) and found the target there
                // as a `&str` (httparse checks it is UTF-8); `target` holds
                // its offsets, relative to the head's start.
                target: unsafe { std::str::from_utf8_unchecked(&buf[t0 as usize..t1 as usize]) },
                spans: &spans,
                body: BodyIo {
                    input: bytes,
                    cur: &mut cur,
                    conn: &mut conn,
                    state: &mut state,
                },
                collected: &mut collected,
                scratch: &mut out,
                server: cfg.server,
            };
            let span = crate::trace::request_span(&req);
            crate::trace::instrument(span, handler.call(req)).await
        };
        let status = resp.status().as_u16();
        if let Some(up) = resp.take_upgrade() {
            // Only to a protocol the client offered (RFC 9110 §7.8).
            let head_bytes = &input.bytes()[start..start + head.len];
            let offered = match (
                head.upgrade_offer(head_bytes, &spans),
                resp.header_value("upgrade"),
            ) {
                (Some(offer), Some(p)) => upgrade::offers(offer, p),
                _ => false,
            };
            // Boxed: a rare path, kept out of every connection's future.
            let switching = switch(conn, &input, &mut cur, &mut state, offered, resp, up, &cfg);
            return Box::pin(switching).await;
        }
        let close = if state.stream == StreamState::NotStarted {
            if let Some(e) = state.error {
                return fail(conn, &mut out, e, &cfg).await;
            }
            if resp.status().as_u16() < 200 {
                // Interim responses (and a 101 without `Response::upgrade`)
                // are not a final answer this server can frame.
                let e = Error::new(
                    Status::INTERNAL_SERVER_ERROR,
                    "handler returned a 1xx status",
                );
                return fail(conn, &mut out, e, &cfg).await;
            }
            let bodiless = head.method == Method::Head || resp.status().is_bodiless();
            if resp.is_omitted() && !bodiless {
                // A declared length with no bytes would leave the client
                // waiting for a body that never comes.
                let e = Error::new(
                    Status::INTERNAL_SERVER_ERROR,
                    "handler returned an omitted body for a response that needs one",
                );
                return fail(conn, &mut out, e, &cfg).await;
            }
            let unanswered = !state.is_done() && state.expect_continue && !state.sent_continue;
            let close = !head.keep_alive || unanswered || crate::is_shutting_down();
            let opts = HeadOptions {
                close,
                keep_alive_1_0: !close && head.version == Version::Http10,
                server: cfg.server,
                framing: Framing::Length,
            };
            // The head goes straight into the connection's send buffers,
            // with a small body right after it; `resp` stays where it is.
            let key = resp.head_key(opts, date::secs());
            let hit = heads.holds(key);
            let head_len = if hit {
                heads.bytes.len()
            } else {
                resp.head_len(opts)
            };
            let body = if bodiless { &[][..] } else { resp.body_bytes() };
            let sent = if body.len() <= INLINE_BODY {
                let heads = &mut heads;
                conn.write_with(head_len + body.len(), |buf| {
                    let (h, b) = buf.split_at_mut(head_len);
                    if hit {
                        h.copy_from_slice(&heads.bytes);
                    } else {
                        let secs = resp.encode_head(h, opts);
                        heads.keep(resp.head_key(opts, secs), h);
                    }
                    b.copy_from_slice(body);
                })
                .await
            } else {
                send_large(&mut conn, resp, opts, head_len).await
            };
            if sent.is_err() {
                return;
            }
            close
        } else {
            // A streamed response: its head is out, so an error can only
            // cut the connection.
            match end_stream(&mut conn, state.stream).await {
                Some(close) if state.error.is_none() => close,
                _ => return,
            }
        };
        crate::metrics::record_response(status, began);
        if close {
            return linger_close(conn).await;
        }
        if collected.capacity() > KEEP_COLLECTED {
            collected = Vec::new();
        }
        // Drain the unread body so the next request starts where it should.
        if drain(&input, &mut cur, &mut conn, &mut state)
            .await
            .is_err()
        {
            return linger_close(conn).await;
        }
    }
}

/// Reads the rest of the request body, if any, and discards it.
async fn drain(
    input: &Input,
    cur: &mut Cursor,
    conn: &mut Connection,
    state: &mut BodyState,
) -> Result<(), Error> {
    if state.is_done() {
        return Ok(());
    }
    let mut body = BodyIo {
        input: input.bytes(),
        cur,
        conn,
        state,
    };
    while body.next().await?.is_some() {}
    Ok(())
}

/// Switches protocols (the handler answered with [`Response::upgrade`]):
/// reads the request body to its end (it belongs to HTTP), sends the
/// `101` head, and runs the upgrade with the connection and the bytes
/// received after the request.
#[allow(clippy::too_many_arguments)]
async fn switch(
    mut conn: Connection,
    input: &Input,
    cur: &mut Cursor,
    state: &mut BodyState,
    offered: bool,
    resp: Response,
    up: OnUpgrade,
    cfg: &Http1Config,
) {
    let mut out = Vec::new();
    let out = &mut out;
    if state.stream != StreamState::NotStarted {
        // A streamed response's head is out: nothing sane can follow.
        log::warn!("http: a handler streamed a response and then upgraded; closing");
        return;
    }
    if let Some(e) = state.error {
        return fail(conn, out, e, cfg).await;
    }
    if !offered {
        let e = Error::new(
            Status::INTERNAL_SERVER_ERROR,
            "handler switched to a protocol the request did not offer",
        );
        return fail(conn, out, e, cfg).await;
    }
    if let Err(e) = drain(input, cur, &mut conn, state).await {
        return fail(conn, out, e, cfg).await;
    }
    out.clear();
    resp.write_head(
        out,
        HeadOptions {
            close: false,
            keep_alive_1_0: false,
            server: cfg.server,
            framing: Framing::Length,
        },
    );
    if conn.write_all(out).await.is_err() {
        return;
    }
    let mut buffered = input.bytes().get(cur.pos..).unwrap_or_default().to_vec();
    if let Some(l) = cur.extra.take() {
        buffered.extend_from_slice(l.get(cur.extra_pos..).unwrap_or_default());
    }
    up.run(Upgraded::new(conn, buffered)).await;
}

/// Queues the head of a response whose body is too large to copy, then the
/// body as it is.
async fn send_large(
    conn: &mut Connection,
    resp: Response,
    opts: HeadOptions,
    head_len: usize,
) -> std::io::Result<()> {
    conn.write_with(head_len, |buf| {
        resp.encode_head(buf, opts);
    })
    .await?;
    match resp.into_body() {
        Body::Static(s) => conn.write_owned(s).await,
        Body::Bytes(v) => conn.write_owned(v).await,
        Body::Empty | Body::Omitted(_) => Ok(()),
    }
}

/// Answers a request-level error and closes.
async fn fail(mut conn: Connection, out: &mut Vec<u8>, e: Error, cfg: &Http1Config) {
    log::debug!("http: {e}");
    crate::metrics::record_error(e.status().as_u16());
    out.clear();
    response::write_error(out, e.status(), cfg.server);
    if conn.write_all(out).await.is_ok() {
        linger_close(conn).await;
    }
}

/// Flushes, half-closes, and discards input for a moment so the last
/// response is read before the socket closes.
async fn linger_close(mut conn: Connection) {
    if conn.shutdown_write().await.is_err() {
        return;
    }
    let end = Instant::now() + LINGER;
    let mut discarded = 0;
    while discarded < LINGER_BYTES {
        let left = end.saturating_duration_since(Instant::now());
        match timeout(left, conn.read()).await {
            Ok(Ok(Some(l))) => discarded += l.len(),
            _ => break,
        }
    }
}

/// Between requests: make the unread bytes the input again.
#[inline]
fn settle(input: &mut Input, cur: &mut Cursor) {
    if let Some(l) = cur.extra.take() {
        // `extra` is only filled once `input` is used up.
        if cur.extra_pos < l.len() {
            input.reset();
            input.lease = Some(l);
            cur.pos = cur.extra_pos;
            cur.extra_pos = 0;
            return;
        }
    }
    if cur.pos >= input.bytes().len() {
        input.reset();
        cur.pos = 0;
    } else if input.in_asm && cur.pos > 0 {
        // Keep the assembly buffer from growing under steady pipelining.
        input.asm.drain(..cur.pos);
        cur.pos = 0;
    }
}

/// Reads until a complete head is buffered at `input[cur.pos..]`.
/// `Ok(None)`: close silently (EOF, I/O error, idle).
async fn read_head(
    conn: &mut Connection,
    input: &mut Input,
    cur: &mut Cursor,
    spans: &mut Vec<HeaderSpan>,
    cfg: &Http1Config,
    first: bool,
) -> Result<Option<head::Head>, Error> {
    let mut deadline: Option<Instant> = None;
    // Bytes of the pending head already searched for its end.
    let mut scanned = 0usize;
    loop {
        let data = &input.bytes()[cur.pos..];
        if !data.is_empty() {
            let from = scanned.saturating_sub(2);
            if scanned == 0 || has_head_end(&data[from..]) {
                if let Some(h) = head::parse_head(data, cfg, spans)? {
                    return Ok(Some(h));
                }
            } else {
                head::check_partial(data, cfg)?;
            }
            // Incomplete: the head timeout runs from its first bytes (read
            // the clock only now, so heads that arrive whole, as pipelined
            // ones do, cost no clock read).
            deadline.get_or_insert_with(|| Instant::now() + cfg.head_timeout);
            scanned = data.len();
            if !input.in_asm {
                // The head continues in the next lease: assemble.
                let lease = input.lease.take();
                input.asm.clear();
                input
                    .asm
                    .extend_from_slice(lease.as_deref().map_or(&[][..], |l| &l[cur.pos..]));
                input.in_asm = true;
                cur.pos = 0;
            }
        }
        let buffered = input.bytes().len() > cur.pos;
        let wait = match deadline {
            Some(d) => d.saturating_duration_since(Instant::now()),
            None if first => cfg.head_timeout,
            None => cfg.idle_timeout,
        };
        match timeout(wait, conn.read()).await {
            Ok(Ok(Some(l))) => {
                if input.in_asm {
                    input.asm.extend_from_slice(&l);
                } else {
                    input.lease = Some(l);
                    cur.pos = 0;
                }
            }
            Ok(Ok(None) | Err(_)) => return Ok(None),
            Err(_) if buffered => {
                return Err(Error::new(
                    Status::REQUEST_TIMEOUT,
                    "request head not received in time",
                ))
            }
            Err(_) => return Ok(None),
        }
    }
}

/// True if `b` holds the end of a head (an empty line).
fn has_head_end(b: &[u8]) -> bool {
    b.windows(2).any(|w| w == b"\n\n") || b.windows(3).any(|w| w == b"\n\r\n")
}
