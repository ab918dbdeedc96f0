//! `Response`: status, header fields and body, and how its head is written
//! (no allocation: the head goes into a reused per-connection buffer).

use super::itoa::push_u64;
use super::upgrade::OnUpgrade;
use super::{date, Status};

/// A response body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Body {
    /// No body (`Content-Length: 0`, except where a status has none).
    Empty,
    /// Static bytes, sent without copying.
    Static(&'static [u8]),
    /// Owned bytes.
    Bytes(Vec<u8>),
    /// A body that exists but is not sent: the answer to a `HEAD` request,
    /// or a `304 Not Modified`. Holds the length the body would have had
    /// (the `Content-Length` a `GET` would get); `None` if it is not known
    /// (as when a proxy's upstream sent it chunked), in which case no
    /// `Content-Length` is written (RFC 9110 §8.6, §9.3.2). Never written
    /// for `1xx` and `204`, which have no `Content-Length`.
    ///
    /// Only valid where no body is sent anyway; a handler that returns it
    /// for any other request (a `200` to a `GET`, say) is answered with
    /// `500` and the connection closed, rather than sending a message whose
    /// length says there is a body that never comes. See
    /// [`Response::omitted_body`].
    Omitted(Option<u64>),
}

impl Body {
    /// The number of bytes the body holds (0 for [`Body::Omitted`],
    /// whatever length it declares).
    pub fn len(&self) -> usize {
        self.as_bytes().len()
    }

    /// True if the body has no bytes.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The body's bytes.
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Body::Empty | Body::Omitted(_) => &[],
            Body::Static(s) => s,
            Body::Bytes(v) => v,
        }
    }
}

impl From<&'static str> for Body {
    fn from(s: &'static str) -> Body {
        Body::Static(s.as_bytes())
    }
}
impl From<&'static [u8]> for Body {
    fn from(s: &'static [u8]) -> Body {
        Body::Static(s)
    }
}
impl From<String> for Body {
    fn from(s: String) -> Body {
        Body::Bytes(s.into_bytes())
    }
}
impl From<Vec<u8>> for Body {
    fn from(v: Vec<u8>) -> Body {
        Body::Bytes(v)
    }
}

/// A response: status, header fields and a body sent with `Content-Length`.
///
/// `Date`, `Content-Length` and `Connection` are written by the server;
/// do not add them (for a `HEAD` or `304` answer whose body is not at
/// hand, state its length with [`omitted_body`](Response::omitted_body)).
/// A handler's status must be final (`200..=999`); a `1xx` one is
/// answered with `500` and the connection closed, except a protocol switch
/// made with [`Response::upgrade`]. A response with a static body and only
/// a content type allocates nothing.
///
/// ```
/// use corering::http::{Response, Status};
/// let r = Response::text("hello").header("Cache-Control", "no-store");
/// assert_eq!(r.status(), Status::OK);
/// let r = Response::new(Status::NOT_FOUND).body("no such page");
/// assert_eq!(r.body_bytes(), b"no such page");
/// ```
#[derive(Debug)]
pub struct Response {
    status: Status,
    content_type: Option<&'static str>,
    headers: Vec<(HeaderValue, HeaderValue)>,
    body: Body,
    /// What runs after a `101` (see [`Response::upgrade`]).
    upgrade: Option<Box<OnUpgrade>>,
    /// One field whose value is stored here, not on the heap
    /// ([`Response::header_inline`]).
    inline: Option<InlineField>,
}

/// Longest value [`Response::header_inline`] keeps without allocating
/// (a UUID's 36 characters fit).
pub const INLINE_VALUE_MAX: usize = 38;

/// A field with a short value held in the response itself: 40 bytes, so
/// a `Response` stays small enough to be returned in a `Result` by value.
/// The name is a slot of [`INLINE_NAMES`] (nonzero: `Option` costs
/// nothing).
#[derive(Debug, Clone, Copy)]
struct InlineField {
    slot: std::num::NonZeroU8,
    len: u8,
    value: [u8; INLINE_VALUE_MAX],
}

