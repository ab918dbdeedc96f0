//! Support code called by the `#[derive(Frame)]` expansion. Not a public
//! API: names and signatures change with the macro.
//!
//! Generated decoders are straight-line code over `(buf, pos)` that
//! propagates a [`Halt`] with `?`: either "need N more bytes" or an error.
//! [`finish`] turns that into the [`Decoded`] / [`DecodeError`] result of
//! [`Frame::decode`](super::Frame::decode). Nothing here allocates, except on an error path that
//! re-roots a nested frame's error path and in `Vec`/`String` fields.

use super::DecodeErrorKind;
pub use super::{DecodeError, Decoded};

/// Why a generated decoder stopped early.
#[derive(Debug)]
pub enum Halt {
    /// The buffer is a prefix: at least this many more bytes are needed.
    Need(usize),
    /// The bytes can never become a valid frame.
    Fail(DecodeError),
}

impl From<DecodeError> for Halt {
    #[inline]
    fn from(e: DecodeError) -> Halt {
        Halt::Fail(e)
    }
}

/// Result type of generated decoding steps.
pub type Step<T> = Result<T, Halt>;

/// Converts a generated decoder's outcome into `Frame::decode`'s.
#[inline]
pub fn finish<T>(r: Step<(T, usize)>) -> Result<Decoded<T>, DecodeError> {
    match r {
        Ok((frame, consumed)) => Ok(Decoded::Complete { frame, consumed }),
        Err(Halt::Need(needed)) => Ok(Decoded::Incomplete {
            needed: needed.max(1),
        }),
        Err(Halt::Fail(e)) => Err(e),
    }
}

#[cold]
fn fail(kind: DecodeErrorKind, path: &'static str, offset: usize) -> Halt {
    Halt::Fail(DecodeError::new(kind, path, offset))
}

/// Checks that `n` bytes are available at `pos`.
#[inline]
pub fn need(buf: &[u8], pos: usize, n: usize) -> Step<()> {
    let end = pos.saturating_add(n);
    if end > buf.len() {
        Err(Halt::Need(end - buf.len()))
    } else {
        Ok(())
    }
}

/// `N` bytes at `pos`; the caller has checked they are there.
#[inline]
pub fn arr<const N: usize>(buf: &[u8], pos: usize) -> [u8; N] {
    let mut a = [0u8; N];
    a.copy_from_slice(&buf[pos..pos + N]);
    a
}

/// `n` bytes at `pos`, or `Need`.
#[inline]
pub fn take(buf: &[u8], pos: usize, n: usize) -> Step<&[u8]> {
    need(buf, pos, n)?;
    Ok(&buf[pos..pos + n])
}

/// Container magic at `pos`, checked against as many bytes as have arrived
/// so that a wrong start fails at once rather than waiting for more. The
/// caller checks that all of it is there (with the fields that follow).
#[inline]
pub fn magic(buf: &[u8], pos: usize, magic: &[u8], path: &'static str) -> Step<()> {
    let have = &buf[pos.min(buf.len())..];
    let n = have.len().min(magic.len());
    if have[..n] != magic[..n] {
        return Err(fail(DecodeErrorKind::BadMagic, path, pos));
    }
    Ok(())
}

/// Fails with `BadMagic` unless `found == expected`.
#[inline]
pub fn expect<T: PartialEq + ?Sized>(
    found: &T,
    expected: &T,
    path: &'static str,
    pos: usize,
) -> Step<()> {
    if found == expected {
        Ok(())
    } else {
        Err(fail(DecodeErrorKind::BadMagic, path, pos))
    }
}

/// A `bool` byte: 0 or 1.
#[inline]
pub fn boolean(b: u8, path: &'static str, pos: usize) -> Step<bool> {
    match b {
        0 => Ok(false),
        1 => Ok(true),
        _ => Err(fail(
            DecodeErrorKind::Invalid("expected a bool (0 or 1)"),
            path,
            pos,
        )),
    }
}

/// UTF-8 check; the error offset is the first invalid byte.
#[inline]
pub fn utf8<'a>(b: &'a [u8], path: &'static str, pos: usize) -> Step<&'a str> {
    match std::str::from_utf8(b) {
        Ok(s) => Ok(s),
        Err(e) => Err(fail(DecodeErrorKind::BadUtf8, path, pos + e.valid_up_to())),
    }
}

/// A length or count read from the wire at `pos`, checked against `max`.
#[inline]
pub fn length(len: u64, max: Option<u64>, path: &'static str, pos: usize) -> Step<usize> {
    let limit = max.unwrap_or(usize::MAX as u64).min(usize::MAX as u64);
    if len > limit {
        return Err(fail(
            DecodeErrorKind::TooLong { len, max: limit },
            path,
            pos,
        ));
    }
    Ok(len as usize)
}

/// A vector for `count` elements, reserving no more than the bytes left
/// could hold (a hostile count cannot reserve gigabytes).
#[inline]
pub fn vec_for<T>(count: usize, buf: &[u8], pos: usize) -> Vec<T> {
    Vec::with_capacity(count.min(buf.len().saturating_sub(pos)))
}

