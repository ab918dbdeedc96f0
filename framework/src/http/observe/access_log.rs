//! `AccessLog`: a handler wrapper that writes one line per request.

use std::cell::Cell;
use std::future::Future;
use std::net::{SocketAddr, SocketAddrV4};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{SystemTime, UNIX_EPOCH};

use super::log_writer;
use crate::http::head::Version;
use crate::http::itoa::{fixed, fmt_u64};
use crate::http::{Handler, Method, Request, Response};
use crate::runtime::time::now_ns;
use crate::Address;

/// Wraps a handler (a router, or any [`Handler`]) and logs each request
/// it answers to stderr, one line each, in `key=value` form:
///
/// ```text
/// time=1764768314.123 peer=127.0.0.1:40312 method=GET target=/users/42 version=HTTP/1.1 status=200 bytes=9 duration=0.000041
/// ```
///
/// `bytes` is the length of the response body the handler returned (`0`
/// for a streamed response); `duration` is the time in seconds from the
/// start of the worker's loop turn in which the handler was called (when
/// that turn's requests were taken from the kernel, so time a request
/// waited behind others of a pipelined batch counts) to its response.
/// `time` is the wall clock, to the millisecond, of the worker's loop turn
/// in which the line was written (read once per turn, as for the `Date`
/// field). Bytes of the target outside printable ASCII, and `"` and `\`,
/// are written as `\xHH`, so a line is always one line with
/// space-separated fields. Lines are buffered per worker and leave once
/// per loop turn, so logging costs one `write(2)` per batch of requests
/// (plus a `getpeername(2)` per connection) rather than one per line; a
/// request costs one clock read and, once warm, no allocation.
///
/// ```no_run
/// use corering::http::observe::AccessLog;
/// use corering::http::{self, Http1Config, Request, Response};
///
/// async fn hello(_req: Request<'_>) -> Response {
///     Response::text("Hello, World!")
/// }
///
/// fn main() -> std::io::Result<()> {
///     let cfg = Http1Config::new();
///     let app = AccessLog::new(hello);
///     corering::Server::builder()
///         .bind("127.0.0.1:8080")
///         .build()?
///         .serve(move |conn| http::serve(conn, cfg, app))
/// }
/// ```
///
/// As a [layer](crate::http::layer) on a router, [`AccessLog::layer`]:
///
/// ```
/// use corering::http::observe::AccessLog;
///
/// #[corering::get("/")]
/// async fn index() -> &'static str { "home" }
///
/// let app = corering::routes![index].layer(AccessLog::layer());
/// # let _ = app;
/// ```
#[derive(Debug, Clone, Copy)]
pub struct AccessLog<H> {
    inner: H,
    on: bool,
    sink: Sink,
}

/// Where the lines go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sink {
    Stderr,
    /// Formatted, then dropped (for benchmarks of the logging cost).
    Discard,
}

/// The [`AccessLog`] as a [`Layer`](crate::http::layer::Layer): made by
/// [`AccessLog::layer`].
#[derive(Debug, Clone, Copy)]
pub struct AccessLogLayer {
    on: bool,
    sink: Sink,
}

impl AccessLogLayer {
    /// Switches logging on or off, as [`AccessLog::enabled`].
    pub fn enabled(mut self, on: bool) -> AccessLogLayer {
        self.on = on;
        self
    }

    /// Formats each line as usual, then drops it instead of writing it: for
    /// measuring what logging costs without the terminal or file behind
    /// stderr.
    pub fn discard(mut self) -> AccessLogLayer {
        self.sink = Sink::Discard;
        self
    }
}

impl<H> crate::http::layer::Layer<H> for AccessLogLayer {
    type Handler = AccessLog<H>;
    fn layer(self, inner: H) -> AccessLog<H> {
        AccessLog {
            inner,
            on: self.on,
            sink: self.sink,
        }
    }
}

impl AccessLog<()> {
    /// The access log as a layer:
    /// `routes![...].layer(AccessLog::layer())`.
    pub fn layer() -> AccessLogLayer {
        AccessLogLayer {
            on: true,
            sink: Sink::Stderr,
        }
    }
}

impl<H> AccessLog<H> {
    /// Logs the requests `inner` answers.
    pub fn new(inner: H) -> AccessLog<H> {
        AccessLog {
            inner,
            on: true,
            sink: Sink::Stderr,
        }
    }

