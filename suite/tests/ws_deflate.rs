//! permessage-deflate's codec from the outside: round trips with and
//! without context takeover at every window size, messages fed fragment by
//! fragment, empty messages, a zip bomb, corrupt and truncated data, and
//! interop with Python's `zlib` (an implementation nobody here wrote) in
//! both directions.

use std::io::{Read, Write};
use std::process::{Command, Stdio};

use corering::ws::deflate::{DeflateError, Deflater, Inflater};

/// A deterministic xorshift stream.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

/// A JSON-ish chat message of exactly `n` bytes.
fn json(n: usize, seed: u64) -> Vec<u8> {
    let mut rng = Rng(seed | 1);
    let mut s = String::from("[");
    let mut i = 0;
    while s.len() < n {
        let r = rng.next();
        s.push_str(&format!(
            "{{\"id\":{i},\"user\":\"user{}\",\"text\":\"message {} in the room\",\"ts\":{}}},",
            r % 1000,
            r % 77,
            1_700_000_000 + (r >> 40) % 100_000
        ));
        i += 1;
    }
    let mut v = s.into_bytes();
    v.truncate(n);
    v
}

/// Data with repeats at distances 256..512: a compressor that kept to a
/// 256-byte window must not refer to them.
fn far_repeats(n: usize, seed: u64) -> Vec<u8> {
    let mut rng = Rng(seed | 1);
    let block = rng.bytes(300);
    let mut v = Vec::new();
    while v.len() < n {
        v.extend_from_slice(&block);
        v.extend(rng.bytes(100));
    }
    v.truncate(n);
    v
}

/// A mix of sizes and kinds, empty messages excluded.
fn messages(seed: u64) -> Vec<Vec<u8>> {
    let mut v = Vec::new();
    for (i, n) in [1usize, 20, 512, 512, 4000, 16 << 10, 16 << 10, 100, 70_000]
        .into_iter()
        .enumerate()
    {
        v.push(json(n, seed + i as u64));
    }
    v.push(json(512, seed)); // a repeat of an earlier message
    v.push(far_repeats(3000, seed));
    v.push(Rng(seed | 1).bytes(5000)); // incompressible
    v
}

fn round_trip(level: u8, bits: u8, nct: bool) {
    let mut tx = Deflater::new(level, bits, nct);
    let mut rx = Inflater::new(bits);
    let (mut wire, mut back) = (Vec::new(), Vec::new());
    for m in messages(u64::from(bits) * 31 + u64::from(level)) {
        wire.clear();
        back.clear();
        tx.compress_message(&m, &mut wire);
        rx.decompress(&wire, &mut back, 1 << 20).unwrap();
        assert!(
            back == m,
            "level {level} bits {bits} nct {nct}: {} bytes",
            m.len()
        );
    }
}

#[test]
fn round_trips_at_every_window_with_and_without_context_takeover() {
    for bits in 8..=15 {
        for nct in [false, true] {
            for level in [0, 1, 6, 9] {
                round_trip(level, bits, nct);
            }
        }
    }
}

#[test]
fn context_takeover_is_what_shrinks_a_repeated_message() {
    let m = json(16 << 10, 7);
    for nct in [false, true] {
        let mut tx = Deflater::new(1, 15, nct);
        let mut rx = Inflater::new(15);
        let (mut first, mut second, mut back) = (Vec::new(), Vec::new(), Vec::new());
        tx.compress_message(&m, &mut first);
        tx.compress_message(&m, &mut second);
        rx.decompress(&first, &mut back, 1 << 20).unwrap();
        back.clear();
        rx.decompress(&second, &mut back, 1 << 20).unwrap();
        assert_eq!(back, m);
        if nct {
            assert_eq!(
                second, first,
                "without context takeover each message starts afresh"
            );
        } else {
            assert!(
                second.len() * 4 < first.len(),
                "with context takeover the repeat refers back: {} vs {}",
                second.len(),
                first.len()
            );
        }
    }
}

#[test]
fn fragments_fed_one_by_one() {
    let mut rng = Rng(99);
    let mut tx = Deflater::new(6, 15, false);
    let mut rx = Inflater::new(15);
    let (mut wire, mut back) = (Vec::new(), Vec::new());
    for m in messages(5) {
        wire.clear();
        back.clear();
        tx.compress_message(&m, &mut wire);
        let mut rest = &wire[..];
        while !rest.is_empty() {
            let k = (rng.next() as usize % 700 + 1).min(rest.len());
            rx.push(&rest[..k], &mut back, 1 << 20).unwrap();
            rest = &rest[k..];
        }
        rx.finish(&mut back, 1 << 20).unwrap();
        assert_eq!(back, m);
    }
}

