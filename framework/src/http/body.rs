//! Message body framing, shared by the server (request bodies) and the
//! client (response bodies): `Content-Length` values, the chunked transfer
//! coding decoder (RFC 9112 §6, §7.1), and the one body reader both sides
//! read bodies with, [`BodyReader`], over the connection's
//! [`Inbound`](crate::Inbound).
//!
//! The server- and client-specific parts of reading a body (limits, the
//! minimum rate, `100 Continue`, error types) come in through
//! [`BodySource`]; the framing rules do not differ.
//!
//! The chunked decoder is a byte-at-a-time state machine over whatever
//! slice it is given, so a chunk-size line, a CRLF or a trailer can be split
//! across receive buffers at any byte without reassembly; data bytes are
//! handed out as ranges of the input, never copied.
//!
//! ```text
//!  Size ─hex─► Size ─;─► Ext ─CR─► SizeLf ─LF─┬─(size > 0)─► Data ─► DataCr ─► DataLf ─► Size
//!    └─SP/HT─► SizeWs ─;─► Ext                └─(size = 0)─► TrailerStart
//!  TrailerStart ─CR─► EndLf ─LF─► Done
//!  TrailerStart ─name─► Trailer ─CR─► TrailerLf ─LF─► TrailerStart
//! ```

use super::Error;
use crate::conn::Tail;

/// How a request body is delimited.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BodyKind {
    /// No body (no `Content-Length`, no `Transfer-Encoding`, or length 0).
    Empty,
    /// `Content-Length: n` with `n > 0`.
    Length(u64),
    /// `Transfer-Encoding: chunked`.
    Chunked,
}

/// Parses one `Content-Length` field value into `acc`: a comma-separated
/// list whose members must all be the same decimal number (RFC 9110 §8.6:
/// `5, 5` is accepted as 5; `5, 6`, `+5`, `5 5`, `0x5` or an empty value
/// are malformed).
pub(crate) fn content_length(value: &[u8], acc: &mut Option<u64>) -> Result<(), Error> {
    const BAD: Error = Error::bad("invalid Content-Length");
    let mut any = false;
    for part in value.split(|&b| b == b',') {
        let part = trim_ows(part);
        if part.is_empty() {
            return Err(BAD);
        }
        let mut n: u64 = 0;
        for &b in part {
            if !b.is_ascii_digit() {
                return Err(BAD);
            }
            n = n
                .checked_mul(10)
                .and_then(|n| n.checked_add(u64::from(b - b'0')))
                .ok_or(BAD)?;
        }
        match *acc {
            Some(prev) if prev != n => return Err(Error::bad("differing Content-Length values")),
            _ => *acc = Some(n),
        }
        any = true;
    }
    if any {
        Ok(())
    } else {
        Err(BAD)
    }
}

/// Strips optional whitespace (SP, HTAB) from both ends.
pub(crate) fn trim_ows(mut s: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = s {
        s = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = s {
        s = rest;
    }
    s
}

/// Outcome of one [`ChunkedDecoder::decode`] call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChunkStep {
    /// Body bytes: `input[start..end]`; `consumed` (returned beside it) is
    /// `end`.
    Data {
        /// First data byte in the input.
        start: usize,
        /// One past the last data byte.
        end: usize,
    },
    /// All input was consumed as framing; give more.
    NeedMore,
    /// The last chunk and trailer section are complete; the body ended.
    Done,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Before/in the hex digits of a chunk size (`digits` seen so far).
    Size { digits: u8 },
    /// Whitespace after the size (only `;` or more whitespace may follow).
    SizeWs,
    /// In a chunk extension, up to the CR.
    Ext,
    /// Expecting the LF after a chunk-size line.
    SizeLf,
    /// In chunk data.
    Data,
    /// Expecting the CR after chunk data.
    DataCr,
    /// Expecting the LF after chunk data.
    DataLf,
    /// At the start of a trailer line (or of the final CRLF).
    TrailerStart,
    /// In a trailer field name.
    TrailerName,
    /// In a trailer field value, up to the CR.
    TrailerValue,
    /// Expecting the LF of a trailer line.
    TrailerLf,
    /// Expecting the LF of the final CRLF.
    EndLf,
    /// The body ended.
    Done,
}