    /// Switches logging on or off (on by default), so one server can
    /// decide at startup, for example from a command-line flag, without
    /// a second handler type. Off, a request costs one branch.
    pub fn enabled(mut self, on: bool) -> AccessLog<H> {
        self.on = on;
        self
    }

    /// The wrapped handler.
    pub fn into_inner(self) -> H {
        self.inner
    }
}

impl<'a, H: Handler<'a>> Handler<'a> for AccessLog<H> {
    type Future = Logged<'a, H::Future>;

    #[inline]
    fn call(&self, req: Request<'a>) -> Self::Future {
        let entry = if self.on {
            Some(entry(&req, self.sink))
        } else {
            None
        };
        Logged {
            fut: self.inner.call(req),
            entry,
            _request: std::marker::PhantomData,
        }
    }
}

/// What is logged about `req`, read before the handler takes it, in a
/// box from this thread's spares (a new one only until they suffice).
#[inline(never)]
fn entry(req: &Request<'_>, sink: Sink) -> Box<Entry> {
    // Requests of a connection come one after another: the last entry
    // given back is nearly always free.
    let spare = LAST
        .try_with(Cell::take)
        .ok()
        .flatten()
        .or_else(|| SPARE.with(|s| s.borrow_mut().pop()));
    let mut e = spare.unwrap_or_else(|| {
        Box::new(Entry {
            start: 0,
            method: Method::Get,
            target: String::new(),
            version: Version::Http11,
            peer: None,
            sink,
        })
    });
    e.start = crate::runtime::turn_ns().unwrap_or_else(now_ns);
    e.method = req.method();
    e.target.clear();
    e.target.push_str(req.target());
    e.version = req.version();
    e.peer = req.connection().peer_addr().ok();
    e.sink = sink;
    e
}

/// Most spare entries a thread keeps (one per request in flight is the
/// most it uses).
const SPARES_KEPT: usize = 256;

thread_local! {
    /// Entries of finished requests, for the next ones: logging allocates
    /// nothing per request once warm. Boxes, not entries: a box moves in
    /// and out of a request's future whole.
    #[allow(clippy::vec_box)]
    static SPARE: std::cell::RefCell<Vec<Box<Entry>>> = const { std::cell::RefCell::new(Vec::new()) };
    /// The entry given back last, kept apart from the others: taking it
    /// is a swap, not a borrow and a pop.
    static LAST: Cell<Option<Box<Entry>>> = const { Cell::new(None) };
}

/// The future of a request handled under [`AccessLog`]: the inner
/// handler's, logging its response when it is ready.
#[derive(Debug)]
#[must_use = "futures do nothing unless polled"]
pub struct Logged<'a, F> {
    fut: F,
    /// `None` when logging is off: a disabled log keeps the request's
    /// future as small as the inner handler's. Boxed, from the spares.
    entry: Option<Box<Entry>>,
    _request: std::marker::PhantomData<&'a ()>,
}

impl<F> Drop for Logged<'_, F> {
    #[inline]
    fn drop(&mut self) {
        if let Some(e) = self.entry.take() {
            spare(e);
        }
    }
}

/// Keeps a finished request's entry for the next one (out of line: off
/// the path of a disabled log).
#[inline(never)]
fn spare(mut e: Box<Entry>) {
    e.peer = None;
    let Ok(Some(e)) = LAST.try_with(|l| l.replace(Some(e))) else {
        return;
    };
    let _ = SPARE.try_with(|s| {
        let mut s = s.borrow_mut();
        if s.len() < SPARES_KEPT {
            s.push(e);
        }
    });
}

/// What the log line says about the request.
#[derive(Debug)]
struct Entry {
    /// The monotonic clock (ns) the handler's time counts from.
    start: u64,
    method: Method,
    /// The target as sent (its capacity kept from request to request).
    target: String,
    version: Version,
    peer: Option<Address>,
    sink: Sink,
}

impl<F: Future<Output = Response>> Future for Logged<'_, F> {
    type Output = Response;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Response> {
        // SAFETY: `fut` is pinned structurally: it is never moved out of
        // `self` nor handed out unpinned; `entry` is not pinned and only
        // read here.
        let this = unsafe { self.get_unchecked_mut() };
        // SAFETY: see above; `this` stays pinned where it is.
        let fut = unsafe { Pin::new_unchecked(&mut this.fut) };
        // Off: the inner poll is the whole poll (its result written where
        // the caller wants it, not moved through a local).
        let Some(e) = &this.entry else {
            return fut.poll(cx);
        };
        // The inner poll's result is handed on as it is (not taken apart
        // and rebuilt).
        let polled = fut.poll(cx);
        if let Poll::Ready(resp) = &polled {
            log_entry(e, resp);
        }
        polled
    }
}