#[test]
fn empty_messages() {
    let mut tx = Deflater::new(1, 15, false);
    let mut rx = Inflater::new(15);
    let (mut wire, mut back) = (Vec::new(), Vec::new());
    // RFC 7692 §7.2.3.6: an empty message compresses to a single 0x00.
    tx.compress_message(b"", &mut wire);
    assert_eq!(wire, [0x00]);
    rx.decompress(&wire, &mut back, 16).unwrap();
    assert!(back.is_empty());
    // An empty payload with RSV1 set (no compressed bytes at all) is an
    // empty message, and leaves the stream as it was.
    let m = json(2000, 4);
    wire.clear();
    tx.compress_message(&m, &mut wire);
    rx.decompress(&wire, &mut back, 1 << 20).unwrap();
    for _ in 0..3 {
        back.clear();
        rx.decompress(&[], &mut back, 16).unwrap();
        assert!(back.is_empty());
    }
    wire.clear();
    back.clear();
    tx.compress_message(&m, &mut wire);
    rx.decompress(&wire, &mut back, 1 << 20).unwrap();
    assert_eq!(back, m);
    // Empty messages between others, with the window carried across them.
    let m = json(2000, 3);
    for round in 0..3 {
        for payload in [&m[..], b"", b"", &m[..]] {
            wire.clear();
            back.clear();
            tx.compress_message(payload, &mut wire);
            rx.decompress(&wire, &mut back, 1 << 20).unwrap();
            assert_eq!(back, payload, "round {round}");
        }
    }
}

#[test]
fn compress_appends_to_what_is_already_there() {
    let mut tx = Deflater::new(1, 15, true);
    let mut rx = Inflater::new(15);
    let m = json(1000, 1);
    let mut wire = b"HDR".to_vec();
    tx.compress_message(&m, &mut wire);
    assert_eq!(&wire[..3], b"HDR");
    let mut back = b"x".to_vec();
    rx.decompress(&wire[3..], &mut back, 1000).unwrap();
    assert_eq!(&back[1..], &m[..]);
}

/// A raw deflate stream of about 1 MB that inflates to 1 GiB of zeros: a
/// first 1 MiB, then one continuation repeated that refers only to the
/// (all-zero) window. Each piece ends on a sync point whose `00 00 ff ff`
/// goes back in between (the receiver appends the last one).
fn zip_bomb() -> (Vec<u8>, usize) {
    const TAIL: [u8; 4] = [0, 0, 0xff, 0xff];
    let zeros = vec![0u8; 1 << 20];
    let mut tx = Deflater::new(9, 15, false);
    let (mut bomb, mut next) = (Vec::new(), Vec::new());
    tx.compress_message(&zeros, &mut bomb);
    tx.compress_message(&zeros, &mut next);
    let mut expands_to = zeros.len();
    while expands_to < 1 << 30 {
        bomb.extend_from_slice(&TAIL);
        bomb.extend_from_slice(&next);
        expands_to += zeros.len();
    }
    (bomb, expands_to)
}

fn thread_cpu() -> std::time::Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec.
    assert_eq!(
        unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) },
        0
    );
    std::time::Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

