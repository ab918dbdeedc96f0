//! Request heads: parsing with `httparse` and the framing and routing
//! checks of RFC 9112 §3, §6 and RFC 9110 §7.2, as a pure function over
//! bytes.
//!
//! [`parse_head`] never copies: the [`Head`] it returns records where the
//! method, target and each header field lie in the buffer it was given
//! (offsets, so the head can be kept beside the buffer it describes).

use std::mem::MaybeUninit;

use super::body::{self, BodyKind};
use super::config::MAX_HEADERS_CAP;
use super::scan;
use super::{Error, Http1Config, Method, Status};

/// Where one header field lies in the head's bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HeaderSpan {
    name: (u32, u32),
    value: (u32, u32),
}

impl HeaderSpan {
    /// A field whose name and value lie at these offsets.
    pub(crate) fn new(name: (u32, u32), value: (u32, u32)) -> HeaderSpan {
        HeaderSpan { name, value }
    }

    #[inline]
    /// The field name within `head` (the buffer given to [`parse_head`]).
    pub fn name<'a>(&self, head: &'a [u8]) -> &'a [u8] {
        &head[self.name.0 as usize..self.name.1 as usize]
    }

    /// The field name's length, read from its offsets (no slicing).
    #[inline]
    pub(crate) fn name_len(&self) -> usize {
        self.name.1.wrapping_sub(self.name.0) as usize
    }

    #[inline]
    /// The field value within `head`, without surrounding whitespace.
    pub fn value<'a>(&self, head: &'a [u8]) -> &'a [u8] {
        &head[self.value.0 as usize..self.value.1 as usize]
    }
}

/// The protocol version of a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Version {
    /// `HTTP/1.0`
    Http10,
    /// `HTTP/1.1`
    Http11,
}

/// The form of a request target (RFC 9112 §3.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TargetForm {
    /// `/path?query`
    Origin,
    /// `http://host/path?query`
    Absolute,
    /// `host:port`, for `CONNECT` only.
    Authority,
    /// `*`, for `OPTIONS` only.
    Asterisk,
}

/// A parsed, validated request head: positions in the parsed buffer plus
/// what the server needs to frame the body and the connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Head {
    /// Bytes of the head, including the empty line that ends it.
    pub len: usize,
    /// The request method.
    pub method: Method,
    /// The protocol version.
    pub version: Version,
    /// Where the target lies in the buffer.
    pub target: (u32, u32),
    /// Where the path lies in the buffer (see `Request::path`); empty for
    /// authority-form. `(0, 0)` with `path_root` set means `/`.
    pub path: (u32, u32),
    /// An absolute-form target without a path: the path is `/`.
    pub path_root: bool,
    /// Where the query (after `?`) lies in the buffer, if there is one.
    pub query: Option<(u32, u32)>,
    /// The target's form.
    pub form: TargetForm,
    /// How the body is delimited.
    pub body: BodyKind,
    /// Whether the client allows the connection to stay open afterwards.
    pub keep_alive: bool,
    /// `Expect: 100-continue` (HTTP/1.1 only).
    pub expect_continue: bool,
    /// Index of the `Host` field among the header spans.
    pub host: Option<u16>,
    /// Index of the `Upgrade` field among the header spans, if the client
    /// asks to switch protocols: HTTP/1.1, an `Upgrade` field, and
    /// `upgrade` among the `Connection` options (RFC 9110 §7.8).
    pub upgrade: Option<u16>,
}

impl Head {
    /// The `Upgrade` field's value if the request asks to switch
    /// protocols; `head` and `spans` are what the head was parsed from.
    pub(crate) fn upgrade_offer<'b>(
        &self,
        head: &'b [u8],
        spans: &[HeaderSpan],
    ) -> Option<&'b [u8]> {
        Some(spans.get(usize::from(self.upgrade?))?.value(head))
    }
}