/// The names inline fields have had in this process (few: request id
/// fields). A name past the last slot is written the ordinary way.
static INLINE_NAMES: [std::sync::OnceLock<&'static str>; 8] =
    [const { std::sync::OnceLock::new() }; 8];

/// The slot `name` already holds in [`INLINE_NAMES`], if any: the same
/// static text is found by its address first, so a name given on every
/// response is not compared byte by byte.
#[inline]
fn held_slot(name: &'static str) -> Option<std::num::NonZeroU8> {
    for (i, cell) in INLINE_NAMES.iter().enumerate() {
        let held = *cell.get()?;
        if std::ptr::eq(held, name) || held == name {
            return std::num::NonZeroU8::new(i as u8 + 1);
        }
    }
    None
}

/// The slot of `name` in [`INLINE_NAMES`], taking a free one if needed.
fn inline_slot(name: &'static str) -> Option<std::num::NonZeroU8> {
    for (i, cell) in INLINE_NAMES.iter().enumerate() {
        let held = *cell.get_or_init(|| name);
        if held == name {
            return std::num::NonZeroU8::new(i as u8 + 1);
        }
    }
    None
}

/// The name of a field a layer sets on every response without
/// allocating (a request id): checked, and its slot taken, once, when the
/// layer is made, instead of on every response. Only the name is kept
/// (two words, copied into every request's future as two registers): its
/// slot is found again by the name's address, at the first slot looked at
/// for a process's one request-id name.
#[derive(Debug, Clone, Copy)]
pub(crate) struct InlineName {
    name: &'static str,
}

impl InlineName {
    /// `name`, with a slot taken for it if one is free.
    ///
    /// # Panics
    /// If `name` is not a field name (a token).
    pub(crate) fn new(name: &'static str) -> InlineName {
        assert!(
            super::body::is_token(name.as_bytes()),
            "invalid header field name {name:?}"
        );
        // Taken now; found by `held_slot` when a response is given.
        let _ = inline_slot(name);
        InlineName { name }
    }

    /// The name.
    pub(crate) fn as_str(&self) -> &'static str {
        self.name
    }
}

impl InlineField {
    fn name(&self) -> &'static str {
        INLINE_NAMES[usize::from(self.slot.get() - 1)]
            .get()
            .copied()
            .unwrap_or("x-invalid")
    }

    #[inline]
    fn value(&self) -> &[u8] {
        &self.value[..usize::from(self.len)]
    }
}

/// A header field value: static, or owned.
#[derive(Debug, Clone, PartialEq, Eq)]
enum HeaderValue {
    Static(&'static str),
    Owned(String),
}

impl HeaderValue {
    fn as_bytes(&self) -> &[u8] {
        match self {
            HeaderValue::Static(s) => s.as_bytes(),
            HeaderValue::Owned(s) => s.as_bytes(),
        }
    }
}

impl Response {
    /// An empty response with `status`.
    pub fn new(status: Status) -> Response {
        Response {
            status,
            content_type: None,
            headers: Vec::new(),
            body: Body::Empty,
            upgrade: None,
            inline: None,
        }
    }

    /// `200 OK` with a `text/plain; charset=utf-8` body.
    pub fn text(body: impl Into<Body>) -> Response {
        Response::with_type("text/plain; charset=utf-8", body)
    }

    /// `200 OK` with an `application/json` body (already encoded).
    pub fn json(body: impl Into<Body>) -> Response {
        Response::with_type("application/json", body)
    }

    /// `200 OK` with a `text/html; charset=utf-8` body.
    pub fn html(body: impl Into<Body>) -> Response {
        Response::with_type("text/html; charset=utf-8", body)
    }

    /// `200 OK` with `content_type`, a literal of this module known to be
    /// valid, so the per-call check of [`content_type`](Self::content_type)
    /// is skipped.
    fn with_type(content_type: &'static str, body: impl Into<Body>) -> Response {
        Response {
            status: Status::OK,
            content_type: Some(content_type),
            headers: Vec::new(),
            body: body.into(),
            upgrade: None,
            inline: None,
        }
    }

    /// Sets the status.
    pub fn with_status(mut self, status: Status) -> Response {
        self.status = status;
        self
    }

    /// Applies a builder function to this response where it lies: for
    /// code that holds a `&mut Response` (a [`Finish`](super::layer::Finish)
    /// of a layer) and wants the by-value builders.
    ///
    /// ```
    /// use corering::http::{Response, Status};
    ///
    /// let mut resp = Response::text("hi");
    /// resp.update(|r| r.header("cache-control", "no-store").with_status(Status::ACCEPTED));
    /// assert_eq!(resp.status(), Status::ACCEPTED);
    /// ```
    pub fn update(&mut self, f: impl FnOnce(Response) -> Response) {
        // An empty response (nothing allocated) holds the place while `f`
        // runs; if `f` panics, the caller is left with it.
        let taken = std::mem::replace(self, Response::new(Status::OK));
        *self = f(taken);
    }

    /// Sets the `Content-Type` field.
    ///
    /// # Panics
    /// If the value contains CR, LF or another control character.
    pub fn content_type(mut self, value: &'static str) -> Response {
        assert!(
            valid_value_words(value.as_bytes()),
            "invalid Content-Type value"
        );
        self.content_type = Some(value);
        self
    }

    /// Sets the body.
    pub fn body(mut self, body: impl Into<Body>) -> Response {
        self.body = body.into();
        self
    }