/// Result of a nested frame's decode, re-rooted under `path` at `base`.
#[inline]
pub fn sub<T>(
    r: Result<Decoded<T>, DecodeError>,
    path: &'static str,
    base: usize,
) -> Step<(T, usize)> {
    match r {
        Ok(Decoded::Complete { frame, consumed }) => Ok((frame, consumed)),
        Ok(Decoded::Incomplete { needed }) => Err(Halt::Need(needed)),
        Err(e) => Err(Halt::Fail(e.reroot(path, base))),
    }
}

/// Unknown enum tag.
#[cold]
pub fn bad_tag(tag: u64, path: &'static str, pos: usize) -> Halt {
    fail(DecodeErrorKind::BadTag(tag), path, pos)
}

/// Copies `bytes` to `out[*pos..]`.
#[inline]
pub fn put(out: &mut [u8], pos: &mut usize, bytes: &[u8]) {
    out[*pos..*pos + bytes.len()].copy_from_slice(bytes);
    *pos += bytes.len();
}

/// A length to write into a length field or prefix of type `T`.
///
/// # Panics
/// If the length does not fit `T`: such a frame cannot be encoded.
#[inline]
pub fn len_as<T: TryFrom<usize>>(len: usize, data: &'static str, field: &'static str) -> T {
    match T::try_from(len) {
        Ok(v) => v,
        Err(_) => too_long_to_encode(len, data, field),
    }
}

#[cold]
#[inline(never)]
fn too_long_to_encode(len: usize, data: &'static str, field: &'static str) -> ! {
    panic!("cannot encode `{data}`: its length {len} does not fit the length field `{field}`")
}

// ---- line-oriented frames ------------------------------------------------

/// How a text line ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineEnd {
    /// CRLF; a bare LF is an error. Encoded as CRLF.
    Crlf,
    /// LF; a CR before it belongs to the line. Encoded as LF.
    Lf,
    /// LF or CRLF. Encoded as CRLF.
    Any,
}

impl LineEnd {
    /// The terminator written by `encode`.
    #[inline]
    pub fn bytes(self) -> &'static [u8] {
        match self {
            LineEnd::Lf => b"\n",
            LineEnd::Crlf | LineEnd::Any => b"\r\n",
        }
    }
}

/// Finds the end of the line at the start of `buf`: `(content_end,
/// consumed)`. Checks the magic word against what has arrived, waits for the
/// terminator, and fails if the line is longer than `max` bytes.
pub fn line(
    buf: &[u8],
    end: LineEnd,
    max: usize,
    magic_word: &[u8],
    path: &'static str,
) -> Step<(usize, usize)> {
    let n = buf.len().min(magic_word.len());
    if buf[..n] != magic_word[..n] {
        return Err(fail(DecodeErrorKind::BadMagic, path, 0));
    }
    // A valid line has at most `max` content bytes, then CR? LF.
    let window = match end {
        LineEnd::Lf => max.saturating_add(1),
        LineEnd::Crlf | LineEnd::Any => max.saturating_add(2),
    };
    let scan = &buf[..buf.len().min(window)];
    let Some(lf) = scan.iter().position(|&b| b == b'\n') else {
        if buf.len() >= window {
            let len = max.saturating_add(1) as u64;
            let kind = DecodeErrorKind::TooLong {
                len,
                max: max as u64,
            };
            return Err(fail(kind, path, 0));
        }
        return Err(Halt::Need(1));
    };
    let cr = lf > 0 && buf[lf - 1] == b'\r';
    let content = match end {
        LineEnd::Lf => lf,
        LineEnd::Any => lf - usize::from(cr),
        LineEnd::Crlf if cr => lf - 1,
        LineEnd::Crlf => {
            let kind = DecodeErrorKind::Invalid("line ends with a bare LF instead of CRLF");
            return Err(fail(kind, path, lf));
        }
    };
    if content > max {
        let kind = DecodeErrorKind::TooLong {
            len: content as u64,
            max: max as u64,
        };
        return Err(fail(kind, path, 0));
    }
    Ok((content, lf + 1))
}

/// Checks that the line has the full magic word at its start.
#[inline]
pub fn magic_word(line: &[u8], magic: &[u8], path: &'static str) -> Step<usize> {
    if line.starts_with(magic) {
        Ok(magic.len())
    } else {
        Err(fail(DecodeErrorKind::BadMagic, path, 0))
    }
}

/// Consumes the single space before the next field of a line.
#[inline]
pub fn space(line: &[u8], pos: &mut usize, path: &'static str) -> Step<()> {
    match line.get(*pos) {
        Some(b' ') => {
            *pos += 1;
            Ok(())
        }
        None => Err(fail(
            DecodeErrorKind::Invalid("missing field at the end of the line"),
            path,
            *pos,
        )),
        Some(_) => Err(fail(
            DecodeErrorKind::Invalid("expected a space before the field"),
            path,
            *pos,
        )),
    }
}

