//! `WsConfig`: the limits and timers of a WebSocket.

use std::time::Duration;

use super::deflate::DeflateConfig;

/// Limits and timers of one WebSocket, set on
/// [`WebSocketUpgrade`](super::WebSocketUpgrade) before accepting.
///
/// ```
/// use std::time::Duration;
/// use corering::ws::WsConfig;
/// let cfg = WsConfig::new()
///     .max_message_size(1 << 20)
///     .idle_timeout(Some(Duration::from_secs(30)))
///     .ping_interval(Some(Duration::from_secs(10)));
/// assert_eq!(cfg.max_message(), 1 << 20);
/// // permessage-deflate is accepted by default (feature `ws-deflate`):
/// let plain = cfg.compression(false);
/// assert!(!plain.deflate_config().is_enabled());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WsConfig {
    max_message: usize,
    max_frame: usize,
    idle_timeout: Option<Duration>,
    ping_interval: Option<Duration>,
    close_timeout: Duration,
    deflate: DeflateConfig,
}

impl Default for WsConfig {
    fn default() -> WsConfig {
        WsConfig {
            max_message: 16 << 20,
            max_frame: 16 << 20,
            idle_timeout: Some(Duration::from_secs(120)),
            ping_interval: None,
            close_timeout: Duration::from_secs(5),
            deflate: DeflateConfig::new(),
        }
    }
}

impl WsConfig {
    /// The defaults: messages and frames up to 16 MiB, an idle timeout of
    /// 120 s, no keep-alive pings, 5 s for the peer to answer a close,
    /// permessage-deflate accepted with [`DeflateConfig::new`]'s settings
    /// (when built with the `ws-deflate` feature, the default).
    ///
    /// ```
    /// use corering::ws::WsConfig;
    /// assert_eq!(WsConfig::new().max_message(), 16 << 20);
    /// ```
    pub fn new() -> WsConfig {
        WsConfig::default()
    }

    /// Largest message (all its fragments together); a bigger one closes
    /// the connection with 1009 as soon as its size is known.
    ///
    /// ```
    /// use corering::ws::WsConfig;
    /// assert_eq!(WsConfig::new().max_message_size(4096).max_message(), 4096);
    /// ```
    pub fn max_message_size(mut self, bytes: usize) -> WsConfig {
        self.max_message = bytes;
        self
    }

    /// Largest single frame's payload; a bigger one closes with 1009.
    ///
    /// ```
    /// use corering::ws::WsConfig;
    /// assert_eq!(WsConfig::new().max_frame_size(1024).max_frame(), 1024);
    /// ```
    pub fn max_frame_size(mut self, bytes: usize) -> WsConfig {
        self.max_frame = bytes;
        self
    }

    /// Closes the connection (code 1001) when nothing at all arrives for
    /// this long, a frame cut halfway included; `None` waits forever.
    /// Pongs count as traffic, so with
    /// [`ping_interval`](WsConfig::ping_interval) set shorter, only a
    /// peer that stopped answering is closed.
    ///
    /// ```
    /// use std::time::Duration;
    /// use corering::ws::WsConfig;
    /// let cfg = WsConfig::new().idle_timeout(Some(Duration::from_secs(30)));
    /// assert_eq!(cfg.idle(), Some(Duration::from_secs(30)));
    /// ```
    pub fn idle_timeout(mut self, timeout: Option<Duration>) -> WsConfig {
        self.idle_timeout = timeout;
        self
    }

    /// Sends a ping whenever this long has passed without anything
    /// received (keeps idle connections through proxies and NATs, and
    /// elicits pongs for the idle timeout); `None` (default) sends none.
    ///
    /// ```
    /// use std::time::Duration;
    /// use corering::ws::WsConfig;
    /// let cfg = WsConfig::new().ping_interval(Some(Duration::from_secs(15)));
    /// assert_eq!(cfg.ping(), Some(Duration::from_secs(15)));
    /// ```
    pub fn ping_interval(mut self, interval: Option<Duration>) -> WsConfig {
        self.ping_interval = interval;
        self
    }

    /// How long the peer has to answer a close frame of ours (sent by
    /// [`WebSocket::close`](super::WebSocket::close),
    /// [`WsWriter::close`](super::WsWriter::close) or at shutdown) before
    /// reading gives up (`WsError::IdleTimeout`).
    ///
    /// ```
    /// use std::time::Duration;
    /// use corering::ws::WsConfig;
    /// let cfg = WsConfig::new().close_timeout(Duration::from_secs(1));
    /// assert_eq!(cfg.close_wait(), Duration::from_secs(1));
    /// ```
    pub fn close_timeout(mut self, timeout: Duration) -> WsConfig {
        self.close_timeout = timeout;
        self
    }

    /// permessage-deflate (RFC 7692) settings: on a server, accepted when a
    /// client offers it and `deflate` is enabled; on a client
    /// ([`Client::config`](super::Client::config)), offered when enabled.
    /// Messages then go compressed both ways; a compressed message may
    /// inflate to at most the smaller of
    /// [`max_message_size`](WsConfig::max_message_size) and
    /// [`DeflateConfig::max_message_size`] (1009 past it).
    ///
    /// ```
    /// use corering::ws::WsConfig;
    /// use corering::ws::deflate::DeflateConfig;
    /// let cfg = WsConfig::new().deflate(DeflateConfig::new().level(6).max_message_size(1 << 20));
    /// # let _ = cfg;
    /// ```
    pub fn deflate(mut self, deflate: DeflateConfig) -> WsConfig {
        self.deflate = deflate;
        self
    }

    /// Switches permessage-deflate on or off (on by default): off, a
    /// server declines the extension, a client does not offer it, and
    /// messages go uncompressed.
    ///
    /// ```
    /// use corering::ws::WsConfig;
    /// assert!(!WsConfig::new().compression(false).deflate_config().is_enabled());
    /// ```
    pub fn compression(mut self, on: bool) -> WsConfig {
        self.deflate = self.deflate.enabled(on);
        self
    }

    /// The permessage-deflate settings.
    pub fn deflate_config(&self) -> &DeflateConfig {
        &self.deflate
    }

    /// The largest message accepted.
    pub fn max_message(&self) -> usize {
        self.max_message
    }

    /// The largest frame accepted.
    pub fn max_frame(&self) -> usize {
        self.max_frame
    }

    /// The idle timeout.
    pub fn idle(&self) -> Option<Duration> {
        self.idle_timeout
    }

    /// The keep-alive ping interval.
    pub fn ping(&self) -> Option<Duration> {
        self.ping_interval
    }

    /// The close timeout.
    pub fn close_wait(&self) -> Duration {
        self.close_timeout
    }
}