/// Parses a request head at the start of `buf`.
///
/// `Ok(None)`: the head is incomplete (and within the limits so far).
/// On success `spans` holds the header fields (it is cleared first; its
/// capacity is reused, so once it has grown to the field count this
/// allocates nothing).
#[inline]
pub fn parse_head(
    buf: &[u8],
    cfg: &Http1Config,
    spans: &mut Vec<HeaderSpan>,
) -> Result<Option<Head>, Error> {
    spans.clear();
    let max_headers = cfg.max_headers.min(MAX_HEADERS_CAP);
    let line = match scan::scan_head(buf, max_headers, spans) {
        Some(line) => line,
        None => match parse_line_and_fields(buf, cfg, max_headers, spans)? {
            Some(line) => line,
            None => return Ok(None),
        },
    };
    finish(buf, cfg, spans, line)
}

/// [`parse_head`] with `httparse` alone, skipping the fast scanner: the
/// reference the scanner is checked against (tests, fuzzing). Not for
/// servers: it is slower and otherwise the same.
#[doc(hidden)]
pub fn parse_head_httparse(
    buf: &[u8],
    cfg: &Http1Config,
    spans: &mut Vec<HeaderSpan>,
) -> Result<Option<Head>, Error> {
    let max_headers = cfg.max_headers.min(MAX_HEADERS_CAP);
    match parse_line_and_fields(buf, cfg, max_headers, spans)? {
        Some(line) => finish(buf, cfg, spans, line),
        None => Ok(None),
    }
}

/// The checks of a parsed request line and its fields, and the [`Head`]
/// they make.
#[inline(always)]
fn finish(
    buf: &[u8],
    cfg: &Http1Config,
    spans: &[HeaderSpan],
    line: scan::Line,
) -> Result<Option<Head>, Error> {
    let len = line.len;
    if len > cfg.max_head {
        return Err(Error::new(
            Status::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "request head too large",
        ));
    }
    let version = match line.minor {
        0 => Version::Http10,
        _ => Version::Http11,
    };
    let Some(method) = Method::from_bytes(&buf[line.method.0 as usize..line.method.1 as usize])
    else {
        return Err(Error::new(Status::NOT_IMPLEMENTED, "unknown method"));
    };
    let target = line.target;
    let target_b = &buf[target.0 as usize..target.1 as usize];
    if target_b.len() > cfg.max_target {
        return Err(Error::new(Status::URI_TOO_LONG, "request target too long"));
    }
    // SAFETY: both parsers found the target to be UTF-8 (the scanner: all
    // ASCII; httparse: checked), and the server relies on it.
    let target_s = unsafe { std::str::from_utf8_unchecked(target_b) };
    let form = target_form(method, target_b)?;
    let (path, path_root, query) = split_target(form, target_s, target.0);

    let mut framing = Framing::default();
    let mut host = None;
    let mut expect_continue = false;
    let mut conn_close = false;
    let mut conn_keep_alive = false;
    let mut conn_upgrade = false;
    let mut upgrade = None;
    for (idx, span) in spans.iter().enumerate() {
        let idx = idx as u16;
        let name = span.name(buf);
        // Both parsers hand values over without surrounding whitespace, and
        // reject a control character in a request's field value (neither
        // allows obsolete line folding in requests): not redone here.
        let value = span.value(buf);
        debug_assert_eq!(body::trim_ows(value), value);
        debug_assert!(!value.iter().any(|&b| b < 0x20 && b != b'\t' || b == 0x7f));
        // The length picks the one name a field can be (most are none).
        let len = name.len();
        if len == 4 && name.eq_ignore_ascii_case(b"host") {
            if host.is_some() {
                return Err(Error::bad("more than one Host field"));
            }
            // No early exit: the loop is short and unrolls.
            if value
                .iter()
                .fold(false, |bad, &b| bad | !HOST_CHARS[b as usize])
            {
                return Err(Error::bad("invalid Host field"));
            }
            host = Some(idx);
        } else if len == 14 && name.eq_ignore_ascii_case(b"content-length") {
            body::content_length(value, &mut framing.length)?;
        } else if len == 17 && name.eq_ignore_ascii_case(b"transfer-encoding") {
            framing.transfer_encoding(value)?;
        } else if len == 10 && name.eq_ignore_ascii_case(b"connection") {
            for opt in value.split(|&b| b == b',').map(body::trim_ows) {
                if opt.eq_ignore_ascii_case(b"close") {
                    conn_close = true;
                } else if opt.eq_ignore_ascii_case(b"keep-alive") {
                    conn_keep_alive = true;
                } else if opt.eq_ignore_ascii_case(b"upgrade") {
                    conn_upgrade = true;
                }
            }
        } else if len == 7 && name.eq_ignore_ascii_case(b"upgrade") {
            if upgrade.is_none() && !value.is_empty() {
                upgrade = Some(idx);
            }
        } else if len == 6 && name.eq_ignore_ascii_case(b"expect") && version == Version::Http11 {
            if !value.eq_ignore_ascii_case(b"100-continue") {
                return Err(Error::new(
                    Status::EXPECTATION_FAILED,
                    "unsupported expectation",
                ));
            }
            expect_continue = true;
        }
    }
    if version == Version::Http11 && host.is_none() {
        return Err(Error::bad("missing Host field"));
    }
    let body = framing.kind(version, cfg)?;
    let keep_alive = match version {
        Version::Http11 => !conn_close,
        Version::Http10 => conn_keep_alive && !conn_close,
    };
    Ok(Some(Head {
        len,
        method,
        version,
        target,
        path,
        path_root,
        query,
        form,
        body,
        keep_alive,
        expect_continue: expect_continue && body != BodyKind::Empty,
        host,
        // HTTP/1.0 has no protocol switch (RFC 9110 §7.8: a server must
        // ignore Upgrade received in an HTTP/1.0 request).
        upgrade: upgrade.filter(|_| conn_upgrade && version == Version::Http11),
    }))
}

