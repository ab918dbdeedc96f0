//! Slow and hostile peers against the HTTP server: a body trickled below the
//! minimum rate, a chunk that declares more than the body limit, and a
//! client that asks for a large response and never reads it. Raw sockets:
//! no HTTP client would misbehave like this on purpose.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::http::{connect, read_response, start_http};
use corering::http::route::BodyStream;
use corering::http::{Http1Config, MinRate, Response, Status};
use corering::{post, routes};

/// 100 bytes/s after 1 s: short enough for a test.
const BODY_RATE: MinRate = MinRate::new(100, Duration::from_secs(1));

/// Counts the body's bytes.
#[post("/upload")]
async fn upload(body: &[u8]) -> String {
    format!("{} bytes", body.len())
}

/// Counts the body's bytes with the body rate switched off.
#[post("/feed")]
async fn feed(mut body: BodyStream<'_, '_>) -> String {
    body.request_mut().set_min_body_rate(None);
    let mut n = 0;
    while let Ok(Some(piece)) = body.next().await {
        n += piece.len();
    }
    format!("{n} bytes")
}

fn slow_server() -> (corering::RunningServer, std::net::SocketAddr) {
    let cfg = Http1Config::new()
        .min_request_body_rate(Some(BODY_RATE))
        .body_timeout(Duration::from_secs(30));
    start_http(common::builder(), cfg, routes![upload, feed])
}

/// Sends `head`, then `body` one byte every `gap`, stopping at the first
/// failed write (the server may have answered and closed already).
fn trickle(s: &mut TcpStream, head: &str, body: &[u8], gap: Duration) {
    s.write_all(head.as_bytes()).unwrap();
    for b in body {
        std::thread::sleep(gap);
        if s.write_all(std::slice::from_ref(b)).is_err() {
            return;
        }
    }
}

/// Reads what the server sends until it closes (EOF or reset).
fn read_until_closed(s: &mut TcpStream) -> Vec<u8> {
    let mut got = Vec::new();
    let mut buf = [0u8; 64 << 10];
    loop {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => return got,
            Ok(n) => got.extend_from_slice(&buf[..n]),
        }
    }
}

/// Posts `body` to `path`, one byte every `gap` from a second thread,
/// and reads the response meanwhile; returns it and how long it took.
fn post_trickled(
    addr: std::net::SocketAddr,
    path: &str,
    body: &'static [u8],
    gap: Duration,
) -> (common::http::Resp, Duration, TcpStream) {
    let mut s = connect(addr);
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let mut w = s.try_clone().unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    let t0 = Instant::now();
    let writer = std::thread::spawn(move || trickle(&mut w, &head, body, gap));
    let r = read_response(&mut s, &mut Vec::new(), false);
    let took = t0.elapsed();
    writer.join().unwrap();
    (r, took, s)
}

#[test]
fn body_below_the_minimum_rate_gets_408_and_a_close() {
    let (_server, addr) = slow_server();
    // 2 bytes/s is below 100 bytes/s: cut after the 1 s grace, long before
    // the 20 s the whole body would take or the 30 s body timeout.
    let (r, took, mut s) = post_trickled(addr, "/upload", &[b'a'; 40], Duration::from_millis(500));
    assert_eq!(r.status, 408, "{}", r.head);
    assert_eq!(r.header("connection"), Some("close"));
    assert!(took < Duration::from_secs(10), "408 after {took:?}");
    assert!(read_until_closed(&mut s).is_empty());
}

#[test]
fn a_route_that_switched_the_body_rate_off_is_not_cut() {
    let (_server, addr) = slow_server();
    // 6 bytes over ~2.4 s: 2.5 bytes/s, well past the grace period.
    let gap = Duration::from_millis(400);
    let (r, _, _) = post_trickled(addr, "/feed", b"abcdef", gap);
    assert_eq!(r.status, 200, "{}", r.head);
    assert_eq!(r.body, b"6 bytes");
    // The same trickle to a route that keeps the rate is cut.
    let (r, _, _) = post_trickled(addr, "/upload", b"abcdef", gap);
    assert_eq!(r.status, 408, "{}", r.head);
}

