//! Pipelined requests whose responses the server holds back to send
//! together: every earlier response must still reach the client before
//! the server waits on it or on anything else. Each case withholds what
//! the server needs next (a body, a signal) until the client has read the
//! earlier response, so a response held back too long shows up as a
//! stalled client (a read timeout), not as a slow one.

mod common;

use std::io::Write;
use std::sync::mpsc;
use std::sync::Mutex;

use common::http::{connect, read_response, start_http};
use corering::http::route::Bytes;
use corering::http::{Http1Config, Request, Response, Status};
use corering::{get, post, routes};

#[get("/a")]
async fn a() -> &'static str {
    "a"
}

#[post("/echo")]
async fn echo(body: Bytes) -> Vec<u8> {
    body.0.to_vec()
}

/// Released by the test through [`RELEASE`].
static RELEASE: Mutex<Option<mpsc::Receiver<()>>> = Mutex::new(None);

/// Waits (on the blocking pool, so the worker goes on) until the test
/// says so.
#[get("/wait")]
async fn wait() -> &'static str {
    let rx = RELEASE.lock().unwrap().take().expect("one /wait per test");
    corering::task::spawn_blocking(move || rx.recv().ok())
        .await
        .expect("blocking pool");
    "released"
}

#[get("/stream")]
async fn stream(req: &mut Request<'_>) -> Response {
    let Ok(mut out) = req.stream(Response::text("")).await else {
        return Response::new(Status::INTERNAL_SERVER_ERROR);
    };
    let _ = out.write(b"streamed").await;
    out.finish().await
}

fn server() -> (corering::RunningServer, std::net::SocketAddr) {
    let b = common::builder().workers(1);
    start_http(b, Http1Config::new(), routes![a, echo, wait, stream])
}

#[test]
fn response_leaves_before_the_next_body_is_awaited() {
    let (server, addr) = server();
    let mut s = connect(addr);
    let mut buf = Vec::new();
    s.write_all(
        b"GET /a HTTP/1.1\r\nHost: x\r\n\r\n\
          POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n",
    )
    .unwrap();
    let r = read_response(&mut s, &mut buf, false);
    assert_eq!((r.status, &r.body[..]), (200, &b"a"[..]));
    s.write_all(b"hello").unwrap();
    let r = read_response(&mut s, &mut buf, false);
    assert_eq!((r.status, &r.body[..]), (200, &b"hello"[..]));
    server.shutdown().unwrap();
}

#[test]
fn response_leaves_before_100_continue() {
    let (server, addr) = server();
    let mut s = connect(addr);
    let mut buf = Vec::new();
    s.write_all(
        b"GET /a HTTP/1.1\r\nHost: x\r\n\r\n\
          POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n",
    )
    .unwrap();
    let r = read_response(&mut s, &mut buf, false);
    assert_eq!((r.status, &r.body[..]), (200, &b"a"[..]));
    let r = read_response(&mut s, &mut buf, false);
    assert_eq!(r.status, 100);
    s.write_all(b"ok").unwrap();
    let r = read_response(&mut s, &mut buf, false);
    assert_eq!((r.status, &r.body[..]), (200, &b"ok"[..]));
    server.shutdown().unwrap();
}

#[test]
fn response_leaves_while_the_next_handler_waits() {
    let (server, addr) = server();
    let (tx, rx) = mpsc::channel();
    *RELEASE.lock().unwrap() = Some(rx);
    let mut s = connect(addr);
    let mut buf = Vec::new();
    s.write_all(b"GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /wait HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let r = read_response(&mut s, &mut buf, false);
    assert_eq!((r.status, &r.body[..]), (200, &b"a"[..]));
    tx.send(()).unwrap();
    let r = read_response(&mut s, &mut buf, false);
    assert_eq!((r.status, &r.body[..]), (200, &b"released"[..]));
    server.shutdown().unwrap();
}

#[test]
fn staged_responses_precede_a_stream_and_an_error() {
    let (server, addr) = server();
    let mut s = connect(addr);
    let mut buf = Vec::new();
    s.write_all(
        b"GET /a HTTP/1.1\r\nHost: x\r\n\r\n\
          GET /stream HTTP/1.1\r\nHost: x\r\n\r\n\
          GET /a HTTP/1.1\r\nHost: x\r\n\r\n\
          GET /a HTTP/1.1\r\nHost: x\r\nContent-Length: x\r\n\r\n",
    )
    .unwrap();
    let r = read_response(&mut s, &mut buf, false);
    assert_eq!((r.status, &r.body[..]), (200, &b"a"[..]));
    let r = read_response(&mut s, &mut buf, false);
    assert_eq!(r.status, 200);
    assert_eq!(r.header("transfer-encoding"), Some("chunked"));
    // The chunked body, then the third response, then the 400.
    let end = b"0\r\n\r\n";
    while !buf.windows(end.len()).any(|w| w == end) {
        common::http::fill(&mut s, &mut buf);
    }
    let at = buf.windows(end.len()).position(|w| w == end).unwrap() + end.len();
    assert!(std::str::from_utf8(&buf[..at])
        .unwrap()
        .contains("streamed"));
    buf.drain(..at);
    let r = read_response(&mut s, &mut buf, false);
    assert_eq!((r.status, &r.body[..]), (200, &b"a"[..]));
    let r = read_response(&mut s, &mut buf, false);
    assert_eq!(r.status, 400);
    server.shutdown().unwrap();
}

#[test]
fn a_long_pipeline_is_answered_in_order() {
    let (server, addr) = server();
    let mut s = connect(addr);
    let mut buf = Vec::new();
    // Past the staging bound many times over; the bodies tell them apart.
    let n = 500;
    let mut batch = Vec::new();
    for i in 0..n {
        let body = format!("{i}");
        batch.extend_from_slice(
            format!(
                "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            )
            .as_bytes(),
        );
    }
    s.write_all(&batch).unwrap();
    for i in 0..n {
        let r = read_response(&mut s, &mut buf, false);
        assert_eq!(r.status, 200);
        assert_eq!(r.body, format!("{i}").into_bytes());
    }
    server.shutdown().unwrap();
}