/// Writes the line of a finished request (out of line: off the path of
/// a disabled log).
#[inline(never)]
fn log_entry(e: &Entry, resp: &Response) {
    let elapsed = now_ns().saturating_sub(e.start);
    match e.sink {
        Sink::Stderr => log_writer::write_line(|out| write_entry(out, e, resp, elapsed)),
        Sink::Discard => {
            thread_local! {
                static SCRATCH: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
            }
            SCRATCH.with(|s| {
                if let Ok(mut s) = s.try_borrow_mut() {
                    s.clear();
                    write_entry(&mut s, e, resp, elapsed);
                    std::hint::black_box(&*s);
                }
            });
        }
    }
}

fn write_entry(out: &mut Vec<u8>, e: &Entry, resp: &Response, elapsed_ns: u64) {
    // Written byte by byte rather than through `core::fmt`: formatting
    // was most of what a logged request cost (4,400 instructions of it).
    // The usual line (an IPv4 peer, a short target needing no escape) is
    // assembled on the stack in fixed-size pieces and copied out once.
    if let Some(Address::Tcp(SocketAddr::V4(a))) = &e.peer {
        let mut line = Line {
            buf: [0; LINE_MAX],
            at: 0,
        };
        if line.start(a, e.method, e.target.as_bytes()) {
            line.end(e, resp, elapsed_ns);
            out.extend_from_slice(&line.buf[..line.at]);
            return;
        }
    }
    out.reserve(LINE_FIXED + e.target.len());
    if let Some(Address::Tcp(SocketAddr::V4(a))) = &e.peer {
        push_prefix_v4(out, a);
    } else {
        push_time(out);
        out.extend_from_slice(b" peer=");
    }
    match &e.peer {
        Some(Address::Tcp(SocketAddr::V4(_))) => {}
        Some(Address::Tcp(a)) => {
            use std::io::Write;
            let _ = write!(out, "{a}");
        }
        Some(Address::Unix(Some(p))) => escape(out, p.to_string_lossy().as_bytes()),
        Some(Address::Unix(None)) => out.extend_from_slice(b"unix"),
        None => out.push(b'-'),
    }
    out.extend_from_slice(b" method=");
    out.extend_from_slice(e.method.as_str().as_bytes());
    out.extend_from_slice(b" target=");
    escape(out, e.target.as_bytes());
    // The rest has a bounded length: written into one array, then copied.
    let mut rest = Line {
        buf: [0; LINE_MAX],
        at: 0,
    };
    rest.end(e, resp, elapsed_ns);
    out.extend_from_slice(&rest.buf[..rest.at]);
}

/// The longest target the stack-built line takes (a longer one is
/// written in pieces).
const TARGET_INLINE: usize = 64;

/// The longest end of a line, from ` version=` on: the fixed words, a
/// status, and two numbers of at most 20 digits and the fraction.
const TAIL_MAX: usize = 25 + 3 + 7 + 20 + 10 + 20 + 8;

/// The room of a stack-built line: the start with an IPv4 peer, the
/// method field, ` target=`, a short target and the end (with slack for
/// the fixed-size copies, which may write past a field's end).
const LINE_MAX: usize = PREFIX_MAX + 16 + 8 + TARGET_INLINE + TAIL_MAX;

/// ` method=` and each method, padded to 16 bytes (so copied as one
/// fixed-size block), and its length; in the order of [`Method`]'s
/// variants.
static METHOD_FIELDS: [([u8; 16], u8); 9] = {
    const NAMES: [&[u8]; 9] = [
        b"GET", b"HEAD", b"POST", b"PUT", b"DELETE", b"CONNECT", b"OPTIONS", b"TRACE", b"PATCH",
    ];
    let mut t = [([0; 16], 0); 9];
    let mut i = 0;
    while i < 9 {
        let mut f = *b" method=        ";
        let mut j = 0;
        while j < NAMES[i].len() {
            f[8 + j] = NAMES[i][j];
            j += 1;
        }
        t[i] = (f, (8 + NAMES[i].len()) as u8);
        i += 1;
    }
    t
};