/// Decoder of the chunked transfer coding. Feed it the bytes after the
/// request head, in any pieces.
///
/// ```
/// use corering::http::{ChunkedDecoder, ChunkStep};
/// let input = b"5;ext=1\r\nhello\r\n0\r\nX-Trailer: t\r\n\r\n";
/// let mut d = ChunkedDecoder::new(1024);
/// let (used, step) = d.decode(input).unwrap();
/// assert_eq!(step, ChunkStep::Data { start: 9, end: 14 });
/// let (_, step) = d.decode(&input[used..]).unwrap();
/// assert_eq!(step, ChunkStep::Done);
/// ```
#[derive(Clone, Debug)]
pub struct ChunkedDecoder {
    state: State,
    /// Size of the current chunk, then bytes of it still to come.
    remaining: u64,
    /// Bytes of chunk-size lines, extensions and trailers seen so far.
    framing: usize,
    max_framing: usize,
    /// Sum of the sizes of the chunks begun so far.
    declared: u64,
    max_body: u64,
}

/// Most hex digits in a chunk size, leading zeros included (16 fill a
/// `u64`; longer is only zeros in front, or a size too large anyway).
const MAX_SIZE_DIGITS: u8 = 32;

impl ChunkedDecoder {
    /// A decoder that allows at most `max_framing` bytes of chunk
    /// extensions and trailer fields in total (beyond that: `431`), and
    /// bodies of any size.
    pub fn new(max_framing: usize) -> ChunkedDecoder {
        ChunkedDecoder {
            state: State::Size { digits: 0 },
            remaining: 0,
            framing: 0,
            max_framing,
            declared: 0,
            max_body: u64::MAX,
        }
    }

    /// Limits the body to `bytes`: a chunk whose declared size alone takes
    /// the body past it is refused with `413` as soon as its size line says
    /// so, before any of its data (a size that does not fit a `u64` is
    /// refused the same way, whatever the limit).
    ///
    /// ```
    /// use corering::http::ChunkedDecoder;
    /// let mut d = ChunkedDecoder::new(1024).max_body(1 << 20);
    /// let e = d.decode(b"10000000000").unwrap_err(); // 1 TiB
    /// assert_eq!(e.status().as_u16(), 413);
    /// ```
    pub fn max_body(mut self, bytes: u64) -> ChunkedDecoder {
        self.max_body = bytes;
        self
    }

