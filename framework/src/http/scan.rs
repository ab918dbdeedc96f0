//! The fast request-head scanner: the common, strict form of a request
//! head, read in one pass without `httparse`.
//!
//! Almost every request a server sees is written the same way: a token
//! method, one space, an ASCII target, one space, `HTTP/1.1` or
//! `HTTP/1.0`, CRLF line ends, `name: value` fields of visible ASCII. For
//! such a head [`scan_head`] finds the same method, target, version and
//! fields as `httparse` would, for about a third of its instructions (no
//! UTF-8 validation of an ASCII target; a word at a time through targets
//! and values).
//!
//! Anything else (a partial head, leading empty lines, a bare LF, bytes
//! above 0x7f, obsolete line folding, an unknown version, too many
//! fields, or any error) makes it answer `None`, and the caller parses the
//! head with `httparse`, which says exactly what is wrong or that more
//! bytes are needed. So the scanner only ever accepts a subset of what
//! `httparse` accepts, and for that subset finds the same positions:
//! `suite/tests/http_head_scan.rs` checks this on generated heads, and a fuzz
//! target (`fuzz_targets/http_head_scan.rs`) on arbitrary bytes.

use super::head::HeaderSpan;

/// What the scanner found on the request line of a complete head.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Line {
    /// Bytes of the head, including the empty line that ends it.
    pub len: usize,
    /// Where the method lies in the buffer.
    pub method: (u32, u32),
    /// Where the target lies in the buffer (ASCII, so valid UTF-8).
    pub target: (u32, u32),
    /// `0` for HTTP/1.0, `1` for HTTP/1.1 (as `httparse` numbers them).
    pub minor: u8,
}

/// Scans the complete head at the start of `buf`, pushing one span per
/// header field onto `spans` (which must be empty); `None` (with `spans`
/// in any state) when the head is not in the strict form, is incomplete,
/// or has more than `max_headers` fields.
#[inline]
pub(crate) fn scan_head(
    buf: &[u8],
    max_headers: usize,
    spans: &mut Vec<HeaderSpan>,
) -> Option<Line> {
    // Offsets are u32 like the spans'; a head is far smaller.
    if buf.len() > u32::MAX as usize {
        return None;
    }
    // method SP
    let method_end = if buf.starts_with(b"GET ") {
        3
    } else {
        let i = token_end(buf, 0);
        if i == 0 || buf.get(i) != Some(&b' ') {
            return None;
        }
        i
    };
    // target SP: visible ASCII only (0x21..=0x7e).
    let t0 = method_end + 1;
    let t1 = find_outside(buf, t0, 0x21, 0x7e)?;
    if t1 == t0 || buf[t1] != b' ' {
        return None;
    }
    // version CRLF
    // Compared as one word and a pair (not byte by byte).
    let v: &[u8; 10] = buf.get(t1 + 1..t1 + 11)?.try_into().ok()?;
    let (name, crlf) = v.split_at(8);
    let name = u64::from_le_bytes(name.try_into().ok()?);
    let minor = if name == u64::from_le_bytes(*b"HTTP/1.1") {
        1
    } else if name == u64::from_le_bytes(*b"HTTP/1.0") {
        0
    } else {
        return None;
    };
    if crlf != b"\r\n" {
        return None;
    }
    let mut i = t1 + 11;
    loop {
        match buf.get(i..i + 2)? {
            b"\r\n" => break,
            _ if spans.len() == max_headers => return None,
            _ => {}
        }
        // name ":"
        let n0 = i;
        i = token_end(buf, i);
        if i == n0 || buf.get(i) != Some(&b':') {
            return None;
        }
        let n1 = i;
        i += 1;
        // OWS value OWS CRLF: tabs and visible ASCII, then CR LF.
        while matches!(buf.get(i), Some(b' ' | b'\t')) {
            i += 1;
        }
        let v0 = i;
        loop {
            i = find_outside(buf, i, 0x20, 0x7e)?;
            if buf[i] != b'\t' {
                break;
            }
            i += 1;
        }
        if buf[i] != b'\r' || buf.get(i + 1) != Some(&b'\n') {
            return None;
        }
        let mut v1 = i;
        while v1 > v0 && matches!(buf[v1 - 1], b' ' | b'\t') {
            v1 -= 1;
        }
        i += 2;
        spans.push(HeaderSpan::new(
            (n0 as u32, n1 as u32),
            (v0 as u32, v1 as u32),
        ));
    }
    Some(Line {
        len: i + 2,
        method: (0, method_end as u32),
        target: (t0 as u32, t1 as u32),
        minor,
    })
}

/// The end of the run of token bytes starting at `from`.
#[inline]
fn token_end(b: &[u8], from: usize) -> usize {
    let rest = b.get(from..).unwrap_or_default();
    from + rest
        .iter()
        .position(|&c| !TOKEN[c as usize])
        .unwrap_or(rest.len())
}

