//! RESP2 on the wire: requests decoded as a [`Command`] frame, replies
//! encoded by the functions at the end of this module.
//!
//! ```text
//!  multibulk  *3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n   (what clients send)
//!  inline     PING\r\n  /  SET k v\n                        (what people type)
//! ```
//!
//! A [`Command`] borrows its arguments from the receive buffer: decoding
//! allocates nothing, whatever the number of arguments. The positions of
//! the first three (name, key, value) are kept for indexing;
//! [`Command::args`] walks all of them again from the (already validated)
//! frame bytes. The struct stays small (48 bytes) because the reader moves
//! it a few times on its way out.
//!
//! Limits follow redis: at most [`MAX_ARGS`] arguments, bulk strings of at
//! most [`MAX_BULK`] bytes, inline requests of at most [`MAX_LINE`] bytes.
//! Violations are [`DecodeError`]s whose [`protocol_error`] text matches
//! what redis answers.
//!
//! This file is self-contained (it depends on `corering::frame` only), so
//! tests include it with `#[path]`.

use corering::frame::{DecodeError, DecodeErrorKind, Decoded, Frame};

/// Most arguments [`Command::head`] lays out in an array (enough for every
/// single-key command: `SET k v NX GET EX 10` has 7).
pub const HEAD_ARGS: usize = 8;
/// Arguments whose position a [`Command`] keeps.
const SPANS: usize = 3;
/// Most arguments in one multibulk request (redis: 1024 * 1024).
pub const MAX_ARGS: usize = 1024 * 1024;
/// Largest bulk string (redis's default `proto-max-bulk-len`, 512 MiB).
pub const MAX_BULK: usize = 512 << 20;
/// Longest inline request (redis: 64 KiB).
pub const MAX_LINE: usize = 64 << 10;
/// Most digits in a `*N` or `$N` length (more cannot be within the limits).
const MAX_LEN_DIGITS: usize = 10;

/// How a request was written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Form {
    /// `*N\r\n` followed by N bulk strings.
    Multibulk,
    /// One line of words separated by spaces or tabs.
    Inline,
}

/// Where one argument lies in the frame.
#[derive(Clone, Copy, Debug, Default)]
struct Span {
    start: u32,
    len: u32,
}

/// One client request: its arguments, borrowed from the receive buffer.
///
/// A request with no arguments (`*0\r\n`, `*-1\r\n`, an empty line) decodes
/// to a command with `argc() == 0`, which servers ignore, as redis does.
///
/// All fields are 4- or 8-byte words: no byte-sized field means no enum tag
/// squeezed in beside it, so the `Result`/`Option` layers around a decoded
/// command share its layout and moving it is a plain aligned copy.
#[derive(Clone, Debug)]
pub struct Command<'a> {
    /// Multibulk: the whole frame. Inline: the line without its ending.
    frame: &'a [u8],
    /// Multibulk: offset of the first argument's `$`; [`INLINE`] for an
    /// inline request.
    body: u32,
    argc: u32,
    head: [Span; SPANS],
}

/// `Command::body` of an inline request.
const INLINE: u32 = u32::MAX;

impl<'a> Command<'a> {
    fn form(&self) -> Form {
        if self.body == INLINE {
            Form::Inline
        } else {
            Form::Multibulk
        }
    }

    /// Number of arguments, the command name included.
    pub fn argc(&self) -> usize {
        self.argc as usize
    }

    fn span(&self, s: Span) -> &'a [u8] {
        let start = s.start as usize;
        &self.frame[start..start + s.len as usize]
    }

    /// Argument `i` (0 is the command name).
    pub fn arg(&self, i: usize) -> Option<&'a [u8]> {
        if i >= self.argc() {
            None
        } else if i < SPANS {
            Some(self.span(self.head[i]))
        } else {
            self.args().nth(i)
        }
    }

    /// All arguments, if there are at most [`HEAD_ARGS`], in `buf`.
    pub fn head<'b>(&self, buf: &'b mut [&'a [u8]; HEAD_ARGS]) -> Option<&'b [&'a [u8]]> {
        let n = self.argc();
        if n > HEAD_ARGS {
            return None;
        }
        if n <= SPANS {
            for (slot, span) in buf.iter_mut().zip(&self.head[..n]) {
                *slot = self.span(*span);
            }
        } else {
            for (slot, arg) in buf.iter_mut().zip(self.args()) {
                *slot = arg;
            }
        }
        Some(&buf[..n])
    }

    /// Iterates over all arguments, the command name first.
    pub fn args(&self) -> Args<'a> {
        let form = self.form();
        let rest = match form {
            Form::Multibulk => &self.frame[self.body as usize..],
            Form::Inline => self.frame,
        };
        Args {
            form,
            rest,
            left: self.argc(),
        }
    }
}

