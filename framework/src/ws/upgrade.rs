//! `WebSocketUpgrade`: the route extractor that accepts a WebSocket.

use std::future::Future;

use super::deflate::{negotiate_server, DeflateConfig};
use super::handshake::{check_request, choose_protocol, ClientHello};
use super::{WebSocket, WsConfig};
use crate::http::route::{FromRequest, RequestContext};
use crate::http::Response;

/// A valid WebSocket opening request (RFC 6455 §4.2.1). Any other request
/// to the route is refused before the handler runs: `426 Upgrade
/// Required` if it does not ask for WebSocket version 13 (with
/// `Upgrade: websocket` and `Sec-WebSocket-Version: 13`), `400` if its
/// key is malformed. Choose a subprotocol, set limits, then
/// [`on_upgrade`](WebSocketUpgrade::on_upgrade).
///
/// ```no_run
/// use corering::ws::{WebSocketUpgrade, Message};
/// use corering::http::Response;
///
/// #[corering::get("/chat")]
/// async fn chat(ws: WebSocketUpgrade) -> Response {
///     ws.protocols(["chat.v2", "chat.v1"])
///         .max_message_size(64 << 10)
///         .on_upgrade(|ws| async move {
///             let (mut rx, tx) = ws.split();
///             while let Ok(Some(msg)) = rx.recv().await {
///                 if let Message::Text(t) = msg {
///                     let _ = tx.send_text(&t.to_uppercase()).await;
///                 }
///             }
///         })
/// }
/// ```
#[derive(Debug, Clone)]
pub struct WebSocketUpgrade {
    hello: ClientHello,
    protocol: Option<String>,
    config: WsConfig,
}

impl FromRequest for WebSocketUpgrade {
    async fn from_request(cx: &mut RequestContext<'_>) -> Result<Self, Response> {
        Ok(WebSocketUpgrade {
            hello: check_request(cx.request())?,
            protocol: None,
            config: WsConfig::new(),
        })
    }
}

