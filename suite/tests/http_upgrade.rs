//! Protocol switches (`Connection: upgrade`, RFC 9110 §7.8) over raw TCP:
//! the `101` head, the hand-over of the connection with the bytes that
//! came after the request, and the refusals.

mod common;

use std::io::Write;
use std::net::SocketAddr;

use common::builder;
use common::http::{assert_closed, connect, fill, read_response};
use corering::http::route::Upgrade;
use corering::http::{Http1Config, Response, Status, Upgraded};
use corering::{get, post, routes, RunningServer};

/// After the switch: writes `echo:` and then echoes everything, starting
/// with the bytes that arrived with the request.
async fn echo(up: Upgraded) {
    let (mut conn, early) = up.into_parts();
    if conn.write_all(b"echo:").await.is_err() || conn.write_all(early.bytes()).await.is_err() {
        return;
    }
    while let Ok(Some(lease)) = conn.read().await {
        if conn.write_all(&lease).await.is_err() {
            return;
        }
    }
}

/// Switches when `echo` is offered; stays with HTTP otherwise.
#[get("/echo")]
async fn switch(up: Option<Upgrade>) -> Response {
    match up {
        Some(up) if up.offers("echo") => up.accept("echo", echo).header("X-Switch", "yes"),
        Some(up) => Response::text(format!("not switching to {}", up.protocols())),
        None => Response::text("plain"),
    }
}

/// Requires a switch (the extractor answers 400 otherwise); reads the
/// request body first.
#[post("/upload-then-echo")]
async fn upload(up: Upgrade) -> Response {
    up.accept("echo", echo)
}

/// A buggy handler: switches whatever the request asked.
#[get("/always")]
async fn always() -> Response {
    Response::upgrade("echo", echo)
}

/// A buggy handler: switches to a protocol nobody offered.
#[get("/other")]
async fn other(up: Upgrade) -> Response {
    up.accept("other", echo)
}

fn start() -> (RunningServer, SocketAddr) {
    let router = routes![switch, upload, always, other];
    let cfg = Http1Config::new().max_body(1024);
    // Small receive buffers: heads, bodies and early bytes span leases.
    let b = builder().workers(1).recv_buffers(64, 512);
    common::http::start_http(b, cfg, router)
}

const UPGRADE: &str = "Connection: keep-alive, Upgrade\r\nUpgrade: foo/2, echo\r\n";

/// Reads until `want` bytes have arrived after the response head.
fn read_exactly(s: &mut std::net::TcpStream, buf: &mut Vec<u8>, want: usize) -> Vec<u8> {
    while buf.len() < want {
        fill(s, buf);
    }
    buf.drain(..want).collect()
}

#[test]
fn switch_hands_over_the_connection_with_early_bytes() {
    let (_s, addr) = start();
    let mut s = connect(addr);
    // The request, then bytes of the new protocol in the same write: they
    // must reach the upgrade handler, not the HTTP parser.
    let req = format!("GET /echo HTTP/1.1\r\nHost: x\r\n{UPGRADE}\r\nGET / HTTP/1.1\r\n\r\n");
    s.write_all(req.as_bytes()).unwrap();
    let mut buf = Vec::new();
    let r = read_response(&mut s, &mut buf, true);
    assert_eq!(r.status, 101, "{}", r.head);
    assert!(r.head.starts_with("HTTP/1.1 101 Switching Protocols\r\n"));
    assert_eq!(r.header("upgrade"), Some("echo"), "{}", r.head);
    assert_eq!(r.header("connection"), Some("upgrade"), "{}", r.head);
    assert_eq!(r.header("x-switch"), Some("yes"), "{}", r.head);
    assert_eq!(r.header("content-length"), None, "{}", r.head);
    assert_eq!(
        read_exactly(&mut s, &mut buf, 23),
        b"echo:GET / HTTP/1.1\r\n\r\n"
    );
    // Larger than a receive buffer, in several writes: still echoed as is.
    let data: Vec<u8> = (0..5000u32).map(|i| (i % 251) as u8).collect();
    for piece in data.chunks(700) {
        s.write_all(piece).unwrap();
    }
    assert_eq!(read_exactly(&mut s, &mut buf, data.len()), data);
    s.shutdown(std::net::Shutdown::Write).unwrap();
    assert_closed(&mut s, &buf);
}

#[test]
fn request_body_is_read_before_the_switch() {
    let (_s, addr) = start();
    let mut s = connect(addr);
    let body = "b".repeat(300);
    let req = format!(
        "POST /upload-then-echo HTTP/1.1\r\nHost: x\r\n{UPGRADE}Content-Length: 300\r\n\r\n{body}after"
    );
    // Byte by byte for the first part: the body spans many reads.
    let (slow, rest) = req.as_bytes().split_at(120);
    for b in slow {
        s.write_all(&[*b]).unwrap();
    }
    s.write_all(rest).unwrap();
    let mut buf = Vec::new();
    let r = read_response(&mut s, &mut buf, true);
    assert_eq!(r.status, 101, "{}", r.head);
    assert_eq!(read_exactly(&mut s, &mut buf, 10), b"echo:after");
}

