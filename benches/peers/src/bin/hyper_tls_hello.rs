//! hyper 1.x "Hello, World!" server over TLS for the `tls_load` bench: tokio's
//! current-thread runtime (one thread), tokio-rustls with the ring provider (rustls'
//! defaults: TLS 1.3 and 1.2, session resumption by tickets and a session cache; ALPN
//! `http/1.1`), then the same HTTP/1.1 service as `hyper_hello`: keep-alive,
//! `pipeline_flush(true)`, hyper's own `Date` header, `Content-Type: text/plain`. Every
//! request path gets the same answer.
//!
//! `hyper_tls_hello --addr 127.0.0.1:8443 --cert CERT.pem --key KEY.pem` prints
//! `listening on ADDR` once bound.

use std::convert::Infallible;
use std::path::Path;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{HeaderValue, CONTENT_TYPE};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

use corering_http_peers::tls::{parse_tls_args, server_config};
use corering_http_peers::{exit_on_sigterm, BODY};

async fn hello(_req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let mut rsp = Response::new(Full::new(Bytes::from_static(BODY)));
    rsp.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("text/plain"));
    Ok(rsp)
}

fn main() {
    let (addr, cert, key) = parse_tls_args("hyper_tls_hello");
    exit_on_sigterm();
    let config = match server_config(Path::new(&cert), Path::new(&key)) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("hyper_tls_hello: {e}");
            std::process::exit(1);
        }
    };
    let acceptor = TlsAcceptor::from(config);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()
        .expect("building the tokio runtime");
    let result: std::io::Result<()> = rt.block_on(async move {
        let listener = TcpListener::bind(addr).await?;
        println!("listening on {}", listener.local_addr()?);
        let mut builder = http1::Builder::new();
        builder.keep_alive(true).pipeline_flush(true);
        loop {
            let (stream, _) = match listener.accept().await {
                Ok(s) => s,
                Err(e) => {
                    eprintln!("hyper_tls_hello: accept: {e}");
                    continue;
                }
            };
            let _ = stream.set_nodelay(true);
            let acceptor = acceptor.clone();
            let builder = builder.clone();
            tokio::spawn(async move {
                // A failed handshake closes that connection only.
                let Ok(tls) = acceptor.accept(stream).await else {
                    return;
                };
                let conn = builder.serve_connection(TokioIo::new(tls), service_fn(hello));
                let _ = conn.await;
            });
        }
    });
    if let Err(e) = result {
        eprintln!("hyper_tls_hello: {e}");
        std::process::exit(1);
    }
}
