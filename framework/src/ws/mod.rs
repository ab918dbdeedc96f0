//! WebSocket (RFC 6455), server side, on the HTTP server's protocol
//! switch: a route takes a [`WebSocketUpgrade`], answers with
//! [`on_upgrade`](WebSocketUpgrade::on_upgrade), and gets a
//! [`WebSocket`] over the same connection. The client side
//! ([`connect`], [`Client`]) opens the same [`WebSocket`] from the HTTP
//! client, for `ws://` and `wss://`.
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
//! once warm (`suite/tests/ws_alloc.rs`).
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
//! permessage-deflate (RFC 7692, [`deflate`]) is accepted when a client
//! offers it (on by default with the `ws-deflate` feature;
//! [`WsConfig::compression`] switches it off): messages of at least
//! `compress_min_size` bytes go out compressed, compressed messages are
//! inflated piece by piece as they arrive, never past the largest
//! message (1009: zip bombs stop there), and [`WebSocket::compression`]
//! says what was agreed. Uncompressed messages take exactly the paths
//! above.
//!
//! # Client
//!
//! [`connect`] (or a [`Client`] with subprotocols, header fields, a
//! [`WsConfig`], a connect timeout and TLS settings) sends the opening
//! request with a random `Sec-WebSocket-Key` and checks the `101`:
//! `Upgrade`, `Connection`, `Sec-WebSocket-Accept`, and that any
//! subprotocol or extension in the answer was offered; anything else is
//! a [`WsError::Handshake`] saying what the server sent. The socket then
//! masks every frame it sends with a fresh key (while copying the payload
//! into the send buffers) and fails with 1002 on a masked frame from the
//! server.
//!
//! The client offers permessage-deflate by default, as its [`WsConfig`]'s
//! [`DeflateConfig`](deflate::DeflateConfig) says (`client_max_window_bits`
//! always, the no-context-takeover and `server_max_window_bits`
//! parameters when set; [`Client::compression`] switches it off), checks
//! the answer with the server's own negotiation rules (a bad answer fails
//! the handshake with [`HandshakeErrorKind::Extension`]), and then
//! compresses and inflates exactly as the server does, its compressed
//! frames masked like the others.
//!
//! ```no_run
//! use corering::ws::{self, CloseCode, Message};
//!
//! fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     corering::Runtime::new()?.block_on(async {
//!         let mut ws = ws::Client::new()
//!             .protocols(["chat"])
//!             .connect("ws://127.0.0.1:8080/chat")
//!             .await?;
//!         ws.send_text("hello").await?;
//!         while let Some(msg) = ws.recv().await? {
//!             if let Message::Text(t) = msg {
//!                 println!("{t}");
//!                 break;
//!             }
//!         }
//!         ws.close(CloseCode::NORMAL, "bye").await
//!     })?;
//!     Ok(())
//! }
//! ```

mod base64;
mod client;
mod close;
mod compression;
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
