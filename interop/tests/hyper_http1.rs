//! hyper 1.x's HTTP/1 server (a crate nobody here wrote) inside corering
//! connection tasks, over `corering::IoStream` through hyper-util's
//! `TokioIo`, answering `ureq` (another crate nobody here wrote) on real
//! loopback sockets.
//!
//! hyper's HTTP/1 server needs no executor (only HTTP/2 spawns tasks) and
//! a timer only for `header_read_timeout`, which is switched off here: a
//! timer of hyper's must be `Send + Sync` and boxes every sleep, while the
//! corering connection's own idle timeout bounds a silent peer for free
//! (`idle_timeout_of_the_connection_bounds_a_silent_peer`). So nothing
//! here needs a tokio runtime: hyper's future runs on the corering worker.

use std::convert::Infallible;
use std::future::Future;
use std::io::{Read, Write};
use std::time::Duration;

use bytes::Bytes;
use corering::{Connection, IoStream, RunningServer};
use corering_interop::{builder, connect, random_bytes, start, XorStack, XorStream, IO_TIMEOUT};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;

const BIG: usize = 300 << 10;

async fn handle(req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let path = req.uri().path().to_owned();
    let body = match (req.method().as_str(), path.as_str()) {
        (_, "/echo") => match req.into_body().collect().await {
            Ok(b) => b.to_bytes(),
            Err(e) => Bytes::from(format!("body error: {e}")),
        },
        ("GET", "/big") => Bytes::from(random_bytes(9, BIG)),
        _ => Bytes::from_static(b"Hello, World!"),
    };
    Ok(Response::new(Full::new(body)))
}

/// Serves one connection with hyper's HTTP/1 server; when the corering
/// server shuts down, hyper finishes the request in flight and closes.
async fn serve_hyper(conn: Connection) {
    let io = TokioIo::new(IoStream::new(conn));
    let hyper_conn = hyper::server::conn::http1::Builder::new()
        .header_read_timeout(None)
        .serve_connection(io, hyper::service::service_fn(handle));
    let mut hyper_conn = std::pin::pin!(hyper_conn);
    let mut shutdown = std::pin::pin!(corering::shutdown_requested());
    let mut told = false;
    let r = std::future::poll_fn(|cx| {
        if !told && shutdown.as_mut().poll(cx).is_ready() {
            told = true;
            hyper_conn.as_mut().graceful_shutdown();
        }
        hyper_conn.as_mut().poll(cx)
    })
    .await;
    if let Err(e) = r {
        eprintln!("hyper connection: {e}");
    }
}

fn start_hyper<M: corering::pipeline::Middleware>(
    b: corering::ServerBuilder<M>,
) -> (RunningServer, std::net::SocketAddr) {
    let server = start(b, serve_hyper);
    let addr = server.tcp_addr().unwrap();
    (server, addr)
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(IO_TIMEOUT))
        .build()
        .into()
}

/// The whole body of `r`, up to 1 MiB.
fn body_bytes(r: &mut ureq::http::Response<ureq::Body>) -> Vec<u8> {
    r.body_mut()
        .with_config()
        .limit(1 << 20)
        .read_to_vec()
        .unwrap()
}

#[test]
fn hyper_serves_ureq_over_keep_alive_with_300_kb_bodies_both_ways() {
    let (server, addr) = start_hyper(builder());
    let a = agent();
    let data = random_bytes(3, BIG);

    let mut r = a.get(format!("http://{addr}/")).call().unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.body_mut().read_to_string().unwrap(), "Hello, World!");

    // Content-Length request body.
    let mut r = a
        .post(format!("http://{addr}/echo"))
        .send(&data[..])
        .unwrap();
    assert_eq!(r.status(), 200);
    let got = body_bytes(&mut r);
    assert!(
        got == data,
        "Content-Length echo differs ({} bytes)",
        got.len()
    );

    // Chunked request body (a reader of unknown length).
    let mut r = a
        .post(format!("http://{addr}/echo"))
        .send(ureq::SendBody::from_reader(&mut &data[..]))
        .unwrap();
    let got = body_bytes(&mut r);
    assert!(got == data, "chunked echo differs ({} bytes)", got.len());

    // A large response body.
    let mut r = a.get(format!("http://{addr}/big")).call().unwrap();
    let got = body_bytes(&mut r);
    assert!(got == random_bytes(9, BIG), "big response differs");

    // All four requests went over one kept-alive connection.
    let accepted = server.total_stats().accepted;
    assert_eq!(accepted, 1, "ureq reused its connection");
    server.shutdown().unwrap();
}

#[test]
fn hyper_answers_pipelined_requests_in_order() {
    let (server, addr) = start_hyper(builder());
    let mut s = connect(addr);
    s.write_all(
        b"GET /a HTTP/1.1\r\nHost: x\r\n\r\n\
          POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nfirst\
          POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\nConnection: close\r\n\r\nsecond",
    )
    .unwrap();
    let mut got = String::new();
    s.read_to_string(&mut got).unwrap();
    assert_eq!(got.matches("HTTP/1.1 200 OK\r\n").count(), 3, "{got}");
    let hello = got.find("Hello, World!").expect("first response");
    let first = got.find("first").expect("second response");
    let second = got.find("second").expect("third response");
    assert!(hello < first && first < second, "in order: {got}");
    server.shutdown().unwrap();
}

#[test]
fn hyper_runs_over_a_layered_connection() {
    // Every connection gets the XOR layer: hyper only ever sees plaintext,
    // the socket only ciphertext.
    let (server, addr) = start_hyper(builder().middleware(XorStack));
    let mut s = XorStream(connect(addr));
    let body = random_bytes(4, 70_000);
    write!(
        s,
        "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .unwrap();
    s.write_all(&body).unwrap();
    let mut got = Vec::new();
    s.read_to_end(&mut got).unwrap();
    let head_end = got
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a response head, decoded through the layer")
        + 4;
    let head = String::from_utf8_lossy(&got[..head_end]).to_lowercase();
    assert!(head.starts_with("http/1.1 200 ok\r\n"), "{head}");
    assert!(head.contains("content-length: 70000\r\n"), "{head}");
    assert!(got[head_end..] == body[..], "echoed body differs");
    server.shutdown().unwrap();
}

#[test]
fn idle_timeout_of_the_connection_bounds_a_silent_peer() {
    // hyper has no timer here; the connection's idle timeout fails its read.
    let server = start(builder(), |mut conn: Connection| {
        conn.set_idle_timeout(Some(Duration::from_millis(200)));
        serve_hyper(conn)
    });
    let addr = server.tcp_addr().unwrap();
    let mut s = connect(addr);
    // Half a request head, then silence.
    s.write_all(b"GET / HTTP/1.1\r\nHo").unwrap();
    let mut rest = Vec::new();
    // Closed by the server long before the client's own 20 s timeout.
    let r = s.read_to_end(&mut rest);
    assert!(
        r.is_ok()
            || r.as_ref()
                .is_err_and(|e| e.kind() == std::io::ErrorKind::ConnectionReset),
        "the server closed the connection: {r:?}"
    );
    // A new client is served as usual.
    let mut r = agent().get(format!("http://{addr}/")).call().unwrap();
    assert_eq!(r.body_mut().read_to_string().unwrap(), "Hello, World!");
    server.shutdown().unwrap();
}