    /// Declares the body this response does not carry: for a `HEAD`
    /// request or a `304`, `Content-Length: len` is written (nothing if
    /// `len` is `None`) and no body bytes are sent. Replaces any body
    /// (the same as `.body(Body::Omitted(len))`).
    ///
    /// A handler answering `HEAD` with the full body (as for `GET`) need
    /// not call this: the server writes that body's length and drops it.
    /// This is for a handler that knows the length without having the
    /// bytes, such as a proxy relaying an upstream's `HEAD` response.
    /// Returned for any other request, the response is a handler bug and
    /// is answered with `500` (see [`Body::Omitted`]). The head given to
    /// [`Request::stream`](super::Request::stream) ignores it, as it does
    /// any body.
    ///
    /// ```
    /// use corering::http::{Response, Status};
    /// let r = Response::text("").omitted_body(Some(13));
    /// assert_eq!(r.body_bytes(), b"");
    /// let r = Response::new(Status::NOT_MODIFIED).omitted_body(None);
    /// assert_eq!(r.status(), Status::NOT_MODIFIED);
    /// ```
    pub fn omitted_body(mut self, len: Option<u64>) -> Response {
        self.body = Body::Omitted(len);
        self
    }

    /// Adds a header field with a static value.
    ///
    /// # Panics
    /// If `name` is not a token or `value` contains CR, LF or another
    /// control character (header injection).
    pub fn header(self, name: &'static str, value: &'static str) -> Response {
        self.push_header(HeaderValue::Static(name), HeaderValue::Static(value))
    }

    /// Adds a header field with an owned value.
    ///
    /// # Panics
    /// As [`header`](Response::header).
    pub fn header_owned(self, name: &'static str, value: String) -> Response {
        self.push_header(HeaderValue::Static(name), HeaderValue::Owned(value))
    }

    /// Adds a header field whose name is only known at run time (as when
    /// a proxy forwards fields).
    ///
    /// # Panics
    /// As [`header`](Response::header).
    pub fn header_dynamic(self, name: String, value: String) -> Response {
        self.push_header(HeaderValue::Owned(name), HeaderValue::Owned(value))
    }

    /// Adds a header field whose value is copied into the response itself
    /// (no allocation) if it is at most [`INLINE_VALUE_MAX`] bytes and no
    /// other field was added this way; otherwise as
    /// [`header_owned`](Response::header_owned). For per-request values
    /// on a hot path, such as a request id.
    ///
    /// # Panics
    /// As [`header`](Response::header).
    ///
    /// ```
    /// use corering::http::Response;
    /// let r = Response::text("hi").header_inline("x-request-id", b"abc-1");
    /// assert_eq!(r.header_value("X-Request-Id"), Some(&b"abc-1"[..]));
    /// ```
    pub fn header_inline(mut self, name: &'static str, value: &[u8]) -> Response {
        let slot = if self.inline.is_none() && value.len() <= INLINE_VALUE_MAX {
            // A name seen before was checked then; a new one is checked
            // before it takes a slot.
            held_slot(name).or_else(|| {
                assert!(
                    super::body::is_token(name.as_bytes()),
                    "invalid header field name {name:?}"
                );
                inline_slot(name)
            })
        } else {
            None
        };
        if let Some(slot) = slot {
            assert!(
                valid_value_words(value),
                "invalid value for header field {name}"
            );
            let mut field = InlineField {
                slot,
                len: value.len() as u8,
                value: [0; INLINE_VALUE_MAX],
            };
            field.value[..value.len()].copy_from_slice(value);
            self.inline = Some(field);
            return self;
        }
        let value = String::from_utf8_lossy(value).into_owned();
        self.header_owned(name, value)
    }

    /// [`header_inline`](Self::header_inline) for a name checked once
    /// ([`InlineName`]), with the value the first `len` bytes of `value`,
    /// visible ASCII (a made id, or a client's id already checked). On the
    /// hot path no check is repeated and the whole array is copied into
    /// the field as one block.
    #[inline(always)]
    pub(crate) fn set_inline(
        &mut self,
        name: InlineName,
        value: &[u8; INLINE_VALUE_MAX],
        len: usize,
    ) {
        // The usual name holds the first slot: found by its address alone.
        let first = INLINE_NAMES[0]
            .get()
            .is_some_and(|held| std::ptr::eq(*held, name.name));
        if first && self.inline.is_none() {
            self.put_inline(std::num::NonZeroU8::MIN, value, len);
        } else {
            self.set_inline_slow(name, value, len);
        }
    }

    /// [`set_inline`](Self::set_inline) for a name in another slot, or in
    /// none, or a response that has an inline field already.
    #[cold]
    #[inline(never)]
    fn set_inline_slow(&mut self, name: InlineName, value: &[u8; INLINE_VALUE_MAX], len: usize) {
        match held_slot(name.name) {
            Some(slot) if self.inline.is_none() => self.put_inline(slot, value, len),
            _ => {
                let len = len.min(INLINE_VALUE_MAX);
                self.update(|r| r.header_inline(name.name, &value[..len]));
            }
        }
    }

