//! `WebSocket`: one open WebSocket, both directions.

use super::compression::{RecvInflate, SendDeflate};
use super::deflate::Agreed;
use super::frame::Rules;
use super::{CloseCode, Message, WsConfig, WsError, WsReader, WsWriter};
use crate::{Connection, Inbound};

/// An open WebSocket: [`recv`](WebSocket::recv) messages, send with
/// [`send_text`](WebSocket::send_text) and friends, and
/// [`split`](WebSocket::split) it to read in one task while others write.
///
/// A received [`Message`] borrows the socket until the next `recv`; to
/// send it on while holding it (an echo), split first:
///
/// ```no_run
/// use corering::ws::{WebSocket, WsError};
/// async fn echo(ws: WebSocket) -> Result<(), WsError> {
///     let (mut rx, tx) = ws.split();
///     while let Some(msg) = rx.recv().await? {
///         tx.send(msg).await?;
///     }
///     Ok(()) // the peer closed; the close handshake is done
/// }
/// ```
#[derive(Debug)]
pub struct WebSocket {
    reader: WsReader,
}

impl WebSocket {
    /// A server-side WebSocket over an upgraded connection (`inbound`:
    /// what already arrived after the handshake), compressing as
    /// `deflate` says if permessage-deflate was agreed.
    pub(crate) fn server(
        conn: Connection,
        inbound: Inbound,
        cfg: WsConfig,
        protocol: Option<String>,
        deflate: Option<Agreed>,
    ) -> WebSocket {
        let writer = WsWriter::new(conn);
        let reader = WsReader::new(writer, inbound, cfg, Rules::SERVER, protocol);
        WebSocket::with_deflate(reader, cfg, deflate)
    }

    /// The permessage-deflate parameters agreed in the handshake (`None`:
    /// messages go uncompressed both ways), on either end: a server's
    /// [`Agreed::role`] is `Server`, a client's `Client`, and
    /// `compress_*` / `decompress_*` are always this end's own directions.
    pub fn compression(&self) -> Option<&Agreed> {
        self.reader.compression()
    }

    /// A client-side WebSocket over a connection upgraded by the opening
    /// handshake (`inbound`: what already arrived after the `101`):
    /// frames sent masked, frames received must not be; compressing as
    /// `deflate` says if the server accepted permessage-deflate.
    pub(crate) fn client(
        conn: Connection,
        inbound: Inbound,
        cfg: WsConfig,
        protocol: Option<String>,
        deflate: Option<Agreed>,
    ) -> WebSocket {
        let writer = WsWriter::new_client(conn);
        let reader = WsReader::new(writer, inbound, cfg, Rules::CLIENT, protocol);
        WebSocket::with_deflate(reader, cfg, deflate)
    }

    /// Sets up the codecs of an agreed permessage-deflate on `reader` (and
    /// its writer), from this end's point of view: [`Agreed`] already
    /// names the windows this side compresses and inflates with.
    fn with_deflate(mut reader: WsReader, cfg: WsConfig, deflate: Option<Agreed>) -> WebSocket {
        if let Some(a) = &deflate {
            let rx = RecvInflate::new(a, cfg.max_message());
            if let (Some(tx), Some(rx)) = (SendDeflate::new(a), rx) {
                reader.writer().set_deflate(tx);
                reader.set_deflate(*a, rx);
            }
        }
        WebSocket { reader }
    }

