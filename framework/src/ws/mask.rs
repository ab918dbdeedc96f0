//! Masking (RFC 6455 §5.3): every byte of a client's payload is XORed
//! with the 4-byte key of its frame. The server unmasks in place, eight
//! bytes at a time; the client masks while copying a payload into the
//! connection's send buffers ([`mask_copy`]), so sending costs one pass.

/// XORs `buf` with `key`, where `buf` starts `offset` bytes into the
/// frame's payload (so a payload unmasked in pieces gives the same result
/// as unmasked whole). Applying it twice gives the bytes back.
///
/// ```
/// use corering::ws::frame::apply_mask;
/// let mut data = *b"Hello";
/// apply_mask(&mut data, [0x37, 0xfa, 0x21, 0x3d], 0);
/// assert_eq!(data, [0x7f, 0x9f, 0x4d, 0x51, 0x58]); // RFC 6455 §5.7
/// apply_mask(&mut data[..2], [0x37, 0xfa, 0x21, 0x3d], 0);
/// apply_mask(&mut data[2..], [0x37, 0xfa, 0x21, 0x3d], 2);
/// assert_eq!(&data, b"Hello");
/// ```
#[inline]
pub fn apply_mask(buf: &mut [u8], key: [u8; 4], offset: usize) {
    let mut key = key;
    key.rotate_left(offset % 4);
    let wide = u64::from_ne_bytes([
        key[0], key[1], key[2], key[3], key[0], key[1], key[2], key[3],
    ]);
    let mut words = buf.chunks_exact_mut(8);
    for w in &mut words {
        let v = u64::from_ne_bytes([w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]]) ^ wide;
        w.copy_from_slice(&v.to_ne_bytes());
    }
    // Whole words keep the key's phase: the rest starts at key[0].
    for (i, b) in words.into_remainder().iter_mut().enumerate() {
        *b ^= key[i % 4];
    }
}

/// Copies `src` into `dst` (the same length) XORed with `key`, from the
/// payload's start: one pass, eight bytes at a time.
#[inline]
pub(crate) fn mask_copy(dst: &mut [u8], src: &[u8], key: [u8; 4]) {
    debug_assert_eq!(dst.len(), src.len());
    let wide = u64::from_ne_bytes([
        key[0], key[1], key[2], key[3], key[0], key[1], key[2], key[3],
    ]);
    let mut d = dst.chunks_exact_mut(8);
    let mut s = src.chunks_exact(8);
    for (d, s) in (&mut d).zip(&mut s) {
        let v = u64::from_ne_bytes([s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7]]) ^ wide;
        d.copy_from_slice(&v.to_ne_bytes());
    }
    for (i, (d, s)) in d.into_remainder().iter_mut().zip(s.remainder()).enumerate() {
        *d = s ^ key[i % 4];
    }
}

/// Appends `src` to `dst` XORed with `key`, where `src` starts `offset`
/// bytes into the frame's payload: reassembly copies and unmasks in one
/// pass, eight bytes at a time, without zeroing `dst`'s new room first.
#[inline]
pub(crate) fn mask_extend(dst: &mut Vec<u8>, src: &[u8], key: [u8; 4], offset: usize) {
    let mut key = key;
    key.rotate_left(offset % 4);
    let wide = u64::from_ne_bytes([
        key[0], key[1], key[2], key[3], key[0], key[1], key[2], key[3],
    ]);
    dst.reserve(src.len());
    let start = dst.len();
    let out = &mut dst.spare_capacity_mut()[..src.len()];
    let mut d = out.chunks_exact_mut(8);
    let mut s = src.chunks_exact(8);
    for (d, s) in (&mut d).zip(&mut s) {
        let v = u64::from_ne_bytes([s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7]]) ^ wide;
        for (d, b) in d.iter_mut().zip(v.to_ne_bytes()) {
            d.write(b);
        }
    }
    // Whole words keep the key's phase: the rest starts at key[0].
    for (i, (d, s)) in d.into_remainder().iter_mut().zip(s.remainder()).enumerate() {
        d.write(s ^ key[i % 4]);
    }
    // SAFETY: the loops above wrote every one of the `src.len()` bytes
    // after `start` (the two iterators cover `out`, which is exactly that
    // long), and `reserve` made the capacity for them.
    unsafe { dst.set_len(start + src.len()) };
}

#[cfg(test)]
mod tests {
    use super::{apply_mask, mask_copy, mask_extend};

    #[test]
    fn mask_extend_is_extend_then_mask_at_any_offset() {
        let key = [0xde, 0xad, 0xbe, 0xef];
        let data: Vec<u8> = (0..100u32).map(|i| (i * 31) as u8).collect();
        for offset in 0..8 {
            for len in 0..data.len() {
                let mut want = vec![1, 2, 3];
                want.extend_from_slice(&data[..len]);
                apply_mask(&mut want[3..], key, offset);
                let mut got = vec![1, 2, 3];
                mask_extend(&mut got, &data[..len], key, offset);
                assert_eq!(got, want, "offset {offset} len {len}");
            }
        }
    }

    #[test]
    fn mask_copy_is_copy_then_mask() {
        let key = [0xde, 0xad, 0xbe, 0xef];
        let data: Vec<u8> = (0..100u32).map(|i| (i * 31) as u8).collect();
        for len in 0..data.len() {
            let mut want = data[..len].to_vec();
            apply_mask(&mut want, key, 0);
            let mut got = vec![0; len];
            mask_copy(&mut got, &data[..len], key);
            assert_eq!(got, want, "len {len}");
        }
    }

    #[test]
    fn same_as_byte_by_byte_at_any_offset_and_length() {
        let key = [0x12, 0x34, 0x56, 0x78];
        let data: Vec<u8> = (0..200u32).map(|i| (i * 7) as u8).collect();
        for offset in 0..8 {
            for len in 0..40 {
                let mut fast = data[..len].to_vec();
                apply_mask(&mut fast, key, offset);
                let slow: Vec<u8> = data[..len]
                    .iter()
                    .enumerate()
                    .map(|(i, b)| b ^ key[(i + offset) % 4])
                    .collect();
                assert_eq!(fast, slow, "offset {offset} len {len}");
            }
        }
        // Unaligned start inside a larger buffer.
        let mut buf = data.clone();
        apply_mask(&mut buf[3..], key, 0);
        for (i, (a, b)) in buf[3..].iter().zip(&data[3..]).enumerate() {
            assert_eq!(*a, b ^ key[i % 4]);
        }
    }
}