    /// Sets the inline field: `slot`'s name, the first `len` bytes of
    /// `value`.
    #[inline(always)]
    fn put_inline(
        &mut self,
        slot: std::num::NonZeroU8,
        value: &[u8; INLINE_VALUE_MAX],
        len: usize,
    ) {
        let field = self.inline.insert(InlineField {
            slot,
            len: len.min(INLINE_VALUE_MAX) as u8,
            value: *value,
        });
        debug_assert!(field.value().iter().all(u8::is_ascii_graphic));
    }

    fn push_header(mut self, name: HeaderValue, value: HeaderValue) -> Response {
        let n = name.as_bytes();
        assert!(
            super::body::is_token(n),
            "invalid header field name {:?}",
            String::from_utf8_lossy(n)
        );
        assert!(
            valid_value_words(value.as_bytes()),
            "invalid value for header field {}",
            String::from_utf8_lossy(n)
        );
        self.headers.push((name, value));
        self
    }

    /// The status.
    pub fn status(&self) -> Status {
        self.status
    }

    /// The body's bytes.
    pub fn body_bytes(&self) -> &[u8] {
        self.body.as_bytes()
    }

    /// The first header field named `name` (case-insensitive), as added
    /// with [`header`](Response::header) or
    /// [`content_type`](Response::content_type).
    pub fn header_value(&self, name: &str) -> Option<&[u8]> {
        if name.eq_ignore_ascii_case("content-type") {
            if let Some(ct) = self.content_type {
                return Some(ct.as_bytes());
            }
        }
        if let Some(f) = &self.inline {
            if f.name().eq_ignore_ascii_case(name) {
                return Some(f.value());
            }
        }
        self.headers
            .iter()
            .find(|(n, _)| n.as_bytes().eq_ignore_ascii_case(name.as_bytes()))
            .map(|(_, v)| v.as_bytes())
    }

    /// True if a header field named `name` was added (not counting
    /// `Content-Type`).
    pub fn has_header(&self, name: &str) -> bool {
        self.inline
            .as_ref()
            .is_some_and(|f| f.name().eq_ignore_ascii_case(name))
            || self
                .headers
                .iter()
                .any(|(n, _)| n.as_bytes().eq_ignore_ascii_case(name.as_bytes()))
    }

    pub(crate) fn with_upgrade(mut self, up: OnUpgrade) -> Response {
        self.upgrade = Some(Box::new(up));
        self
    }

    /// The protocol switch this response starts, if it is one.
    pub(crate) fn take_upgrade(&mut self) -> Option<OnUpgrade> {
        self.upgrade.take().map(|b| *b)
    }

    /// True if this is a protocol switch made by [`Response::upgrade`].
    #[inline]
    pub fn is_upgrade(&self) -> bool {
        self.upgrade.is_some()
    }

    pub(crate) fn into_body(self) -> Body {
        self.body
    }

    /// True if the body is [`Body::Omitted`].
    pub(crate) fn is_omitted(&self) -> bool {
        matches!(self.body, Body::Omitted(_))
    }

    /// Writes the status line and header fields (through the empty line)
    /// into `out`.
    pub(crate) fn write_head(&self, out: &mut Vec<u8>, opts: HeadOptions) {
        let n = self.head_len(opts);
        let start = out.len();
        out.resize(start + n, 0);
        self.encode_head(&mut out[start..], opts);
    }

    /// The length of the head [`encode_head`](Self::encode_head) writes.
    pub(crate) fn head_len(&self, opts: HeadOptions) -> usize {
        // `HTTP/1.1 NNN ` CRLF, `Date: ` date CRLF, the empty line.
        let mut n = 13 + self.status.reason().len() + 2 + DATE_FIELD_LEN + 2;
        if let Some(s) = opts.server {
            n += b"Server: \r\n".len() + s.len();
        }
        if let Some(ct) = self.content_type {
            n += b"Content-Type: \r\n".len() + ct.len();
        }
        for (name, value) in &self.headers {
            n += name.as_bytes().len() + value.as_bytes().len() + 4;
        }
        if let Some(f) = &self.inline {
            n += f.name().len() + f.value().len() + 4;
        }
        n += match self.length_field(opts.framing) {
            LengthField::Length(len) => b"Content-Length: \r\n".len() + decimal_len(len),
            LengthField::Chunked => b"Transfer-Encoding: chunked\r\n".len(),
            LengthField::None => 0,
        };
        if opts.close {
            n += b"Connection: close\r\n".len();
        } else if opts.keep_alive_1_0 {
            n += b"Connection: keep-alive\r\n".len();
        }
        n
    }