    /// The next message; `Ok(None)` once the peer closed (see
    /// [`WsReader::recv`]).
    ///
    /// ```
    /// use corering::ws::{Message, WebSocket, WsError};
    ///
    /// async fn session(mut ws: WebSocket) -> Result<(), WsError> {
    ///     while let Some(msg) = ws.recv().await? {
    ///         // The message borrows the socket: copy what outlives it.
    ///         let reply = match msg {
    ///             Message::Text(t) => format!("text of {} bytes", t.len()),
    ///             Message::Binary(b) => format!("{} bytes", b.len()),
    ///         };
    ///         ws.send_text(&reply).await?;
    ///     }
    ///     Ok(())
    /// }
    /// ```
    pub async fn recv(&mut self) -> Result<Option<Message<'_>>, WsError> {
        self.reader.recv().await
    }

    /// Sends a text message.
    ///
    /// ```
    /// use corering::ws::{Message, WebSocket, WsError};
    ///
    /// async fn session(mut ws: WebSocket) -> Result<(), WsError> {
    ///     ws.send_text("hello").await?;
    ///     Ok(())
    /// }
    /// ```
    pub async fn send_text(&self, text: &str) -> Result<(), WsError> {
        self.reader.writer().send_text(text).await
    }

    /// Sends a binary message.
    ///
    /// ```
    /// use corering::ws::{Message, WebSocket, WsError};
    ///
    /// async fn session(mut ws: WebSocket) -> Result<(), WsError> {
    ///     ws.send_binary(&[1, 2, 3]).await?;
    ///     Ok(())
    /// }
    /// ```
    pub async fn send_binary(&self, data: &[u8]) -> Result<(), WsError> {
        self.reader.writer().send_binary(data).await
    }

    /// Sends a message.
    ///
    /// ```
    /// use corering::ws::{Message, WebSocket, WsError};
    ///
    /// async fn session(mut ws: WebSocket) -> Result<(), WsError> {
    ///     ws.send(Message::Text("hi")).await?;
    ///     Ok(())
    /// }
    /// ```
    pub async fn send(&self, msg: Message<'_>) -> Result<(), WsError> {
        self.reader.writer().send(msg).await
    }

    /// Sends a ping.
    ///
    /// ```
    /// use corering::ws::{Message, WebSocket, WsError};
    ///
    /// async fn session(mut ws: WebSocket) -> Result<(), WsError> {
    ///     ws.ping(b"are you there").await?;
    ///     Ok(())
    /// }
    /// ```
    pub async fn ping(&self, payload: &[u8]) -> Result<(), WsError> {
        self.reader.writer().ping(payload).await
    }

    /// The whole closing handshake: sends a close frame with `code` and
    /// `reason`, then reads until the peer's close frame (data arriving
    /// meanwhile is dropped), for at most
    /// [`WsConfig::close_timeout`].
    ///
    /// # Panics
    /// If `code` may not be sent ([`CloseCode::is_sendable`]).
    ///
    /// ```
    /// use corering::ws::{Message, WebSocket, WsError};
    ///
    /// async fn session(mut ws: WebSocket) -> Result<(), WsError> {
    ///     ws.close(corering::ws::CloseCode::NORMAL, "bye").await?;
    ///     Ok(())
    /// }
    /// ```
    pub async fn close(&mut self, code: CloseCode, reason: &str) -> Result<(), WsError> {
        self.reader.close(code, reason).await
    }

    /// The subprotocol agreed in the handshake.
    ///
    /// ```
    /// use corering::ws::{Message, WebSocket, WsError};
    ///
    /// async fn session(mut ws: WebSocket) -> Result<(), WsError> {
    ///     if ws.protocol() == Some("v2.chat") {
    ///         ws.send_text("speaking v2").await?;
    ///     }
    ///     Ok(())
    /// }
    /// ```
    pub fn protocol(&self) -> Option<&str> {
        self.reader.protocol()
    }

    /// The peer's close code and reason, once its close frame arrived.
    ///
    /// ```
    /// use corering::ws::{Message, WebSocket, WsError};
    ///
    /// async fn session(mut ws: WebSocket) -> Result<(), WsError> {
    ///     while ws.recv().await?.is_some() {}
    ///     if let Some((code, reason)) = ws.peer_close() {
    ///         println!("closed: {code:?} {reason}");
    ///     }
    ///     Ok(())
    /// }
    /// ```
    pub fn peer_close(&self) -> Option<(CloseCode, &str)> {
        self.reader.peer_close()
    }

    /// Bytes queued for the peer and not yet sent.
    ///
    /// ```
    /// use corering::ws::{Message, WebSocket, WsError};
    ///
    /// async fn session(mut ws: WebSocket) -> Result<(), WsError> {
    ///     // Drop updates for a client that is not keeping up.
    ///     if ws.buffered() < 1 << 20 {
    ///         ws.send_text("tick").await?;
    ///     }
    ///     Ok(())
    /// }
    /// ```
    pub fn buffered(&self) -> usize {
        self.reader.writer().buffered()
    }

    /// A sending handle (cloneable), while this socket keeps reading.
    ///
    /// ```
    /// use corering::ws::{Message, WebSocket, WsError};
    ///
    /// async fn session(mut ws: WebSocket) -> Result<(), WsError> {
    ///     let tx = ws.writer();
    ///     corering::spawn_local(async move {
    ///         let _ = tx.send_text("from another task").await;
    ///     });
    ///     Ok(())
    /// }
    /// ```
    pub fn writer(&self) -> WsWriter {
        self.reader.writer().clone()
    }

    /// The reading half and a sending half, for one task to read while
    /// others write (all on this worker). The reader keeps answering
    /// pings and the peer's close.
    ///
    /// ```
    /// use corering::ws::{Message, WebSocket, WsError};
    ///
    /// async fn session(mut ws: WebSocket) -> Result<(), WsError> {
    ///     let (mut rx, tx) = ws.split();
    ///     while let Some(msg) = rx.recv().await? {
    ///         if let Message::Text(t) = msg {
    ///             tx.send_text(&t.to_uppercase()).await?;
    ///         }
    ///     }
    ///     Ok(())
    /// }
    /// ```
    pub fn split(self) -> (WsReader, WsWriter) {
        let w = self.reader.writer().clone();
        (self.reader, w)
    }
}