/// A log line, built on the stack.
struct Line {
    buf: [u8; LINE_MAX],
    at: usize,
}

impl Line {
    #[inline(always)]
    fn put(&mut self, s: &[u8]) {
        self.buf[self.at..self.at + s.len()].copy_from_slice(s);
        self.at += s.len();
    }

    /// Copies all `N` bytes of `block` but keeps only `len` of them (the
    /// rest is overwritten by what follows): one fixed-size copy.
    #[inline(always)]
    fn put_block<const N: usize>(&mut self, block: &[u8; N], len: usize) {
        self.buf[self.at..self.at + N].copy_from_slice(block);
        self.at += len;
    }

    #[inline(always)]
    fn put_u64(&mut self, n: u64) {
        if n < 10 {
            self.buf[self.at] = b'0' + n as u8;
            self.at += 1;
        } else {
            let mut digits = [0; 20];
            self.put(fmt_u64(n, &mut digits));
        }
    }

    /// Writes the line up to the target's end; false (and nothing to
    /// use) if the target is longer than [`TARGET_INLINE`], empty, or has
    /// a byte to escape.
    #[inline(always)]
    fn start(&mut self, peer: &SocketAddrV4, method: Method, target: &[u8]) -> bool {
        if target.is_empty() || target.len() > TARGET_INLINE {
            return false;
        }
        let p = prefix_v4(peer);
        self.put_block(&p.bytes, usize::from(p.len));
        let (field, len) = &METHOD_FIELDS[method as usize];
        self.put_block(field, usize::from(*len));
        self.put_block(b" target=", 8);
        // Checked for bytes to escape and copied in one pass, eight at a
        // time (see `all_plain`).
        let mut words = target.chunks_exact(8);
        for w in &mut words {
            let mut lanes = [0; 8];
            lanes.copy_from_slice(w);
            if !plain_word(u64::from_le_bytes(lanes)) {
                return false;
            }
            self.put_block(&lanes, 8);
        }
        for &c in words.remainder() {
            if !PLAIN[usize::from(c)] {
                return false;
            }
            self.buf[self.at] = c;
            self.at += 1;
        }
        true
    }

    /// Writes the line from ` version=` to its newline.
    #[inline(always)]
    fn end(&mut self, e: &Entry, resp: &Response, elapsed_ns: u64) {
        let rest = self;
        rest.put(match e.version {
            Version::Http10 => b" version=HTTP/1.0 status=",
            Version::Http11 => b" version=HTTP/1.1 status=",
        });
        // A status is three digits (`Status` holds 100 to 999).
        rest.put(&fixed::<3>(u64::from(resp.status().as_u16())));
        rest.put(b" bytes=");
        rest.put_u64(resp.body_bytes().len() as u64);
        // Seconds to the microsecond, rounded to nearest (as `{:.6}` would).
        let micros = (elapsed_ns + 500) / 1000;
        rest.put(b" duration=");
        rest.put_u64(micros / 1_000_000);
        let mut frac = [b'.'; 8];
        frac[1..7].copy_from_slice(&fixed::<6>(micros % 1_000_000));
        frac[7] = b'\n';
        rest.put(&frac);
    }
}

/// Bytes of a line besides the target and a long peer address: reserved
/// at once, so the pushes below do not grow the buffer one by one.
const LINE_FIXED: usize = 160;

/// `time=` + seconds (up to 20 digits) + `.` + milliseconds.
const TIME_FIELD_MAX: usize = 5 + 20 + 4;

/// A `time=` field and its length.
type TimeField = (u8, [u8; TIME_FIELD_MAX]);

thread_local! {
    /// (loop-turn tick, `time=...` field) of the last line written on
    /// this thread.
    static TIME: Cell<(u64, TimeField)> = const { Cell::new((u64::MAX, (0, [0; TIME_FIELD_MAX]))) };
    /// `time=... peer=a.b.c.d:port` as of a loop turn and an IPv4 peer:
    /// the start of a line, shared by a pipelined batch of one client's
    /// requests.
    static PREFIX: Cell<Prefix> = const {
        Cell::new(Prefix { tick: u64::MAX, peer: None, len: 0, bytes: [0; PREFIX_MAX] })
    };
}