/// The request line and fields of a head the scanner left alone, parsed
/// by `httparse`: the same [`scan::Line`] and spans, `Ok(None)` for an
/// incomplete head within the limits so far, or what is wrong.
#[cold]
#[inline(never)]
fn parse_line_and_fields(
    buf: &[u8],
    cfg: &Http1Config,
    max_headers: usize,
    spans: &mut Vec<HeaderSpan>,
) -> Result<Option<scan::Line>, Error> {
    spans.clear();
    let mut storage = [const { MaybeUninit::<httparse::Header<'_>>::uninit() }; MAX_HEADERS_CAP];
    let mut req = httparse::Request::new(&mut []);
    let len = match req.parse_with_uninit_headers(buf, &mut storage[..max_headers]) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) => {
            check_partial(buf, cfg)?;
            return Ok(None);
        }
        Err(e) => return Err(map_error(e, buf)),
    };
    let base = buf.as_ptr() as usize;
    let off = |s: &[u8]| (s.as_ptr() as usize - base) as u32;
    let span = |s: &[u8]| (off(s), off(s) + s.len() as u32);
    // Always there in a complete head.
    let (Some(method), Some(target)) = (req.method, req.path) else {
        return Err(Error::bad("invalid request line"));
    };
    for h in req.headers.iter() {
        spans.push(HeaderSpan::new(span(h.name.as_bytes()), span(h.value)));
    }
    Ok(Some(scan::Line {
        len,
        method: span(method.as_bytes()),
        target: span(target.as_bytes()),
        minor: req.version.unwrap_or(1),
    }))
}

/// Limits that can be enforced before the head is complete.
pub(crate) fn check_partial(buf: &[u8], cfg: &Http1Config) -> Result<(), Error> {
    let longest_line = cfg.max_target.saturating_add(32);
    if buf.len() > longest_line {
        // The request line is longer than any method + target + version
        // could make it: say 414 before the head limit says 431.
        let line = buf.iter().position(|&b| b == b'\n').unwrap_or(buf.len());
        if line > longest_line {
            return Err(Error::new(Status::URI_TOO_LONG, "request target too long"));
        }
    }
    if buf.len() >= cfg.max_head {
        return Err(Error::new(
            Status::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "request head too large",
        ));
    }
    Ok(())
}

