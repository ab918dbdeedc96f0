//! hyper 1.x "Hello, World!" server over TLS for the `tls_load` bench: tokio's
//! current-thread runtime (one thread), tokio-rustls with the ring provider (rustls'
//! defaults: TLS 1.3 and 1.2, session resumption by tickets and a session cache; ALPN
//! `http/1.1`), then the same HTTP/1.1 service as `hyper_hello`: keep-alive,
//! `pipeline_flush(true)`, hyper's own `Date` header, `Content-Type: text/plain`. Every
//! request path gets the same answer.
//!
//! `hyper_tls_hello --addr 127.0.0.1:8443 --cert CERT.pem --key KEY.pem` prints
//! `listening on ADDR` once bound.

use hyper_util::rt::TokioIo;

use corering_http_peers::exit_on_sigterm;
use corering_http_peers::hyper_hello::serve_hello;
use corering_http_peers::tls::tls_args_and_acceptor;
use corering_http_peers::tokio_serve::serve_tcp;

fn main() {
    let (addr, acceptor) = tls_args_and_acceptor("hyper_tls_hello");
    exit_on_sigterm();
    serve_tcp("hyper_tls_hello", addr, |stream| {
        let acceptor = acceptor.clone();
        tokio::spawn(async move {
            // A failed handshake closes that connection only.
            if let Ok(tls) = acceptor.accept(stream).await {
                serve_hello(TokioIo::new(tls)).await;
            }
        });
    });
}
