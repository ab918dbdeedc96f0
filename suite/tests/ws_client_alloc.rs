//! Proves corering's WebSocket client allocates nothing per message once
//! warm: each message masked into the send buffers with a fresh key, the
//! echo received and handed out in place (or reassembled, for one larger
//! than a receive buffer).
//!
//! The same with permessage-deflate agreed: each message compressed into
//! the socket's reused buffer and masked into the send buffers, each echo
//! inflated into the reused reassembly buffer.
//!
//! The client runs on the test thread (`Runtime::block_on`), which is the
//! one counted; the echo server is tungstenite's (no compression), or for
//! the compressed path corering's own server, in threads of their own
//! (not counted).

use std::net::TcpListener;

use corering::http::{Http1Config, Response};
use corering::ws::{self, Message, WebSocketUpgrade};
use corering::{get, routes};
use tungstenite::Message as TMessage;

mod counting_alloc;

const WARMUP: usize = 300;
const MEASURED: usize = 1_000;

/// A tungstenite echo server for one connection.
fn echo_server() -> (String, std::thread::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("ws://{}/echo", listener.local_addr().unwrap());
    let t = std::thread::spawn(move || {
        let (s, _) = listener.accept().unwrap();
        let mut ws = tungstenite::accept(s).unwrap();
        loop {
            match ws.read() {
                Ok(m @ (TMessage::Text(_) | TMessage::Binary(_))) => ws.send(m).unwrap(),
                Ok(_) => {}
                Err(_) => return,
            }
        }
    });
    (url, t)
}

/// A corering echo route (permessage-deflate accepted by default).
#[get("/echo")]
async fn echo(ws: WebSocketUpgrade) -> Response {
    ws.on_upgrade(|ws| async move {
        let (mut rx, tx) = ws.split();
        while let Ok(Some(msg)) = rx.recv().await {
            if tx.send(msg).await.is_err() {
                break;
            }
        }
    })
}

/// Echoes WARMUP + MEASURED messages of `payload` (as binary); the
/// allocations on this thread during the measured ones (plus one per
/// message if `extra`, the control).
fn measure(payload: &[u8], extra: bool) -> usize {
    let (url, server) = echo_server();
    let n = echo_count(&url, payload, extra, false);
    server.join().unwrap();
    n
}

/// [`measure`] against corering's server, with permessage-deflate agreed.
fn measure_compressed(payload: &[u8]) -> usize {
    let router = routes![echo];
    let server = corering::Server::builder()
        .bind("127.0.0.1:0")
        .workers(1)
        .pin_workers(false)
        .build()
        .expect("build")
        .start(move |conn| corering::http::serve(conn, Http1Config::new(), router.clone()))
        .expect("start");
    let url = format!("ws://{}/echo", server.tcp_addr().unwrap());
    let n = echo_count(&url, payload, false, true);
    server.shutdown().unwrap();
    n
}

/// The client side of [`measure`]: connects to `url`, checks whether
/// compression was agreed, echoes, counts.
fn echo_count(url: &str, payload: &[u8], extra: bool, compressed: bool) -> usize {
    corering::Runtime::new().unwrap().block_on(async {
        let mut ws = ws::connect(url).await.unwrap();
        assert_eq!(ws.compression().is_some(), compressed);
        for i in 0..WARMUP + MEASURED {
            if i == WARMUP {
                counting_alloc::reset();
                counting_alloc::set_counting(true);
            }
            if extra {
                std::hint::black_box(Box::new(i));
            }
            ws.send_binary(payload).await.unwrap();
            match ws.recv().await.unwrap() {
                Some(Message::Binary(b)) => assert!(b == payload, "message {i} differs"),
                other => panic!("{other:?}"),
            }
        }
        counting_alloc::set_counting(false);
        let n = counting_alloc::count();
        ws.close(ws::CloseCode::NORMAL, "").await.unwrap();
        n
    })
}

/// One test, so the measurements run in turn.
#[test]
fn client_echo_allocates_nothing_per_message_when_warm() {
    let small = b"0123456789abcdef0123456789abcdef";
    let n = measure(small, true);
    assert!(n >= MEASURED, "the counter saw only {n} allocations");

    let n = measure(small, false);
    assert_eq!(n, 0, "{n} allocations in {MEASURED} 32 B messages");

    let big: Vec<u8> = (0..16 << 10).map(|i| (i % 251) as u8).collect();
    let n = measure(&big, false);
    assert_eq!(n, 0, "{n} allocations in {MEASURED} 16 KiB messages");

    // Compressed both ways: JSON-like text that deflates, and the 16 KiB
    // message (larger than the compressor's reused buffer starts).
    let json =
        br#"{"user":"ann","room":"lobby","text":"hello hello hello, how are you all today?"}"#
            .repeat(6);
    let n = measure_compressed(&json);
    assert_eq!(
        n,
        0,
        "{n} allocations in {MEASURED} compressed {} B messages",
        json.len()
    );
    let n = measure_compressed(&big);
    assert_eq!(
        n, 0,
        "{n} allocations in {MEASURED} compressed 16 KiB messages"
    );
}