fn map_error(e: httparse::Error, buf: &[u8]) -> Error {
    match e {
        httparse::Error::TooManyHeaders => Error::new(
            Status::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "too many header fields",
        ),
        httparse::Error::Version if well_formed_version(buf) => Error::new(
            Status::HTTP_VERSION_NOT_SUPPORTED,
            "unsupported HTTP version",
        ),
        httparse::Error::Version => Error::bad("malformed HTTP version"),
        httparse::Error::HeaderName => Error::bad("invalid header field name"),
        httparse::Error::HeaderValue => Error::bad("invalid header field value"),
        httparse::Error::NewLine => Error::bad("invalid line ending"),
        httparse::Error::Token | httparse::Error::Status => Error::bad("invalid request line"),
    }
}

/// True if the request line is well formed and ends in `HTTP/<digit>.<digit>` (a version we
/// do not speak rather than garbage).
fn well_formed_version(buf: &[u8]) -> bool {
    let line = buf.split(|&b| b == b'\n').next().unwrap_or(buf);
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    // Exactly `method SP target SP version`.
    if line.iter().filter(|&&b| b == b' ').count() != 2 {
        return false;
    }
    let Some(sp) = line.iter().rposition(|&b| b == b' ') else {
        return false;
    };
    matches!(&line[sp + 1..], [b'H', b'T', b'T', b'P', b'/', a, b'.', b]
        if a.is_ascii_digit() && b.is_ascii_digit())
}

/// [`is_host_char`] of every byte, looked up per byte of a `Host` field.
static HOST_CHARS: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = is_host_char(i as u8);
        i += 1;
    }
    t
};

/// Bytes that may appear in `uri-host [ ":" port ]` (RFC 3986: unreserved,
/// pct-encoded, sub-delims, `:` and the brackets of an IP literal).
const fn is_host_char(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'-' | b'.'
                | b'_'
                | b'~'
                | b'%'
                | b'!'
                | b'$'
                | b'&'
                | b'\''
                | b'('
                | b')'
                | b'*'
                | b'+'
                | b','
                | b';'
                | b'='
                | b':'
                | b'['
                | b']'
        )
}

/// The path and query of target `t` (at buffer offset `t0`): for
/// origin-form the target up to `?`; for absolute-form the part after the
/// authority (`/` if empty, flagged by `path_root`); nothing for
/// authority-form; `*` as is.
#[inline]
fn split_target(form: TargetForm, t: &str, t0: u32) -> ((u32, u32), bool, Option<(u32, u32)>) {
    let b = t.as_bytes();
    let at = |i: usize| t0 + i as u32;
    let query_at = |q: Option<usize>| q.map(|q| (at(q + 1), at(b.len())));
    match form {
        TargetForm::Asterisk => ((t0, at(b.len())), false, None),
        TargetForm::Authority => ((t0, t0), false, None),
        TargetForm::Origin => {
            let q = find_byte(b, 0, b'?');
            ((t0, at(q.unwrap_or(b.len()))), false, query_at(q))
        }
        TargetForm::Absolute => {
            let rest = t.find("://").map_or(b.len(), |i| i + 3);
            let slash = find_byte(b, rest, b'/');
            let q = find_byte(b, rest, b'?');
            match (slash, q) {
                (Some(i), q) if q.is_none_or(|q| i < q) => {
                    ((at(i), at(q.unwrap_or(b.len()))), false, query_at(q))
                }
                (_, Some(q)) => ((t0, t0), true, query_at(Some(q))),
                (_, None) => ((t0, t0), true, None),
            }
        }
    }
}

/// The first `c` in `b` at or after `from`. Eight bytes at a time: targets
/// are too short for a `memchr` call to pay off.
#[inline]
pub(crate) fn find_byte(b: &[u8], from: usize, c: u8) -> Option<usize> {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    let pat = LO * u64::from(c);
    let mut i = from;
    while let Some(chunk) = b.get(i..i + 8) {
        let mut word = [0; 8];
        word.copy_from_slice(chunk);
        let w = u64::from_le_bytes(word) ^ pat;
        // A byte of `w` is zero where `b` holds `c`; the lowest flagged byte
        // is the first zero (a borrow only flags bytes above a zero).
        let zero = w.wrapping_sub(LO) & !w & HI;
        if zero != 0 {
            return Some(i + (zero.trailing_zeros() / 8) as usize);
        }
        i += 8;
    }
    (i..b.len()).find(|&j| b[j] == c)
}

