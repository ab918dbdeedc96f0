//! Proves a keep-alive HTTP request answered with a static body allocates
//! nothing on the worker once warm.
//!
//! A counting global allocator counts allocations made on threads that have
//! switched counting on. The handler switches it on for its worker thread
//! after a warm-up, and off after the measured requests; everything the
//! worker does in between (engine, head parsing, handler, response writing)
//! is counted.

use std::io::Write;
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use corering::http::{self, Http1Config, Request, Response};

mod common;
mod counting_alloc;

use common::read_hello;

const WARMUP: usize = 500;
const MEASURED: usize = 1_000;

/// Requests seen by the handler in the current measurement.
static SEEN: AtomicUsize = AtomicUsize::new(0);
/// Allocations counted, published after the last measured request.
static RESULT: AtomicUsize = AtomicUsize::new(usize::MAX);
/// Control: allocate once per request.
static EXTRA: AtomicBool = AtomicBool::new(false);

async fn handler(mut req: Request<'_>) -> Response {
    let n = SEEN.fetch_add(1, Ordering::SeqCst) + 1;
    if n == WARMUP {
        counting_alloc::reset();
        counting_alloc::set_counting(true);
    }
    if req.path() == "/echo" {
        let len = req.body().await.map_or(0, |b| b.len());
        assert_eq!(len, 32);
    }
    if EXTRA.load(Ordering::SeqCst) {
        std::hint::black_box(Box::new(n));
    }
    if n == WARMUP + MEASURED {
        counting_alloc::set_counting(false);
        RESULT.store(counting_alloc::count(), Ordering::SeqCst);
    }
    Response::text("Hello, World!")
}

/// Runs WARMUP + MEASURED requests of `req` on one keep-alive connection;
/// returns the allocations the worker made during the measured ones.
fn measure(req: &[u8], extra: bool) -> usize {
    SEEN.store(0, Ordering::SeqCst);
    RESULT.store(usize::MAX, Ordering::SeqCst);
    EXTRA.store(extra, Ordering::SeqCst);
    let cfg = Http1Config::new().server_name(Some("corering"));
    let server = corering::Server::builder()
        .bind("127.0.0.1:0")
        .workers(1)
        .pin_workers(false)
        .build()
        .expect("build")
        .start(move |conn| http::serve(conn, cfg, handler))
        .expect("start");
    let mut s = TcpStream::connect(server.tcp_addr().unwrap()).unwrap();
    s.set_nodelay(true).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut buf = vec![0u8; 4096];
    let mut have = 0;
    for _ in 0..WARMUP + MEASURED {
        s.write_all(req).unwrap();
        read_hello(&mut s, &mut buf, &mut have);
    }
    let published = counting_alloc::wait_published(&RESULT, std::time::Duration::from_secs(10));
    drop(s);
    server.shutdown().unwrap();
    published
}

/// One test, so the measurements (which share the statics) run in turn.
#[test]
fn keep_alive_static_responses_allocate_nothing_when_warm() {
    // Control first: a handler that allocates once per request must show
    // at least one allocation per measured request.
    let n = measure(b"GET /plaintext HTTP/1.1\r\nHost: h\r\n\r\n", true);
    assert!(n >= MEASURED, "counter saw only {n} allocations");

    let n = measure(
        b"GET /plaintext HTTP/1.1\r\nHost: localhost\r\nUser-Agent: test\r\nAccept: */*\r\n\r\n",
        false,
    );
    assert_eq!(n, 0, "{n} allocations in {MEASURED} GET requests");

    let n = measure(
        b"POST /echo HTTP/1.1\r\nHost: localhost\r\nContent-Length: 32\r\n\r\n0123456789abcdef0123456789abcdef",
        false,
    );
    assert_eq!(
        n, 0,
        "{n} allocations in {MEASURED} POST requests with a body"
    );
}
