//! hyper 1.x "Hello, World!" server for the `http_load` bench: tokio's current-thread
//! runtime (one thread), HTTP/1.1 with keep-alive, `pipeline_flush(true)`, hyper's own
//! `Date` header, `Content-Type: text/plain`. Every request path gets the same answer.
//!
//! `hyper_hello --addr 127.0.0.1:8080` prints `listening on ADDR` once bound.

use std::convert::Infallible;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{HeaderValue, CONTENT_TYPE};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

use corering_http_peers::{exit_on_sigterm, parse_addr, BODY};

async fn hello(_req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let mut rsp = Response::new(Full::new(Bytes::from_static(BODY)));
    rsp.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("text/plain"));
    Ok(rsp)
}

fn main() {
    let addr = parse_addr("hyper_hello");
    exit_on_sigterm();
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
                    eprintln!("hyper_hello: accept: {e}");
                    continue;
                }
            };
            let _ = stream.set_nodelay(true);
            let conn = builder.serve_connection(TokioIo::new(stream), service_fn(hello));
            tokio::spawn(async move {
                let _ = conn.await;
            });
        }
    });
    if let Err(e) = result {
        eprintln!("hyper_hello: {e}");
        std::process::exit(1);
    }
}
