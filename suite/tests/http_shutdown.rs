//! HTTP at shutdown: idle keep-alive connections close at once, a request
//! in flight is finished with `Connection: close`, a pipelined request
//! behind it is not processed, a streamed response that watches for
//! shutdown ends cleanly, and the `hello` binary exits at once on SIGTERM
//! with an idle client.

mod common;

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use common::http::{connect, read_response, start_http};
use corering::future::{race, Either};
use corering::http::{Http1Config, Request, Response, Status};
use corering::{get, routes};

#[get("/hello")]
async fn hello() -> &'static str {
    "hello"
}

/// Answers after 300 ms.
#[get("/slow")]
async fn slow() -> &'static str {
    corering::time::sleep(Duration::from_millis(300)).await;
    "slow"
}

/// Streams `tick\n` every 20 ms until the server shuts down.
#[get("/ticks")]
async fn ticks(req: &mut Request<'_>) -> Response {
    let Ok(mut out) = req.stream(Response::text("")).await else {
        return Response::new(Status::INTERNAL_SERVER_ERROR);
    };
    let mut shutdown = std::pin::pin!(corering::shutdown_requested());
    loop {
        let tick = corering::time::sleep(Duration::from_millis(20));
        match race(shutdown.as_mut(), tick).await {
            Either::Left(()) => break,
            Either::Right(()) => {
                if out.write(b"tick\n").await.is_err() {
                    break;
                }
            }
        }
    }
    out.finish().await
}

/// A server with the default 10 s grace period.
fn server() -> (corering::RunningServer, std::net::SocketAddr) {
    let b = common::builder().shutdown_timeout(Duration::from_secs(10));
    start_http(b, Http1Config::new(), routes![hello, slow, ticks])
}

/// Reads until the server closes; the bytes read.
fn read_to_close(s: &mut std::net::TcpStream) -> Vec<u8> {
    let mut got = Vec::new();
    let _ = s.read_to_end(&mut got);
    got
}

/// Triggers shutdown and waits for the server to exit; how long it took.
fn shut_down(server: corering::RunningServer) -> Duration {
    let t0 = Instant::now();
    server.shutdown().expect("shutdown");
    t0.elapsed()
}

#[test]
fn idle_keep_alive_connection_closes_at_once_and_the_server_exits() {
    let (server, addr) = server();
    let mut s = connect(addr);
    s.write_all(b"GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let r = read_response(&mut s, &mut Vec::new(), false);
    assert_eq!(r.body, b"hello");
    assert_eq!(r.header("connection"), None, "kept alive");
    // A second connection that never sent anything.
    let mut fresh = connect(addr);
    let took = shut_down(server);
    assert!(
        took < Duration::from_secs(1),
        "the server took {took:?} to exit with idle connections (grace 10 s)"
    );
    assert!(read_to_close(&mut s).is_empty());
    assert!(read_to_close(&mut fresh).is_empty());
}

#[test]
fn request_in_flight_finishes_with_connection_close() {
    let (server, addr) = server();
    let mut s = connect(addr);
    s.write_all(b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    // Shut down while the handler sleeps.
    std::thread::sleep(Duration::from_millis(100));
    let stopper = std::thread::spawn(move || shut_down(server));
    let r = read_response(&mut s, &mut Vec::new(), false);
    assert_eq!(r.status, 200);
    assert_eq!(r.body, b"slow");
    assert_eq!(r.header("connection"), Some("close"));
    assert!(read_to_close(&mut s).is_empty());
    drop(s);
    let took = stopper.join().unwrap();
    assert!(took < Duration::from_secs(1), "exit took {took:?}");
}

#[test]
fn a_pipelined_request_behind_the_one_in_flight_is_not_processed() {
    let (server, addr) = server();
    let mut s = connect(addr);
    s.write_all(b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\nGET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    std::thread::sleep(Duration::from_millis(100));
    let stopper = std::thread::spawn(move || shut_down(server));
    let mut buf = Vec::new();
    let r = read_response(&mut s, &mut buf, false);
    assert_eq!(r.body, b"slow");
    // `close` on the first answer: nothing after it was processed, so the
    // client knows to resend the second request elsewhere.
    assert_eq!(r.header("connection"), Some("close"));
    buf.extend(read_to_close(&mut s));
    assert!(buf.is_empty(), "{:?}", String::from_utf8_lossy(&buf));
    drop(s);
    let took = stopper.join().unwrap();
    assert!(took < Duration::from_secs(1), "exit took {took:?}");
}

#[test]
fn a_streamed_response_that_watches_for_shutdown_ends_cleanly() {
    let (server, addr) = server();
    let mut s = connect(addr);
    s.write_all(b"GET /ticks HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while !got.ends_with(b"tick\n\r\n") {
        let n = s.read(&mut buf).unwrap();
        assert!(n > 0, "closed early: {:?}", String::from_utf8_lossy(&got));
        got.extend_from_slice(&buf[..n]);
    }
    let head = String::from_utf8_lossy(&got).to_lowercase();
    assert!(head.contains("transfer-encoding: chunked"), "{head}");
    let stopper = std::thread::spawn(move || shut_down(server));
    got.extend(read_to_close(&mut s));
    // The last chunk: the body is complete, not cut.
    assert!(
        got.ends_with(b"\r\n0\r\n\r\n"),
        "{:?}",
        String::from_utf8_lossy(&got[got.len().saturating_sub(40)..])
    );
    let took = stopper.join().unwrap();
    assert!(took < Duration::from_secs(1), "exit took {took:?}");
}

#[test]
fn hello_binary_exits_zero_at_once_on_sigterm_with_an_idle_keep_alive_client() {
    let (mut child, addr) =
        common::start_example("hello", &["--addr", "127.0.0.1:0", "--workers", "2"]);
    let mut s = connect(addr);
    s.write_all(b"GET /plaintext HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let r = read_response(&mut s, &mut Vec::new(), false);
    assert_eq!(r.body, b"Hello, World!");
    // SAFETY: kill(2) on our own child.
    let rc = unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) };
    assert_eq!(rc, 0);
    let t0 = Instant::now();
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        if t0.elapsed() > Duration::from_secs(15) {
            let _ = child.kill();
            panic!("hello did not exit within 15 s of SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let took = t0.elapsed();
    assert_eq!(status.code(), Some(0), "exit status {status}");
    assert!(
        took < Duration::from_secs(1),
        "hello took {took:?} to exit with an idle keep-alive client"
    );
    assert!(read_to_close(&mut s).is_empty());
}
