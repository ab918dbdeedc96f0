//! One access log line, written without `core::fmt`.
//!
//! Formatting was most of what a logged request cost (4,400 instructions
//! of it through `write!`). The usual line (an IPv4 peer, a short target
//! needing no escape) is written straight into the output buffer in
//! fixed-size pieces; the start of the line (time and peer) is kept from
//! the last line while the loop turn and the peer are the same; any other
//! line is written piece by piece.

use std::cell::{Cell, UnsafeCell};
use std::net::{SocketAddr, SocketAddrV4};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::http::head::Version;
use crate::http::itoa::{fixed, fmt_u64};
use crate::http::{Method, Response};
use crate::Address;

/// What the log line says about a request, taken when its handler is
/// called.
#[derive(Debug)]
pub(super) struct Entry<'a> {
    /// The monotonic clock (ns) the handler's time counts from.
    pub(super) start: u64,
    pub(super) method: Method,
    /// The target as sent: the request's own bytes, which outlive its
    /// future.
    pub(super) target: &'a [u8],
    pub(super) version: Version,
    /// Kept by the connection's loop (see `Request::log_peer`).
    pub(super) peer: &'a Option<Address>,
}

/// What the log line says about a response: read from it by value, so
/// the response itself is handed on without its address being taken.
#[derive(Debug, Clone, Copy)]
pub(super) struct Answer {
    /// 100 to 999.
    pub(super) status: u16,
    /// The body's length.
    pub(super) bytes: usize,
}

impl Answer {
    /// What the line says about `resp`.
    #[inline(always)]
    pub(super) fn of(resp: &Response) -> Answer {
        Answer {
            status: resp.status().as_u16(),
            bytes: resp.body_bytes().len(),
        }
    }
}

/// Appends the line of `e`, answered with `resp` after `elapsed_ns`, to
/// `out`.
pub(super) fn write_entry(out: &mut Vec<u8>, e: &Entry<'_>, resp: Answer, elapsed_ns: u64) {
    if let Some(Address::Tcp(SocketAddr::V4(a))) = e.peer {
        let mut line = Line::new(out, LINE_MAX);
        if line.start(a, e.method, e.target) {
            line.end(e, resp, elapsed_ns);
            line.done();
            return;
        }
    }
    write_entry_in_pieces(out, e, resp, elapsed_ns);
}

/// [`write_entry`] for any other line (a peer other than IPv4, a long
/// target or one with bytes to escape): out of line and cold, so the usual
/// line's code stays compact (fewer instruction-cache lines a request).
#[cold]
#[inline(never)]
fn write_entry_in_pieces(out: &mut Vec<u8>, e: &Entry<'_>, resp: Answer, elapsed_ns: u64) {
    out.reserve(LINE_FIXED + e.target.len());
    if let Some(Address::Tcp(SocketAddr::V4(a))) = e.peer {
        let mut line = Line::new(out, PREFIX_MAX);
        line.put_prefix_v4(a);
        line.done();
    } else {
        push_time(out);
        out.extend_from_slice(b" peer=");
    }
    match e.peer {
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
    escape(out, e.target);
    let mut rest = Line::new(out, TAIL_MAX);
    rest.end(e, resp, elapsed_ns);
    rest.done();
}

/// The longest target a line written at once takes (a longer one is
/// written in pieces).
const TARGET_INLINE: usize = 64;

/// The longest end of a line, from ` version=` on: the fixed words, a
/// status, and two numbers of at most 20 digits and the fraction.
const TAIL_MAX: usize = 25 + 3 + 7 + 20 + 10 + 20 + 8;

/// The room of a line written at once: the start with an IPv4 peer, the
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

/// A line written straight into the spare room of the output buffer,
/// in fixed-size pieces: nothing zeroed first, nothing copied afterwards.
struct Line<'o> {
    out: &'o mut Vec<u8>,
    /// The buffer's end when the line began: `room` bytes are reserved
    /// from here.
    base: *mut u8,
    room: usize,
    at: usize,
}

