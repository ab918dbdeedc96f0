//! The compressed echo path (permessage-deflate agreed) allocates nothing
//! per message once warm: each message is inflated piece by piece into the
//! reassembly buffer, checked as UTF-8, compressed again into the
//! socket's compression buffer and sent, all in buffers that grew during
//! the warm-up.
//!
//! The counting allocator counts the worker thread between the warm-up
//! and the end of the measured messages. The client is a raw blocking
//! socket in the test thread (not counted) that compresses with
//! corering's own codec (the point here is the server's allocations;
//! interop with other implementations is `tests/ws_deflate_socket.rs`).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use corering::http::{Http1Config, Response};
use corering::ws::deflate::{Deflater, Inflater};
use corering::ws::WebSocketUpgrade;
use corering::{get, routes};

mod counting_alloc;
mod ws_common;

use ws_common::{frame, read_frame};

const WARMUP: usize = 300;
const MEASURED: usize = 1_000;

static SEEN: AtomicUsize = AtomicUsize::new(0);
static RESULT: AtomicUsize = AtomicUsize::new(usize::MAX);
/// Control: allocate once per message.
static EXTRA: AtomicBool = AtomicBool::new(false);

#[get("/echo")]
async fn echo(ws: WebSocketUpgrade) -> Response {
    ws.on_upgrade(|ws| async move {
        assert!(ws.compression().is_some(), "permessage-deflate agreed");
        let (mut rx, tx) = ws.split();
        while let Ok(Some(msg)) = rx.recv().await {
            let n = SEEN.fetch_add(1, Ordering::SeqCst) + 1;
            if n == WARMUP {
                counting_alloc::reset();
                counting_alloc::set_counting(true);
            }
            if EXTRA.load(Ordering::SeqCst) {
                std::hint::black_box(Box::new(n));
            }
            if tx.send(msg).await.is_err() {
                break;
            }
            if n == WARMUP + MEASURED {
                counting_alloc::set_counting(false);
                RESULT.store(counting_alloc::count(), Ordering::SeqCst);
            }
        }
    })
}

fn start() -> (corering::RunningServer, SocketAddr) {
    let router = routes![echo];
    let s = corering::Server::builder()
        .bind("127.0.0.1:0")
        .workers(1)
        .pin_workers(false)
        .recv_buffers(64, 4096)
        .build()
        .expect("build")
        .start(move |conn| corering::http::serve(conn, Http1Config::new(), router.clone()))
        .expect("start");
    let a = s.tcp_addr().unwrap();
    (s, a)
}

/// A handshake offering permessage-deflate with default parameters.
fn connect(addr: SocketAddr) -> (TcpStream, Vec<u8>) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.set_nodelay(true).unwrap();
    write!(
        s,
        "GET /echo HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\
         Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n"
    )
    .unwrap();
    let mut buf = Vec::new();
    let end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let mut tmp = [0; 1024];
        let n = s.read(&mut tmp).unwrap();
        assert!(n > 0, "closed during the handshake");
        buf.extend_from_slice(&tmp[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..end]).into_owned();
    assert!(head.contains("permessage-deflate"), "{head}");
    buf.drain(..end);
    (s, buf)
}

/// JSON-ish text of `n` bytes, different for each `seed`.
fn json(n: usize, seed: usize) -> String {
    let mut s = String::new();
    let mut i = seed;
    while s.len() < n {
        s.push_str(&format!(
            "{{\"id\":{i},\"user\":\"user{}\",\"text\":\"hello number {}\"}},",
            i % 97,
            i * 7
        ));
        i += 1;
    }
    s.truncate(n);
    s
}

/// Echoes WARMUP + MEASURED compressed text messages of `size` bytes sent
/// in `pieces` frames; the worker's allocations during the measured ones.
fn measure(size: usize, pieces: usize, extra: bool) -> usize {
    SEEN.store(0, Ordering::SeqCst);
    EXTRA.store(extra, Ordering::SeqCst);
    RESULT.store(usize::MAX, Ordering::SeqCst);
    let (server, addr) = start();
    let (mut s, mut buf) = connect(addr);
    let mut tx = Deflater::new(1, 15, false);
    let mut rx = Inflater::new(15);
    let (mut wire, mut back) = (Vec::new(), Vec::new());
    for i in 0..WARMUP + MEASURED {
        let msg = json(size, i % 50);
        wire.clear();
        tx.compress_message(msg.as_bytes(), &mut wire);
        let step = wire.len().div_ceil(pieces).max(1);
        let chunks: Vec<&[u8]> = wire.chunks(step).collect();
        let mut out = Vec::new();
        for (k, c) in chunks.iter().enumerate() {
            let first = k == 0;
            let last = k + 1 == chunks.len();
            let op = if first { 0x41 } else { 0x00 }; // RSV1 + text first
            out.extend(frame(op | if last { 0x80 } else { 0 }, c, true));
        }
        s.write_all(&out).unwrap();
        let (first, payload) = read_frame(&mut s, &mut buf).expect("echo");
        assert_eq!(first, 0xC1, "a compressed text frame back");
        back.clear();
        rx.decompress(&payload, &mut back, 1 << 20).unwrap();
        assert!(back == msg.as_bytes(), "message {i} came back different");
    }
    let n = counting_alloc::wait_published(&RESULT, Duration::from_secs(20));
    drop(s);
    server.shutdown().unwrap();
    n
}

/// One test, so the measurements (which share the statics) run in turn.
#[test]
fn compressed_echo_allocates_nothing_per_message_when_warm() {
    let n = measure(512, 1, true);
    assert!(n >= MEASURED, "the counter saw only {n} allocations");
    let n = measure(512, 1, false);
    assert_eq!(
        n, 0,
        "{n} allocations in {MEASURED} compressed 512 B messages"
    );
    let n = measure(512, 3, false);
    assert_eq!(
        n, 0,
        "{n} allocations in {MEASURED} fragmented compressed messages"
    );
    let n = measure(16 << 10, 1, false);
    assert_eq!(
        n, 0,
        "{n} allocations in {MEASURED} compressed 16 KiB messages"
    );
}