#[test]
fn chunked_request_body_is_read_before_the_switch() {
    let (_s, addr) = start();
    let mut s = connect(addr);
    let req = format!(
        "POST /upload-then-echo HTTP/1.1\r\nHost: x\r\n{UPGRADE}Transfer-Encoding: chunked\r\n\r\n\
         3\r\nabc\r\n0\r\n\r\nnext"
    );
    s.write_all(req.as_bytes()).unwrap();
    let mut buf = Vec::new();
    assert_eq!(read_response(&mut s, &mut buf, true).status, 101);
    assert_eq!(read_exactly(&mut s, &mut buf, 9), b"echo:next");
}

#[test]
fn declining_keeps_http_on_the_connection() {
    let (_s, addr) = start();
    let mut s = connect(addr);
    let req = "GET /echo HTTP/1.1\r\nHost: x\r\nConnection: upgrade\r\nUpgrade: h2c\r\n\r\n\
               GET /echo HTTP/1.1\r\nHost: x\r\n\r\n";
    s.write_all(req.as_bytes()).unwrap();
    let mut buf = Vec::new();
    let r = read_response(&mut s, &mut buf, false);
    assert_eq!(r.status, 200, "{}", r.head);
    assert_eq!(r.body, b"not switching to h2c");
    let r = read_response(&mut s, &mut buf, false);
    assert_eq!((r.status, &r.body[..]), (200, &b"plain"[..]), "{}", r.head);
}

#[test]
fn upgrade_extractor_rejects_plain_requests_with_400() {
    let (_s, addr) = start();
    let mut s = connect(addr);
    // Upgrade without the `upgrade` connection option, then HTTP/1.0 (which
    // has no protocol switch): neither asks to switch.
    let req = "POST /upload-then-echo HTTP/1.1\r\nHost: x\r\nUpgrade: echo\r\nContent-Length: 0\r\n\r\n\
               POST /upload-then-echo HTTP/1.0\r\nConnection: keep-alive, upgrade\r\nUpgrade: echo\r\n\r\n";
    s.write_all(req.as_bytes()).unwrap();
    let mut buf = Vec::new();
    for _ in 0..2 {
        let r = read_response(&mut s, &mut buf, false);
        assert_eq!(r.status, 400, "{}", r.head);
        assert!(String::from_utf8_lossy(&r.body).contains("protocol switch"));
    }
}

#[test]
fn switch_nobody_asked_for_is_500_and_close() {
    let (_s, addr) = start();
    for req in [
        // No upgrade asked for at all.
        "GET /always HTTP/1.1\r\nHost: x\r\n\r\n".to_string(),
        // Asked for `foo/2` and `echo`; the handler picks `other`.
        format!("GET /other HTTP/1.1\r\nHost: x\r\n{UPGRADE}\r\n"),
    ] {
        let mut s = connect(addr);
        s.write_all(req.as_bytes()).unwrap();
        let mut buf = Vec::new();
        let r = read_response(&mut s, &mut buf, false);
        assert_eq!(r.status, 500, "for {req:?}: {}", r.head);
        assert_eq!(r.header("connection"), Some("close"));
        assert_closed(&mut s, &buf);
    }
}

#[test]
fn body_over_the_limit_is_413_not_a_switch() {
    let (_s, addr) = start();
    let mut s = connect(addr);
    let req = format!(
        "POST /upload-then-echo HTTP/1.1\r\nHost: x\r\n{UPGRADE}Content-Length: 2000\r\n\r\n{}",
        "z".repeat(2000)
    );
    s.write_all(req.as_bytes()).unwrap();
    let mut buf = Vec::new();
    let r = read_response(&mut s, &mut buf, false);
    assert_eq!(r.status, Status::PAYLOAD_TOO_LARGE.as_u16(), "{}", r.head);
}

#[test]
fn client_takes_over_a_switched_connection() {
    use corering::http::client::{Client, ClientRequest};
    let (_s, addr) = start();
    corering::Runtime::new()
        .expect("runtime")
        .block_on(async move {
            let client = Client::new();
            let req = ClientRequest::get("/echo")
                .header("Connection", "upgrade")
                .header("Upgrade", "echo");
            let resp = client.send(addr, &req).await.expect("send");
            assert_eq!(resp.status(), Status::SWITCHING_PROTOCOLS);
            assert_eq!(resp.header_str("upgrade"), Some("echo"));
            let up = resp.into_upgraded().expect("a switch");
            let (mut conn, early) = up.into_parts();
            let mut got = early.bytes().to_vec();
            conn.write_all(b"ping").await.expect("write");
            while got.len() < 9 {
                let lease = conn.read().await.expect("read").expect("not closed");
                got.extend_from_slice(&lease);
            }
            assert_eq!(got, b"echo:ping");

            // Declined: the response comes back to be read as usual.
            let req = ClientRequest::get("/echo")
                .header("Connection", "upgrade")
                .header("Upgrade", "h2c");
            let resp = client.send(addr, &req).await.expect("send");
            let resp = resp.into_upgraded().expect_err("no switch");
            assert_eq!(resp.text().await.expect("body"), "not switching to h2c");
        });
}