#[test]
fn a_chunk_declaring_more_than_the_body_limit_gets_413_at_once() {
    let (_server, addr) = slow_server();
    // 1 TiB, and a size that does not fit in 64 bits: nothing of the
    // chunk's data is sent, so only the size line can decide.
    for size in ["10000000000", "fffffffffffffffff"] {
        let mut s = connect(addr);
        let t0 = Instant::now();
        let req = format!(
            "POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n{size}\r\n"
        );
        s.write_all(req.as_bytes()).unwrap();
        let mut buf = Vec::new();
        let r = read_response(&mut s, &mut buf, false);
        assert_eq!(r.status, 413, "chunk size {size}: {}", r.head);
        assert_eq!(r.header("connection"), Some("close"));
        // Well before the 1 s grace of the body rate and the body timeout.
        assert!(
            t0.elapsed() < Duration::from_millis(900),
            "413 after {:?}",
            t0.elapsed()
        );
        assert!(read_until_closed(&mut s).is_empty());
    }
}

/// 48 MiB: more than loopback's socket buffers take, so most of it stays
/// queued in the server while the client does not read.
const BIG: usize = 48 << 20;

#[corering::get("/big")]
async fn big() -> Response {
    Response::new(Status::OK)
        .content_type("application/octet-stream")
        .body(vec![b'x'; BIG])
}

/// `/big` for a client allowed to read as slowly as it likes.
#[corering::get("/big-unpaced")]
async fn big_unpaced(req: &mut corering::http::Request<'_>) -> Response {
    req.set_min_response_rate(None);
    Response::new(Status::OK)
        .content_type("application/octet-stream")
        .body(vec![b'x'; BIG])
}

#[test]
fn a_route_that_switched_the_response_rate_off_keeps_a_slow_reader() {
    let rate = MinRate::new(4 << 20, Duration::from_millis(300));
    let cfg = Http1Config::new().min_response_rate(Some(rate));
    let (server, addr) = start_http(common::builder(), cfg, routes![big, big_unpaced]);
    let mut s = connect(addr);
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    s.write_all(b"GET /big-unpaced HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    // Several times what `/big` would get before its reset (about 0.6 s).
    std::thread::sleep(Duration::from_secs(4));
    assert_eq!(server.total_stats().open(), 1, "the slow reader was cut");
    let r = read_response(&mut s, &mut Vec::new(), false);
    assert_eq!(r.status, 200);
    assert_eq!(r.body.len(), BIG);
}

#[test]
fn a_client_that_never_reads_its_response_is_reset_by_the_response_rate() {
    if common::io_uring_only("zero-copy send (sendmsg_zc)") {
        return;
    }
    // Large sends are zero-copy by default: the kernel holds them until
    // they are acknowledged, which a client that never reads never does.
    // (On loopback only the 4 KiB probe is: the kernel reports it copied,
    // and the rest is copied; see `conn/zerocopy.rs`.)
    non_reader_is_reset(common::builder());
}

#[test]
fn a_client_that_never_reads_is_reset_with_copying_sends_too() {
    non_reader_is_reset(common::builder().zero_copy_threshold(None));
}

fn non_reader_is_reset(b: corering::ServerBuilder) {
    // 4 MiB/s after 500 ms: the socket buffers take a few MiB at once, then
    // nothing moves, so the rate is missed within a few seconds.
    let rate = MinRate::new(4 << 20, Duration::from_millis(500));
    let cfg = Http1Config::new().min_response_rate(Some(rate));
    let (server, addr) = start_http(b, cfg, routes![big]);
    let mut s = TcpStream::connect(addr).unwrap();
    s.write_all(b"GET /big HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    // The idle timeout (60 s) would otherwise keep the connection, and its
    // queued 48 MiB, alive.
    let reset = common::wait_until(Duration::from_secs(15), || {
        let st = server.total_stats();
        st.accepted == 1 && st.open() == 0
    });
    assert!(reset, "the non-reading client's connection is still open");
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let got = read_until_closed(&mut s);
    assert!(
        got.len() < BIG,
        "the whole response arrived ({} bytes): nothing was cut",
        got.len()
    );

    // A client that reads gets all of it from the same server.
    let mut s = connect(addr);
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    s.write_all(b"GET /big HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let r = read_response(&mut s, &mut Vec::new(), false);
    assert_eq!(r.status, 200);
    assert_eq!(r.body.len(), BIG);
}
