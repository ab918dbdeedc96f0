//! `/ready` for load balancers: `200` while serving, `503` from the moment
//! shutdown is requested, on every worker, while in-flight connections
//! keep the server up.

use std::collections::HashSet;
use std::io::Write;
use std::net::TcpStream;
use std::time::{Duration, Instant};

use corering::http::observe;
use corering::http::{Http1Config, Response};
use corering::{get, routes};

mod common;

use common::http::{connect, read_response, start_http, ureq_agent};

#[get("/ready")]
async fn ready() -> Response {
    observe::ready()
}

/// Which worker serves this connection.
#[get("/worker")]
async fn worker() -> String {
    corering::worker_index().to_string()
}

const PARTIAL: &[u8] = b"GET /ready HTTP/1.1\r\nHost: test\r\n";

#[test]
fn ready_turns_503_on_every_worker_when_shutdown_starts() {
    let cfg = Http1Config::new();
    let (server, addr) = start_http(common::builder(), cfg, routes![ready, worker]);
    let agent = ureq_agent(Duration::from_secs(20));
    let mut r = agent.get(format!("http://{addr}/ready")).call().unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.body_mut().read_to_string().unwrap(), "ready\n");
    // Its idle pooled connection would hold the shutdown up.
    drop(agent);

    // Connections on both workers, each with a request head half sent.
    let mut conns: Vec<(TcpStream, Vec<u8>)> = Vec::new();
    let mut seen = HashSet::new();
    while seen.len() < 2 {
        assert!(conns.len() < 64, "64 connections all went to one worker");
        let mut s = connect(addr);
        let mut buf = Vec::new();
        s.write_all(b"GET /worker HTTP/1.1\r\nHost: test\r\n\r\n")
            .unwrap();
        let w = read_response(&mut s, &mut buf, false);
        seen.insert(w.body);
        s.write_all(PARTIAL).unwrap();
        conns.push((s, buf));
    }

    let handle = server.shutdown_handle();
    handle.shutdown();
    for (s, buf) in &mut conns {
        s.write_all(b"\r\n").unwrap();
        let r = read_response(s, buf, false);
        assert_eq!(r.status, 503, "{}", r.head);
        assert_eq!(r.body, b"shutting down\n");
    }
    drop(conns);
    server.wait().unwrap();
}

#[test]
fn hello_ready_after_sigterm() {
    let (mut child, addr) =
        common::start_example("hello", &["--addr", "127.0.0.1:0", "--workers", "1"]);
    let agent = ureq_agent(Duration::from_secs(20));
    let r = agent.get(format!("http://{addr}/ready")).call().unwrap();
    assert_eq!(r.status(), 200);
    drop(agent);

    // An in-flight request keeps the server up through the shutdown. A
    // whole request first, so that the connection is surely accepted (one
    // still in the listen backlog when shutdown closes the listener is
    // never served).
    let mut s = connect(addr);
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let mut buf = Vec::new();
    s.write_all(b"GET /ready HTTP/1.1\r\nHost: test\r\n\r\n")
        .unwrap();
    assert_eq!(read_response(&mut s, &mut buf, false).status, 200);
    s.write_all(PARTIAL).unwrap();
    // SAFETY: signalling our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    // Shutdown has begun once the listener is gone.
    let t0 = Instant::now();
    while TcpStream::connect(addr).is_ok() {
        assert!(
            t0.elapsed() < Duration::from_secs(20),
            "hello kept listening"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    s.write_all(b"\r\n").unwrap();
    let r = read_response(&mut s, &mut buf, false);
    assert_eq!(r.status, 503, "{}", r.head);
    assert_eq!(r.header("connection"), Some("close"));
    drop(s);
    assert!(child.wait().unwrap().success());
}