    /// True once the final chunk and trailers have been decoded.
    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// Decodes from `input`; returns how many bytes were consumed and what
    /// they held. Stops after each run of data bytes, so the caller can
    /// pass them on before decoding further.
    pub fn decode(&mut self, input: &[u8]) -> Result<(usize, ChunkStep), Error> {
        const BAD_SIZE: Error = Error::bad("invalid chunk size line");
        const BAD_END: Error = Error::bad("chunk data not followed by CRLF");
        const BAD_TRAILER: Error = Error::bad("invalid trailer field");
        let mut i = 0;
        while i < input.len() {
            if self.state == State::Data {
                let n =
                    (input.len() - i).min(usize::try_from(self.remaining).unwrap_or(usize::MAX));
                self.remaining -= n as u64;
                if self.remaining == 0 {
                    self.state = State::DataCr;
                }
                return Ok((
                    i + n,
                    ChunkStep::Data {
                        start: i,
                        end: i + n,
                    },
                ));
            }
            let b = input[i];
            i += 1;
            self.state = match self.state {
                State::Size { digits } => match hex(b) {
                    Some(v) if digits < MAX_SIZE_DIGITS => {
                        self.remaining = self.size_digit(v)?;
                        State::Size { digits: digits + 1 }
                    }
                    Some(_) => return Err(Error::bad("chunk size line too long")),
                    None if digits == 0 => return Err(BAD_SIZE),
                    None => match b {
                        b'\r' => State::SizeLf,
                        b';' => State::Ext,
                        b' ' | b'\t' => State::SizeWs,
                        _ => return Err(BAD_SIZE),
                    },
                },
                State::SizeWs => match b {
                    b' ' | b'\t' => State::SizeWs,
                    b';' => State::Ext,
                    _ => return Err(BAD_SIZE),
                },
                State::Ext => {
                    self.count_framing()?;
                    match b {
                        b'\r' => State::SizeLf,
                        b'\t' | b' '..=b'~' | 0x80..=0xff => State::Ext,
                        _ => return Err(Error::bad("invalid chunk extension")),
                    }
                }
                State::SizeLf => match b {
                    b'\n' if self.remaining == 0 => State::TrailerStart,
                    b'\n' => {
                        // `size_digit` kept this within the limit.
                        self.declared += self.remaining;
                        State::Data
                    }
                    _ => return Err(BAD_SIZE),
                },
                State::Data => unreachable!("handled above"),
                State::DataCr => match b {
                    b'\r' => State::DataLf,
                    _ => return Err(BAD_END),
                },
                State::DataLf => match b {
                    b'\n' => {
                        self.remaining = 0;
                        State::Size { digits: 0 }
                    }
                    _ => return Err(BAD_END),
                },
                State::TrailerStart => match b {
                    b'\r' => State::EndLf,
                    _ if is_tchar(b) => {
                        self.count_framing()?;
                        State::TrailerName
                    }
                    // Includes obs-fold (a line starting with SP/HTAB).
                    _ => return Err(BAD_TRAILER),
                },
                State::TrailerName => {
                    self.count_framing()?;
                    match b {
                        b':' => State::TrailerValue,
                        _ if is_tchar(b) => State::TrailerName,
                        _ => return Err(BAD_TRAILER),
                    }
                }
                State::TrailerValue => {
                    self.count_framing()?;
                    match b {
                        b'\r' => State::TrailerLf,
                        b'\t' | b' '..=b'~' | 0x80..=0xff => State::TrailerValue,
                        _ => return Err(BAD_TRAILER),
                    }
                }
                State::TrailerLf => match b {
                    b'\n' => State::TrailerStart,
                    _ => return Err(BAD_TRAILER),
                },
                State::EndLf => match b {
                    b'\n' => {
                        self.state = State::Done;
                        return Ok((i, ChunkStep::Done));
                    }
                    _ => return Err(Error::bad("chunked body not ended by CRLF")),
                },
                State::Done => return Ok((i - 1, ChunkStep::Done)),
            };
        }
        if self.state == State::Done {
            return Ok((i, ChunkStep::Done));
        }
        Ok((i, ChunkStep::NeedMore))
    }

    /// The chunk size with hex digit `v` appended, if the body stays
    /// within its limit.
    fn size_digit(&self, v: u8) -> Result<u64, Error> {
        const TOO_LARGE: Error = Error::new(
            super::Status::PAYLOAD_TOO_LARGE,
            "chunk size exceeds the body limit",
        );
        if self.remaining > u64::MAX >> 4 {
            return Err(TOO_LARGE);
        }
        let size = (self.remaining << 4) | u64::from(v);
        if size > self.max_body.saturating_sub(self.declared) {
            return Err(TOO_LARGE);
        }
        Ok(size)
    }

    fn count_framing(&mut self) -> Result<(), Error> {
        self.framing += 1;
        if self.framing > self.max_framing {
            return Err(Error::new(
                super::Status::REQUEST_HEADER_FIELDS_TOO_LARGE,
                "chunk extensions or trailers too large",
            ));
        }
        Ok(())
    }
}

/// How much of a message body is still to come.
#[derive(Debug)]
pub(crate) enum Remaining {
    /// `Content-Length`: this many bytes.
    Length(u64),
    /// The chunked coding.
    Chunked(ChunkedDecoder),
    /// Everything up to the end of the connection (responses only).
    UntilClose,
    /// The body has ended (or failed).
    Done,
}

