//! Decimal formatting of integers into a stack buffer, without `format!`.

/// The two-digit decimal strings `00` to `99`, back to back: a pair of
/// digits costs one division and one two-byte copy instead of two
/// divisions.
const PAIRS: &[u8; 200] = b"\
0001020304050607080910111213141516171819\
2021222324252627282930313233343536373839\
4041424344454647484950515253545556575859\
6061626364656667686970717273747576777879\
8081828384858687888990919293949596979899";

/// The two digits of `n` (below 100).
#[inline(always)]
fn pair(n: u64) -> [u8; 2] {
    let i = n as usize * 2;
    [PAIRS[i], PAIRS[i + 1]]
}

/// Writes `n` in decimal into `buf`, returning the digits written (at the
/// end of `buf`). 20 bytes hold any `u64`.
///
/// Two digits per step (one division by 100 and a table lookup), so a
/// ten-digit number takes five steps rather than ten.
pub(crate) fn fmt_u64(mut n: u64, buf: &mut [u8; 20]) -> &[u8] {
    let mut i = buf.len();
    while n >= 100 {
        i -= 2;
        buf[i..i + 2].copy_from_slice(&pair(n % 100));
        n /= 100;
    }
    if n >= 10 {
        i -= 2;
        buf[i..i + 2].copy_from_slice(&pair(n));
    } else {
        i -= 1;
        buf[i] = b'0' + n as u8;
    }
    &buf[i..]
}

/// Writes `n` (below `10^N`) as exactly `N` digits, zero-padded, two at a
/// time: fixed-width fields (milliseconds, microseconds, a status code)
/// without a loop whose length depends on `n`.
#[inline]
pub(crate) fn fixed<const N: usize>(mut n: u64) -> [u8; N] {
    let mut out = [b'0'; N];
    let mut i = N;
    while i >= 2 {
        i -= 2;
        out[i..i + 2].copy_from_slice(&pair(n % 100));
        n /= 100;
    }
    if i == 1 {
        out[0] = b'0' + (n % 10) as u8;
    }
    out
}

/// Appends `n` in decimal to `out`.
#[inline]
pub(crate) fn push_u64(out: &mut Vec<u8>, n: u64) {
    // Lengths and statuses are mostly short: up to four digits are written
    // as a fixed-size copy, from the pair table.
    if n < 10 {
        out.push(b'0' + n as u8);
    } else if n < 100 {
        out.extend_from_slice(&pair(n));
    } else if n < 1000 {
        out.extend_from_slice(&fixed::<3>(n));
    } else if n < 10_000 {
        out.extend_from_slice(&fixed::<4>(n));
    } else {
        let mut buf = [0u8; 20];
        out.extend_from_slice(fmt_u64(n, &mut buf));
    }
}

/// Writes `n` in lowercase hex into `buf`, returning the digits written
/// (at the end of `buf`). 16 bytes hold any `u64`.
pub(crate) fn fmt_hex(n: u64, buf: &mut [u8; 16]) -> &[u8] {
    let start = hex_ending_at(n, buf, 16);
    &buf[start..]
}

/// Writes `n` in lowercase hex followed by CRLF (a chunk-size line) into
/// `buf`, returning the bytes written.
pub(crate) fn chunk_size_line(n: u64, buf: &mut [u8; 18]) -> &[u8] {
    buf[16] = b'\r';
    buf[17] = b'\n';
    let start = hex_ending_at(n, buf, 16);
    &buf[start..]
}

/// Writes `n`'s hex digits into `buf` so that they end just before
/// `end`; returns where they start.
#[inline]
fn hex_ending_at(mut n: u64, buf: &mut [u8], end: usize) -> usize {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut i = end;
    loop {
        i -= 1;
        buf[i] = HEX[(n & 15) as usize];
        n >>= 4;
        if n == 0 {
            break;
        }
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_digits() {
        let mut h = [0; 16];
        assert_eq!(fmt_hex(0x1f, &mut h), b"1f");
        assert_eq!(fmt_hex(0, &mut h), b"0");
        assert_eq!(fmt_hex(u64::MAX, &mut h).len(), 16);
        let mut line = [0; 18];
        assert_eq!(chunk_size_line(0x1f, &mut line), b"1f\r\n");
        assert_eq!(chunk_size_line(0, &mut line), b"0\r\n");
    }

    #[test]
    fn formats_like_display() {
        for n in [
            0u64,
            1,
            9,
            10,
            99,
            100,
            999,
            1000,
            9999,
            10_000,
            12345,
            100_000,
            999_999,
            1_000_000,
            1_764_768_314,
            u32::MAX as u64,
            u64::MAX,
        ] {
            let mut v = Vec::new();
            push_u64(&mut v, n);
            assert_eq!(v, n.to_string().as_bytes());
            let mut b = [0u8; 20];
            assert_eq!(fmt_u64(n, &mut b), n.to_string().as_bytes());
            if n < 1_000_000 {
                assert_eq!(fixed::<6>(n), format!("{n:06}").as_bytes());
            }
            let mut h = [0u8; 18];
            assert_eq!(chunk_size_line(n, &mut h), format!("{n:x}\r\n").as_bytes());
        }
    }
}
