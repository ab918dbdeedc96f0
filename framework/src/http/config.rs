//! `Http1Config`: the limits and timeouts of the HTTP/1.1 server, and
//! [`MinRate`], the minimum data rates it holds slow peers to.

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
    pub(crate) body_rate: Option<MinRate>,
    pub(crate) response_rate: Option<MinRate>,
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
    /// between body reads, request bodies and responses at 240 bytes/s or
    /// more after 5 s ([`MinRate::DEFAULT`]), no `Server` header.
    ///
    /// ```
    /// use corering::http::Http1Config;
    /// let cfg = Http1Config::new();
    /// assert_eq!(cfg.max_body_bytes(), 1 << 20);
    /// ```
    pub const fn new() -> Http1Config {
        Http1Config {
            max_head: 16 << 10,
            max_headers: 100,
            max_target: 8 << 10,
            max_body: 1 << 20,
            head_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            body_timeout: Duration::from_secs(30),
            body_rate: Some(MinRate::DEFAULT),
            response_rate: Some(MinRate::DEFAULT),
            server: None,
        }
    }

    /// Largest request head (request line and header fields); more is
    /// answered with `431`.
    ///
    /// ```
    /// use corering::http::Http1Config;
    /// let cfg = Http1Config::new().max_head(32 * 1024);
    /// # let _ = cfg;
    /// ```
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
    ///
    /// ```
    /// use corering::http::Http1Config;
    /// let cfg = Http1Config::new().max_headers(50);
    /// # let _ = cfg;
    /// ```
    pub const fn max_headers(mut self, n: usize) -> Self {
        self.max_headers = if n > MAX_HEADERS_CAP {
            MAX_HEADERS_CAP
        } else {
            n
        };
        self
    }

    /// Longest request target; longer is answered with `414`.
    ///
    /// ```
    /// use corering::http::Http1Config;
    /// let cfg = Http1Config::new().max_target(2048);
    /// # let _ = cfg;
    /// ```
    pub const fn max_target(mut self, bytes: usize) -> Self {
        self.max_target = bytes;
        self
    }

    /// Largest request body; larger is answered with `413`. Also bounds how
    /// much of an unread body is drained to keep a connection alive.
    ///
    /// ```
    /// use corering::http::Http1Config;
    /// let cfg = Http1Config::new().max_body(64 * 1024 * 1024);
    /// assert_eq!(cfg.max_body_bytes(), 64 << 20);
    /// ```
    pub const fn max_body(mut self, bytes: u64) -> Self {
        self.max_body = bytes;
        self
    }

    /// Time from the first byte of a request until its head is complete;
    /// past it the server answers `408` and closes (slowloris defence). A
    /// new connection must also start its first request within this time.
    ///
    /// ```
    /// use std::time::Duration;
    /// use corering::http::Http1Config;
    /// let cfg = Http1Config::new().head_timeout(Duration::from_secs(5));
    /// # let _ = cfg;
    /// ```
    pub const fn head_timeout(mut self, d: Duration) -> Self {
        self.head_timeout = d;
        self
    }

    /// Time a kept-alive connection may sit idle between requests before
    /// it is closed (silently).
    ///
    /// ```
    /// use std::time::Duration;
    /// use corering::http::Http1Config;
    /// let cfg = Http1Config::new().idle_timeout(Duration::from_secs(15));
    /// # let _ = cfg;
    /// ```
    pub const fn idle_timeout(mut self, d: Duration) -> Self {
        self.idle_timeout = d;
        self
    }

    /// Longest wait for more body bytes while a body is being read; past it
    /// the read fails and the connection is closed after a `408`.
    ///
    /// ```
    /// use std::time::Duration;
    /// use corering::http::Http1Config;
    /// let cfg = Http1Config::new().body_timeout(Duration::from_secs(10));
    /// # let _ = cfg;
    /// ```
    pub const fn body_timeout(mut self, d: Duration) -> Self {
        self.body_timeout = d;
        self
    }

    /// The slowest a request body may arrive (`None`: any speed, within
    /// [`body_timeout`](Http1Config::body_timeout) per read). The time
    /// counted is the time the server waits for body bytes, so a handler
    /// that reads slowly is not held against the client; a body that falls
    /// below the rate is answered with `408` and the connection closed. A
    /// handler can switch it off for its request with
    /// [`Request::set_min_body_rate`](super::Request::set_min_body_rate).
    ///
    /// ```
    /// use std::time::Duration;
    /// use corering::http::{Http1Config, MinRate};
    /// // Uploads over slow links: 100 bytes/s after 20 s.
    /// let cfg = Http1Config::new().min_request_body_rate(Some(MinRate::new(100, Duration::from_secs(20))));
    /// # let _ = cfg;
    /// ```
    pub const fn min_request_body_rate(mut self, rate: Option<MinRate>) -> Self {
        self.body_rate = rate;
        self
    }

    /// The slowest a client may take response bytes (`None`: any speed).
    /// Measured while response bytes are queued and not yet sent: from the
    /// moment the server finds output waiting, the bytes sent must keep
    /// up with the rate once the grace period is over. A client that falls
    /// behind has its connection reset and its queued output dropped (the
    /// response is already under way, so no status can be sent). A handler
    /// can switch it off for its response with
    /// [`Request::set_min_response_rate`](super::Request::set_min_response_rate).
    ///
    /// ```
    /// use corering::http::Http1Config;
    /// let cfg = Http1Config::new().min_response_rate(None);
    /// # let _ = cfg;
    /// ```
    pub const fn min_response_rate(mut self, rate: Option<MinRate>) -> Self {
        self.response_rate = rate;
        self
    }

    /// The `Server` header value sent with every response (`None`: none).
    ///
    /// # Panics
    /// If the value contains CR, LF or another control character.
    ///
    /// ```
    /// use corering::http::Http1Config;
    /// const CFG: Http1Config = Http1Config::new().server_name(Some("corering"));
    /// # let _ = CFG;
    /// ```
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
    ///
    /// ```
    /// use corering::http::Http1Config;
    /// assert_eq!(Http1Config::new().max_body(10).max_body_bytes(), 10);
    /// ```
    pub const fn max_body_bytes(&self) -> u64 {
        self.max_body
    }
}