    /// The framing field the head carries. 1xx and 204 never carry a
    /// length (RFC 9110 §8.6); a 304 only the one it was told (the body a
    /// 200 would have had), as does an omitted body.
    #[inline]
    fn length_field(&self, framing: Framing) -> LengthField {
        let code = self.status.as_u16();
        match (&self.body, framing) {
            _ if code < 200 || code == 204 => LengthField::None,
            (Body::Omitted(n), Framing::Length) => n.map_or(LengthField::None, |n| {
                LengthField::Length(usize::try_from(n).unwrap_or(usize::MAX))
            }),
            _ if code == 304 => LengthField::None,
            (body, Framing::Length) => LengthField::Length(body.len()),
            (_, Framing::Chunked) => LengthField::Chunked,
            (_, Framing::UntilClose) => LengthField::None,
        }
    }

    /// Writes the head into `buf`, which is exactly
    /// [`head_len`](Self::head_len) bytes: no capacity checks, and the
    /// fixed parts are constant-length copies. Returns the second of the
    /// `Date` field written.
    pub(crate) fn encode_head(&self, buf: &mut [u8], opts: HeadOptions) -> u64 {
        let mut w = Put { buf, at: 0 };
        let code = self.status.as_u16();
        let mut line = *b"HTTP/1.1 000 ";
        line[9] = b'0' + (code / 100 % 10) as u8;
        line[10] = b'0' + (code / 10 % 10) as u8;
        line[11] = b'0' + (code % 10) as u8;
        w.put(&line);
        w.put(self.status.reason().as_bytes());
        w.put(b"\r\n");
        let (secs, date) = date::field();
        w.put(&date);
        if let Some(s) = opts.server {
            // Checked once, by `Http1Config::server_name`.
            w.put(b"Server: ");
            w.put(s.as_bytes());
            w.put(b"\r\n");
        }
        if let Some(ct) = self.content_type {
            w.put(b"Content-Type: ");
            w.put(ct.as_bytes());
            w.put(b"\r\n");
        }
        for (name, value) in &self.headers {
            w.put(name.as_bytes());
            w.put(b": ");
            w.put(value.as_bytes());
            w.put(b"\r\n");
        }
        match self.length_field(opts.framing) {
            LengthField::Length(n) => {
                w.put(b"Content-Length: ");
                w.put_decimal(n);
                w.put(b"\r\n");
            }
            LengthField::Chunked => w.put(b"Transfer-Encoding: chunked\r\n"),
            LengthField::None => {}
        }
        if opts.close {
            w.put(b"Connection: close\r\n");
        } else if opts.keep_alive_1_0 {
            w.put(b"Connection: keep-alive\r\n");
        }
        // The inline field last: a head cache keeps the bytes before its
        // value, so heads that differ only in it (request ids) are not
        // encoded anew each time.
        if let Some(f) = &self.inline {
            w.put(f.name().as_bytes());
            w.put(b": ");
            w.put(f.value());
            w.put(b"\r\n");
        }
        w.put(b"\r\n");
        debug_assert_eq!(w.at, w.buf.len(), "head_len and encode_head disagree");
        secs
    }

    /// What the head [`encode_head`](Self::encode_head) writes depends on,
    /// given the second of its `Date` field, except the value of the inline
    /// field (which comes last, see [`inline_value`](Self::inline_value)):
    /// equal keys, equal heads up to that value. `None` for a response with
    /// fields of its own (not worth comparing).
    #[inline]
    pub(crate) fn head_key(&self, opts: HeadOptions, secs: u64) -> Option<HeadKey> {
        if !self.headers.is_empty() {
            return None;
        }
        // `&'static str`s compare by address and length: the same bytes.
        let addr = |s: Option<&'static str>| s.map_or((0, 0), |s| (s.as_ptr() as usize, s.len()));
        Some(HeadKey {
            status: self.status.as_u16(),
            content_type: addr(self.content_type),
            server: addr(opts.server),
            length: self.length_field(opts.framing),
            close: opts.close,
            keep_alive_1_0: opts.keep_alive_1_0,
            framing: opts.framing,
            secs,
            inline: self.inline.map(|f| f.slot),
        })
    }

    /// The value of the field set by [`header_inline`](Self::header_inline)
    /// without allocating, if any: the head ends with it (then CRLF and the
    /// empty line).
    #[inline]
    pub(crate) fn inline_value(&self) -> Option<&[u8]> {
        self.inline.as_ref().map(InlineField::value)
    }

    /// The inline field's whole value array and the value's length (the
    /// array past it is padding): for copying it as one fixed-size block.
    #[inline]
    pub(crate) fn inline_block(&self) -> Option<(&[u8; INLINE_VALUE_MAX], usize)> {
        self.inline.as_ref().map(|f| (&f.value, usize::from(f.len)))
    }
}

/// See [`Response::head_key`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct HeadKey {
    status: u16,
    content_type: (usize, usize),
    server: (usize, usize),
    length: LengthField,
    close: bool,
    keep_alive_1_0: bool,
    framing: Framing,
    secs: u64,
    /// The inline field's name, if any (its value is not part of the key).
    inline: Option<std::num::NonZeroU8>,
}

