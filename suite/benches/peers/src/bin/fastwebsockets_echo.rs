//! WebSocket echo server on fastwebsockets, a peer of the `ws_load` bench: tokio's
//! current-thread runtime (one thread), the handshake through hyper 1.x
//! (`fastwebsockets::upgrade`), one task per connection, `TCP_NODELAY`, fastwebsockets'
//! defaults (automatic pong and close, 64 MiB messages, no compression: it has none).
//!
//! Any request path is accepted. Fragmented messages are reassembled (and text checked
//! for UTF-8) by `FragmentCollector`; every text or binary message is sent back unchanged,
//! as one frame. It is fastwebsockets' own echo server example, on one thread.
//!
//! `fastwebsockets_echo --addr 127.0.0.1:9001` prints `listening on ADDR` once bound and
//! exits with status 0 on SIGTERM.

use bytes::Bytes;
use fastwebsockets::upgrade::{upgrade, UpgradeFut};
use fastwebsockets::{FragmentCollector, OpCode, WebSocketError};
use http_body_util::Empty;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;

use corering_http_peers::tokio_serve::serve_tcp;
use corering_http_peers::{exit_on_sigterm, parse_addr};

const NAME: &str = "fastwebsockets_echo";

async fn echo(fut: UpgradeFut) -> Result<(), WebSocketError> {
    let mut ws = FragmentCollector::new(fut.await?);
    loop {
        let frame = ws.read_frame().await?;
        match frame.opcode {
            OpCode::Close => return Ok(()),
            OpCode::Text | OpCode::Binary => ws.write_frame(frame).await?,
            _ => {}
        }
    }
}

async fn handshake(mut req: Request<Incoming>) -> Result<Response<Empty<Bytes>>, WebSocketError> {
    let (response, fut) = upgrade(&mut req)?;
    tokio::task::spawn_local(async move {
        // A peer that breaks the protocol ends its own connection; nothing to report.
        let _ = echo(fut).await;
    });
    Ok(response)
}

fn main() {
    let addr = parse_addr(NAME);
    exit_on_sigterm();
    serve_tcp(NAME, addr, |stream| {
        tokio::task::spawn_local(async move {
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service_fn(handshake))
                .with_upgrades()
                .await;
        });
    });
}