/// Appends `time=SECONDS.MILLIS` for the current loop turn: the real-time
/// clock is read and formatted once per turn (per line off a worker), and
/// a pipelined batch of requests shares the field.
#[inline]
fn push_time(out: &mut Vec<u8>) {
    let (len, field) = time_field();
    out.extend_from_slice(&field[..usize::from(len)]);
}

/// The `time=SECONDS.MILLIS` field for the current loop turn.
#[inline]
fn time_field() -> TimeField {
    let tick = crate::runtime::turn_tick();
    let (at, field) = TIME.get();
    if tick.is_some_and(|t| t == at) {
        return field;
    }
    new_time_field(tick)
}

/// Reads the clock and formats the `time=` field (out of line: once a
/// turn).
#[cold]
#[inline(never)]
fn new_time_field(tick: Option<u64>) -> TimeField {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let mut digits = [0; 20];
    let secs = fmt_u64(now.as_secs(), &mut digits);
    let mut field = [0; TIME_FIELD_MAX];
    field[..5].copy_from_slice(b"time=");
    let mut at = 5 + secs.len();
    field[5..at].copy_from_slice(secs);
    field[at] = b'.';
    field[at + 1..at + 4].copy_from_slice(&fixed::<3>(u64::from(now.subsec_millis())));
    at += 4;
    let field = (at as u8, field);
    TIME.set((tick.unwrap_or(u64::MAX), field));
    field
}

/// The longest line start with an IPv4 peer: the time field, ` peer=`
/// and `255.255.255.255:65535`.
const PREFIX_MAX: usize = TIME_FIELD_MAX + 6 + 21;

/// See `PREFIX`.
#[derive(Clone, Copy)]
struct Prefix {
    /// The loop-turn tick of its time field (`u64::MAX`: none).
    tick: u64,
    peer: Option<SocketAddrV4>,
    len: u8,
    bytes: [u8; PREFIX_MAX],
}

/// Appends the time field and ` peer=` with `a` as `a.b.c.d:port`,
/// copied from the last line's when the turn and the peer are the same.
#[inline]
fn push_prefix_v4(out: &mut Vec<u8>, a: &SocketAddrV4) {
    let p = prefix_v4(a);
    out.extend_from_slice(&p.bytes[..usize::from(p.len)]);
}

/// The line start for this loop turn and peer `a` (made anew when either
/// changed).
#[inline(always)]
fn prefix_v4(a: &SocketAddrV4) -> Prefix {
    let tick = crate::runtime::turn_tick();
    let mut p = PREFIX.get();
    if tick.is_none_or(|t| t != p.tick) || p.peer != Some(*a) {
        p.len = new_prefix(&mut p.bytes, a) as u8;
        p.peer = Some(*a);
        p.tick = tick.unwrap_or(u64::MAX);
        PREFIX.set(p);
    }
    p
}

/// Writes the time field, ` peer=` and `a` into `buf`; returns the length.
#[cold]
#[inline(never)]
fn new_prefix(buf: &mut [u8; PREFIX_MAX], a: &SocketAddrV4) -> usize {
    let mut at = 0;
    let mut put = |s: &[u8]| {
        buf[at..at + s.len()].copy_from_slice(s);
        at += s.len();
    };
    let (len, time) = time_field();
    put(&time[..usize::from(len)]);
    put(b" peer=");
    let mut digits = [0; 20];
    for (i, o) in a.ip().octets().iter().enumerate() {
        if i > 0 {
            put(b".");
        }
        put(fmt_u64(u64::from(*o), &mut digits));
    }
    put(b":");
    put(fmt_u64(u64::from(a.port()), &mut digits));
    at
}

/// The bytes [`escape`] writes as they are: printable ASCII but `"` and
/// `\` (one lookup a byte).
static PLAIN: [bool; 256] = {
    let mut t = [false; 256];
    let mut c = 0x21;
    while c < 0x7f {
        t[c] = c != b'"' as usize && c != b'\\' as usize;
        c += 1;
    }
    t
};

/// True if [`escape`] writes every byte of `b` as it is; eight bytes at a
/// time (a byte below `!`, from DEL up, `"` or `\` sets the high bit of
/// its lane, or of one above a lane that does).
fn all_plain(b: &[u8]) -> bool {
    let mut words = b.chunks_exact(8);
    for w in &mut words {
        let mut lanes = [0; 8];
        lanes.copy_from_slice(w);
        if !plain_word(u64::from_le_bytes(lanes)) {
            return false;
        }
    }
    words.remainder().iter().all(|&c| PLAIN[usize::from(c)])
}

