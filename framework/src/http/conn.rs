//! The per-connection server loop: read a head, run the handler, write the
//! response, finish the body, and decide whether the connection stays open.
//!
//! ```text
//!            ┌──────────────────────── keep-alive ◄────────────────────────┐
//!            ▼                                                             │
//!   ┌─► ReadHead ──complete──► Handle ──► Respond ──► FinishBody ──────────┤
//!   │     │  nothing within idle/first timeout, EOF, I/O error: close      │
//!   │     │  shutdown with no head bytes buffered: close at once           │
//!   │     │  partial head past head timeout: 408, close                    │ drained
//!   │     │  malformed / over a limit: 4xx/5xx, close                      │
//!   │     │  queued responses not taken at the response rate: reset       │
//!   │     ▼                                                                │
//!   │   pipelined bytes already buffered: parse at once, no read ──────────┘
//!   │
//!   │   Handle: body below its minimum rate or past body timeout: 408;
//!   │           chunk size or length over max_body: 413 (before its data);
//!   │           handler panicked: 500 if nothing was sent, else cut; close
//!   │   Respond: client takes output below the response rate: reset
//!   │
//!   └── Respond with close (Connection: close, HTTP/1.0, shutdown, body error,
//!       unanswered 100-continue): lingering close (FIN, discard input briefly)
//! ```
//!
//! | state      | buffers                                   | leaves when            |
//! |------------|-------------------------------------------|------------------------|
//! | ReadHead   | lease in place, or assembly buffer        | head complete / error / shutdown while idle |
//! | Handle     | head buffer borrowed by the `Request`     | handler's future ends (or panics) |
//! | Respond    | small: staged with the batch's others (`staged.rs`); else queued | staged / queued (waits on a full write buffer, paced) |
//! | FinishBody | unread body read and discarded            | body end / over limit / below rate |
//!
//! All of these read through the connection's one [`Inbound`]: the head
//! is parsed at its front (in place, or assembled from its own bytes
//! only), then split off so the `Request` borrows it while the body
//! reader ([`BodyReader`](super::body::BodyReader), shared with the
//! client) reads on past it; the next request starts where the body
//! ended, and a protocol switch hands the `Inbound` itself over.
//!
//! Requests are handled one at a time, so pipelined requests are answered
//! strictly in order; their small responses are staged back to back in
//! one buffer and queued together before the loop waits (or anything else
//! is written), so they leave in as few sends as the engine can make.
//!
//! **Shutdown.** When the server begins shutting down, a connection waiting
//! for a request with nothing of one received closes at once. A request
//! under way (being handled, whose head has begun to arrive, or whose
//! whole head was already buffered when the previous response went out)
//! is finished and answered with `Connection: close`; requests pipelined
//! behind it are not processed (RFC 9112 §9.6: the `close` tells the
//! client that nothing after that response was, so it may send them
//! again elsewhere), and the connection closes after the lingering close. A streamed response sees shutdown
//! through [`crate::shutdown_requested`] (see
//! [`ResponseStream`](super::ResponseStream)).
//!
//! **Slow peers.** Every wait has a bound: the head timeout, the idle
//! timeout, the body timeout and minimum body rate
//! ([`MinRate`](super::MinRate)), and the minimum response rate for output
//! the client does not take (`pace.rs`). Each ends the connection with
//! `408`, or (once a response is under way) a close or reset, logged at
//! debug level.
//!
//! **Panics.** The handler's future runs inside `catch_unwind`
//! ([`CatchUnwind`]): a panic is answered with `500` and a close (or, if
//! the response had started, a cut), and reported with one line on stderr
//! naming the method and path; the default panic hook has printed its own
//! report where the panic happened, and nothing re-raises it.
//! The worker and its other connections go on.

