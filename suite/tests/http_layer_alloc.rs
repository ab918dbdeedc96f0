//! Proves that a router under three layers (request id, access log to a
//! discarded writer, timeout) answers a keep-alive request without
//! allocating on the worker once warm: the layers compose statically.
//!
//! Same method as tests/http_alloc.rs: a counting global allocator, on for
//! the worker thread between the warm-up and the end of the measured
//! requests.

use std::io::Write;
use std::net::TcpStream;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use corering::http::layer::{RequestId, Timeout};
use corering::http::observe::AccessLog;
use corering::http::{self, Http1Config, Response};

mod common;
mod counting_alloc;

use common::read_hello;

const WARMUP: usize = 500;
const MEASURED: usize = 1_000;

static SEEN: AtomicUsize = AtomicUsize::new(0);
static RESULT: AtomicUsize = AtomicUsize::new(usize::MAX);

#[corering::get("/plaintext")]
async fn plaintext() -> Response {
    let n = SEEN.fetch_add(1, Ordering::SeqCst) + 1;
    if n == WARMUP {
        counting_alloc::reset();
        counting_alloc::set_counting(true);
    }
    if n == WARMUP + MEASURED {
        counting_alloc::set_counting(false);
        RESULT.store(counting_alloc::count(), Ordering::SeqCst);
    }
    Response::text("Hello, World!")
}

#[test]
fn three_layers_allocate_nothing_when_warm() {
    let cfg = Http1Config::new();
    let app = corering::routes![plaintext]
        .layer(Timeout::new(Duration::from_secs(5)))
        .layer(AccessLog::layer().discard())
        .layer(RequestId::new());
    let server = corering::Server::builder()
        .bind("127.0.0.1:0")
        .workers(1)
        .pin_workers(false)
        .build()
        .expect("build")
        .start(move |conn| http::serve(conn, cfg, app.clone()))
        .expect("start");
    let mut s = TcpStream::connect(server.tcp_addr().unwrap()).unwrap();
    s.set_nodelay(true).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut buf = vec![0u8; 4096];
    let mut have = 0;
    for i in 0..WARMUP + MEASURED {
        // Half the requests bring their own id, half get one made.
        let req: &[u8] = if i % 2 == 0 {
            b"GET /plaintext HTTP/1.1\r\nHost: h\r\n\r\n"
        } else {
            b"GET /plaintext HTTP/1.1\r\nHost: h\r\nX-Request-Id: client-id-42\r\n\r\n"
        };
        s.write_all(req).unwrap();
        read_hello(&mut s, &mut buf, &mut have);
    }
    let n = counting_alloc::wait_published(&RESULT, Duration::from_secs(10));
    drop(s);
    server.shutdown().unwrap();
    assert_eq!(n, 0, "{n} allocations in {MEASURED} layered requests");
}
