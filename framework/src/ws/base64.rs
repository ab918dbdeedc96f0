//! Base64 (RFC 4648 §4, standard alphabet, padded): encoding the
//! `Sec-WebSocket-Accept` digest and checking that a `Sec-WebSocket-Key`
//! decodes to 16 bytes.

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// The encoded length of `n` bytes.
pub(crate) const fn encoded_len(n: usize) -> usize {
    n.div_ceil(3) * 4
}

/// Encodes `data` into `out`, which must be exactly
/// [`encoded_len`]`(data.len())` long.
pub(crate) fn encode(data: &[u8], out: &mut [u8]) {
    assert_eq!(out.len(), encoded_len(data.len()), "base64 output length");
    for (chunk, o) in data.chunks(3).zip(out.chunks_exact_mut(4)) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        for (i, slot) in o.iter_mut().enumerate() {
            *slot = ALPHABET[(n >> (18 - 6 * i) & 63) as usize];
        }
        if chunk.len() < 3 {
            o[3] = b'=';
        }
        if chunk.len() < 2 {
            o[2] = b'=';
        }
    }
}

/// The value of one alphabet character.
fn value(c: u8) -> Option<u32> {
    Some(match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => return None,
    } as u32)
}

/// Decodes canonical padded base64 into `out`; returns the decoded length,
/// or `None` for anything else (bad characters or padding, nonzero unused
/// bits, `out` too short).
pub(crate) fn decode(text: &[u8], out: &mut [u8]) -> Option<usize> {
    if text.len() % 4 != 0 {
        return None;
    }
    let mut n = 0;
    let quads = text.len() / 4;
    for (q, quad) in text.chunks_exact(4).enumerate() {
        let pad = quad.iter().rev().take_while(|&&c| c == b'=').count();
        if pad > 2 || (pad > 0 && q + 1 != quads) {
            return None;
        }
        let mut v = 0u32;
        for &c in &quad[..4 - pad] {
            v = v << 6 | value(c)?;
        }
        v <<= 6 * pad as u32;
        let bytes = [(v >> 16) as u8, (v >> 8) as u8, v as u8];
        let keep = 3 - pad;
        // Canonical: the bits the padding drops are zero.
        if bytes[keep..].iter().any(|&b| b != 0) {
            return None;
        }
        out.get_mut(n..n + keep)?.copy_from_slice(&bytes[..keep]);
        n += keep;
    }
    Some(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(data: &[u8]) -> String {
        let mut out = vec![0; encoded_len(data.len())];
        encode(data, &mut out);
        String::from_utf8(out).unwrap()
    }

    fn dec(text: &str) -> Option<Vec<u8>> {
        let mut out = [0; 64];
        decode(text.as_bytes(), &mut out).map(|n| out[..n].to_vec())
    }

    /// RFC 4648 §10.
    #[test]
    fn rfc4648_vectors() {
        let cases = [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ];
        for (plain, coded) in cases {
            assert_eq!(enc(plain.as_bytes()), coded);
            assert_eq!(dec(coded).as_deref(), Some(plain.as_bytes()));
        }
    }

    #[test]
    fn rejects_what_is_not_canonical_base64() {
        for bad in ["Zg=", "Zg", "Z===", "Zh==", "Zm9v!A==", "Zg==Zg==", "=Zg="] {
            assert_eq!(dec(bad), None, "{bad}");
        }
        let all: Vec<u8> = (0..=255).collect();
        assert_eq!(dec(&enc(&all[..48])).as_deref(), Some(&all[..48]));
    }
}
