//! Allocations per request on a warm TLS keep-alive connection, counted on
//! the server's worker thread (handshake excluded): none. After the
//! handshake, records are opened and sealed in place by corering's own
//! record layer on the secrets rustls hands over (rustls' unbuffered API
//! would allocate one vector per record each way). Prints the figures.

mod counting_alloc;
mod tls_common;

use std::sync::atomic::{AtomicUsize, Ordering};

use corering::http::{self, Http1Config, Request, Response};
use tls_common::{client_config, pki, roundtrip, server_config, tls_builder, tls_connect};

const WARMUP: usize = 300;
const MEASURED: usize = 1_000;

static SEEN: AtomicUsize = AtomicUsize::new(0);
static RESULT: AtomicUsize = AtomicUsize::new(usize::MAX);

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
    if n == WARMUP + MEASURED {
        counting_alloc::set_counting(false);
        RESULT.store(counting_alloc::count(), Ordering::SeqCst);
    }
    Response::text("Hello, World!")
}

fn measure(req: &[u8]) -> usize {
    SEEN.store(0, Ordering::SeqCst);
    RESULT.store(usize::MAX, Ordering::SeqCst);
    let p = pki("alloc CA");
    let cfg = Http1Config::new().server_name(Some("corering"));
    let server = tls_builder(server_config(&p))
        .build()
        .expect("build")
        .start(move |conn| http::serve(conn, cfg, handler))
        .expect("start");
    let mut s = tls_connect(server.tcp_addr().unwrap(), &client_config(&p), "localhost");
    let mut buf = Vec::new();
    for _ in 0..WARMUP + MEASURED {
        let r = roundtrip(&mut s, req, &mut buf);
        assert_eq!(r.status, 200);
    }
    let published = counting_alloc::wait_published(&RESULT, std::time::Duration::from_secs(10));
    drop(s);
    server.shutdown().unwrap();
    published
}

#[test]
fn tls_keep_alive_allocations_per_request() {
    let get = measure(b"GET /plaintext HTTP/1.1\r\nHost: localhost\r\nUser-Agent: test\r\n\r\n");
    let post = measure(
        b"POST /echo HTTP/1.1\r\nHost: localhost\r\nContent-Length: 32\r\n\r\n0123456789abcdef0123456789abcdef",
    );
    let per = |n: usize| n as f64 / MEASURED as f64;
    println!(
        "allocations per TLS request (one record each way): GET {:.2}, POST with body {:.2}",
        per(get),
        per(post)
    );
    assert_eq!(get, 0, "{get} allocations in {MEASURED} GET requests");
    assert_eq!(post, 0, "{post} allocations in {MEASURED} POST requests");
}