impl<'o> Line<'o> {
    /// A line at the end of `out`, with `room` bytes reserved for it: every
    /// write below stays within them (the line's parts have bounded
    /// lengths; see [`LINE_MAX`] and [`TAIL_MAX`]), which debug builds
    /// check.
    #[inline(always)]
    fn new(out: &'o mut Vec<u8>, room: usize) -> Line<'o> {
        out.reserve(room);
        let base = out.spare_capacity_mut().as_mut_ptr().cast::<u8>();
        Line {
            out,
            base,
            room,
            at: 0,
        }
    }

    /// Copies `n` bytes from `src` to the line's position (not advancing).
    #[inline(always)]
    fn copy(&mut self, src: *const u8, n: usize) {
        debug_assert!(self.at + n <= self.room, "log line past its room");
        // SAFETY: `base + at .. base + at + n` lies within the `room` bytes
        // reserved past the vector's end in `new` (see there), which no
        // slice references while the line is written; `src` is `n`
        // readable bytes elsewhere (a caller's slice or array).
        unsafe { std::ptr::copy_nonoverlapping(src, self.base.add(self.at), n) }
    }

    #[inline(always)]
    fn put(&mut self, s: &[u8]) {
        self.copy(s.as_ptr(), s.len());
        self.at += s.len();
    }

    #[inline(always)]
    fn put_byte(&mut self, c: u8) {
        self.copy(&c, 1);
        self.at += 1;
    }

    /// Copies all `N` bytes of `block` but keeps only `len` of them (the
    /// rest is overwritten by what follows): one fixed-size copy.
    #[inline(always)]
    fn put_block<const N: usize>(&mut self, block: &[u8; N], len: usize) {
        self.copy(block.as_ptr(), N);
        self.at += len;
    }

    #[inline(always)]
    fn put_u64(&mut self, n: u64) {
        // Short numbers (the usual body length, a duration's seconds) as
        // one fixed-size copy.
        if n < 10 {
            self.put_byte(b'0' + n as u8);
        } else if n < 100 {
            self.put_block(&fixed::<2>(n), 2);
        } else if n < 1000 {
            self.put_block(&fixed::<3>(n), 3);
        } else {
            let mut digits = [0; 20];
            self.put(fmt_u64(n, &mut digits));
        }
    }

    /// Adds the line written to the buffer.
    #[inline(always)]
    fn done(self) {
        let len = self.out.len() + self.at;
        // SAFETY: `at <= room` bytes past the old end were written (every
        // write is at `at` or below it; see `copy`), within the capacity
        // reserved in `new`.
        unsafe { self.out.set_len(len) }
    }

    /// Writes the line up to the target's end; false (and nothing to
    /// use) if the target is longer than [`TARGET_INLINE`], empty, or has
    /// a byte to escape.
    #[inline(always)]
    fn start(&mut self, peer: &SocketAddrV4, method: Method, target: &[u8]) -> bool {
        if target.is_empty() || target.len() > TARGET_INLINE {
            return false;
        }
        self.put_prefix_v4(peer);
        let (field, len) = &METHOD_FIELDS[method as usize];
        self.put_block(field, usize::from(*len));
        self.put_block(b" target=", 8);
        // Checked for bytes to escape and copied in one pass, eight at a
        // time (see `all_plain`); the last eight bytes of a target of eight
        // or more as one more word, overlapping the one before.
        let n = target.len();
        if n < 8 {
            for &c in target {
                if !PLAIN[usize::from(c)] {
                    return false;
                }
                self.put_byte(c);
            }
            return true;
        }
        let start = self.at;
        let word = |i: usize| {
            let mut lanes = [0; 8];
            lanes.copy_from_slice(&target[i..i + 8]);
            lanes
        };
        let mut i = 0;
        while i + 8 < n {
            let lanes = word(i);
            if !plain_word(u64::from_le_bytes(lanes)) {
                return false;
            }
            self.put_block(&lanes, 8);
            i += 8;
        }
        let lanes = word(n - 8);
        if !plain_word(u64::from_le_bytes(lanes)) {
            return false;
        }
        self.at = start + n - 8;
        self.put_block(&lanes, 8);
        true
    }

    /// Writes the time field and ` peer=a.b.c.d:port`, kept from the last
    /// line when the turn and the peer are the same (as for a pipelined
    /// batch of one client's requests).
    #[inline(always)]
    fn put_prefix_v4(&mut self, a: &SocketAddrV4) {
        let tick = crate::runtime::turn_tick().unwrap_or(u64::MAX);
        let peer = peer_key(a);
        let p = PREFIX.with(UnsafeCell::get);
        // SAFETY: `p` is this thread's own prefix, reached only here, and
        // nothing below writes a log line (`new_prefix` formats numbers and
        // reads the clock): no other reference to it exists meanwhile.
        let p = unsafe { &mut *p };
        // Off a worker (no tick), made anew every time.
        if tick == u64::MAX || tick != p.tick || peer != p.peer {
            p.len = new_prefix(&mut p.bytes, a) as u8;
            p.peer = peer;
            p.tick = tick;
        }
        self.put_block(&p.bytes, usize::from(p.len));
    }

    /// Writes the line from ` version=` to its newline.
    #[inline(always)]
    fn end(&mut self, e: &Entry, resp: Answer, elapsed_ns: u64) {
        self.put_block(
            match e.version {
                Version::Http10 => b" version=HTTP/1.0 status=",
                Version::Http11 => b" version=HTTP/1.1 status=",
            },
            25,
        );
        // A status is three digits (`Status` holds 100 to 999).
        self.put_block(&fixed::<3>(u64::from(resp.status)), 3);
        self.put_block(b" bytes=", 7);
        self.put_u64(resp.bytes as u64);
        // Seconds to the microsecond, rounded to nearest (as `{:.6}` would).
        // Zero, the usual value with the turn clock (a response given in
        // the turn its request was taken in), as one block.
        if elapsed_ns < 500 {
            self.put_block(b" duration=0.000000\n", 19);
            return;
        }
        let micros = elapsed_ns.saturating_add(500) / 1000;
        self.put_block(b" duration=", 10);
        self.put_u64(micros / 1_000_000);
        let mut frac = [b'.'; 8];
        frac[1..7].copy_from_slice(&fixed::<6>(micros % 1_000_000));
        frac[7] = b'\n';
        self.put_block(&frac, 8);
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
    static PREFIX: UnsafeCell<Prefix> = const {
        UnsafeCell::new(Prefix { tick: u64::MAX, peer: 0, len: 0, bytes: [0; PREFIX_MAX] })
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
struct Prefix {
    /// The loop-turn tick of its time field (`u64::MAX`: none).
    tick: u64,
    /// The peer, as [`peer_key`] (0: none).
    peer: u64,
    len: u8,
    bytes: [u8; PREFIX_MAX],
}

/// `a` as one number, for comparing: address, port and a bit that no
/// [`Prefix`] without a peer has.
#[inline(always)]
fn peer_key(a: &SocketAddrV4) -> u64 {
    (1 << 48) | u64::from(a.ip().to_bits()) << 16 | u64::from(a.port())
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
    use super::{all_plain, escape, write_entry, Answer, Entry, PLAIN};
    use crate::http::head::Version;
    use crate::http::{Method, Response};
    use crate::Address;

    /// The line of a GET of `target` from `peer`, answered with `hi`.
    fn line(peer: Option<Address>, method: Method, target: &str) -> String {
        let e = Entry {
            start: 0,
            method,
            target: target.as_bytes(),
            version: Version::Http11,
            peer: &peer,
        };
        let mut out = Vec::new();
        write_entry(&mut out, &e, Answer::of(&Response::text("hi")), 1_234_567);
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
                "/abcdef",
                "/abcdefg",
                "/abcdefgh",
                "/abcdefghijklmno",
                "/abcdefghijklmnop",
                "/abcdefghijklmnopqrstuvw",
                "/abcdefghijklmnopqrstuvwx",
                "/a\"b",
                "/abcdef\"",
                "/abcdefgh\"",
                "/abcdefghijklmno\"",
                "/abcdefghijklmn\"p",
                "/abc\"efghijklmnop",
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
    fn durations_round_to_the_microsecond() {
        let v4 = Some(Address::Tcp("10.0.0.7:40312".parse().unwrap()));
        for (ns, text) in [
            (0, "0.000000"),
            (499, "0.000000"),
            (500, "0.000001"),
            (1_234_567, "0.001235"),
            (2_500_000_000, "2.500000"),
            (u64::MAX, "18446744073.709551"),
        ] {
            let text_of = |peer: Option<Address>| {
                let e = Entry {
                    start: 0,
                    method: Method::Get,
                    target: b"/",
                    version: Version::Http11,
                    peer: &peer,
                };
                let mut out = Vec::new();
                write_entry(&mut out, &e, Answer::of(&Response::text("hi")), ns);
                String::from_utf8(out).unwrap()
            };
            for line in [text_of(v4.clone()), text_of(None)] {
                assert!(
                    line.ends_with(&format!(" duration={text}\n")),
                    "{ns}: {line}"
                );
            }
        }
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