/// The first position at or after `from` whose byte lies outside
/// `lo..=hi` (both below 0x80), or `None` if every byte to the end lies
/// inside. Eight bytes at a time.
#[inline]
fn find_outside(b: &[u8], from: usize, lo: u8, hi: u8) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let below = ONES * u64::from(lo);
    let above = ONES * u64::from(0x7f - hi);
    let mut i = from;
    while let Some(chunk) = b.get(i..i + 8) {
        let mut word = [0; 8];
        word.copy_from_slice(chunk);
        let w = u64::from_le_bytes(word);
        // The high bit of a byte is set where it is below `lo` (a borrow
        // only reaches bytes above such a byte), where adding `0x7f - hi`
        // reaches 0x80 (above `hi`; a carry only reaches higher bytes), or
        // where it was set already: the lowest flagged byte is the first
        // one outside the range.
        let flags = (w.wrapping_sub(below) & !w | w.wrapping_add(above) | w) & HIGH;
        if flags != 0 {
            return Some(i + (flags.trailing_zeros() / 8) as usize);
        }
        i += 8;
    }
    (i..b.len()).find(|&j| !(lo..=hi).contains(&b[j]))
}

/// `tchar` (RFC 9110 §5.6.2) of every byte: methods and field names.
static TOKEN: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = super::body::is_tchar(i as u8);
        i += 1;
    }
    t
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn find_outside_finds_the_first() {
        let bytes: Vec<u8> = (0..=255u8).collect();
        for start in 0..bytes.len() {
            for len in 0..20 {
                let hay = &bytes[start..(start + len).min(256)];
                for (lo, hi) in [(0x21, 0x7e), (0x20, 0x7e)] {
                    let want = hay.iter().position(|b| !(lo..=hi).contains(b));
                    assert_eq!(find_outside(hay, 0, lo, hi), want, "{start} {len}");
                }
            }
        }
        // A flagged byte after an inside run, at every position of a word.
        for at in 0..17 {
            let mut hay = vec![b'a'; 17];
            for bad in [0x00, 0x1f, 0x20, 0x7f, 0x80, 0xff] {
                hay[at] = bad;
                assert_eq!(find_outside(&hay, 0, 0x21, 0x7e), Some(at));
                hay[at] = b'a';
            }
        }
    }

    #[test]
    fn scans_a_common_head() {
        let buf =
            b"GET /plaintext?x=1 HTTP/1.1\r\nHost: localhost \r\nX-A:\t\r\nX-B: a\tb\r\n\r\nrest";
        let mut spans = Vec::new();
        let line = scan_head(buf, 100, &mut spans).unwrap();
        assert_eq!(line.method, (0, 3));
        assert_eq!(
            &buf[line.target.0 as usize..line.target.1 as usize],
            b"/plaintext?x=1"
        );
        assert_eq!(line.minor, 1);
        assert_eq!(&buf[line.len..], b"rest");
        let fields: Vec<_> = spans.iter().map(|s| (s.name(buf), s.value(buf))).collect();
        assert_eq!(
            fields,
            [
                (&b"Host"[..], &b"localhost"[..]),
                (b"X-A", b""),
                (b"X-B", b"a\tb")
            ]
        );
    }

    #[test]
    fn leaves_the_uncommon_to_httparse() {
        for buf in [
            &b"GET / HTTP/1.1\r\nHost: a\r\n"[..],    // incomplete
            b"\r\nGET / HTTP/1.1\r\n\r\n",            // leading empty line
            b"GET / HTTP/1.1\nHost: a\n\n",           // bare LF
            b"GET /\xc3\xa9 HTTP/1.1\r\n\r\n",        // non-ASCII target
            b"GET / HTTP/1.1\r\nA: \xc3\xa9\r\n\r\n", // non-ASCII value
            b"GET / HTTP/2.0\r\n\r\n",                // version
            b"GET  / HTTP/1.1\r\n\r\n",               // two spaces
            b"GET / HTTP/1.1\r\nA : b\r\n\r\n",       // space before colon
            b"GET / HTTP/1.1\r\nA: b\r\n c\r\n\r\n",  // obsolete folding
            b"GET / HTTP/1.1\r\nA: b\rc\r\n\r\n",     // lone CR
            b"GET / HTTP/1.1\r\n: b\r\n\r\n",         // empty name
        ] {
            assert_eq!(scan_head(buf, 100, &mut Vec::new()), None, "{buf:?}");
        }
        let two = b"GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\n\r\n";
        assert!(scan_head(two, 2, &mut Vec::new()).is_some());
        assert_eq!(scan_head(two, 1, &mut Vec::new()), None);
    }
}
