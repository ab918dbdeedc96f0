//! Random bytes for the client side: the handshake's `Sec-WebSocket-Key`
//! and the masking key of every frame a client sends (RFC 6455 §5.3,
//! §10.3).
//!
//! The kernel is asked once per process (`getrandom(2)`, else
//! `/dev/urandom`, else the clock and addresses as a last resort) for a
//! 256-bit seed; each thread then runs its own small generator
//! (wyrand) seeded from it and from a per-thread counter, so a masking
//! key costs a few instructions and no system call. Masking keys only
//! have to be unpredictable to the page script behind a browser's
//! socket, which cannot see this process's seed.

use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

/// The process's seed, from the kernel.
fn process_seed() -> [u64; 4] {
    static SEED: OnceLock<[u64; 4]> = OnceLock::new();
    *SEED.get_or_init(|| {
        let mut bytes = [0u8; 32];
        if !os_random(&mut bytes) {
            // No kernel randomness at all (a sandbox): mix what differs
            // between runs. Weak, but masking keys still vary.
            let t = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos() as u64);
            let a = &bytes as *const _ as u64;
            bytes[..8].copy_from_slice(&t.to_le_bytes());
            bytes[8..16].copy_from_slice(&a.to_le_bytes());
            bytes[16..24].copy_from_slice(&u64::from(std::process::id()).to_le_bytes());
        }
        let mut out = [0u64; 4];
        for (o, c) in out.iter_mut().zip(bytes.chunks_exact(8)) {
            *o = u64::from_le_bytes(c.try_into().unwrap_or_default());
        }
        out
    })
}

/// Fills `buf` from the kernel: `getrandom(2)`, else `/dev/urandom`.
fn os_random(buf: &mut [u8]) -> bool {
    let mut filled = 0;
    while filled < buf.len() {
        let rest = &mut buf[filled..];
        // SAFETY: `rest` is valid for writes of `rest.len()` bytes for the
        // whole call; getrandom writes at most that many.
        let n = unsafe { libc::getrandom(rest.as_mut_ptr().cast(), rest.len(), 0) };
        if n > 0 {
            filled += n as usize;
        } else if std::io::Error::last_os_error().kind() != std::io::ErrorKind::Interrupted {
            break;
        }
    }
    if filled == buf.len() {
        return true;
    }
    use std::io::Read;
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(buf))
        .is_ok()
}

/// splitmix64: spreads a seed's bits (for seeding each thread).
fn splitmix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

thread_local! {
    /// This thread's wyrand state (0: not seeded yet).
    static STATE: Cell<u64> = const { Cell::new(0) };
}

/// A fresh state for this thread: the process seed mixed with a counter
/// no two threads share.
fn thread_seed() -> u64 {
    static THREADS: AtomicU64 = AtomicU64::new(0);
    let s = process_seed();
    let n = THREADS.fetch_add(1, Ordering::Relaxed);
    let x = splitmix(s[0] ^ splitmix(n ^ s[1])) ^ splitmix(s[2].wrapping_add(n)) ^ s[3];
    x | 1
}

/// 64 random bits (wyrand on this thread's state).
pub(crate) fn next_u64() -> u64 {
    STATE.with(|st| {
        let mut s = st.get();
        if s == 0 {
            s = thread_seed();
        }
        s = s.wrapping_add(0xA076_1D64_78BD_642F);
        st.set(s);
        let t = u128::from(s) * u128::from(s ^ 0xE703_7ED1_A0B4_28DB);
        ((t >> 64) as u64) ^ (t as u64)
    })
}

/// A frame's masking key.
#[inline]
pub(crate) fn mask_key() -> [u8; 4] {
    (next_u64() as u32).to_ne_bytes()
}

/// The 16 random bytes of a `Sec-WebSocket-Key`.
pub(crate) fn nonce() -> [u8; 16] {
    let mut out = [0; 16];
    out[..8].copy_from_slice(&next_u64().to_le_bytes());
    out[8..].copy_from_slice(&next_u64().to_le_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_kernel_gives_bytes() {
        let mut a = [0u8; 32];
        let mut b = [0u8; 32];
        assert!(os_random(&mut a) && os_random(&mut b));
        assert_ne!(a, b);
    }

    #[test]
    fn keys_differ_between_calls_and_threads() {
        let mine: Vec<[u8; 16]> = (0..100).map(|_| nonce()).collect();
        let theirs: Vec<[u8; 16]> = std::thread::spawn(|| (0..100).map(|_| nonce()).collect())
            .join()
            .unwrap();
        let mut all = mine.clone();
        all.extend(theirs);
        all.sort();
        all.dedup();
        assert_eq!(all.len(), 200);
        // Every bit position takes both values over a few hundred keys.
        let (mut ones, mut zeros) = (0u32, 0u32);
        for _ in 0..256 {
            let k = u32::from_ne_bytes(mask_key());
            ones |= k;
            zeros |= !k;
        }
        assert_eq!((ones, zeros), (u32::MAX, u32::MAX));
    }
}
