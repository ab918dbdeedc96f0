//! A small, fast hash for byte-string keys, and the key-to-shard mapping.
//!
//! The std `HashMap` hasher (SipHash-1-3) costs more than everything else
//! a `GET` does on the store; this one mixes eight bytes per step with a
//! folded 64×64→128-bit multiply (the construction of foldhash/wyhash).
//! Each process seeds the per-worker maps randomly, so colliding keys
//! cannot be computed offline; it is not a cryptographic PRF, so a client
//! that can observe timings could still probe for collisions — the
//! trade-off redis makes too (its dict hash is SipHash, keyed per process).

use std::hash::{BuildHasher, Hasher};
use std::sync::OnceLock;

const K1: u64 = 0x243f_6a88_85a3_08d3;
const K2: u64 = 0x1319_8a2e_0370_7344;

/// Multiplies as 128 bits and folds the halves together.
#[inline]
fn fold_mul(a: u64, b: u64) -> u64 {
    let r = (a as u128).wrapping_mul(b as u128);
    (r as u64) ^ ((r >> 64) as u64)
}

#[inline]
fn read_u64(b: &[u8]) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&b[..8]);
    u64::from_le_bytes(w)
}

/// Hashes `bytes` with `seed`.
#[inline]
pub fn hash_bytes(seed: u64, bytes: &[u8]) -> u64 {
    let mut h = seed ^ (bytes.len() as u64).wrapping_mul(K1);
    let mut chunks = bytes.chunks_exact(8);
    for c in &mut chunks {
        h = fold_mul(h ^ read_u64(c), K2);
    }
    let tail = chunks.remainder();
    if !tail.is_empty() {
        let mut w = [0u8; 8];
        w[..tail.len()].copy_from_slice(tail);
        h = fold_mul(h ^ u64::from_le_bytes(w), K2);
    }
    fold_mul(h ^ K1, K2 ^ seed)
}

/// A [`Hasher`] over [`hash_bytes`]: keys are byte strings, which hash as
/// one length prefix and one `write` of their bytes.
#[derive(Clone, Copy, Debug)]
pub struct KeyHasher {
    seed: u64,
    h: u64,
}

impl Hasher for KeyHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        self.h = hash_bytes(self.seed ^ self.h, bytes);
    }

    #[inline]
    fn write_usize(&mut self, n: usize) {
        // The length prefix of a slice; `hash_bytes` mixes the length in
        // already, so only fold it in cheaply.
        self.h ^= n as u64;
    }

    #[inline]
    fn finish(&self) -> u64 {
        self.h
    }
}

/// Builds [`KeyHasher`]s with one random seed per map.
#[derive(Clone, Copy, Debug)]
pub struct KeyHash {
    seed: u64,
}

impl KeyHash {
    /// A randomly seeded builder.
    pub fn random() -> KeyHash {
        KeyHash {
            seed: std::collections::hash_map::RandomState::new().hash_one(0x6b76_u64),
        }
    }
}

impl BuildHasher for KeyHash {
    type Hasher = KeyHasher;
    #[inline]
    fn build_hasher(&self) -> KeyHasher {
        KeyHasher {
            seed: self.seed,
            h: 0,
        }
    }
}

/// The shard (worker index) that owns `key`, out of `shards`.
///
/// Uses one random seed per process, shared by all workers, independent of
/// the per-map seeds (so a shard's keys are not clustered in its map).
#[inline]
pub fn shard_of(key: &[u8], shards: usize) -> usize {
    static SEED: OnceLock<u64> = OnceLock::new();
    if shards <= 1 {
        return 0;
    }
    let seed = *SEED.get_or_init(|| KeyHash::random().seed ^ K2);
    // Multiply-shift maps the hash onto 0..shards without a division.
    ((hash_bytes(seed, key) as u128 * shards as u128) >> 64) as usize
}