impl WebSocketUpgrade {
    /// Chooses the subprotocol: the first of `preferred` (the server's
    /// order) that the client offered in `Sec-WebSocket-Protocol`; none if
    /// it offered none of them (the handshake still succeeds, without a
    /// `Sec-WebSocket-Protocol` answer: the client decides whether to go
    /// on).
    ///
    /// ```
    /// use corering::http::Response;
    /// use corering::ws::WebSocketUpgrade;
    ///
    /// #[corering::get("/ws")]
    /// async fn ws(up: WebSocketUpgrade) -> Response {
    ///     up.protocols(["v2.chat", "v1.chat"])
    ///         .on_upgrade(|ws| async move {
    ///             drop(ws);
    ///         })
    /// }
    /// # let _ = corering::routes![ws];
    /// ```
    pub fn protocols<'p>(mut self, preferred: impl IntoIterator<Item = &'p str>) -> Self {
        let preferred: Vec<&str> = preferred.into_iter().collect();
        self.protocol = choose_protocol(&self.hello.protocols, &preferred).map(str::to_owned);
        self
    }

    /// The subprotocol chosen so far.
    pub fn protocol(&self) -> Option<&str> {
        self.protocol.as_deref()
    }

    /// The subprotocols the client offered, in its order.
    pub fn offered_protocols(&self) -> impl Iterator<Item = &str> {
        self.hello.protocols.iter().map(String::as_str)
    }

    /// The client's `Sec-WebSocket-Extensions`, as sent (of these, only
    /// `permessage-deflate` is agreed to, per [`WsConfig::deflate`]).
    pub fn offered_extensions(&self) -> Option<&str> {
        self.hello.extensions.as_deref()
    }

    /// Replaces the limits and timers.
    ///
    /// ```
    /// use corering::ws::WsConfig;
    /// use corering::http::Response;
    /// use corering::ws::WebSocketUpgrade;
    ///
    /// #[corering::get("/ws")]
    /// async fn ws(up: WebSocketUpgrade) -> Response {
    ///     up.config(WsConfig::new().max_message_size(1 << 20))
    ///         .on_upgrade(|ws| async move {
    ///             drop(ws);
    ///         })
    /// }
    /// # let _ = corering::routes![ws];
    /// ```
    pub fn config(mut self, config: WsConfig) -> Self {
        self.config = config;
        self
    }

    /// See [`WsConfig::max_message_size`].
    ///
    /// ```
    /// use corering::http::Response;
    /// use corering::ws::WebSocketUpgrade;
    ///
    /// #[corering::get("/ws")]
    /// async fn ws(up: WebSocketUpgrade) -> Response {
    ///     up.max_message_size(64 << 10)
    ///         .on_upgrade(|ws| async move {
    ///             drop(ws);
    ///         })
    /// }
    /// # let _ = corering::routes![ws];
    /// ```
    pub fn max_message_size(mut self, bytes: usize) -> Self {
        self.config = self.config.max_message_size(bytes);
        self
    }

    /// See [`WsConfig::max_frame_size`].
    ///
    /// ```
    /// use corering::http::Response;
    /// use corering::ws::WebSocketUpgrade;
    ///
    /// #[corering::get("/ws")]
    /// async fn ws(up: WebSocketUpgrade) -> Response {
    ///     up.max_frame_size(16 << 10)
    ///         .on_upgrade(|ws| async move {
    ///             drop(ws);
    ///         })
    /// }
    /// # let _ = corering::routes![ws];
    /// ```
    pub fn max_frame_size(mut self, bytes: usize) -> Self {
        self.config = self.config.max_frame_size(bytes);
        self
    }

    /// See [`WsConfig::deflate`].
    ///
    /// ```
    /// use corering::ws::deflate::DeflateConfig;
    /// use corering::http::Response;
    /// use corering::ws::WebSocketUpgrade;
    ///
    /// #[corering::get("/ws")]
    /// async fn ws(up: WebSocketUpgrade) -> Response {
    ///     up.deflate(DeflateConfig::new().server_max_window_bits(10))
    ///         .on_upgrade(|ws| async move {
    ///             drop(ws);
    ///         })
    /// }
    /// # let _ = corering::routes![ws];
    /// ```
    pub fn deflate(mut self, deflate: DeflateConfig) -> Self {
        self.config = self.config.deflate(deflate);
        self
    }

    /// See [`WsConfig::compression`]: `false` declines permessage-deflate.
    ///
    /// ```
    /// use corering::http::Response;
    /// use corering::ws::WebSocketUpgrade;
    ///
    /// #[corering::get("/ws")]
    /// async fn ws(up: WebSocketUpgrade) -> Response {
    ///     up.compression(false)
    ///         .on_upgrade(|ws| async move {
    ///             drop(ws);
    ///         })
    /// }
    /// # let _ = corering::routes![ws];
    /// ```
    pub fn compression(mut self, on: bool) -> Self {
        self.config = self.config.compression(on);
        self
    }

    /// See [`WsConfig::idle_timeout`].
    ///
    /// ```
    /// use std::time::Duration;
    /// use corering::http::Response;
    /// use corering::ws::WebSocketUpgrade;
    ///
    /// #[corering::get("/ws")]
    /// async fn ws(up: WebSocketUpgrade) -> Response {
    ///     up.idle_timeout(Some(Duration::from_secs(60)))
    ///         .on_upgrade(|ws| async move {
    ///             drop(ws);
    ///         })
    /// }
    /// # let _ = corering::routes![ws];
    /// ```
    pub fn idle_timeout(mut self, timeout: Option<std::time::Duration>) -> Self {
        self.config = self.config.idle_timeout(timeout);
        self
    }

    /// See [`WsConfig::ping_interval`].
    ///
    /// ```
    /// use std::time::Duration;
    /// use corering::http::Response;
    /// use corering::ws::WebSocketUpgrade;
    ///
    /// #[corering::get("/ws")]
    /// async fn ws(up: WebSocketUpgrade) -> Response {
    ///     up.ping_interval(Some(Duration::from_secs(20)))
    ///         .on_upgrade(|ws| async move {
    ///             drop(ws);
    ///         })
    /// }
    /// # let _ = corering::routes![ws];
    /// ```
    pub fn ping_interval(mut self, interval: Option<std::time::Duration>) -> Self {
        self.config = self.config.ping_interval(interval);
        self
    }

    /// Accepts: answers `101 Switching Protocols` with
    /// `Sec-WebSocket-Accept` (and the chosen `Sec-WebSocket-Protocol`,
    /// and `Sec-WebSocket-Extensions` if permessage-deflate was agreed),
    /// then runs `handler` with the socket. The connection closes when
    /// the socket (every half of it) is dropped; a socket dropped without
    /// a close frame sends one with 1000 if it can.
    pub fn on_upgrade<F, Fut>(self, handler: F) -> Response
    where
        F: FnOnce(WebSocket) -> Fut + 'static,
        Fut: Future<Output = ()> + 'static,
    {
        let WebSocketUpgrade {
            hello,
            protocol,
            config,
        } = self;
        // permessage-deflate (RFC 7692 §5): the first acceptable offer,
        // answered with its parameters; none if off or nothing fits.
        let agreed = match (&hello.extensions, config.deflate_config()) {
            (Some(offers), d) if d.is_enabled() => negotiate_server(offers, d),
            _ => None,
        };
        let accept = String::from_utf8_lossy(&hello.accept).into_owned();
        let chosen = protocol.clone();
        let mut resp = Response::upgrade("websocket", move |up| {
            let (conn, inbound) = up.into_parts();
            handler(WebSocket::server(conn, inbound, config, protocol, agreed))
        })
        .header_owned("Sec-WebSocket-Accept", accept);
        if let Some(a) = &agreed {
            resp = resp.header_owned("Sec-WebSocket-Extensions", a.response_header());
        }
        if let Some(p) = chosen {
            resp = resp.header_owned("Sec-WebSocket-Protocol", p);
        }
        resp
    }
}