/// The framing field of a response head.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum LengthField {
    /// `Content-Length: n`.
    Length(usize),
    /// `Transfer-Encoding: chunked`.
    Chunked,
    /// Neither.
    None,
}

/// `Date: ` + IMF-fixdate + CRLF.
const DATE_FIELD_LEN: usize = date::FIELD_LEN;

/// Digits of `n` in decimal.
fn decimal_len(mut n: usize) -> usize {
    let mut d = 1;
    while n >= 10 {
        n /= 10;
        d += 1;
    }
    d
}

/// A cursor writing into a slice sized for what is written.
struct Put<'b> {
    buf: &'b mut [u8],
    at: usize,
}

impl Put<'_> {
    #[inline(always)]
    fn put(&mut self, s: &[u8]) {
        self.buf[self.at..self.at + s.len()].copy_from_slice(s);
        self.at += s.len();
    }

    /// `n` in decimal (its digits are written last to first).
    fn put_decimal(&mut self, mut n: usize) {
        let end = self.at + decimal_len(n);
        let digits = &mut self.buf[self.at..end];
        for d in digits.iter_mut().rev() {
            *d = b'0' + (n % 10) as u8;
            n /= 10;
        }
        self.at = end;
    }
}

/// How the connection frames the response head.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct HeadOptions {
    /// The connection closes after this response.
    pub close: bool,
    /// An HTTP/1.0 client asked to keep the connection; say it is kept.
    pub keep_alive_1_0: bool,
    /// The `Server` field, if any.
    pub server: Option<&'static str>,
    /// How the body is delimited.
    pub framing: Framing,
}

/// How a response body is delimited.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum Framing {
    /// `Content-Length` of the response's body.
    #[default]
    Length,
    /// `Transfer-Encoding: chunked` (a streamed body, HTTP/1.1).
    Chunked,
    /// Neither: the body ends when the connection closes (a streamed body
    /// to an HTTP/1.0 client).
    UntilClose,
}

fn write_status_line(out: &mut Vec<u8>, status: Status) {
    out.extend_from_slice(b"HTTP/1.1 ");
    push_u64(out, u64::from(status.as_u16()));
    out.push(b' ');
    out.extend_from_slice(status.reason().as_bytes());
    out.extend_from_slice(b"\r\n");
}

fn write_common(out: &mut Vec<u8>, server: Option<&'static str>) {
    out.extend_from_slice(&date::field().1);
    // Checked once, by `Http1Config::server_name`.
    if let Some(s) = server {
        field(out, b"Server", s.as_bytes());
    }
}

fn field(out: &mut Vec<u8>, name: &[u8], value: &[u8]) {
    out.extend_from_slice(name);
    out.extend_from_slice(b": ");
    out.extend_from_slice(value);
    out.extend_from_slice(b"\r\n");
}

/// [`valid_value`] eight bytes at a time, for the checks made on every
/// response a builder makes (the `const` byte-by-byte one serves
/// configurations checked at compile time): a word with no byte below a
/// space and none equal to DEL is fine as it is; only a word with one (a
/// tab, or a byte that is refused) is looked at byte by byte.
#[inline]
pub(crate) fn valid_value_words(v: &[u8]) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let mut words = v.chunks_exact(8);
    for w in &mut words {
        let mut lanes = [0; 8];
        lanes.copy_from_slice(w);
        let x = u64::from_le_bytes(lanes);
        // The high bit of a lane is set for a byte below 0x20 (or, from
        // the borrow, next to one), or for DEL.
        let below = x.wrapping_sub(ONES * 0x20) & !x;
        let del = x ^ (ONES * 0x7f);
        let del = del.wrapping_sub(ONES) & !del;
        if (below | del) & HIGH != 0 && !valid_value(w) {
            return false;
        }
    }
    valid_value(words.remainder())
}

/// True if `v` may be a field value: no CR, LF or other control
/// character (tab allowed).
pub(crate) const fn valid_value(v: &[u8]) -> bool {
    let mut i = 0;
    while i < v.len() {
        let b = v[i];
        if b != b'\t' && (b < 0x20 || b == 0x7f) {
            return false;
        }
        i += 1;
    }
    true
}