/// True if none of the eight bytes of `x` needs an escape.
#[inline(always)]
fn plain_word(x: u64) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let zero = |v: u64| v.wrapping_sub(ONES) & !v;
    let below = x.wrapping_sub(ONES * 0x21) & !x;
    let above = x | x.wrapping_add(ONES);
    let quote = zero(x ^ (ONES * u64::from(b'"')));
    let backslash = zero(x ^ (ONES * u64::from(b'\\')));
    (below | above | quote | backslash) & HIGH == 0
}

/// Writes `b`, with bytes outside printable ASCII (and space, `"`, `\`)
/// as `\xHH`; an empty value as `-`.
fn escape(out: &mut Vec<u8>, b: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    if b.is_empty() {
        out.push(b'-');
    }
    // The usual target needs no escape: one copy.
    if all_plain(b) {
        out.extend_from_slice(b);
        return;
    }
    for &c in b {
        if PLAIN[usize::from(c)] {
            out.push(c);
        } else {
            out.extend_from_slice(&[b'\\', b'x', HEX[(c >> 4) as usize], HEX[(c & 15) as usize]]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{all_plain, escape, write_entry, Entry, Sink, PLAIN};
    use crate::http::head::Version;
    use crate::http::{Method, Response};
    use crate::Address;

    /// The line of a GET of `target` from `peer`, answered with `hi`.
    fn line(peer: Option<Address>, method: Method, target: &str) -> String {
        let e = Entry {
            start: 0,
            method,
            target: target.to_string(),
            version: Version::Http11,
            peer,
            sink: Sink::Discard,
        };
        let mut out = Vec::new();
        write_entry(&mut out, &e, &Response::text("hi"), 1_234_567);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn the_stack_built_line_matches_the_piecewise_one() {
        let v4 = Some(Address::Tcp("10.0.0.7:40312".parse().unwrap()));
        let v6 = Some(Address::Tcp("[::1]:40312".parse().unwrap()));
        let long = format!("/{}", "a".repeat(80));
        let methods = [
            Method::Get,
            Method::Head,
            Method::Post,
            Method::Put,
            Method::Delete,
            Method::Connect,
            Method::Options,
            Method::Trace,
            Method::Patch,
        ];
        for m in methods {
            for target in [
                "/",
                "/plaintext",
                "/abcdefg",
                "/abcdefghijklmno",
                "/a\"b",
                "/\u{e9}t\u{e9}",
                "",
                &long,
            ] {
                // The IPv4 line (stack-built when it can be) against the
                // IPv6 one (always piecewise), past the peer field.
                let a = line(v4.clone(), m, target);
                let b = line(v6.clone(), m, target);
                let (a_start, a_rest) = a.split_once(" method=").unwrap();
                let (_, b_rest) = b.split_once(" method=").unwrap();
                assert!(a_start.ends_with(" peer=10.0.0.7:40312"), "{a}");
                assert!(a_start.starts_with("time="), "{a}");
                assert_eq!(a_rest, b_rest, "{m:?} {target:?}");
                assert!(a_rest.starts_with(m.as_str()), "{a}");
                assert!(
                    a_rest.ends_with(" version=HTTP/1.1 status=200 bytes=2 duration=0.001235\n"),
                    "{a}"
                );
            }
        }
        let a = line(v4, Method::Get, "/a\"b");
        assert!(a.contains(" target=/a\\x22b "), "{a}");
    }

    #[test]
    fn eight_at_a_time_agrees_with_the_table() {
        for len in [1, 7, 8, 9, 16, 17] {
            for at in 0..len {
                for c in 0..=255u8 {
                    let mut b = vec![b'a'; len];
                    b[at] = c;
                    assert_eq!(
                        all_plain(&b),
                        PLAIN[usize::from(c)],
                        "{c:#x} at {at} of {len}"
                    );
                    // A bad byte next to another byte value.
                    if at + 1 < len {
                        b[at + 1] = 0xff;
                        assert!(!all_plain(&b));
                    }
                }
            }
        }
    }

    #[test]
    fn escapes_what_would_break_a_line() {
        let mut out = Vec::new();
        escape(&mut out, b"/a b\"\\\n\xffok");
        assert_eq!(out, b"/a\\x20b\\x22\\x5c\\x0a\\xffok");
    }
}
