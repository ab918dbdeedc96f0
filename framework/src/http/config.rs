//! `Http1Config`: the limits and timeouts of the HTTP/1.1 server.

use std::time::Duration;

/// Most header fields [`Http1Config::max_headers`] accepts (the parser's
/// header table lives on the stack).
pub const MAX_HEADERS_CAP: usize = 256;

/// Limits and timeouts of [`serve`](super::serve). Plain data (`Copy`), so
/// one value can be handed to every connection.
///
/// ```
/// use std::time::Duration;
/// let cfg = corering::http::Http1Config::new()
///     .max_body(64 << 10)
///     .head_timeout(Duration::from_secs(5))
///     .server_name(Some("corering"));
/// assert_eq!(cfg.max_body_bytes(), 64 << 10);
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Http1Config {
    pub(crate) max_head: usize,
    pub(crate) max_headers: usize,
    pub(crate) max_target: usize,
    pub(crate) max_body: u64,
    pub(crate) head_timeout: Duration,
    pub(crate) idle_timeout: Duration,
    pub(crate) body_timeout: Duration,
    pub(crate) server: Option<&'static str>,
}

impl Default for Http1Config {
    fn default() -> Self {
        Http1Config::new()
    }
}

impl Http1Config {
    /// The defaults: 16 KiB head, 100 header fields, 8 KiB target, 1 MiB
    /// body, 10 s to receive a head, 60 s idle between requests, 30 s
    /// between body reads, no `Server` header.
    pub const fn new() -> Http1Config {
        Http1Config {
            max_head: 16 << 10,
            max_headers: 100,
            max_target: 8 << 10,
            max_body: 1 << 20,
            head_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            body_timeout: Duration::from_secs(30),
            server: None,
        }
    }

    /// Largest request head (request line and header fields); more is
    /// answered with `431`.
    pub const fn max_head(mut self, bytes: usize) -> Self {
        // Header positions are kept as u32 offsets.
        self.max_head = if bytes < 64 {
            64
        } else if bytes > u32::MAX as usize {
            u32::MAX as usize
        } else {
            bytes
        };
        self
    }

    /// Most header fields in one request (at most [`MAX_HEADERS_CAP`]);
    /// more is answered with `431`.
    pub const fn max_headers(mut self, n: usize) -> Self {
        self.max_headers = if n > MAX_HEADERS_CAP {
            MAX_HEADERS_CAP
        } else {
            n
        };
        self
    }

    /// Longest request target; longer is answered with `414`.
    pub const fn max_target(mut self, bytes: usize) -> Self {
        self.max_target = bytes;
        self
    }

    /// Largest request body; larger is answered with `413`. Also bounds how
    /// much of an unread body is drained to keep a connection alive.
    pub const fn max_body(mut self, bytes: u64) -> Self {
        self.max_body = bytes;
        self
    }

    /// Time from the first byte of a request until its head is complete;
    /// past it the server answers `408` and closes (slowloris defence). A
    /// new connection must also start its first request within this time.
    pub const fn head_timeout(mut self, d: Duration) -> Self {
        self.head_timeout = d;
        self
    }

    /// Time a kept-alive connection may sit idle between requests before
    /// it is closed (silently).
    pub const fn idle_timeout(mut self, d: Duration) -> Self {
        self.idle_timeout = d;
        self
    }

    /// Longest wait for more body bytes while a body is being read; past it
    /// the read fails and the connection is closed after a `408`.
    pub const fn body_timeout(mut self, d: Duration) -> Self {
        self.body_timeout = d;
        self
    }

    /// The `Server` header value sent with every response (`None`: none).
    ///
    /// # Panics
    /// If the value contains CR, LF or another control character.
    pub const fn server_name(mut self, name: Option<&'static str>) -> Self {
        if let Some(n) = name {
            assert!(
                super::response::valid_value(n.as_bytes()),
                "invalid Server header value"
            );
        }
        self.server = name;
        self
    }

    /// The configured body limit.
    pub const fn max_body_bytes(&self) -> u64 {
        self.max_body
    }
}
