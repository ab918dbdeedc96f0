//! `FrameReader` over real connections: frames split at every byte, many
//! frames per receive buffer, frames larger than a receive buffer, the
//! frame-size limit, truncation, malformed input, and no allocation for
//! frames that arrive within one buffer.
//!
//! The server side decodes `Msg` frames with a `FrameReader` and answers
//! each with a `Reply` frame carrying what it saw; the client is a plain
//! `std::net::TcpStream` that builds and checks the bytes itself.

mod common;
mod counting_alloc;

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::*;
use corering::frame::{Frame, FrameReader};
use corering::{Connection, RunningServer};

// ---- the protocol --------------------------------------------------------------

/// Request: magic `FR`, a sequence number, a u32-prefixed payload.
#[derive(Frame, Debug)]
#[frame(magic = b"FR")]
struct Msg<'a> {
    seq: u32,
    #[frame(prefix = u32)]
    payload: &'a [u8],
}

/// Answer to each request, or a description of why reading stopped.
#[derive(Frame, Debug, PartialEq)]
#[frame(tag = u8)]
enum Reply<'a> {
    /// The request's sequence number, payload length and a checksum.
    #[frame(id = 1)]
    Got { seq: u32, len: u32, sum: u64 },
    /// The reader failed; the error's text.
    #[frame(id = 2)]
    Failed(#[frame(prefix = u16)] &'a str),
}

fn checksum(b: &[u8]) -> u64 {
    b.iter().enumerate().fold(0u64, |s, (i, &x)| {
        s.wrapping_mul(31).wrapping_add(x as u64 ^ i as u64)
    })
}

fn msg_bytes(seq: u32, payload: &[u8]) -> Vec<u8> {
    let m = Msg { seq, payload };
    let mut v = vec![0; m.encoded_len()];
    m.encode(&mut v);
    v
}

/// Handler: answers every frame; on a reader error answers `Failed` and
/// closes. With `measure` set, counts the worker's allocations made inside
/// `FrameReader::read` after the first `WARMUP` frames.
async fn serve(mut conn: Connection, max: usize, allocs: Arc<AtomicUsize>) {
    const WARMUP: u32 = 100;
    let mut reader = FrameReader::new().max_frame(max);
    let mut n = 0u32;
    loop {
        let counting = n >= WARMUP;
        counting_alloc::set_counting(counting);
        let r = reader.read::<Msg>(&mut conn).await;
        counting_alloc::set_counting(false);
        if counting {
            allocs.store(counting_alloc::count(), Ordering::SeqCst);
        }
        n += 1;
        let reply_err;
        let reply = match &r {
            Ok(Some(m)) => Reply::Got {
                seq: m.seq,
                len: m.payload.len() as u32,
                sum: checksum(m.payload),
            },
            Ok(None) => return,
            Err(e) => {
                reply_err = e.to_string();
                Reply::Failed(&reply_err)
            }
        };
        let failed = r.is_err();
        drop(r);
        if conn.write_frame(&reply).await.is_err() || failed {
            let _ = conn.close().await;
            return;
        }
    }
}

struct Fixture {
    server: RunningServer,
    allocs: Arc<AtomicUsize>,
}

/// One worker, 2 KiB receive buffers (so 64 KiB frames span many), the given
/// frame limit, and a short shutdown grace for clients still connected.
fn start(max: usize) -> Fixture {
    let allocs = Arc::new(AtomicUsize::new(usize::MAX));
    let a = allocs.clone();
    let server = builder()
        .workers(1)
        .recv_buffers(256, 2048)
        .shutdown_timeout(Duration::from_millis(200))
        .build()
        .expect("build")
        .start(move |conn| serve(conn, max, a.clone()))
        .expect("start");
    Fixture { server, allocs }
}

fn client(addr: SocketAddr) -> TcpStream {
    let s = connect(addr);
    s.set_nodelay(true).unwrap();
    s
}