#[test]
fn zip_bomb_stops_at_the_limit() {
    let (bomb, expands_to) = zip_bomb();
    assert!(bomb.len() < 2 << 20, "a small bomb: {} bytes", bomb.len());
    eprintln!(
        "bomb: {} bytes expanding to {} MiB",
        bomb.len(),
        expands_to >> 20
    );
    let limit = 16 << 20;

    // Whole.
    let mut rx = Inflater::new(15);
    let mut out = Vec::new();
    let cpu = thread_cpu();
    let e = rx.decompress(&bomb, &mut out, limit).unwrap_err();
    let cpu = thread_cpu() - cpu;
    assert_eq!(e, DeflateError::TooLarge { limit });
    assert_eq!(e.close_code(), 1009);
    assert!(out.len() <= limit + 1, "{} bytes out", out.len());
    eprintln!("stopped after {} bytes, {cpu:?} CPU", out.len());
    // Generous: producing the whole GiB would take far longer.
    assert!(cpu.as_secs() < 5, "{cpu:?}");

    // Fragment by fragment, the caller draining `out` in between: the
    // limit holds for the message, not per push.
    let mut rx = Inflater::new(15);
    let mut total = 0;
    let mut failed = None;
    for (i, frag) in bomb.chunks(64 << 10).enumerate() {
        out.clear();
        let r = rx.push(frag, &mut out, limit);
        total += out.len();
        if let Err(e) = r {
            failed = Some((i, e));
            break;
        }
    }
    let (i, e) = failed.expect("the limit stops the streamed bomb");
    assert_eq!(e, DeflateError::TooLarge { limit });
    assert!(total <= limit + 1, "{total}");
    assert!(i < 32, "stopped at fragment {i}");

    // Just under the limit is fine: the same stream's first MiB.
    let mut rx = Inflater::new(15);
    out.clear();
    let mut tx = Deflater::new(9, 15, false);
    let mut small = Vec::new();
    tx.compress_message(&vec![0u8; 1 << 20], &mut small);
    rx.decompress(&small, &mut out, 1 << 20).unwrap();
    assert_eq!(out.len(), 1 << 20);
    out.clear();
    let e = Inflater::new(15)
        .decompress(&small, &mut out, (1 << 20) - 1)
        .unwrap_err();
    assert_eq!(
        e,
        DeflateError::TooLarge {
            limit: (1 << 20) - 1
        }
    );
}

#[test]
fn corrupt_data_is_a_clean_error() {
    let mut out = Vec::new();
    // Block type 3 is reserved.
    let e = Inflater::new(15)
        .decompress(&[0xff, 0xff, 0xff], &mut out, 1 << 20)
        .unwrap_err();
    assert_eq!(e, DeflateError::Corrupt);
    assert_eq!(e.close_code(), 1007);
    // A stored block whose NLEN is not LEN's complement.
    let e = Inflater::new(15)
        .decompress(&[0x00, 0x05, 0x00, 0x00, 0x00, b'h'], &mut out, 1 << 20)
        .unwrap_err();
    assert_eq!(e, DeflateError::Corrupt);
    // Garbage never panics or hangs, and never exceeds the limit.
    let mut rng = Rng(1234);
    let mut rx = Inflater::new(15);
    for i in 0..2000 {
        let n = rng.next() as usize % 300;
        let junk = rng.bytes(n);
        out.clear();
        let _ = rx.decompress(&junk, &mut out, 4096);
        assert!(out.len() <= 4097, "case {i}");
    }
    // The inflater still works after all that.
    let m = json(3000, 1);
    let mut wire = Vec::new();
    Deflater::new(1, 15, false).compress_message(&m, &mut wire);
    rx.reset();
    out.clear();
    rx.decompress(&wire, &mut out, 1 << 20).unwrap();
    assert_eq!(out, m);
}

#[test]
fn references_beyond_the_agreed_window_fail() {
    // The sender compresses with a 32 KiB window; the second message
    // repeats the start of the first, 2000 bytes back. An inflater that
    // agreed to a 512-byte window keeps only that much between messages,
    // and refuses the reference; one that agreed to 32 KiB follows it.
    let first = Rng(77).bytes(2000);
    let second = first[..300].to_vec();
    let mut tx = Deflater::new(9, 15, false);
    let (mut w1, mut w2) = (Vec::new(), Vec::new());
    tx.compress_message(&first, &mut w1);
    tx.compress_message(&second, &mut w2);
    assert!(
        w2.len() < 50,
        "the repeat is a back-reference: {} bytes",
        w2.len()
    );
    let mut out = Vec::new();
    let mut wide = Inflater::new(15);
    wide.decompress(&w1, &mut out, 1 << 20).unwrap();
    out.clear();
    wide.decompress(&w2, &mut out, 1 << 20).unwrap();
    assert_eq!(out, second);
    let mut narrow = Inflater::new(9);
    out.clear();
    narrow.decompress(&w1, &mut out, 1 << 20).unwrap();
    out.clear();
    assert_eq!(
        narrow.decompress(&w2, &mut out, 1 << 20),
        Err(DeflateError::Corrupt)
    );
}

