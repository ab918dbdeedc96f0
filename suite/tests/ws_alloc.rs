//! Proves the WebSocket echo path allocates nothing per message once
//! warm: a message in place in the receive buffer, a fragmented one
//! (reassembled), and one larger than a receive buffer (reassembled from
//! several), each received, unmasked, validated and sent back.
//!
//! The counting allocator counts the worker thread between the warm-up
//! and the end of the measured messages: engine, frame parsing, the echo
//! and the send are all counted. The client is a raw blocking socket in
//! the test thread (not counted).

use std::io::Write;
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use corering::http::{Http1Config, Response};
use corering::ws::WebSocketUpgrade;
use corering::{get, routes};

mod counting_alloc;
mod ws_common;

use ws_common::{frame, raw, read_frame};

const WARMUP: usize = 300;
const MEASURED: usize = 1_000;

static SEEN: AtomicUsize = AtomicUsize::new(0);
static RESULT: AtomicUsize = AtomicUsize::new(usize::MAX);
/// Control: allocate once per message.
static EXTRA: AtomicBool = AtomicBool::new(false);

#[get("/echo")]
async fn echo(ws: WebSocketUpgrade) -> Response {
    ws.on_upgrade(|ws| async move {
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

/// Sends WARMUP + MEASURED messages, each as `frames` (what one message
/// is on the wire), reading each echo (`expect`) before the next; returns
/// the worker's allocations during the measured ones.
fn measure(frames: &[u8], expect: &[u8], extra: bool) -> usize {
    SEEN.store(0, Ordering::SeqCst);
    RESULT.store(usize::MAX, Ordering::SeqCst);
    EXTRA.store(extra, Ordering::SeqCst);
    let (server, addr) = start();
    let (mut s, mut buf): (TcpStream, Vec<u8>) = raw(addr, "/echo");
    for i in 0..WARMUP + MEASURED {
        s.write_all(frames).unwrap();
        let (_, payload) = read_frame(&mut s, &mut buf).expect("echo");
        assert!(payload == expect, "message {i} came back different");
    }
    let n = counting_alloc::wait_published(&RESULT, Duration::from_secs(20));
    drop(s);
    server.shutdown().unwrap();
    n
}

/// One test, so the measurements (which share the statics) run in turn.
#[test]
fn echo_allocates_nothing_per_message_when_warm() {
    let text = b"0123456789abcdef0123456789abcdef";
    let single = frame(0x81, text, true);

    let n = measure(&single, text, true);
    assert!(n >= MEASURED, "the counter saw only {n} allocations");

    let n = measure(&single, text, false);
    assert_eq!(n, 0, "{n} allocations in {MEASURED} single-frame messages");

    let mut fragmented_plain = frame(0x01, &text[..10], true);
    fragmented_plain.extend(frame(0x80, &text[10..], true));
    let n = measure(&fragmented_plain, text, false);
    assert_eq!(n, 0, "{n} allocations in {MEASURED} fragmented messages");

    // 16 KiB binary messages: four receive buffers each, reassembled.
    let big: Vec<u8> = (0..16 << 10).map(|i| (i % 251) as u8).collect();
    let n = measure(&frame(0x82, &big, true), &big, false);
    assert_eq!(n, 0, "{n} allocations in {MEASURED} 16 KiB messages");
}