/// Writes the whole response for a request-level error: status, a short
/// text body, and `Connection: close`.
pub(crate) fn write_error(out: &mut Vec<u8>, status: Status, server: Option<&'static str>) {
    write_status_line(out, status);
    write_common(out, server);
    let body = status.reason().as_bytes();
    out.extend_from_slice(b"Content-Type: text/plain; charset=utf-8\r\nContent-Length: ");
    push_u64(out, body.len() as u64 + 1);
    out.extend_from_slice(b"\r\nConnection: close\r\n\r\n");
    out.extend_from_slice(body);
    out.push(b'\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(r: &Response, opts: HeadOptions) -> String {
        let mut out = Vec::new();
        r.write_head(&mut out, opts);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn inline_fields_set_by_any_name_slot_or_none() {
        let value = |v: &[u8]| {
            let mut a = [0; INLINE_VALUE_MAX];
            a[..v.len()].copy_from_slice(v);
            a
        };
        // Whatever slots other tests took, each name is found again (by
        // address in the first slot, else by the search), and a second
        // field goes the ordinary way.
        for name in ["x-request-id", "x-correlation-id", "x-trace-tag"] {
            let n = InlineName::new(name);
            let mut r = Response::text("hi");
            r.set_inline(n, &value(b"abc-1"), 5);
            assert_eq!(r.header_value(name), Some(&b"abc-1"[..]), "{name}");
            r.set_inline(InlineName::new("x-other-id"), &value(b"zz"), 2);
            assert_eq!(r.header_value(name), Some(&b"abc-1"[..]), "{name}");
            assert_eq!(r.header_value("x-other-id"), Some(&b"zz"[..]), "{name}");
        }
    }

    #[test]
    fn values_checked_by_words_as_byte_by_byte() {
        for len in [0, 1, 7, 8, 9, 16, 17, 38] {
            for at in 0..len {
                for c in 0..=255u8 {
                    let mut v = vec![b'a'; len];
                    v[at] = c;
                    assert_eq!(
                        valid_value_words(&v),
                        valid_value(&v),
                        "{c:#x} at {at} of {len}"
                    );
                    if at + 1 < len {
                        v[at + 1] = 0x7f;
                        assert!(!valid_value_words(&v));
                    }
                }
            }
        }
    }

    #[test]
    fn an_inline_name_is_checked_once_and_found_again() {
        let r = Response::text("hi").header_inline("x-trace-inline", b"1");
        assert_eq!(r.header_value("x-trace-inline"), Some(&b"1"[..]));
        // The same name from another `&'static str` finds its slot too.
        let other: &'static str = String::from("x-trace-inline").leak();
        let r = Response::text("hi").header_inline(other, b"2");
        assert_eq!(r.inline_value(), Some(&b"2"[..]));
        let bad = std::panic::catch_unwind(|| Response::text("hi").header_inline("bad name", b"1"));
        assert!(bad.is_err());
        let bad =
            std::panic::catch_unwind(|| Response::text("hi").header_inline("x-ok", b"a\r\nb"));
        assert!(bad.is_err());
    }

    #[test]
    fn writes_status_line_and_fields() {
        let r = Response::text("hi").header("X-A", "1");
        let h = head(
            &r,
            HeadOptions {
                server: Some("t"),
                ..Default::default()
            },
        );
        assert!(h.starts_with("HTTP/1.1 200 OK\r\nDate: "), "{h}");
        assert!(h.contains(" GMT\r\nServer: t\r\n"), "{h}");
        assert!(
            h.contains("Content-Type: text/plain; charset=utf-8\r\n"),
            "{h}"
        );
        assert!(h.contains("X-A: 1\r\n"), "{h}");
        assert!(h.ends_with("Content-Length: 2\r\n\r\n"), "{h}");
    }

    /// The head as the fields say it should be, built with `format!`.
    fn reference(r: &Response, opts: HeadOptions, date: &str) -> String {
        let mut h = format!(
            "HTTP/1.1 {} {}\r\nDate: {date}\r\n",
            r.status.as_u16(),
            r.status.reason()
        );
        if let Some(s) = opts.server {
            h += &format!("Server: {s}\r\n");
        }
        if let Some(ct) = r.content_type {
            h += &format!("Content-Type: {ct}\r\n");
        }
        for (n, v) in &r.headers {
            let text = |x: &HeaderValue| String::from_utf8(x.as_bytes().to_vec()).unwrap();
            h += &format!("{}: {}\r\n", text(n), text(v));
        }
        if !r.status.is_bodiless() {
            match opts.framing {
                Framing::Length => h += &format!("Content-Length: {}\r\n", r.body.len()),
                Framing::Chunked => h += "Transfer-Encoding: chunked\r\n",
                Framing::UntilClose => {}
            }
        }
        if opts.close {
            h += "Connection: close\r\n";
        } else if opts.keep_alive_1_0 {
            h += "Connection: keep-alive\r\n";
        }
        h + "\r\n"
    }

    #[test]
    fn head_matches_reference() {
        let long = "x".repeat(12_345);
        let responses = [
            Response::text("Hello, World!"),
            Response::new(Status::NO_CONTENT),
            Response::new(Status::NOT_MODIFIED).header("ETag", "\"a\""),
            Response::json(long.clone())
                .header("X-A", "1")
                .header_owned("X-B", "two".into()),
            Response::new(Status::from_u16(999).unwrap()).body(vec![0u8; 100_000]),
            Response::new(Status::from_u16(100).unwrap()),
            Response::html("").header_dynamic("x-dyn".into(), "".into()),
        ];
        for r in &responses {
            for framing in [Framing::Length, Framing::Chunked, Framing::UntilClose] {
                for (close, keep_alive_1_0) in [(false, false), (true, false), (false, true)] {
                    for server in [None, Some("corering")] {
                        let opts = HeadOptions {
                            close,
                            keep_alive_1_0,
                            server,
                            framing,
                        };
                        let mut out = b"before".to_vec();
                        r.write_head(&mut out, opts);
                        let got = String::from_utf8(out).unwrap();
                        let got = got.strip_prefix("before").unwrap();
                        let date = &got[got.find("Date: ").unwrap() + 6..][..29];
                        assert_eq!(got, reference(r, opts, date));
                        assert_eq!(got.len(), r.head_len(opts));
                    }
                }
            }
        }
    }

    #[test]
    fn decimal_lengths() {
        for n in [0usize, 9, 10, 99, 100, 12_345, usize::MAX] {
            assert_eq!(decimal_len(n), n.to_string().len());
            let mut b = vec![0u8; decimal_len(n)];
            Put { buf: &mut b, at: 0 }.put_decimal(n);
            assert_eq!(b, n.to_string().as_bytes());
        }
    }

    #[test]
    fn bodiless_statuses_have_no_length() {
        let h = head(
            &Response::new(Status::NO_CONTENT),
            HeadOptions {
                close: true,
                ..Default::default()
            },
        );
        assert!(h.starts_with("HTTP/1.1 204 No Content\r\n"));
        assert!(!h.contains("Content-Length"));
        assert!(h.ends_with("Connection: close\r\n\r\n"));
    }

    #[test]
    fn omitted_body_writes_its_declared_length() {
        let len = |r: &Response, framing| {
            let h = head(
                r,
                HeadOptions {
                    framing,
                    ..Default::default()
                },
            );
            assert!(!h.contains("Transfer-Encoding") || framing == Framing::Chunked);
            h.split("Content-Length: ")
                .nth(1)
                .map(|v| v.split('\r').next().unwrap().to_owned())
        };
        let ok = Response::text("").omitted_body(Some(13));
        assert_eq!(ok.body_bytes(), b"");
        assert_eq!(len(&ok, Framing::Length).as_deref(), Some("13"));
        // Unknown length: no Content-Length at all, not 0.
        let unknown = Response::text("").omitted_body(None);
        assert_eq!(len(&unknown, Framing::Length), None);
        // 304: the declared length, or none; never the empty body's 0.
        let nm = Response::new(Status::NOT_MODIFIED);
        assert_eq!(len(&nm, Framing::Length), None);
        let nm = nm.omitted_body(Some(42));
        assert_eq!(len(&nm, Framing::Length).as_deref(), Some("42"));
        assert_eq!(len(&nm, Framing::Chunked), None);
        // 204 never has one.
        let nc = Response::new(Status::NO_CONTENT).omitted_body(Some(5));
        assert_eq!(len(&nc, Framing::Length), None);
        // A streamed head keeps its own framing.
        let h = head(
            &ok,
            HeadOptions {
                framing: Framing::Chunked,
                ..Default::default()
            },
        );
        assert!(h.contains("Transfer-Encoding: chunked\r\n"), "{h}");
        assert!(!h.contains("Content-Length"), "{h}");
        // A real body still writes its own length.
        assert_eq!(
            len(&Response::text("hello"), Framing::Length).as_deref(),
            Some("5")
        );
    }

    #[test]
    fn omitted_variant_does_not_grow_body() {
        #[allow(dead_code)]
        enum Before {
            Empty,
            Static(&'static [u8]),
            Bytes(Vec<u8>),
        }
        assert_eq!(std::mem::size_of::<Body>(), std::mem::size_of::<Before>());
    }

    #[test]
    #[should_panic]
    fn header_injection_panics() {
        let _ = Response::text("x").header("X", "a\r\nSet-Cookie: evil");
    }

    #[test]
    fn error_response() {
        let mut out = Vec::new();
        write_error(&mut out, Status::PAYLOAD_TOO_LARGE, None);
        let s = String::from_utf8(out).unwrap();
        assert!(s.starts_with("HTTP/1.1 413 Content Too Large\r\n"));
        assert!(s.ends_with("Connection: close\r\n\r\nContent Too Large\n"));
        assert!(s.contains("Content-Length: 18\r\n"));
    }
}