/// Iterator over the arguments of a [`Command`].
#[derive(Clone, Debug)]
pub struct Args<'a> {
    form: Form,
    rest: &'a [u8],
    left: usize,
}

impl<'a> Iterator for Args<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        let (arg, rest) = match self.form {
            // The frame was validated by `decode`: this cannot fail.
            Form::Multibulk => match next_bulk(self.rest, 0) {
                Ok(Step::Done((start, len), end)) => {
                    (&self.rest[start..start + len], &self.rest[end..])
                }
                _ => return None,
            },
            Form::Inline => next_word(self.rest)?,
        };
        self.rest = rest;
        Some(arg)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

impl ExactSizeIterator for Args<'_> {}

/// Result of decoding one element: done (value, end offset) or short of at
/// least that many bytes.
enum Step<T> {
    Done(T, usize),
    More(usize),
}

/// What is wrong with a malformed request.
#[derive(Clone, Copy, Debug)]
enum Bad {
    Count,
    BulkLen,
    Sigil(u8),
    Crlf,
    Inline,
}

/// A malformed request as the parsers report it: two words, so the hot
/// path moves no [`DecodeError`] around; converted on the way out.
#[derive(Clone, Copy, Debug)]
struct Malformed {
    bad: Bad,
    at: usize,
}

impl Malformed {
    #[cold]
    fn into_error(self) -> DecodeError {
        use DecodeErrorKind::{BadTag, Invalid};
        let (kind, field) = match self.bad {
            Bad::Count => (Invalid("invalid multibulk length"), "Command.count"),
            Bad::BulkLen => (Invalid("invalid bulk length"), "Command.arg.len"),
            Bad::Sigil(b) => (BadTag(b as u64), "Command.arg"),
            Bad::Crlf => (Invalid("expected CRLF after bulk data"), "Command.arg.data"),
            Bad::Inline => (Invalid("too big inline request"), "Command.inline"),
        };
        DecodeError::new(kind, field, self.at)
    }
}

fn malformed(bad: Bad, at: usize) -> Malformed {
    Malformed { bad, at }
}

/// Parses a decimal integer the way redis does (`string2ll`): an optional
/// `-`, no `+`, no spaces, no leading zeros, within `i64`.
pub fn parse_i64(s: &[u8]) -> Option<i64> {
    let (neg, digits) = match s {
        [b'-', rest @ ..] => (true, rest),
        _ => (false, s),
    };
    match digits {
        [] => return None,
        [b'0'] => return (!neg).then_some(0),
        [b'0', ..] => return None,
        _ => {}
    }
    let mut v: i64 = 0;
    for &d in digits {
        if !d.is_ascii_digit() {
            return None;
        }
        let d = (d - b'0') as i64;
        v = v.checked_mul(10)?;
        v = if neg {
            v.checked_sub(d)?
        } else {
            v.checked_add(d)?
        };
    }
    Some(v)
}

/// Parses the length line `<sigil><int>\r\n` whose sigil is at `at`, in one
/// pass: digits (at most [`MAX_LEN_DIGITS`], no leading zero) or `-1`-style
/// negatives. Returns the value and the offset after the `\n`.
#[inline(always)]
fn length_line(buf: &[u8], at: usize, bad: Bad) -> Result<Step<i64>, Malformed> {
    // Fast paths: one or two digits, as in nearly every length of a short request.
    if let Some(&[d @ b'0'..=b'9', b'\r', b'\n']) = buf.get(at + 1..at + 4) {
        return Ok(Step::Done((d - b'0') as i64, at + 4));
    }
    if let Some(&[d1 @ b'1'..=b'9', d2 @ b'0'..=b'9', b'\r', b'\n']) = buf.get(at + 1..at + 5) {
        return Ok(Step::Done(((d1 - b'0') * 10 + (d2 - b'0')) as i64, at + 5));
    }
    let mut i = at + 1;
    let neg = buf.get(i) == Some(&b'-');
    if neg {
        i += 1;
    }
    let first = i;
    let mut v: i64 = 0;
    loop {
        match buf.get(i) {
            None => return Ok(Step::More(1)),
            Some(&d) if d.is_ascii_digit() => {
                if i - first == MAX_LEN_DIGITS || (i > first && buf[first] == b'0') {
                    return Err(malformed(bad, at + 1));
                }
                v = v * 10 + (d - b'0') as i64;
            }
            Some(b'\r') if i > first => break,
            Some(_) => return Err(malformed(bad, at + 1)),
        }
        i += 1;
    }
    match buf.get(i + 1) {
        None => Ok(Step::More(1)),
        Some(b'\n') => Ok(Step::Done(if neg { -v } else { v }, i + 2)),
        Some(_) => Err(malformed(bad, at + 1)),
    }
}