/// A minimum data rate: on average at least [`bytes_per_sec`](MinRate::bytes_per_sec)
/// over the time measured, once the [`grace`](MinRate::grace) period is
/// over (as Kestrel's `MinDataRate`). After `t` seconds of waiting, at
/// least `bytes_per_sec * t` bytes must have moved, unless `t` is within
/// the grace period.
///
/// ```
/// use std::time::Duration;
/// use corering::http::{Http1Config, MinRate};
/// let cfg = Http1Config::new()
///     .min_request_body_rate(Some(MinRate::new(1024, Duration::from_secs(2))))
///     .min_response_rate(None);
/// assert_eq!(MinRate::DEFAULT.bytes_per_sec(), 240);
/// # let _ = cfg;
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MinRate {
    bytes_per_sec: u32,
    grace: Duration,
}

impl MinRate {
    /// 240 bytes/s after a 5 s grace period (Kestrel's default).
    pub const DEFAULT: MinRate = MinRate::new(240, Duration::from_secs(5));

    /// At least `bytes_per_sec` (0 counts as 1) after `grace`.
    ///
    /// ```
    /// use std::time::Duration;
    /// use corering::http::MinRate;
    /// let r = MinRate::new(0, Duration::from_secs(1));
    /// assert_eq!(r.bytes_per_sec(), 1);
    /// ```
    pub const fn new(bytes_per_sec: u32, grace: Duration) -> MinRate {
        MinRate {
            bytes_per_sec: if bytes_per_sec == 0 { 1 } else { bytes_per_sec },
            grace,
        }
    }

    /// The rate, in bytes per second.
    ///
    /// ```
    /// assert_eq!(corering::http::MinRate::DEFAULT.bytes_per_sec(), 240);
    /// ```
    pub const fn bytes_per_sec(&self) -> u32 {
        self.bytes_per_sec
    }

    /// How long the rate is not enforced at the start.
    ///
    /// ```
    /// use std::time::Duration;
    /// assert_eq!(corering::http::MinRate::DEFAULT.grace(), Duration::from_secs(5));
    /// ```
    pub const fn grace(&self) -> Duration {
        self.grace
    }

    /// How long moving `bytes` may take: the grace period, or longer if the
    /// bytes at this rate take longer.
    pub(crate) fn allowed(&self, bytes: u64) -> Duration {
        let nanos = u128::from(bytes) * 1_000_000_000 / u128::from(self.bytes_per_sec);
        let at_rate = Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX));
        at_rate.max(self.grace)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allowed_time_is_the_grace_or_the_bytes_at_the_rate() {
        let r = MinRate::new(100, Duration::from_secs(2));
        assert_eq!(r.allowed(0), Duration::from_secs(2));
        assert_eq!(r.allowed(150), Duration::from_secs(2));
        assert_eq!(r.allowed(250), Duration::from_millis(2500));
        assert!(r.allowed(u64::MAX) > Duration::from_secs(1 << 30));
        assert_eq!(MinRate::new(0, Duration::ZERO).bytes_per_sec(), 1);
    }
}
