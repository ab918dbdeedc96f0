//! A panicking handler: the client gets `500` and a closed connection (or,
//! if the response had started, a cut body), and the worker goes on
//! serving other connections.

mod common;

use std::io::{Read, Write};
use std::time::Duration;

use common::http::{connect, read_response, start_http, ureq_agent};
use corering::http::{Http1Config, Request, Response, Status};
use corering::{get, routes};

#[get("/ok")]
async fn ok() -> &'static str {
    "ok"
}

#[get("/boom")]
async fn boom() -> &'static str {
    panic!("boom (a test handler panicking on purpose)")
}

/// Panics after an await, once the handler has been polled before.
#[get("/later")]
async fn later() -> &'static str {
    corering::time::sleep(Duration::from_millis(10)).await;
    panic!("later (a test handler panicking on purpose)")
}

/// Starts a streamed response, then panics.
#[get("/midstream")]
async fn midstream(req: &mut Request<'_>) -> Response {
    let Ok(mut out) = req.stream(Response::text("")).await else {
        return Response::new(Status::INTERNAL_SERVER_ERROR);
    };
    let _ = out.write(b"partial").await;
    let _ = out.flush().await;
    panic!("midstream (a test handler panicking on purpose)")
}

/// One worker, so the request after the panic runs on the worker that
/// caught it.
fn server() -> (corering::RunningServer, std::net::SocketAddr) {
    let b = common::builder().workers(1);
    start_http(b, Http1Config::new(), routes![ok, boom, later, midstream])
}

#[test]
fn panic_in_a_route_is_a_500_and_the_next_connection_works() {
    let (server, addr) = server();
    let agent = ureq_agent(Duration::from_secs(10));
    let url = |p: &str| format!("http://{addr}{p}");
    for path in ["/boom", "/later"] {
        let mut r = agent.get(&url(path)).call().expect("a response");
        assert_eq!(r.status().as_u16(), 500, "{path}");
        let _ = r.body_mut().read_to_string();
        let mut r = agent.get(&url("/ok")).call().expect("a response");
        assert_eq!(r.status().as_u16(), 200);
        assert_eq!(r.body_mut().read_to_string().unwrap(), "ok");
    }
    assert_eq!(server.workers(), 1);
    server.shutdown().unwrap();
}

#[test]
fn the_500_closes_the_connection() {
    let (_server, addr) = server();
    let mut s = connect(addr);
    // Keep-alive requested, and another request pipelined behind.
    s.write_all(b"GET /boom HTTP/1.1\r\nHost: x\r\n\r\nGET /ok HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let mut buf = Vec::new();
    let r = read_response(&mut s, &mut buf, false);
    assert_eq!(r.status, 500);
    assert_eq!(r.header("connection"), Some("close"));
    common::http::assert_closed(&mut s, &buf);
}

#[test]
fn a_panic_after_the_response_started_cuts_the_body() {
    let (_server, addr) = server();
    let mut s = connect(addr);
    s.write_all(b"GET /midstream HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let mut got = Vec::new();
    let _ = s.read_to_end(&mut got);
    let text = String::from_utf8_lossy(&got);
    assert!(text.starts_with("HTTP/1.1 200 OK\r\n"), "{text}");
    assert!(text.contains("partial"), "{text}");
    // No last chunk: the client can tell the body is incomplete.
    assert!(!text.ends_with("0\r\n\r\n"), "{text}");
    // And the worker still serves.
    let mut s = connect(addr);
    s.write_all(b"GET /ok HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    assert_eq!(read_response(&mut s, &mut Vec::new(), false).body, b"ok");
}
