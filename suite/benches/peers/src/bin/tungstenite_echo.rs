//! WebSocket echo server on tokio-tungstenite, a peer of the `ws_load` bench and the
//! reference of `scripts/autobahn.sh`: tokio's current-thread runtime (one thread), one
//! task per connection, `TCP_NODELAY`, tungstenite's default configuration (64 MiB
//! messages, 16 MiB frames, no compression: tungstenite has none).
//!
//! Any request path is accepted. Every text or binary message is sent back unchanged, as
//! one frame; pings are answered and closes completed by tungstenite itself. It is written
//! the way tokio-tungstenite's own Autobahn server is: read a message, `send` it back.
//!
//! `tungstenite_echo --addr 127.0.0.1:9001` prints `listening on ADDR` once bound and exits
//! with status 0 on SIGTERM.

use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;

use corering_http_peers::tokio_serve::serve_tcp;
use corering_http_peers::{exit_on_sigterm, parse_addr};

const NAME: &str = "tungstenite_echo";

async fn echo(stream: TcpStream) -> Result<(), tokio_tungstenite::tungstenite::Error> {
    let mut ws = tokio_tungstenite::accept_async(stream).await?;
    while let Some(msg) = ws.next().await {
        let msg = msg?;
        if msg.is_text() || msg.is_binary() {
            ws.send(msg).await?;
        }
    }
    Ok(())
}

fn main() {
    let addr = parse_addr(NAME);
    exit_on_sigterm();
    serve_tcp(NAME, addr, |stream| {
        tokio::task::spawn_local(async move {
            // A peer that breaks the protocol ends its own connection; nothing to report.
            let _ = echo(stream).await;
        });
    });
}