/// Decodes one `$len\r\n<data>\r\n` at `at`: (data start, data length).
#[inline(always)]
fn next_bulk(buf: &[u8], at: usize) -> Result<Step<(usize, usize)>, Malformed> {
    let Some(&sigil) = buf.get(at) else {
        return Ok(Step::More(1));
    };
    if sigil != b'$' {
        return Err(malformed(Bad::Sigil(sigil), at));
    }
    let (len, start) = match length_line(buf, at, Bad::BulkLen)? {
        Step::More(n) => return Ok(Step::More(n)),
        Step::Done(len, start) => (len, start),
    };
    if len < 0 || len as u64 > MAX_BULK as u64 {
        return Err(malformed(Bad::BulkLen, at + 1));
    }
    let len = len as usize;
    let end = start + len;
    // Check as much of the CRLF as has arrived, so garbage fails early.
    let crlf = buf.get(end..buf.len().min(end + 2)).unwrap_or_default();
    if crlf != &b"\r\n"[..crlf.len()] {
        return Err(malformed(Bad::Crlf, end));
    }
    if crlf.len() < 2 {
        return Ok(Step::More(end + 2 - buf.len()));
    }
    Ok(Step::Done((start, len), end + 2))
}

/// Splits the next space- or tab-separated word off `line`.
fn next_word(line: &[u8]) -> Option<(&[u8], &[u8])> {
    let start = line.iter().position(|&b| b != b' ' && b != b'\t')?;
    let line = &line[start..];
    let end = line
        .iter()
        .position(|&b| b == b' ' || b == b'\t')
        .unwrap_or(line.len());
    Some((&line[..end], &line[end..]))
}

impl<'a> Command<'a> {
    fn decode_multibulk(buf: &'a [u8]) -> Result<Decoded<Command<'a>>, Malformed> {
        let (count, body) = match length_line(buf, 0, Bad::Count)? {
            Step::More(n) => return Ok(Decoded::Incomplete { needed: n }),
            Step::Done(count, next) => (count, next),
        };
        if count > MAX_ARGS as i64 {
            return Err(malformed(Bad::Count, 1));
        }
        let count = count.max(0) as usize;
        let mut head = [Span::default(); SPANS];
        let mut at = body;
        for i in 0..count {
            match next_bulk(buf, at)? {
                Step::More(n) => {
                    // Every argument still missing takes at least 6 bytes
                    // (`$0\r\n\r\n`); asking for them saves re-parsing.
                    let later = (count - i - 1).saturating_mul(6);
                    return Ok(Decoded::Incomplete {
                        needed: n.saturating_add(later),
                    });
                }
                Step::Done((start, len), end) => {
                    if let Some(slot) = head.get_mut(i) {
                        *slot = Span {
                            start: start as u32,
                            len: len as u32,
                        };
                    }
                    at = end;
                }
            }
        }
        Ok(Decoded::Complete {
            frame: Command {
                frame: &buf[..at],
                body: body as u32,
                argc: count as u32,
                head,
            },
            consumed: at,
        })
    }

    fn decode_inline(buf: &'a [u8]) -> Result<Decoded<Command<'a>>, Malformed> {
        let window = &buf[..buf.len().min(MAX_LINE + 1)];
        let Some(nl) = window.iter().position(|&b| b == b'\n') else {
            if window.len() > MAX_LINE {
                return Err(malformed(Bad::Inline, 0));
            }
            return Ok(Decoded::Incomplete { needed: 1 });
        };
        let line = match &buf[..nl] {
            [l @ .., b'\r'] => l,
            l => l,
        };
        let mut head = [Span::default(); SPANS];
        let mut argc = 0;
        let mut rest = line;
        while let Some((word, after)) = next_word(rest) {
            if argc < SPANS {
                head[argc] = Span {
                    start: (word.as_ptr() as usize - line.as_ptr() as usize) as u32,
                    len: word.len() as u32,
                };
            }
            argc += 1;
            rest = after;
        }
        Ok(Decoded::Complete {
            frame: Command {
                frame: line,
                body: INLINE,
                argc: argc as u32,
                head,
            },
            consumed: nl + 1,
        })
    }
}

impl<'a> Frame<'a> for Command<'a> {
    fn decode(buf: &'a [u8]) -> Result<Decoded<Self>, DecodeError> {
        match buf.first() {
            None => Ok(Decoded::Incomplete { needed: 1 }),
            Some(b'*') => Command::decode_multibulk(buf),
            Some(_) => Command::decode_inline(buf),
        }
        .map_err(Malformed::into_error)
    }

    /// Always the multibulk form (inline requests re-encode as multibulk).
    fn encoded_len(&self) -> usize {
        let mut n = 1 + digits(self.argc as u64) + 2;
        for a in self.args() {
            n += 1 + digits(a.len() as u64) + 2 + a.len() + 2;
        }
        n
    }

    fn encode(&self, out: &mut [u8]) {
        let mut pos = 0;
        let mut put = |bytes: &[u8]| {
            out[pos..pos + bytes.len()].copy_from_slice(bytes);
            pos += bytes.len();
        };
        let mut num = [0u8; 20];
        put(b"*");
        put(fmt_u64(self.argc as u64, &mut num));
        put(b"\r\n");
        for a in self.args() {
            put(b"$");
            put(fmt_u64(a.len() as u64, &mut num));
            put(b"\r\n");
            put(a);
            put(b"\r\n");
        }
    }
}

/// The text redis replies after `-ERR Protocol error: ` for a decode error.
pub fn protocol_error(e: &DecodeError) -> String {
    match e.kind() {
        DecodeErrorKind::BadTag(b) => {
            let c = char::from(*b as u8);
            if c.is_ascii_graphic() {
                format!("expected '$', got '{c}'")
            } else {
                format!("expected '$', got byte {b}")
            }
        }
        DecodeErrorKind::Invalid(why) => (*why).to_string(),
        _ => e.to_string(),
    }
}

// ---- integers ---------------------------------------------------------------

/// Number of decimal digits of `v`.
fn digits(mut v: u64) -> usize {
    let mut n = 1;
    while v >= 10 {
        v /= 10;
        n += 1;
    }
    n
}

/// Formats `v` in decimal into the end of `buf`; returns the digits.
pub fn fmt_u64(mut v: u64, buf: &mut [u8; 20]) -> &[u8] {
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            return &buf[i..];
        }
    }
}