#[test]
fn truncated_messages_fail_or_differ_and_the_inflater_recovers() {
    let m = json(8000, 11);
    let mut wire = Vec::new();
    Deflater::new(6, 15, true).compress_message(&m, &mut wire);
    let mut out = Vec::new();
    let mut rx = Inflater::new(15);
    let mut errors = 0;
    for cut in (0..wire.len()).step_by(7) {
        out.clear();
        match rx.decompress(&wire[..cut], &mut out, 1 << 20) {
            Err(e) => {
                assert!(matches!(e, DeflateError::Corrupt), "{e}");
                errors += 1;
            }
            Ok(()) => assert!(out != m, "a message cut at {cut} came out whole"),
        }
        // After a reset the next whole message decompresses whatever the
        // cut one left behind.
        rx.reset();
        out.clear();
        rx.decompress(&wire, &mut out, 1 << 20).unwrap();
        assert_eq!(out, m, "after a cut at {cut}");
    }
    eprintln!(
        "{errors} of {} cuts failed outright",
        wire.len().div_ceil(7)
    );
}

/// The codec between Rust and Python's zlib: `mode` "inflate" (Python
/// decompresses what Rust sent) or "deflate" (Python compresses); messages
/// go length-prefixed both ways.
const PY: &str = r#"
import sys, zlib, struct
mode, bits, nct, level = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "1", int(sys.argv[4])
inp, outp = sys.stdin.buffer, sys.stdout.buffer
def new():
    if mode == "inflate":
        return zlib.decompressobj(-bits)
    # zlib has no raw 8-bit window for compressing; 9 stays within 256 bytes.
    return zlib.compressobj(level, zlib.DEFLATED, -max(bits, 9))
o = new()
while True:
    h = inp.read(4)
    if len(h) < 4:
        break
    m = inp.read(struct.unpack(">I", h)[0])
    if mode == "inflate":
        r = o.decompress(m + b"\x00\x00\xff\xff")
    else:
        r = o.compress(m) + o.flush(zlib.Z_SYNC_FLUSH)
        assert r.endswith(b"\x00\x00\xff\xff")
        r = r[:-4]
    if nct:
        o = new()
    outp.write(struct.pack(">I", len(r)) + r)
outp.flush()
"#;

fn python_ok() -> bool {
    let ok = Command::new("python3")
        .args(["-c", "import zlib"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        eprintln!("skipped: python3 with zlib is not installed");
    }
    ok
}

/// Sends `msgs` through the Python script and returns its answers.
fn python(mode: &str, bits: u8, nct: bool, level: u8, msgs: &[Vec<u8>]) -> Vec<Vec<u8>> {
    let mut child = Command::new("python3")
        .args([
            "-c",
            PY,
            mode,
            &bits.to_string(),
            if nct { "1" } else { "0" },
        ])
        .arg(level.to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let input: Vec<u8> = msgs
        .iter()
        .flat_map(|m| {
            (m.len() as u32)
                .to_be_bytes()
                .into_iter()
                .chain(m.iter().copied())
        })
        .collect();
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let mut raw = Vec::new();
    child.stdout.take().unwrap().read_to_end(&mut raw).unwrap();
    writer.join().unwrap().unwrap();
    assert!(
        child.wait().unwrap().success(),
        "python3 failed ({mode} {bits} {nct})"
    );
    let mut answers = Vec::new();
    let mut rest = &raw[..];
    while !rest.is_empty() {
        let n = u32::from_be_bytes(rest[..4].try_into().unwrap()) as usize;
        answers.push(rest[4..4 + n].to_vec());
        rest = &rest[4 + n..];
    }
    answers
}

#[test]
fn python_inflates_what_we_deflate() {
    if !python_ok() {
        return;
    }
    for bits in 8..=15 {
        for nct in [false, true] {
            let msgs = messages(u64::from(bits));
            let mut tx = Deflater::new(6, bits, nct);
            let wire: Vec<Vec<u8>> = msgs
                .iter()
                .map(|m| {
                    let mut w = Vec::new();
                    tx.compress_message(m, &mut w);
                    w
                })
                .collect();
            let back = python("inflate", bits, nct, 0, &wire);
            assert!(back == msgs, "python inflate, bits {bits} nct {nct}");
        }
    }
}

#[test]
fn we_inflate_what_python_deflates() {
    if !python_ok() {
        return;
    }
    for bits in 8..=15 {
        for nct in [false, true] {
            for level in [1, 9] {
                let msgs = messages(u64::from(bits) + 100);
                let wire = python("deflate", bits, nct, level, &msgs);
                assert_eq!(wire.len(), msgs.len());
                let mut rx = Inflater::new(bits);
                let mut back = Vec::new();
                for (w, m) in wire.iter().zip(&msgs) {
                    back.clear();
                    rx.decompress(w, &mut back, 1 << 20).unwrap();
                    assert!(
                        back == *m,
                        "python deflate, bits {bits} nct {nct} level {level}"
                    );
                }
            }
        }
    }
}