/// What a [`BodyReader`] does when the buffered bytes run out, and how its
/// errors look: the server's (limits, minimum rate, `100 Continue`) or the
/// client's (deadline, pool).
pub(crate) trait BodySource {
    /// The error the reader fails with.
    type Error;
    /// Reads more bytes into `tail` ([`Tail::push`]), the body being at
    /// `rem` after `received` bytes; `Ok(false)` if the peer closed.
    async fn refill(
        &mut self,
        tail: &mut Tail<'_>,
        rem: &Remaining,
        received: u64,
    ) -> Result<bool, Self::Error>;
    /// Invalid framing.
    fn invalid(&self, e: Error) -> Self::Error;
    /// The peer closed with `rem` still to come.
    fn cut_short(&self, rem: &Remaining) -> Self::Error;
    /// The body went past the reader's limit.
    fn too_large(&self) -> Self::Error;
}

/// Reads one message body from the bytes after its head: in place, piece
/// by piece, by the framing rules of [`Remaining`].
///
/// A piece is left at the front of the input until the next call (so the
/// caller can keep borrowing it, and a whole body found in place stays
/// there); [`release`](BodyReader::release) consumes it.
#[derive(Debug)]
pub(crate) struct BodyReader {
    rem: Remaining,
    /// Bytes of the last piece, still at the front of the input.
    pending: usize,
    received: u64,
    max: u64,
}

impl BodyReader {
    /// A reader of a body framed as `rem`, failing past `max` bytes.
    #[inline]
    pub(crate) fn new(rem: Remaining, max: u64) -> BodyReader {
        BodyReader {
            rem,
            pending: 0,
            received: 0,
            max,
        }
    }

    /// True once the body has ended.
    #[inline]
    pub(crate) fn is_done(&self) -> bool {
        matches!(self.rem, Remaining::Done)
    }

    /// What is still to come.
    pub(crate) fn remaining(&self) -> &Remaining {
        &self.rem
    }

    /// Bytes of the last piece, still at the front of the input.
    pub(crate) fn pending(&self) -> usize {
        self.pending
    }

    /// Ends the body early (after an error: the framing is in doubt).
    pub(crate) fn abandon(&mut self) {
        self.rem = Remaining::Done;
    }

    /// Consumes the last piece returned from the input.
    #[inline]
    pub(crate) fn release(&mut self, tail: &mut Tail<'_>) {
        if self.pending > 0 {
            tail.consume(std::mem::take(&mut self.pending));
        }
    }

    /// The whole `Content-Length` body, if all of it is already at the
    /// front of the input and none of it has been read: its length (the
    /// body is then `tail.bytes()[..n]` until released).
    pub(crate) fn whole_in_place(&mut self, tail: &Tail<'_>) -> Option<usize> {
        let Remaining::Length(n) = self.rem else {
            return None;
        };
        if self.received != 0 || self.pending != 0 {
            return None;
        }
        let n = usize::try_from(n)
            .ok()
            .filter(|&n| n <= tail.bytes().len())?;
        self.received = n as u64;
        self.pending = n;
        self.rem = Remaining::Done;
        Some(n)
    }

