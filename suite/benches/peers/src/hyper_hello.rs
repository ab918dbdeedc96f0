//! The HTTP/1.1 service of the hyper peers (`hyper_hello`, `hyper_tls_hello`): keep-alive,
//! `pipeline_flush(true)`, hyper's own `Date` header, and to every request path the same
//! answer, `Content-Type: text/plain` and [`BODY`](crate::BODY).

use std::convert::Infallible;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{HeaderValue, CONTENT_TYPE};
use hyper::rt::{Read, Write};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};

use crate::BODY;

async fn hello(_req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let mut rsp = Response::new(Full::new(Bytes::from_static(BODY)));
    rsp.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("text/plain"));
    Ok(rsp)
}

/// Serves the hello answer on one connection until it closes or fails.
pub async fn serve_hello<IO: Read + Write + Unpin>(io: IO) {
    let _ = http1::Builder::new()
        .keep_alive(true)
        .pipeline_flush(true)
        .serve_connection(io, service_fn(hello))
        .await;
}
