//! hyper 1.x "Hello, World!" server for the `http_load` bench: tokio's current-thread
//! runtime (one thread), HTTP/1.1 with keep-alive, `pipeline_flush(true)`, hyper's own
//! `Date` header, `Content-Type: text/plain`. Every request path gets the same answer.
//!
//! `hyper_hello --addr 127.0.0.1:8080` prints `listening on ADDR` once bound.

use hyper_util::rt::TokioIo;

use corering_http_peers::hyper_hello::serve_hello;
use corering_http_peers::tokio_serve::serve_tcp;
use corering_http_peers::{exit_on_sigterm, parse_addr};

fn main() {
    let addr = parse_addr("hyper_hello");
    exit_on_sigterm();
    serve_tcp("hyper_hello", addr, |stream| {
        tokio::spawn(serve_hello(TokioIo::new(stream)));
    });
}
