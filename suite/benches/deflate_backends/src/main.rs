//! Compress and decompress throughput of flate2's raw deflate on one
//! backend (feature `miniz` or `zlib-rs`), the way permessage-deflate uses
//! it: one compressor and one decompressor for a stream of JSON-like
//! messages (512 B and 16 KiB), a sync flush per message with its
//! `00 00 ff ff` dropped and put back, context kept between messages.

use std::time::Instant;

use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress};

#[cfg(not(any(feature = "miniz", feature = "zlib-rs")))]
compile_error!("pick a backend: --features miniz or --features zlib-rs");

fn json(n: usize, seed: u64) -> Vec<u8> {
    let mut s = String::from("[");
    let mut x = seed;
    let mut i = 0;
    while s.len() < n {
        x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        s.push_str(&format!(
            "{{\"id\":{i},\"user\":\"user{}\",\"text\":\"message number {i} from the chat\",\"ts\":{},\"ok\":{}}},",
            (x >> 40) % 1000,
            1700000000 + (x >> 33) % 100000,
            (x >> 20) & 1 == 1
        ));
        i += 1;
    }
    s.truncate(n - 1);
    s.push(']');
    s.into_bytes()
}

fn compress(c: &mut Compress, input: &[u8], out: &mut Vec<u8>) {
    out.clear();
    let start = c.total_in();
    loop {
        if out.capacity() - out.len() < 64 {
            out.reserve(out.capacity().max(256));
        }
        let done = (c.total_in() - start) as usize;
        c.compress_vec(&input[done..], out, FlushCompress::Sync).unwrap();
        let done = (c.total_in() - start) as usize;
        if done == input.len() && out.len() < out.capacity() {
            break;
        }
    }
    assert!(out.ends_with(&[0, 0, 0xff, 0xff]));
    out.truncate(out.len() - 4);
}

fn decompress(d: &mut Decompress, input: &[u8], out: &mut Vec<u8>, tmp: &mut Vec<u8>) {
    out.clear();
    tmp.clear();
    tmp.extend_from_slice(input);
    tmp.extend_from_slice(&[0, 0, 0xff, 0xff]);
    let start = d.total_in();
    loop {
        if out.capacity() - out.len() < 64 {
            out.reserve(out.capacity().max(256));
        }
        let done = (d.total_in() - start) as usize;
        d.decompress_vec(&tmp[done..], out, FlushDecompress::Sync).unwrap();
        let done = (d.total_in() - start) as usize;
        if done == tmp.len() && out.len() < out.capacity() {
            break;
        }
    }
}

fn main() {
    let level: u32 = std::env::var("LEVEL").ok().and_then(|v| v.parse().ok()).unwrap_or(1);
    let backend = if cfg!(feature = "zlib-rs") { "zlib-rs" } else { "miniz_oxide" };
    for size in [512usize, 16384] {
        let msgs: Vec<Vec<u8>> = (0..64).map(|s| json(size, s)).collect();
        let iters = if size == 512 { 200_000 } else { 10_000 };
        let mut c = Compress::new(Compression::new(level), false);
        let mut out = Vec::with_capacity(size * 2);
        let mut total = 0;
        for m in &msgs {
            compress(&mut c, m, &mut out);
            total += out.len();
        }
        let ratio = total as f64 / (64 * size) as f64;
        let t = Instant::now();
        for i in 0..iters {
            compress(&mut c, &msgs[i % 64], &mut out);
        }
        let ce = t.elapsed();
        let mut c = Compress::new(Compression::new(level), false);
        let stream: Vec<Vec<u8>> = (0..iters)
            .map(|i| {
                compress(&mut c, &msgs[i % 64], &mut out);
                out.clone()
            })
            .collect();
        let mut d = Decompress::new(false);
        let (mut tmp, mut back) = (Vec::new(), Vec::with_capacity(size * 2));
        let t = Instant::now();
        for w in &stream {
            decompress(&mut d, w, &mut back, &mut tmp);
        }
        let de = t.elapsed();
        assert_eq!(back, msgs[(iters - 1) % 64]);
        let mb = (iters * size) as f64 / 1e6;
        println!(
            "{backend} {size:>5} B level {level}: ratio {ratio:.3}  compress {:>6.1} MB/s ({:>6.0} ns/msg)  decompress {:>6.1} MB/s ({:>6.0} ns/msg)",
            mb / ce.as_secs_f64(),
            ce.as_nanos() as f64 / iters as f64,
            mb / de.as_secs_f64(),
            de.as_nanos() as f64 / iters as f64
        );
    }
}