/// Reads one `Reply` from a blocking stream (replies are at most a few
/// hundred bytes; partial reads are handled by decoding what arrived).
fn read_reply(s: &mut TcpStream, buf: &mut Vec<u8>) -> Option<(u8, Vec<u8>)> {
    loop {
        if let Ok(corering::frame::Decoded::Complete { frame, consumed }) = Reply::decode(buf) {
            let out = match frame {
                Reply::Got { seq, len, sum } => {
                    let mut v = seq.to_be_bytes().to_vec();
                    v.extend_from_slice(&len.to_be_bytes());
                    v.extend_from_slice(&sum.to_be_bytes());
                    (1, v)
                }
                Reply::Failed(t) => (2, t.as_bytes().to_vec()),
            };
            buf.drain(..consumed);
            return Some(out);
        }
        let mut chunk = [0u8; 4096];
        let n = s.read(&mut chunk).expect("read reply");
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

fn expect_got(s: &mut TcpStream, buf: &mut Vec<u8>, seq: u32, payload: &[u8]) {
    let mut want = seq.to_be_bytes().to_vec();
    want.extend_from_slice(&(payload.len() as u32).to_be_bytes());
    want.extend_from_slice(&checksum(payload).to_be_bytes());
    let got = read_reply(s, buf).expect("a reply before EOF");
    assert_eq!(got, (1, want), "reply to frame {seq}");
}

fn expect_failed(s: &mut TcpStream, buf: &mut Vec<u8>) -> String {
    match read_reply(s, buf) {
        Some((2, text)) => {
            let text = String::from_utf8(text).unwrap();
            // After the error the server closes.
            assert_eq!(
                read_reply(s, buf),
                None,
                "connection closed after the error"
            );
            text
        }
        other => panic!("expected a Failed reply, got {other:?}"),
    }
}

#[test]
fn frame_split_at_every_byte_decodes() {
    let f = start(1 << 20);
    let mut s = client(tcp_addr(&f.server));
    let mut buf = Vec::new();
    for seq in 0..3u32 {
        let payload = random_bytes(seq as u64, 37 + seq as usize * 100);
        for b in msg_bytes(seq, &payload) {
            s.write_all(&[b]).unwrap();
            // Give each byte a chance to arrive in a receive of its own.
            std::thread::sleep(Duration::from_micros(200));
        }
        expect_got(&mut s, &mut buf, seq, &payload);
    }
    f.server.shutdown().unwrap();
}

#[test]
fn many_frames_per_buffer_and_frames_spanning_buffers() {
    let f = start(1 << 20);
    let mut s = client(tcp_addr(&f.server));
    let mut r = s.try_clone().unwrap();
    // Small and large frames interleaved, sent in one stream with uneven
    // writes: many small frames share a 2 KiB buffer, a 64 KiB one spans 32.
    let sizes: Vec<usize> = (0..400)
        .map(|i| match i % 7 {
            0 => 64 << 10,
            1 => 0,
            2 => 2040,
            _ => i * 3 % 300,
        })
        .collect();
    let payloads: Vec<Vec<u8>> = sizes
        .iter()
        .enumerate()
        .map(|(i, &n)| random_bytes(1000 + i as u64, n))
        .collect();
    let mut stream = Vec::new();
    for (i, p) in payloads.iter().enumerate() {
        stream.extend_from_slice(&msg_bytes(i as u32, p));
    }
    let writer = std::thread::spawn(move || {
        let mut off = 0;
        let mut step = 1;
        while off < stream.len() {
            let end = (off + step).min(stream.len());
            s.write_all(&stream[off..end]).unwrap();
            off = end;
            step = (step * 7 + 13) % 9000 + 1;
        }
        s.shutdown(Shutdown::Write).unwrap();
    });
    let mut buf = Vec::new();
    for (i, p) in payloads.iter().enumerate() {
        expect_got(&mut r, &mut buf, i as u32, p);
    }
    // Clean EOF between frames: the handler returns, the server closes.
    assert_eq!(read_reply(&mut r, &mut buf), None);
    writer.join().unwrap();
    f.server.shutdown().unwrap();
}

#[test]
fn oversized_frame_is_refused_and_others_continue() {
    let f = start(4096);
    let addr = tcp_addr(&f.server);
    let mut good = client(addr);
    let mut gbuf = Vec::new();
    good.write_all(&msg_bytes(1, b"before")).unwrap();
    expect_got(&mut good, &mut gbuf, 1, b"before");

    // A header announcing 1 MiB: refused before the body is sent.
    let mut bad = client(addr);
    let mut frame = msg_bytes(7, &[]);
    frame[6..10].copy_from_slice(&(1u32 << 20).to_be_bytes());
    bad.write_all(&frame).unwrap();
    let mut bbuf = Vec::new();
    let text = expect_failed(&mut bad, &mut bbuf);
    assert!(text.contains("4096"), "error names the limit: {text}");

    // Exactly at the limit is fine.
    let payload = vec![9u8; 4096 - 10];
    good.write_all(&msg_bytes(2, &payload)).unwrap();
    expect_got(&mut good, &mut gbuf, 2, &payload);
    f.server.shutdown().unwrap();
}

#[test]
fn truncated_frame_at_eof_is_reported() {
    let f = start(1 << 20);
    let mut s = client(tcp_addr(&f.server));
    let whole = msg_bytes(3, &[5u8; 100]);
    s.write_all(&whole[..60]).unwrap();
    s.shutdown(Shutdown::Write).unwrap();
    let mut buf = Vec::new();
    let text = expect_failed(&mut s, &mut buf);
    assert!(
        text.contains("60"),
        "error says how many bytes were left: {text}"
    );
    f.server.shutdown().unwrap();
}

#[test]
fn malformed_frame_names_field_and_offset() {
    let f = start(1 << 20);
    let addr = tcp_addr(&f.server);
    let mut s = client(addr);
    let mut buf = Vec::new();
    // A good frame, then one whose magic is wrong: the error is at byte 0
    // of the second frame (offsets are relative to the frame).
    s.write_all(&msg_bytes(1, b"ok")).unwrap();
    s.write_all(b"XR\0\0\0\x01\0\0\0\0").unwrap();
    expect_got(&mut s, &mut buf, 1, b"ok");
    let text = expect_failed(&mut s, &mut buf);
    assert!(
        text.contains("Msg") && text.contains("byte 0"),
        "error names the frame and offset: {text}"
    );
    // The server still serves new connections.
    let mut t = client(addr);
    let mut tbuf = Vec::new();
    t.write_all(&msg_bytes(2, b"after")).unwrap();
    expect_got(&mut t, &mut tbuf, 2, b"after");
    f.server.shutdown().unwrap();
}

#[test]
fn frames_within_one_buffer_decode_without_allocating() {
    let f = start(1 << 20);
    let mut s = client(tcp_addr(&f.server));
    let mut buf = Vec::with_capacity(4096);
    // One frame per write, each answered before the next: each arrives in a
    // receive buffer of its own, so nothing needs assembling.
    for seq in 0..1100u32 {
        let payload = [seq as u8; 48];
        s.write_all(&msg_bytes(seq, &payload)).unwrap();
        expect_got(&mut s, &mut buf, seq, &payload);
    }
    drop(s);
    // Shutting down joins the worker, so the handler has finished.
    f.server.shutdown().unwrap();
    let allocs = f.allocs.load(Ordering::SeqCst);
    assert_ne!(allocs, usize::MAX, "the handler measured");
    assert_eq!(
        allocs, 0,
        "allocations inside FrameReader::read over 1,000 frames"
    );
}
