//! Decimal formatting of integers into a stack buffer, without `format!`.

/// Writes `n` in decimal into `buf`, returning the digits written (at the
/// end of `buf`). 20 bytes hold any `u64`.
pub(crate) fn fmt_u64(mut n: u64, buf: &mut [u8; 20]) -> &[u8] {
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    &buf[i..]
}

/// Appends `n` in decimal to `out`.
pub(crate) fn push_u64(out: &mut Vec<u8>, n: u64) {
    // Lengths and statuses are mostly short: up to four digits are written
    // as a fixed-size copy, without a loop.
    let d = |v: u64| b'0' + (v % 10) as u8;
    if n < 10 {
        out.push(d(n));
    } else if n < 100 {
        out.extend_from_slice(&[d(n / 10), d(n)]);
    } else if n < 1000 {
        out.extend_from_slice(&[d(n / 100), d(n / 10), d(n)]);
    } else if n < 10_000 {
        out.extend_from_slice(&[d(n / 1000), d(n / 100), d(n / 10), d(n)]);
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
            u32::MAX as u64,
            u64::MAX,
        ] {
            let mut v = Vec::new();
            push_u64(&mut v, n);
            assert_eq!(v, n.to_string().as_bytes());
            let mut b = [0u8; 20];
            assert_eq!(fmt_u64(n, &mut b), n.to_string().as_bytes());
            let mut h = [0u8; 18];
            assert_eq!(chunk_size_line(n, &mut h), format!("{n:x}\r\n").as_bytes());
        }
    }
}