#[inline]
fn target_form(method: Method, t: &[u8]) -> Result<TargetForm, Error> {
    const BAD: Error = Error::bad("invalid request target");
    match t {
        [b'/', ..] if method != Method::Connect => Ok(TargetForm::Origin),
        b"*" if method == Method::Options => Ok(TargetForm::Asterisk),
        _ if method == Method::Connect => {
            // authority-form: host:port, nothing else.
            let colon = t.iter().rposition(|&b| b == b':').ok_or(BAD)?;
            let (host, port) = (&t[..colon], &t[colon + 1..]);
            let host_ok = !host.is_empty()
                && host
                    .iter()
                    .all(|&b| !matches!(b, b'/' | b'?' | b'#' | b'@'));
            if host_ok && !port.is_empty() && port.len() <= 5 && port.iter().all(u8::is_ascii_digit)
            {
                Ok(TargetForm::Authority)
            } else {
                Err(BAD)
            }
        }
        _ => {
            // absolute-form: scheme "://" authority path-abempty [ "?" query ]
            let sep = find(t, b"://").ok_or(BAD)?;
            let scheme = &t[..sep];
            let scheme_ok = matches!(scheme.first(), Some(b) if b.is_ascii_alphabetic())
                && scheme
                    .iter()
                    .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'));
            if scheme_ok && t.len() > sep + 3 {
                Ok(TargetForm::Absolute)
            } else {
                Err(BAD)
            }
        }
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Message framing fields seen so far.
#[derive(Default)]
struct Framing {
    length: Option<u64>,
    /// A `Transfer-Encoding` field was present.
    te: bool,
    /// The last transfer coding seen is `chunked`.
    chunked_last: bool,
    /// `chunked` was seen before the last coding.
    chunked_twice: bool,
    /// A coding other than `chunked` was seen.
    other: bool,
}

impl Framing {
    fn transfer_encoding(&mut self, value: &[u8]) -> Result<(), Error> {
        self.te = true;
        for coding in value.split(|&b| b == b',').map(body::trim_ows) {
            if coding.is_empty() {
                continue; // empty list elements are allowed (RFC 9110 §5.6.1)
            }
            // A coding may carry parameters (`gzip;q=1` is not valid for TE,
            // but `name;param=value` is): the name is the token before `;`.
            let name = body::trim_ows(coding.split(|&b| b == b';').next().unwrap_or(coding));
            if !body::is_token(name) {
                return Err(Error::bad("invalid transfer coding"));
            }
            if name.eq_ignore_ascii_case(b"chunked") {
                if self.chunked_last {
                    self.chunked_twice = true;
                }
                self.chunked_last = true;
            } else {
                self.chunked_last = false;
                self.other = true;
            }
        }
        Ok(())
    }

    fn kind(&self, version: Version, cfg: &Http1Config) -> Result<BodyKind, Error> {
        if self.te {
            if self.length.is_some() {
                return Err(Error::bad("both Content-Length and Transfer-Encoding"));
            }
            if version == Version::Http10 {
                return Err(Error::bad("Transfer-Encoding in an HTTP/1.0 request"));
            }
            if !self.chunked_last || self.chunked_twice {
                return Err(Error::bad("Transfer-Encoding does not end in one chunked"));
            }
            if self.other {
                return Err(Error::new(
                    Status::NOT_IMPLEMENTED,
                    "unsupported transfer coding",
                ));
            }
            return Ok(BodyKind::Chunked);
        }
        match self.length {
            None | Some(0) => Ok(BodyKind::Empty),
            Some(n) if n > cfg.max_body => Err(Error::new(
                Status::PAYLOAD_TOO_LARGE,
                "request body too large",
            )),
            Some(n) => Ok(BodyKind::Length(n)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn find_byte_finds_the_first() {
        let hay = b"/a?b?c/0123456789?xyz/\xff?";
        for from in 0..=hay.len() {
            for c in [b'?', b'/', b'x', b'\xff', b'#'] {
                let want = hay[from..].iter().position(|&b| b == c).map(|i| from + i);
                assert_eq!(find_byte(hay, from, c), want, "{from} {c}");
            }
        }
        // Every position in a word, and bytes that borrow (0x00, 0x01).
        for n in 0..20 {
            for at in 0..n {
                let mut v = vec![0u8; n];
                v[at] = b'?';
                if at > 0 {
                    v[at - 1] = 1;
                }
                assert_eq!(find_byte(&v, 0, b'?'), Some(at));
                for c in [0, 1, b'?'] {
                    assert_eq!(find_byte(&v, 0, c), v.iter().position(|&b| b == c));
                }
            }
        }
    }

    fn parse(input: &[u8]) -> Result<Option<Head>, Error> {
        parse_with(input, &Http1Config::new())
    }

    fn parse_with(input: &[u8], cfg: &Http1Config) -> Result<Option<Head>, Error> {
        let mut spans = Vec::new();
        parse_head(input, cfg, &mut spans)
    }

    fn status(input: &[u8]) -> u16 {
        match parse(input) {
            Ok(Some(_)) => 200,
            Ok(None) => 0,
            Err(e) => e.status().as_u16(),
        }
    }

    #[test]
    fn simple_get() {
        let input = b"GET /a/b?x=1 HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\n\r\nrest";
        let mut spans = Vec::new();
        let h = parse_head(input, &Http1Config::new(), &mut spans)
            .unwrap()
            .unwrap();
        assert_eq!(h.len, input.len() - 4);
        assert_eq!(h.method, Method::Get);
        assert_eq!(h.version, Version::Http11);
        assert_eq!(
            &input[h.target.0 as usize..h.target.1 as usize],
            b"/a/b?x=1"
        );
        assert_eq!(h.form, TargetForm::Origin);
        assert_eq!(h.body, BodyKind::Empty);
        assert!(h.keep_alive);
        assert_eq!(spans.len(), 2);
        assert_eq!(spans[0].name(input), b"Host");
        assert_eq!(spans[0].value(input), b"example.com");
        assert_eq!(h.host, Some(0));
    }

    #[test]
    fn every_prefix_is_incomplete() {
        let input = b"POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\n";
        for k in 0..input.len() {
            assert_eq!(parse(&input[..k]), Ok(None), "prefix {k}");
        }
        assert!(parse(input).unwrap().is_some());
    }

    #[test]
    fn keep_alive_rules() {
        let ka = |i: &[u8]| parse(i).unwrap().unwrap().keep_alive;
        assert!(ka(b"GET / HTTP/1.1\r\nHost: h\r\n\r\n"));
        assert!(!ka(
            b"GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"
        ));
        assert!(!ka(
            b"GET / HTTP/1.1\r\nHost: h\r\nConnection: foo, Close\r\n\r\n"
        ));
        assert!(!ka(b"GET / HTTP/1.0\r\n\r\n"));
        assert!(ka(b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
    }

    #[test]
    fn upgrade_needs_the_connection_option_and_http_1_1() {
        let up = |i: &[u8]| parse(i).unwrap().unwrap().upgrade;
        assert_eq!(
            up(b"GET / HTTP/1.1\r\nHost: h\r\nConnection: keep-alive, Upgrade\r\nUpgrade: websocket\r\n\r\n"),
            Some(2)
        );
        // No `upgrade` option, no field, an empty field, or HTTP/1.0.
        assert_eq!(
            up(b"GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n\r\n"),
            None
        );
        assert_eq!(
            up(b"GET / HTTP/1.1\r\nHost: h\r\nConnection: upgrade\r\n\r\n"),
            None
        );
        assert_eq!(
            up(b"GET / HTTP/1.1\r\nHost: h\r\nConnection: upgrade\r\nUpgrade:\r\n\r\n"),
            None
        );
        assert_eq!(
            up(b"GET / HTTP/1.0\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n"),
            None
        );
    }

    #[test]
    fn targets_split_into_path_and_query() {
        let cases: [(TargetForm, &str, &str, Option<&str>); 9] = [
            (TargetForm::Origin, "/a/b", "/a/b", None),
            (TargetForm::Origin, "/a?x=1&y", "/a", Some("x=1&y")),
            (TargetForm::Origin, "/?", "/", Some("")),
            (TargetForm::Absolute, "http://h:1/p?q=2", "/p", Some("q=2")),
            (TargetForm::Absolute, "http://h", "/", None),
            (TargetForm::Absolute, "http://h?q", "/", Some("q")),
            (TargetForm::Absolute, "http://h/x/y", "/x/y", None),
            (TargetForm::Authority, "h:443", "", None),
            (TargetForm::Asterisk, "*", "*", None),
        ];
        for (form, t, path, query) in cases {
            // Offsets are into a buffer where the target starts at 4.
            let buf = format!("GET {t}");
            let (p, root, q) = split_target(form, t, 4);
            let part = |(s, e): (u32, u32)| &buf[s as usize..e as usize];
            let got_path = if root { "/" } else { part(p) };
            assert_eq!(got_path, path, "path of {t}");
            assert_eq!(q.map(part), query, "query of {t}");
        }
    }

    #[test]
    fn target_forms() {
        let form = |i: &[u8]| parse(i).map(|h| h.unwrap().form);
        assert_eq!(
            form(b"OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n"),
            Ok(TargetForm::Asterisk)
        );
        assert_eq!(
            form(b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n"),
            Ok(TargetForm::Authority)
        );
        assert_eq!(
            form(b"GET http://example.com/x HTTP/1.1\r\nHost: example.com\r\n\r\n"),
            Ok(TargetForm::Absolute)
        );
        assert_eq!(status(b"GET * HTTP/1.1\r\nHost: h\r\n\r\n"), 400);
        assert_eq!(status(b"CONNECT / HTTP/1.1\r\nHost: h\r\n\r\n"), 400);
        assert_eq!(status(b"CONNECT h:x HTTP/1.1\r\nHost: h\r\n\r\n"), 400);
        assert_eq!(status(b"GET example.com HTTP/1.1\r\nHost: h\r\n\r\n"), 400);
        assert_eq!(status(b"GET 1http://x/ HTTP/1.1\r\nHost: h\r\n\r\n"), 400);
    }

    #[test]
    fn host_rules() {
        assert_eq!(status(b"GET / HTTP/1.1\r\n\r\n"), 400);
        assert_eq!(status(b"GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n"), 400);
        assert_eq!(status(b"GET / HTTP/1.0\r\n\r\n"), 200);
        assert_eq!(status(b"GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n"), 200);
        assert_eq!(status(b"GET / HTTP/1.1\r\nHost:\r\n\r\n"), 200);
        assert_eq!(status(b"GET / HTTP/1.1\r\nHost: a b\r\n\r\n"), 400);
        assert_eq!(status(b"GET / HTTP/1.1\r\nHost: a/b\r\n\r\n"), 400);
        assert_eq!(status(b"GET / HTTP/1.1\r\nHost: u@h\r\n\r\n"), 400);
    }

    #[test]
    fn framing_rules() {
        let ok = |i: &[u8]| parse(i).unwrap().unwrap().body;
        assert_eq!(
            ok(b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\n"),
            BodyKind::Length(5)
        );
        assert_eq!(
            ok(b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5, 5\r\nContent-Length: 5\r\n\r\n"),
            BodyKind::Length(5)
        );
        assert_eq!(
            ok(b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"),
            BodyKind::Chunked
        );
        assert_eq!(
            ok(b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: ,Chunked,\r\n\r\n"),
            BodyKind::Chunked
        );
        for (bad, code) in [
            (&b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"[..], 400),
            (b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", 400),
            (b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5, 6\r\n\r\n", 400),
            (b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: -1\r\n\r\n", 400),
            (b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: \r\n\r\n", 400),
            (b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 99999999999999999999\r\n\r\n", 400),
            (b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 2000000\r\n\r\n", 413),
            (b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n\r\n", 400),
            (b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", 400),
            (b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, chunked\r\n\r\n", 400),
            (b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501),
            (b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: ch@nked\r\n\r\n", 400),
            (b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400),
        ] {
            assert_eq!(status(bad), code, "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn malformed_heads() {
        for (bad, code) in [
            (
                &b"GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n folded\r\n\r\n"[..],
                400,
            ),
            (b"GET / HTTP/1.1\r\nHost : h\r\n\r\n", 400),
            (b"GET / HTTP/1.1\r\nHost: h\rX: y\r\n\r\n", 400),
            (b"GET / HTTP/1.1\rHost: h\r\n\r\n", 400),
            (b"GET / HTTP/1.1\r\nHost: h\x01\r\n\r\n", 400),
            (b"GET / HTTP/1.1\r\nHost: h\x7f\r\n\r\n", 400),
            (b"GET / HTTP/1.1\r\nHo\x01st: h\r\n\r\n", 400),
            (b"G(T / HTTP/1.1\r\nHost: h\r\n\r\n", 400),
            (b"GET /a b HTTP/1.1\r\nHost: h\r\n\r\n", 400),
            (b"GET  / HTTP/1.1\r\nHost: h\r\n\r\n", 400),
            (b"GET / HTTX/1.1\r\nHost: h\r\n\r\n", 400),
            (b"GET / HTTP/2.0\r\nHost: h\r\n\r\n", 505),
            (b"GET / HTTP/1.2\r\nHost: h\r\n\r\n", 505),
            (b"BREW / HTTP/1.1\r\nHost: h\r\n\r\n", 501),
            (b"get / HTTP/1.1\r\nHost: h\r\n\r\n", 501),
            (
                b"GET / HTTP/1.1\r\nHost: h\r\nExpect: something\r\n\r\n",
                417,
            ),
        ] {
            assert_eq!(status(bad), code, "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn limits() {
        let cfg = Http1Config::new()
            .max_target(16)
            .max_headers(2)
            .max_head(128);
        let code = |i: &[u8]| parse_with(i, &cfg).map_err(|e| e.status().as_u16());
        assert_eq!(
            code(b"GET /0123456789abcdefg HTTP/1.1\r\nHost: h\r\n\r\n"),
            Err(414)
        );
        assert_eq!(
            code(b"GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\n\r\n"),
            Err(431)
        );
        let mut long = b"GET / HTTP/1.1\r\nHost: h\r\nA: ".to_vec();
        long.extend([b'a'; 200]);
        assert_eq!(code(&long), Err(431), "partial head over the limit");
        long.extend_from_slice(b"\r\n\r\n");
        assert_eq!(code(&long), Err(431), "complete head over the limit");
        let mut line = b"GET /".to_vec();
        line.extend([b'a'; 60]);
        assert_eq!(code(&line), Err(414), "partial request line over the limit");
    }

    #[test]
    fn expect_continue() {
        let h = parse(
            b"POST / HTTP/1.1\r\nHost: h\r\nExpect: 100-Continue\r\nContent-Length: 1\r\n\r\n",
        )
        .unwrap()
        .unwrap();
        assert!(h.expect_continue);
        let h = parse(b"POST / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\n")
            .unwrap()
            .unwrap();
        assert!(!h.expect_continue);
    }

    #[test]
    fn hostile_bytes_never_panic() {
        let mut rng = 0x1234_5678_9abc_def0u64;
        let alphabet = b"GET /HTTP1.\r\n: \t\x00\x7f\xffHost-Length,chunked0123456789";
        for _ in 0..5000 {
            let len = (rng % 96) as usize;
            let mut v = b"POST / HTTP/1.1\r\n".to_vec();
            for _ in 0..len {
                rng ^= rng << 13;
                rng ^= rng >> 7;
                rng ^= rng << 17;
                v.push(alphabet[(rng % alphabet.len() as u64) as usize]);
            }
            let _ = parse(&v);
        }
    }
}