/// Formats `v` in decimal (with a `-` if negative).
pub fn fmt_i64(v: i64, buf: &mut [u8; 21]) -> &[u8] {
    let mut digits = [0u8; 20];
    let d = fmt_u64(v.unsigned_abs(), &mut digits);
    let start = 21 - d.len();
    buf[start..].copy_from_slice(d);
    if v < 0 {
        buf[start - 1] = b'-';
        &buf[start - 1..]
    } else {
        &buf[start..]
    }
}

// ---- replies -----------------------------------------------------------------

/// `+OK\r\n`
pub const OK: &[u8] = b"+OK\r\n";
/// The null bulk string: a missing key.
pub const NIL: &[u8] = b"$-1\r\n";

/// Appends an error: `-msg\r\n`; CR and LF in `msg` become spaces.
pub fn error(out: &mut Vec<u8>, msg: &[u8]) {
    out.push(b'-');
    out.extend(msg.iter().map(|&b| match b {
        b'\r' | b'\n' => b' ',
        b => b,
    }));
    out.extend_from_slice(b"\r\n");
}

/// Appends an integer: `:n\r\n`.
pub fn int(out: &mut Vec<u8>, n: i64) {
    let mut buf = [0u8; 21];
    out.push(b':');
    out.extend_from_slice(fmt_i64(n, &mut buf));
    out.extend_from_slice(b"\r\n");
}

/// Appends the header of a bulk string of `len` bytes: `$len\r\n`.
pub fn bulk_header(out: &mut Vec<u8>, len: usize) {
    length_header(out, b'$', len);
}

/// Appends a bulk string: `$len\r\n<data>\r\n`.
pub fn bulk(out: &mut Vec<u8>, data: &[u8]) {
    bulk_header(out, data.len());
    out.extend_from_slice(data);
    out.extend_from_slice(b"\r\n");
}

/// Appends a bulk string, or the null bulk string for `None`.
pub fn opt_bulk(out: &mut Vec<u8>, data: Option<&[u8]>) {
    match data {
        Some(d) => bulk(out, d),
        None => out.extend_from_slice(NIL),
    }
}

/// Appends the header of an array of `n` elements: `*n\r\n`.
pub fn array(out: &mut Vec<u8>, n: usize) {
    length_header(out, b'*', n);
}

fn length_header(out: &mut Vec<u8>, sigil: u8, n: usize) {
    let mut buf = [0u8; 20];
    out.push(sigil);
    out.extend_from_slice(fmt_u64(n as u64, &mut buf));
    out.extend_from_slice(b"\r\n");
}
