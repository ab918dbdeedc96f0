//! permessage-deflate codec cost: corering's `ws::deflate::{Deflater,
//! Inflater}` (zlib-rs) on JSON-like chat messages of 512 B and
//! 16 KiB, one connection's worth of state, every message through both.
//!
//! Run with `cargo bench --bench ws_deflate` (`-- --secs N` per case,
//! default 1). For each level, window, context-takeover setting and
//! memLevel it prints the compressed/original ratio and the ns per message to compress
//! and to decompress (median of 3 runs), then how long a 1 MB zip bomb of
//! 1 GiB takes to be refused at the default 16 MiB limit.
//!
//! The comparison that chose zlib-rs over miniz_oxide (build time and
//! throughput of each, both through flate2) is `benches/deflate_backends`,
//! a package of its own: `cargo run --release --manifest-path benches/deflate_backends/Cargo.toml
//! --features zlib-rs` (or `--features miniz`).

use std::hint::black_box;
use std::time::{Duration, Instant};

use corering::ws::deflate::{DeflateConfig, Deflater, Inflater, DEFAULT_MEM_LEVEL};

fn json(n: usize, seed: u64) -> Vec<u8> {
    let mut s = String::from("[");
    let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    let mut i = 0;
    while s.len() < n {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        s.push_str(&format!(
            "{{\"id\":{i},\"user\":\"user{}\",\"text\":\"message number {i} from the chat\",\"ts\":{},\"ok\":{}}},",
            (x >> 40) % 1000,
            1_700_000_000 + (x >> 33) % 100_000,
            (x >> 20) & 1 == 1
        ));
        i += 1;
    }
    let mut v = s.into_bytes();
    v.truncate(n);
    v
}

/// ns per message for `f` run over `msgs` for about `secs`.
fn time_per_msg(secs: f64, n_msgs: usize, mut f: impl FnMut(usize)) -> f64 {
    let mut runs = Vec::new();
    for _ in 0..3 {
        let t = Instant::now();
        let mut done = 0;
        while t.elapsed().as_secs_f64() < secs / 3.0 {
            for i in 0..256 {
                f((done + i) % n_msgs);
            }
            done += 256;
        }
        runs.push(t.elapsed().as_nanos() as f64 / done as f64);
    }
    runs.sort_by(|a, b| a.total_cmp(b));
    runs[1]
}

fn main() {
    let mut secs = 1.0;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        if a == "--secs" {
            secs = args.next().and_then(|v| v.parse().ok()).expect("--secs N");
        }
    }
    // (level, window bits, context takeover, memLevel)
    let mut cases = Vec::new();
    for level in [1u8, 6] {
        for bits in [15u8, 9] {
            for takeover in [true, false] {
                cases.push((level, bits, takeover, DEFAULT_MEM_LEVEL));
            }
        }
        cases.push((level, 15, true, 8));
    }
    println!("size   level bits ctx-takeover memLevel  ratio  compress ns/msg  decompress ns/msg");
    for size in [512usize, 16 << 10] {
        let msgs: Vec<Vec<u8>> = (0..64).map(|s| json(size, s)).collect();
        for &(level, bits, takeover, mem) in &cases {
            {
                {
                    let mut tx = Deflater::with_mem_level(level, bits, !takeover, mem);
                    let mut wire = Vec::with_capacity(size * 2);
                    let ratio = msgs
                        .iter()
                        .map(|m| {
                            wire.clear();
                            tx.compress_message(m, &mut wire);
                            wire.len()
                        })
                        .sum::<usize>() as f64
                        / (64 * size) as f64;
                    let c = time_per_msg(secs, msgs.len(), |i| {
                        wire.clear();
                        tx.compress_message(black_box(&msgs[i]), &mut wire);
                    });
                    // A recorded stream of compressed messages, replayed
                    // in order through one inflater (the window carries on).
                    let mut tx = Deflater::with_mem_level(level, bits, !takeover, mem);
                    let stream: Vec<Vec<u8>> = (0..4096)
                        .map(|i| {
                            let mut w = Vec::new();
                            tx.compress_message(&msgs[i % 64], &mut w);
                            w
                        })
                        .collect();
                    let mut rx = Inflater::new(bits);
                    let mut out = Vec::with_capacity(size * 2);
                    let mut next = 0;
                    let d = time_per_msg(secs, 1, |_| {
                        if next == stream.len() {
                            rx = Inflater::new(bits);
                            next = 0;
                        }
                        out.clear();
                        rx.decompress(black_box(&stream[next]), &mut out, 1 << 20)
                            .unwrap();
                        next += 1;
                    });
                    println!(
                        "{size:>5}  {level:>5} {bits:>4} {:>12} {mem:>8}  {ratio:.3}  {c:>15.0}  {d:>17.0}",
                        if takeover { "on" } else { "off" },
                    );
                }
            }
        }
    }

    // The zip bomb: 1 GiB of zeros in about 1 MB, refused at the limit.
    let zeros = vec![0u8; 1 << 20];
    let mut tx = Deflater::new(9, 15, false);
    let (mut bomb, mut next) = (Vec::new(), Vec::new());
    tx.compress_message(&zeros, &mut bomb);
    tx.compress_message(&zeros, &mut next);
    for _ in 1..1024 {
        bomb.extend_from_slice(&[0, 0, 0xff, 0xff]);
        bomb.extend_from_slice(&next);
    }
    let limit = DeflateConfig::new().max_message_bytes();
    let mut out = Vec::new();
    let t = Instant::now();
    let r = Inflater::new(15).decompress(&bomb, &mut out, limit);
    let took: Duration = t.elapsed();
    assert!(r.is_err());
    println!(
        "zip bomb: {} KiB expanding to 1 GiB refused after {} MiB of output in {:.1} ms",
        bomb.len() >> 10,
        out.len() >> 20,
        took.as_secs_f64() * 1e3
    );
}