use std::future::Future;
use std::pin::{pin, Pin};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use super::head::{self, HeaderSpan, Version};
use super::pace::{self, SendPace};
use super::panic::{self as handler_panic, CatchUnwind};
use super::request::{end_stream, BodyIo, BodyState, Request, StreamState};
use super::response::{self, Body, Framing, HeadKey, HeadOptions};
use super::staged::Staged;
use super::upgrade::{self, OnUpgrade, Upgraded};
use super::{date, Error, Http1Config, Method, MinRate, Response, Status};
use crate::future::{race, Either};
use crate::metrics::WorkerHttp;
use crate::time::timeout;
use crate::{Connection, Inbound, ShutdownRequested};

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
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not an HTTP request handler",
    label = "not a handler",
    note = "a handler is an `async fn(Request<'_>) -> Response`, a router from `routes![...]` (layered or not), or a closure `|req: Request<'_>| ...` whose future does not hold the request",
    note = "a closure's future cannot borrow the request (its type cannot name the request's lifetime): read what you need first, `|req: Request<'_>| {{ let path = req.path().to_owned(); async move {{ Response::text(path) }} }}`, or write an `async fn`"
)]
pub trait Handler<'a> {
    /// The handler's future.
    type Future: Future<Output = Response>;
    /// Starts handling `req`.
    fn call(&self, req: Request<'a>) -> Self::Future;

    /// Polls `fut`, a future this handler's [`call`](Handler::call) made,
    /// and leaves what the poll gives in `out` (which holds `Pending` when
    /// called): what
    /// [`http::serve`](crate::http::serve) calls in place of
    /// [`Future::poll`]. The default does just that poll. A handler that
    /// wraps another and changes its response (the [layers](crate::http::layer))
    /// overrides it to change the response where the inner poll left it,
    /// so a stack of them moves no response from one layer to the next;
    /// it must give what `fut.poll(cx)` gives. Users rarely need it.
    ///
    /// ```
    /// use std::future::{ready, Ready};
    /// use std::pin::pin;
    /// use std::task::{Context, Poll, Waker};
    /// use corering::http::{Handler, Request, Response, Status};
    ///
    /// struct Hi;
    ///
    /// impl<'a> Handler<'a> for Hi {
    ///     type Future = Ready<Response>;
    ///     fn call(&self, _req: Request<'a>) -> Ready<Response> {
    ///         ready(Response::text("hi"))
    ///     }
    /// }
    ///
    /// // The default: the same as `Future::poll`.
    /// let fut = pin!(ready(Response::text("hi")));
    /// let mut out = Poll::Pending;
    /// Hi::poll_into(fut, &mut Context::from_waker(Waker::noop()), &mut out);
    /// assert!(matches!(out, Poll::Ready(r) if r.status() == Status::OK));
    /// ```
    #[inline(always)]
    fn poll_into(fut: Pin<&mut Self::Future>, cx: &mut Context<'_>, out: &mut Poll<Response>)
    where
        Self: Sized,
    {
        *out = fut.poll(cx);
    }
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
/// framing, `Date` second, the inline field's name...) its bytes are the
/// same, and are copied. A head with an inline field (a request id) is kept
/// up to that field's value, which comes last: the value, CRLF and the
/// empty line are written after the copy.
#[derive(Default)]
struct HeadCache {
    key: Option<HeadKey>,
    /// The head, or (if the key has an inline field) its bytes before
    /// that field's value.
    bytes: Vec<u8>,
}

impl HeadCache {
    /// Heads longer than this are not kept.
    const MAX: usize = 512;

    #[inline]
    fn holds(&self, key: Option<HeadKey>) -> bool {
        key.is_some() && key == self.key
    }

    /// The length of the cached head with `value` as its inline field's
    /// (`Some` exactly when the cached head has one: the keys matched).
    #[inline]
    fn len(&self, value: Option<&[u8]>) -> usize {
        self.bytes.len() + value.map_or(0, |v| v.len() + 4)
    }

    /// Writes the cached head with `value` into `h` (of [`len`](Self::len)
    /// bytes).
    #[inline]
    fn put(&self, h: &mut [u8], value: Option<&[u8]>) {
        let (start, rest) = h.split_at_mut(self.bytes.len());
        start.copy_from_slice(&self.bytes);
        if let Some(value) = value {
            let (v, end) = rest.split_at_mut(value.len());
            v.copy_from_slice(value);
            end.copy_from_slice(b"\r\n\r\n");
        }
    }

    /// Keeps `head`, encoded for `key`, whose inline field's value (if
    /// any) is `value`.
    fn keep(&mut self, key: Option<HeadKey>, head: &[u8], value: Option<&[u8]>) {
        self.key = None;
        if key.is_some() && head.len() <= Self::MAX {
            let end = value.map_or(head.len(), |v| head.len() - v.len() - 4);
            self.bytes.clear();
            self.bytes.extend_from_slice(&head[..end]);
            self.key = key;
        }
    }
}

/// Bytes copied into assembly buffers by every HTTP connection, for tests.
static ASSEMBLED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Total bytes every HTTP server connection in this process has copied to
/// assemble heads that spanned leases (the rest of the bytes received are
/// parsed in place). For tests and benchmarks; not a stable API.
#[doc(hidden)]
pub fn bytes_assembled() -> u64 {
    ASSEMBLED.load(std::sync::atomic::Ordering::Relaxed)
}

/// Counts bytes the head reader copied into the assembly buffer.
#[inline]
fn count_assembled(n: u64) {
    ASSEMBLED.fetch_add(n, std::sync::atomic::Ordering::Relaxed);
}

/// A head spans leases: copies from the current lease only up to where
/// it may end, and parses it there. `Ok(None)`: the lease is used up (and
/// dropped) with the head still incomplete.
///
/// Kept out of line (and cold) so that the in-place parse stays the only
/// `parse_head` on the hot path, where it is inlined.
#[cold]
#[inline(never)]
fn assemble(
    input: &mut Inbound,
    cfg: &Http1Config,
    spans: &mut Vec<HeaderSpan>,
) -> Result<Option<head::Head>, Error> {
    loop {
        let rest = input.unassembled();
        if rest.is_empty() {
            return Ok(None);
        }
        let have = input.bytes();
        // Through the next place the head may end, or all the lease has,
        // up to just past `max_head` assembled bytes.
        let n = head_end(have, rest).unwrap_or(rest.len()).min(
            cfg.max_head
                .saturating_add(1)
                .saturating_sub(have.len())
                .max(1),
        );
        count_assembled(input.assemble(n) as u64);
        let data = input.bytes();
        if !data.ends_with(b"\n") {
            head::check_partial(data, cfg)?;
            continue;
        }
        if let Some(h) = head::parse_head(data, cfg, spans)? {
            return Ok(Some(h));
        }
        head::check_partial(data, cfg)?;
    }
}

/// The number of bytes of `next` through the first empty line that ends a
/// head continuing from `prev` (`\n\n` or `\n\r\n`, possibly across the
/// two).
pub(crate) fn head_end(prev: &[u8], next: &[u8]) -> Option<usize> {
    let back = |i: usize, k: usize| -> Option<u8> {
        // The byte `k` places before `next[i]`.
        if k <= i {
            Some(next[i - k])
        } else {
            prev.len().checked_sub(k - i).map(|j| prev[j])
        }
    };
    next.iter().enumerate().find_map(|(i, &b)| {
        let end = b == b'\n'
            && match back(i, 1) {
                Some(b'\n') => true,
                Some(b'\r') => back(i, 2) == Some(b'\n'),
                _ => false,
            };
        end.then_some(i + 1)
    })
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
    let mut input = Inbound::new();
    let mut spans: Vec<HeaderSpan> = Vec::with_capacity(16);
    let mut out: Vec<u8> = Vec::with_capacity(256);
    let mut collected: Vec<u8> = Vec::new();
    // The peer for the access log, looked up once (see `Request::log_peer`).
    let log_peer = std::cell::OnceCell::new();
    let mut heads = HeadCache::default();
    // Small responses wait here to leave together (see `staged.rs`).
    let staged = Staged::new(&conn);
    let mut pace = SendPace::default();
    // The response rate for what is queued: the last request's.
    let mut send_rate = cfg.response_rate;
    let mut shutdown = pin!(crate::shutdown_requested());
    // This worker's counters and clock, looked up once for the connection.
    let worker = WorkerHttp::current();
    let mut first = true;
    loop {
        // The bytes of the last request (its head, its body) are used:
        // release them.
        input.settle();
        // A head in place in a lease is parsed here, and only here (the
        // one hot call of the parser, so it is inlined): a whole head
        // already buffered, as pipelined ones are, without starting the
        // wait for one; else each lease the wait brings.
        let head = loop {
            match buffered_head(&input, &cfg, &mut spans) {
                Ok(Some(h)) => break h,
                Err(e) => return fail(conn, staged.take(), e, &cfg, &mut pace).await,
                Ok(None) => {}
            }
            // Nothing more to answer for now: what is staged leaves
            // before the wait (the client may be waiting for it).
            if let Err(e) = staged.flush(&mut conn, &mut pace, send_rate).await {
                return write_failed(conn, &pace, e);
            }
            let wait = Wait {
                cfg: &cfg,
                worker: &worker,
                first,
                pace: &mut pace,
                rate: send_rate,
                shutdown: shutdown.as_mut(),
            };
            match read_head(&mut conn, &mut input, &mut spans, wait).await {
                Ok(Some(Arrived::Head(h))) => break h,
                Ok(Some(Arrived::Bytes)) => {}
                Ok(None) if pace.stalled() => return too_slow(conn),
                Ok(None) => return,
                Err(e) => return fail(conn, staged.take(), e, &cfg, &mut pace).await,
            }
        };
        first = false;
        let began = worker.as_ref().map_or(0, |w| w.clock());
        let mut state = BodyState::new(&head, &cfg);
        let mut panicked = None;
        // The head is at the front of the input; the body and what follows
        // are read on past it while the request borrows it.
        let (front, mut tail) = input.split();
        let start = tail.position();
        tail.consume(head.len);
        // The handler's answer, written here by its poll and read where it
        // lies (a `Response` is 120 bytes: a move is a copy).
        let mut slot = Poll::Pending;
        {
            let buf = &front[start..start + head.len];
            // `Request::target` reads the target out of `buf` as text:
            // these are the very bytes `parse_head` parsed, and the input
            // is not touched while the request lives.
            let req = Request {
                head: &head,
                buf,
                spans: &spans,
                body: BodyIo {
                    tail,
                    conn: &mut conn,
                    state: &mut state,
                    staged: &staged,
                },
                collected: &mut collected,
                scratch: &mut out,
                log_peer: &log_peer,
            };
            // Pinned where `call` wrote it (no move into the wrapper).
            #[cfg(feature = "tracing")]
            let (fut, poll) = (
                pin!(crate::trace::instrument(
                    crate::trace::request_span(&req),
                    handler.call(req)
                )),
                |f: Pin<&mut _>, cx: &mut Context<'_>, out: &mut Poll<Response>| {
                    *out = Future::poll(f, cx)
                },
            );
            // Without spans, not even through an identity function (the
            // future, hundreds of bytes, would be moved once more); polled
            // through the handler, whose layers change the response where
            // it lies.
            #[cfg(not(feature = "tracing"))]
            let (fut, poll) = (pin!(handler.call(req)), H::poll_into);
            CatchUnwind {
                fut,
                poll,
                out: &mut slot,
                panicked: &mut panicked,
                staged: &staged,
            }
            .await
        }
        // The same front again (nothing released it), and the reading
        // position the request left.
        let (front, tail) = input.split();
        let head_bytes = &front[start..start + head.len];
        if let Some(payload) = panicked {
            report_panic(&head, head_bytes, payload);
            if state.stream != StreamState::NotStarted {
                // Part of the response is out: only a cut can tell.
                return;
            }
            let e = Error::new(Status::INTERNAL_SERVER_ERROR, "handler panicked");
            return fail(conn, staged.take(), e, &cfg, &mut pace).await;
        }
        let Poll::Ready(resp) = &mut slot else {
            unreachable!("CatchUnwind resolved with neither a response nor a panic")
        };
        let status = resp.status().as_u16();
        // The check inline, the move out of the box only for a switch.
        if let Some(up) = resp.is_upgrade().then(|| resp.take_upgrade()).flatten() {
            // Only to a protocol the client offered (RFC 9110 §7.8).
            let offered = match (
                head.upgrade_offer(head_bytes, &spans),
                resp.header_value("upgrade"),
            ) {
                (Some(offer), Some(p)) => upgrade::offers(offer, p),
                _ => false,
            };
            if let Err(e) = staged.flush(&mut conn, &mut pace, state.send_rate).await {
                return write_failed(conn, &pace, e);
            }
            // Boxed: a rare path, kept out of every connection's future.
            let resp = std::mem::replace(resp, Response::new(Status::OK));
            let switching = switch(conn, input, state, offered, resp, up, &cfg);
            return Box::pin(switching).await;
        }
        let close = if state.stream == StreamState::NotStarted {
            if let Some(e) = state.error {
                return fail(conn, staged.take(), e, &cfg, &mut pace).await;
            }
            if resp.status().as_u16() < 200 {
                // Interim responses (and a 101 without `Response::upgrade`)
                // are not a final answer this server can frame.
                let e = Error::new(
                    Status::INTERNAL_SERVER_ERROR,
                    "handler returned a 1xx status",
                );
                return fail(conn, staged.take(), e, &cfg, &mut pace).await;
            }
            let bodiless = head.method == Method::Head || resp.status().is_bodiless();
            if resp.is_omitted() && !bodiless {
                // A declared length with no bytes would leave the client
                // waiting for a body that never comes.
                let e = Error::new(
                    Status::INTERNAL_SERVER_ERROR,
                    "handler returned an omitted body for a response that needs one",
                );
                return fail(conn, staged.take(), e, &cfg, &mut pace).await;
            }
            let unanswered = !state.is_done() && state.expect_continue && !state.sent_continue;
            let close = !head.keep_alive || unanswered || shutting_down(&worker);
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
            let inline = resp.inline_value();
            let head_len = if hit {
                heads.len(inline)
            } else {
                resp.head_len(opts)
            };
            let body = if bodiless { &[][..] } else { resp.body_bytes() };
            let rate = state.send_rate;
            let n = head_len + body.len();
            let sent = if body.len() <= INLINE_BODY {
                // Staged with the rest of the batch (the usual case); a
                // last response, or one that does not fit, goes after
                // what is staged.
                let pushed = !close
                    && hit
                    && match inline {
                        None => staged.push_parts(&heads.bytes, body),
                        Some(_) => match resp.inline_block() {
                            Some(v) => staged.push_parts_with(&heads.bytes, v, body),
                            None => false,
                        },
                    };
                let heads = &mut heads;
                let mut fill = |buf: &mut [u8]| fill_response(buf, resp, opts, heads, hit, body);
                if pushed || (!close && !hit && staged.push(n, &mut fill)) {
                    Ok(())
                } else {
                    match staged.flush(&mut conn, &mut pace, rate).await {
                        Ok(()) => pace.write_with(&mut conn, rate, n, &mut fill).await,
                        Err(e) => Err(e),
                    }
                }
            } else if let Err(e) = staged.flush(&mut conn, &mut pace, rate).await {
                Err(e)
            } else {
                let resp = std::mem::replace(resp, Response::new(Status::OK));
                send_large(&mut conn, resp, opts, head_len, &mut pace, rate).await
            };
            if let Err(e) = sent {
                return write_failed(conn, &pace, e);
            }
            close
        } else {
            // A streamed response: its head is out, so an error can only
            // cut the connection.
            if state.stream == StreamState::TooSlow {
                return too_slow(conn);
            }
            match end_stream(&mut conn, state.stream).await {
                Some(close) if state.error.is_none() => close,
                _ => return,
            }
        };
        if let Some(w) = &worker {
            w.record_response(status, began);
        }
        if close {
            return linger_close(conn, &mut pace, state.send_rate).await;
        }
        send_rate = state.send_rate;
        if collected.capacity() > KEEP_COLLECTED {
            collected = Vec::new();
        }
        // Drain the unread body so the next request starts where it should.
        let mut body = BodyIo {
            tail,
            conn: &mut conn,
            state: &mut state,
            staged: &staged,
        };
        // A body read to its end (or none) only releases its bytes: no
        // future for that.
        if body.state.is_done() {
            body.release();
        } else if body.drain().await.is_err() {
            return linger_close(conn, &mut pace, state.send_rate).await;
        }
    }
}

/// Reports a handler's panic on stderr, like the server's other
/// operational lines (no logger needs installing to see it); a handler
/// panic is an application bug, so it is reported every time. Out of line
/// and cold: the request loop's usual path stays compact.
#[cold]
#[inline(never)]
fn report_panic(head: &head::Head, head_bytes: &[u8], payload: handler_panic::Payload) {
    let path = match head.path {
        _ if head.path_root => &b"/"[..],
        (s, e) => head_bytes.get(s as usize..e as usize).unwrap_or_default(),
    };
    eprintln!(
        "corering: http: handler panicked on {} {}: {}; answering 500 and closing",
        head.method.as_str(),
        String::from_utf8_lossy(path),
        handler_panic::message(&*payload)
    );
}

/// Writes a response's head (the cached bytes if `hit`, else encoded and
/// cached) and its inline `body` into `buf`.
#[inline]
fn fill_response(
    buf: &mut [u8],
    resp: &Response,
    opts: HeadOptions,
    heads: &mut HeadCache,
    hit: bool,
    body: &[u8],
) {
    let (h, b) = buf.split_at_mut(buf.len() - body.len());
    let inline = resp.inline_value();
    if hit {
        heads.put(h, inline);
    } else {
        let secs = resp.encode_head(h, opts);
        heads.keep(resp.head_key(opts, secs), h, inline);
    }
    b.copy_from_slice(body);
}

/// Ends a connection whose response could not be queued: reset if the
/// client was too slow to take it, else (a failed socket) just dropped.
fn write_failed(conn: Connection, pace: &SendPace, e: std::io::Error) {
    if pace.stalled() {
        too_slow(conn);
    } else {
        log::debug!("http: write failed: {e}");
    }
}

/// Resets a connection whose client takes responses below the minimum
/// rate.
fn too_slow(conn: Connection) {
    log::debug!("http: client reads below the minimum response rate; resetting");
    pace::reset(conn);
}

/// Switches protocols (the handler answered with [`Response::upgrade`]):
/// reads the request body to its end (it belongs to HTTP), sends the
/// `101` head, and runs the upgrade with the connection and the bytes
/// received after the request.
async fn switch(
    mut conn: Connection,
    mut input: Inbound,
    mut state: BodyState,
    offered: bool,
    resp: Response,
    up: OnUpgrade,
    cfg: &Http1Config,
) {
    let mut pace = SendPace::default();
    let pace = &mut pace;
    if state.stream != StreamState::NotStarted {
        // A streamed response's head is out: nothing sane can follow.
        log::warn!("http: a handler streamed a response and then upgraded; closing");
        return;
    }
    if let Some(e) = state.error {
        return fail(conn, Vec::new(), e, cfg, pace).await;
    }
    if !offered {
        let e = Error::new(
            Status::INTERNAL_SERVER_ERROR,
            "handler switched to a protocol the request did not offer",
        );
        return fail(conn, Vec::new(), e, cfg, pace).await;
    }
    let (_, tail) = input.split();
    let staged = Staged::off();
    let mut body = BodyIo {
        tail,
        conn: &mut conn,
        state: &mut state,
        staged: &staged,
    };
    if let Err(e) = body.drain().await {
        return fail(conn, Vec::new(), e, cfg, pace).await;
    }
    let mut out = Vec::new();
    resp.write_head(
        &mut out,
        HeadOptions {
            close: false,
            keep_alive_1_0: false,
            server: cfg.server,
            framing: Framing::Length,
        },
    );
    if conn.write_all(&out).await.is_err() {
        return;
    }
    up.run(Upgraded::new(conn, input)).await;
}

/// Queues the head of a response whose body is too large to copy, then the
/// body as it is.
async fn send_large(
    conn: &mut Connection,
    resp: Response,
    opts: HeadOptions,
    head_len: usize,
    pace: &mut SendPace,
    rate: Option<MinRate>,
) -> std::io::Result<()> {
    pace.writable(conn, rate).await?;
    conn.write_with(head_len, |buf| {
        resp.encode_head(buf, opts);
    })
    .await?;
    pace.writable(conn, rate).await?;
    match resp.into_body() {
        Body::Static(s) => conn.write_owned(s).await,
        Body::Bytes(v) => conn.write_owned(v).await,
        Body::Empty | Body::Omitted(_) => Ok(()),
    }
}

/// Answers a request-level error and closes.
///
/// `out` holds the responses to earlier requests still to be sent (if
/// any): the error follows them.
async fn fail(
    mut conn: Connection,
    mut out: Vec<u8>,
    e: Error,
    cfg: &Http1Config,
    pace: &mut SendPace,
) {
    log::debug!("http: {e}");
    crate::metrics::record_error(e.status().as_u16());
    response::write_error(&mut out, e.status(), cfg.server);
    let rate = cfg.response_rate;
    let sent = match pace.writable(&mut conn, rate).await {
        Ok(()) => conn.write_all(&out).await,
        Err(e) => Err(e),
    };
    match sent {
        Ok(()) => linger_close(conn, pace, rate).await,
        Err(e) => write_failed(conn, pace, e),
    }
}

/// Flushes (holding the client to the response rate), half-closes, and
/// discards input for a moment so the last response is read before the
/// socket closes.
async fn linger_close(mut conn: Connection, pace: &mut SendPace, rate: Option<MinRate>) {
    if let Err(e) = pace.shutdown_write(&mut conn, rate).await {
        return write_failed(conn, pace, e);
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

/// True once the server has begun shutting down: read through the
/// connection's `worker` (no thread-local), else [`crate::is_shutting_down`].
#[inline]
fn shutting_down(worker: &Option<WorkerHttp>) -> bool {
    match worker {
        Some(w) => w.shutting_down(),
        None => crate::is_shutting_down(),
    }
}

/// The head at the front of `input` if it is complete in the lease at
/// hand (not in assembly). `Ok(None)`: nothing buffered, or only part of a
/// head: [`read_head`] takes it from there (checks the part against the
/// limits and starts assembling it, without parsing it again).
///
/// Always inlined: it is the one hot call of the parser, and whether the
/// compiler inlines it on its own changes with the size of the handler's
/// future (a different router measured 1691 against 1767 instructions a
/// request).
#[inline(always)]
fn buffered_head(
    input: &Inbound,
    cfg: &Http1Config,
    spans: &mut Vec<HeaderSpan>,
) -> Result<Option<head::Head>, Error> {
    if input.is_assembling() {
        return Ok(None);
    }
    let data = input.bytes();
    if data.is_empty() {
        return Ok(None);
    }
    head::parse_head(data, cfg, spans)
}

/// What the wait for a head watches besides the bytes.
struct Wait<'a> {
    cfg: &'a Http1Config,
    /// The worker's shutdown flag.
    worker: &'a Option<WorkerHttp>,
    /// The connection's first request (the head timeout, not the idle
    /// timeout, bounds the wait for its first byte).
    first: bool,
    /// Responses still queued are held to the response rate meanwhile...
    pace: &'a mut SendPace,
    /// ...this one (the last request's).
    rate: Option<MinRate>,
    /// Shutdown closes a connection with no request under way.
    shutdown: Pin<&'a mut ShutdownRequested>,
}

/// What the wait for a head ended with.
enum Arrived {
    /// A head assembled across leases.
    Head(head::Head),
    /// A new lease, in place at the front of `input`: the caller parses it
    /// (and calls again if the head is not whole).
    Bytes,
}

/// Waits for the bytes of a head; the caller has found what is buffered
/// in `input` (if anything) not to be a whole head. A head
/// that spans leases is assembled here; a new lease in place is handed
/// back to the caller to parse. `Ok(None)`: close silently (EOF, I/O
/// error, idle, shutdown with no request under way, or a client too slow
/// to take the last responses: see [`SendPace::stalled`]).
async fn read_head(
    conn: &mut Connection,
    input: &mut Inbound,
    spans: &mut Vec<HeaderSpan>,
    mut w: Wait<'_>,
) -> Result<Option<Arrived>, Error> {
    let cfg = w.cfg;
    let mut deadline: Option<Instant> = None;
    // The end of the idle wait, once a paced wait has cut it short.
    let mut idle_end: Option<Instant> = None;
    // Whether the response rate has been checked during this wait.
    let mut looked = false;
    loop {
        if input.is_assembling() {
            if let Some(h) = assemble(input, cfg, spans)? {
                return Ok(Some(Arrived::Head(h)));
            }
        } else {
            let data = input.bytes();
            if !data.is_empty() {
                // The caller parsed it: the start of a head, not all of it.
                head::check_partial(data, cfg)?;
                // The head continues in the next lease: assemble (copy
                // its start, let the lease go while waiting).
                let before = input.bytes_copied();
                input.begin_assembly();
                count_assembled(input.bytes_copied() - before);
            }
        }
        if input.is_assembling() {
            // Incomplete: the head timeout runs from its first bytes (read
            // the clock only now, so heads that arrive whole, as pipelined
            // ones do, cost no clock read).
            deadline.get_or_insert_with(|| Instant::now() + cfg.head_timeout);
        }
        let buffered = !input.is_empty();
        if !buffered && shutting_down(w.worker) {
            // Between requests, unless the start of one has been received
            // but not yet read (it came in the same round as the
            // shutdown): that request is under way and is answered.
            return match pace::now_or_never(conn.read()).await {
                Some(Ok(Some(l))) => {
                    input.push(l);
                    Ok(Some(Arrived::Bytes))
                }
                _ => Ok(None),
            };
        }
        let mut wait = match (deadline, idle_end) {
            (Some(d), _) | (None, Some(d)) => d.saturating_duration_since(Instant::now()),
            (None, None) if w.first => cfg.head_timeout,
            (None, None) => cfg.idle_timeout,
        };
        // Responses still queued: wake when the client would fall below
        // the response rate, to check. The first look comes one grace
        // period into the wait (a client that reads has taken its
        // responses by then), so a keep-alive exchange pays no clock read
        // or counter look for it; a run already under way is followed.
        let mut paced = None;
        match w.rate {
            Some(rate) if !looked && !w.pace.running() => {
                if rate.grace() < wait {
                    paced = Some(wait - rate.grace());
                    wait = rate.grace();
                }
            }
            rate => match w.pace.check(conn, rate) {
                Ok(None) => {}
                Ok(Some(p)) => {
                    let now = Instant::now();
                    if deadline.is_none() {
                        idle_end.get_or_insert(now + wait);
                    }
                    let left = p.saturating_duration_since(now);
                    if left < wait {
                        wait = left;
                        paced = Some(Duration::ZERO);
                    }
                }
                Err(()) => return Ok(None),
            },
        }
        let read = timeout(wait, conn.read());
        let got = if buffered {
            // A head under way is read to its end (and answered with
            // `Connection: close` during shutdown).
            read.await
        } else {
            match race(read, w.shutdown.as_mut()).await {
                Either::Left(got) => got,
                Either::Right(()) => return Ok(None),
            }
        };
        match got {
            Ok(Ok(Some(l))) => {
                let assembling = input.is_assembling();
                input.push(l);
                if !assembling {
                    return Ok(Some(Arrived::Bytes));
                }
            }
            Ok(Ok(None) | Err(_)) => return Ok(None),
            Err(_) if paced.is_some() => {
                looked = true;
                if deadline.is_none() {
                    // What is left of the idle (or first-byte) wait.
                    idle_end.get_or_insert_with(|| Instant::now() + paced.unwrap_or_default());
                }
            }
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