/// The word starting at `*pos` (up to the next space or the end of the
/// line); advances past it.
#[inline]
pub fn word<'a>(line: &'a [u8], pos: &mut usize) -> &'a [u8] {
    let rest = &line[*pos..];
    let n = rest.iter().position(|&b| b == b' ').unwrap_or(rest.len());
    *pos += n;
    &rest[..n]
}

/// Fails unless the whole line has been used.
#[inline]
pub fn line_done(line: &[u8], pos: usize, path: &'static str) -> Step<()> {
    if pos == line.len() {
        Ok(())
    } else {
        Err(fail(
            DecodeErrorKind::Invalid("unexpected bytes after the last field"),
            path,
            pos,
        ))
    }
}

/// A decimal integer word.
#[inline]
pub fn dec<T: Decimal>(word: &[u8], path: &'static str, pos: usize) -> Step<T> {
    T::parse_dec(word).map_err(|why| fail(DecodeErrorKind::Invalid(why), path, pos))
}

/// True if `b` decodes back as one space-separated word. (A CR is data
/// unless it is right before the LF, and the decoder strips only one.)
#[inline]
pub fn is_word(b: &[u8]) -> bool {
    !b.iter().any(|&c| matches!(c, b' ' | b'\n'))
}

/// True if `b` decodes back as the rest of a line.
#[inline]
pub fn is_rest(b: &[u8]) -> bool {
    !b.contains(&b'\n')
}

/// Integers written as decimal text in line frames.
pub trait Decimal: Copy {
    /// Parses ASCII digits (with a leading `-` for signed types).
    fn parse_dec(b: &[u8]) -> Result<Self, &'static str>;
    /// Number of bytes `write_dec` writes.
    fn dec_len(self) -> usize;
    /// Writes the decimal form at `out[*pos..]`.
    fn write_dec(self, out: &mut [u8], pos: &mut usize);
}

const NOT_DEC: &str = "expected a decimal integer";
const RANGE: &str = "integer out of range";

fn digits(mut v: u128, out: &mut [u8], pos: &mut usize) {
    let mut tmp = [0u8; 40];
    let mut i = tmp.len();
    loop {
        i -= 1;
        tmp[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    put(out, pos, &tmp[i..]);
}

fn digit_count(mut v: u128) -> usize {
    let mut n = 1;
    while v >= 10 {
        v /= 10;
        n += 1;
    }
    n
}

macro_rules! decimal_unsigned {
    ($($t:ty)*) => {$(
        impl Decimal for $t {
            fn parse_dec(b: &[u8]) -> Result<Self, &'static str> {
                if b.is_empty() {
                    return Err(NOT_DEC);
                }
                let mut v: $t = 0;
                for &c in b {
                    if !c.is_ascii_digit() {
                        return Err(NOT_DEC);
                    }
                    v = v
                        .checked_mul(10)
                        .and_then(|v| v.checked_add((c - b'0') as $t))
                        .ok_or(RANGE)?;
                }
                Ok(v)
            }
            fn dec_len(self) -> usize {
                digit_count(self as u128)
            }
            fn write_dec(self, out: &mut [u8], pos: &mut usize) {
                digits(self as u128, out, pos)
            }
        }
    )*};
}

macro_rules! decimal_signed {
    ($($t:ty)*) => {$(
        impl Decimal for $t {
            fn parse_dec(b: &[u8]) -> Result<Self, &'static str> {
                let (neg, ds) = match b.split_first() {
                    Some((b'-', ds)) => (true, ds),
                    _ => (false, b),
                };
                if ds.is_empty() {
                    return Err(NOT_DEC);
                }
                let mut v: $t = 0;
                for &c in ds {
                    if !c.is_ascii_digit() {
                        return Err(NOT_DEC);
                    }
                    let d = (c - b'0') as $t;
                    // Accumulate on the negative side so MIN parses.
                    v = v
                        .checked_mul(10)
                        .and_then(|v| if neg { v.checked_sub(d) } else { v.checked_add(d) })
                        .ok_or(RANGE)?;
                }
                Ok(v)
            }
            fn dec_len(self) -> usize {
                usize::from(self < 0) + digit_count(self.unsigned_abs() as u128)
            }
            fn write_dec(self, out: &mut [u8], pos: &mut usize) {
                if self < 0 {
                    put(out, pos, b"-");
                }
                digits(self.unsigned_abs() as u128, out, pos)
            }
        }
    )*};
}

decimal_unsigned!(u8 u16 u32 u64 u128);
decimal_signed!(i8 i16 i32 i64 i128);

/// The value of a `max = ...` setting, of any integer type.
#[inline]
pub fn max_of<T: TryInto<u64>>(m: T) -> Option<u64> {
    Some(m.try_into().unwrap_or(u64::MAX))
}

/// The value of a line frame's `max = ...` setting.
#[inline]
pub fn line_max<T: TryInto<usize>>(m: T) -> usize {
    m.try_into().unwrap_or(usize::MAX)
}
