//! WebSocket (RFC 6455), server side, on the HTTP server's protocol
//! switch: a route takes a [`WebSocketUpgrade`], answers with
//! [`on_upgrade`](WebSocketUpgrade::on_upgrade), and gets a
//! [`WebSocket`] over the same connection.
//!
//! ```text
//!  GET /echo  Upgrade: websocket ──► WebSocketUpgrade (handshake checked, 426/400 otherwise)
//!                                    .on_upgrade(|ws| ..)  ──► 101 + Sec-WebSocket-Accept
//!  WebSocket ── split() ──► WsReader (recv: frames over the connection's Inbound)
//!                           WsWriter (Clone: send_text / send_binary / close)
//! ```
//!
//! Received messages borrow the receive buffer: a message that arrived
//! as one frame in one buffer is unmasked where it lies and handed out
//! in place; fragmented messages, and frames cut by a buffer's end, are
//! unmasked and UTF-8-checked piece by piece into one buffer per socket,
//! reused from message to message. Echoing a message allocates nothing
//! once warm (`tests/ws_alloc.rs`).
//!
//! The socket answers pings, runs the close handshake (code echoed,
//! sending side shut), and fails the connection with the right code for
//! a peer that breaks the protocol: 1002 (unmasked frame, reserved bits
//! or opcodes, control frames over 125 bytes or fragmented, bad
//! continuation), 1007 (text or close reason not UTF-8, detected at the
//! first bad byte), 1009 (frame or message over [`WsConfig`]'s limits:
//! 16 MiB by default). An idle timeout (120 s by default) closes a
//! connection on which nothing arrives, a frame stalled halfway
//! included; [`WsConfig::ping_interval`] adds keep-alive pings.
//! When the server shuts down, every socket waiting for data sends a
//! close frame with 1001 and gives the peer the close timeout (5 s) to
//! answer, so WebSocket servers exit cleanly on SIGTERM.
//! Backpressure: the socket stops reading while a pong or message it
//! sends waits for room in the connection's out-queue, and
//! [`WsWriter::buffered`] shows a broadcaster who is behind.
//!
//! An echo server:
//!
//! ```no_run
//! use corering::http::{self, Http1Config, Response};
//! use corering::ws::WebSocketUpgrade;
//! use corering::{get, routes};
//!
//! #[get("/echo")]
//! async fn echo(ws: WebSocketUpgrade) -> Response {
//!     ws.on_upgrade(|ws| async move {
//!         let (mut rx, tx) = ws.split();
//!         while let Ok(Some(msg)) = rx.recv().await {
//!             if tx.send(msg).await.is_err() {
//!                 break;
//!             }
//!         }
//!     })
//! }
//!
//! fn main() -> std::io::Result<()> {
//!     let router = routes![echo];
//!     corering::Server::builder()
//!         .bind("127.0.0.1:8080")
//!         .build()?
//!         .serve(move |conn| http::serve(conn, Http1Config::new(), router.clone()))
//! }
//! ```
//!
//! Not yet here: permessage-deflate on the socket (the codec and the
//! negotiation are in [`deflate`]), and the client side.

mod base64;
mod client;
mod close;
mod config;
pub mod deflate;
mod error;
pub mod frame;
mod handshake;
mod mask;
mod message;
mod rand;
mod reader;
mod sha1;
mod socket;
mod upgrade;
mod utf8;
mod writer;

pub use client::{connect, Client, HandshakeError, HandshakeErrorKind};
pub use close::CloseCode;
pub use config::WsConfig;
pub use error::WsError;
pub use handshake::accept_key;
pub use message::Message;
pub use reader::WsReader;
pub use socket::WebSocket;
pub use upgrade::WebSocketUpgrade;
pub use writer::WsWriter;