    /// Reads the next piece of the body: `Ok(Some(n))` when it is
    /// `tail.bytes()[..n]`, `Ok(None)` at the end of the body. The previous
    /// piece is released first (not at the end: a body's last piece stays
    /// until [`release`](BodyReader::release)).
    pub(crate) async fn next<S: BodySource>(
        &mut self,
        tail: &mut Tail<'_>,
        src: &mut S,
    ) -> Result<Option<usize>, S::Error> {
        if self.is_done() {
            return Ok(None);
        }
        self.release(tail);
        loop {
            let avail = tail.bytes();
            let (used, piece) = match &mut self.rem {
                Remaining::Done => return Ok(None),
                _ if avail.is_empty() => (0, None),
                Remaining::Length(n) => {
                    let take = avail.len().min(usize::try_from(*n).unwrap_or(usize::MAX));
                    *n -= take as u64;
                    if *n == 0 {
                        self.rem = Remaining::Done;
                    }
                    (take, Some((0, take)))
                }
                Remaining::UntilClose => (avail.len(), Some((0, avail.len()))),
                Remaining::Chunked(d) => {
                    let (used, step) = d.decode(avail).map_err(|e| src.invalid(e))?;
                    match step {
                        ChunkStep::Data { start, end } => (used, Some((start, end))),
                        ChunkStep::Done => {
                            self.rem = Remaining::Done;
                            (used, None)
                        }
                        ChunkStep::NeedMore => (used, None),
                    }
                }
            };
            if let Some((s, e)) = piece {
                if e > s {
                    // Framing before the data is consumed; the data stays
                    // at the front until the next call.
                    tail.consume(s);
                    self.pending = e - s;
                    self.received += (e - s) as u64;
                    if self.received > self.max {
                        return Err(src.too_large());
                    }
                    return Ok(Some(e - s));
                }
            }
            tail.consume(used);
            if used > 0 || self.is_done() {
                continue;
            }
            if !src.refill(tail, &self.rem, self.received).await? {
                if matches!(self.rem, Remaining::UntilClose) {
                    self.rem = Remaining::Done;
                    return Ok(None);
                }
                return Err(src.cut_short(&self.rem));
            }
        }
    }
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// `tchar` of RFC 9110 §5.6.2.
pub(crate) const fn is_tchar(b: u8) -> bool {
    matches!(b,
        b'!' | b'#' | b'$' | b'%' | b'&' | b'\'' | b'*' | b'+' | b'-' | b'.' | b'^' | b'_'
        | b'`' | b'|' | b'~' | b'0'..=b'9' | b'a'..=b'z' | b'A'..=b'Z')
}

/// A `token` of RFC 9110 §5.6.2: one or more `tchar` (a field name, a
/// coding, a protocol name).
pub(crate) fn is_token(b: &[u8]) -> bool {
    !b.is_empty() && b.iter().copied().all(is_tchar)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Decodes `input` fed in pieces of `step` bytes; returns the body.
    fn decode_all(input: &[u8], step: usize) -> Result<(Vec<u8>, bool), Error> {
        let mut d = ChunkedDecoder::new(256);
        let mut body = Vec::new();
        let mut pos = 0;
        let mut end = step.min(input.len());
        loop {
            let (used, s) = d.decode(&input[pos..end])?;
            match s {
                ChunkStep::Data { start, end } => {
                    body.extend_from_slice(&input[pos + start..pos + end])
                }
                ChunkStep::Done => return Ok((body, true)),
                ChunkStep::NeedMore => {}
            }
            pos += used;
            if pos == end {
                if end == input.len() {
                    return Ok((body, false));
                }
                end = (end + step).min(input.len());
            }
        }
    }

    #[test]
    fn content_length_values() {
        let cl = |v: &[u8]| {
            let mut acc = None;
            content_length(v, &mut acc).map(|()| acc.unwrap())
        };
        assert_eq!(cl(b"0"), Ok(0));
        assert_eq!(cl(b"42"), Ok(42));
        assert_eq!(cl(b"5, 5"), Ok(5));
        assert_eq!(cl(b"18446744073709551615"), Ok(u64::MAX));
        for bad in [
            &b""[..],
            b" ",
            b"+5",
            b"-1",
            b"5 5",
            b"0x5",
            b"5,6",
            b"5,",
            b"18446744073709551616",
            b"1e3",
        ] {
            assert!(cl(bad).is_err(), "{:?}", String::from_utf8_lossy(bad));
        }
        let mut acc = Some(5);
        assert!(content_length(b"6", &mut acc).is_err());
    }

    #[test]
    fn chunked_any_split() {
        let input =
            b"5;name=value;x\r\nhello\r\nA\r\n0123456789\r\n0\r\nExpires: never\r\nX: y\r\n\r\n";
        for step in 1..input.len() {
            let (body, done) = decode_all(input, step).unwrap();
            assert!(done, "step {step}");
            assert_eq!(body, b"hello0123456789");
        }
    }

    #[test]
    fn chunked_consumes_exactly_the_body() {
        let input = b"3\r\nabc\r\n0\r\n\r\nGET / HTTP/1.1\r\n";
        let mut d = ChunkedDecoder::new(16);
        let (a, _) = d.decode(input).unwrap();
        let (b, s) = d.decode(&input[a..]).unwrap();
        assert_eq!(s, ChunkStep::Done);
        assert_eq!(&input[a + b..], b"GET / HTTP/1.1\r\n");
        assert!(d.is_done());
    }

    #[test]
    fn chunked_truncated_is_incomplete() {
        let (body, done) = decode_all(b"5\r\nhel", 100).unwrap();
        assert!(!done);
        assert_eq!(body, b"hel");
    }

    #[test]
    fn chunked_rejects_malformed() {
        for bad in [
            &b"\r\n"[..],
            b"x\r\n",
            b"-5\r\n",
            b"5\nhello\r\n",
            b"5 5\r\n",
            b"5\r\nhelloX",
            b"5\r\nhello\rX",
            b"11111111111111111\r\n",
            b"0\r\n bad\r\n\r\n",
            b"0\r\nBad Name: x\r\n\r\n",
            b"0\r\nX: a\x01b\r\n\r\n",
            b"0\r\nX: y\r\r\n",
            b"0\r\n\rX",
            b"1;a\x00b\r\n",
        ] {
            assert!(
                decode_all(bad, 100).is_err(),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn chunked_limits_framing_bytes() {
        let mut input = b"1;".to_vec();
        input.extend([b'a'; 300]);
        input.extend_from_slice(b"\r\nx\r\n0\r\n\r\n");
        let e = decode_all(&input, 7).unwrap_err();
        assert_eq!(e.status().as_u16(), 431);
    }

    #[test]
    fn chunked_hostile_bytes_split_anywhere_agree() {
        let alphabet = b"0123456789abcdefABCDEFxyz;= \t\r\n:\x00\x7f\xff";
        let mut rng = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..3000 {
            let len = (rng % 48) as usize;
            let mut v = Vec::new();
            for _ in 0..len {
                rng ^= rng << 13;
                rng ^= rng >> 7;
                rng ^= rng << 17;
                v.push(alphabet[(rng % alphabet.len() as u64) as usize]);
            }
            let whole = decode_all(&v, v.len().max(1)).map_err(|e| e.status());
            for step in 1..v.len() {
                let split = decode_all(&v, step).map_err(|e| e.status());
                assert_eq!(
                    split,
                    whole,
                    "{:?} step {step}",
                    String::from_utf8_lossy(&v)
                );
            }
        }
    }

    #[test]
    fn chunk_size_over_the_limit_is_413_before_its_line_ends() {
        for line in [&b"10000000000"[..], b"fffffffffffffffff", b"1000000"] {
            let mut d = ChunkedDecoder::new(16).max_body(1 << 20);
            let e = d.decode(line).unwrap_err();
            assert_eq!(
                e.status().as_u16(),
                413,
                "{:?}",
                String::from_utf8_lossy(line)
            );
        }
        // The limit counts all chunks: 0x80000 + 0x80000 fits, one more byte not.
        let mut d = ChunkedDecoder::new(16).max_body(1 << 20);
        let mut input = b"80000\r\n".to_vec();
        input.extend(std::iter::repeat_n(b'a', 0x80000));
        input.extend_from_slice(b"\r\n80000\r\n");
        let mut pos = 0;
        while pos < input.len() {
            pos += d.decode(&input[pos..]).unwrap().0;
        }
        let mut d2 = ChunkedDecoder::new(16).max_body((1 << 20) - 1);
        let mut pos = 0;
        let err = loop {
            match d2.decode(&input[pos..]) {
                Ok((n, _)) => pos += n,
                Err(e) => break e,
            }
        };
        assert_eq!(err.status().as_u16(), 413);
        // Leading zeros are no size.
        let mut d = ChunkedDecoder::new(16).max_body(8);
        let (_, s) = d.decode(b"000000000000000000000005\r\nhello").unwrap();
        assert_eq!(s, ChunkStep::Data { start: 26, end: 31 });
    }

    #[test]
    fn chunked_max_size() {
        let mut d = ChunkedDecoder::new(16);
        let (_, s) = d.decode(b"ffffffffffffffff\r\nab").unwrap();
        assert_eq!(s, ChunkStep::Data { start: 18, end: 20 });
    }
}
