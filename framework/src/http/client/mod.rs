//! HTTP/1.1 client on [`Connector`]: the same [`Connection`] type servers
//! use, so a server handler can call other servers (see the `proxy`
//! example) and tools can run under [`Runtime::block_on`].
//!
//! ```text
//!  Client::send ──► pool::take(peer) or Connector::connect ──► head + body ──► write
//!                                                                   │
//!  ClientResponse ◄── parse head in place (httparse) ◄── read ◄─────┘
//!     └─ body: Content-Length / chunked / until close ──► done: pool::put(peer)
//! ```
//!
//! * Responses: interim `1xx` responses are skipped (but `101 Switching
//!   Protocols` is final: [`ClientResponse::into_upgraded`] takes the
//!   connection over, with its `Inbound`); `HEAD`, `204` and
//!   `304` have no body; a body is framed by `Transfer-Encoding: chunked`
//!   (extensions and trailers are read and dropped), `Content-Length`, or
//!   the end of the connection.
//! * Peers ([`Peer`]): a `SocketAddr` is plain HTTP; `Peer::https(addr,
//!   name)` or an `https://` URL ([`Client::get_url`], [`split_url`])
//!   runs a TLS handshake (feature `tls`) that verifies the certificate for
//!   the name (sent as SNI) against the client's roots ([`Client::tls`];
//!   the webpki roots by default).
//! * Keep-alive: each worker keeps a small pool of idle connections per
//!   peer (address, host name, TLS configuration: a connection verified
//!   under one client's roots is never handed to a client with others;
//!   tasks never migrate, so the pool is a thread-local). A
//!   connection goes back only when its response was read to the end and
//!   neither side said `Connection: close`; an idle one the peer closed is
//!   noticed before reuse, and a request that finds its reused connection
//!   closed before any response byte is sent once more on a fresh one if
//!   its method is idempotent (RFC 9110 §9.2.2) or none of its bytes left;
//!   a `POST` or `PATCH` that may have reached the server is not resent but
//!   fails with [`ClientErrorKind::MaybeProcessed`]. A streamed body is
//!   never resent.
//! * Timeouts ([`ClientConfig`]): connect, response head (from the end of
//!   the request), and the whole exchange including the body.
//! * Errors ([`ClientError`]) have a [`ClientErrorKind`]: connect, timeout,
//!   malformed response, head or body too large, closed early, request
//!   may have been processed.
//!
//! ```no_run
//! use corering::http::client::{Client, ClientRequest};
//! use corering::http::Method;
//!
//! fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     let rt = corering::Runtime::new()?;
//!     let text = rt.block_on(async {
//!         let client = Client::new();
//!         let addr = "127.0.0.1:8080".parse().unwrap();
//!         let req = ClientRequest::new(Method::Post, "/echo").body("hello");
//!         let text = client.send(addr, &req).await?.text().await?;
//!         corering::http::client::close_idle();
//!         Ok::<_, corering::http::client::ClientError>(text)
//!     })?;
//!     println!("{text}");
//!     Ok(())
//! }
//! ```
//!
//! [`Connector`]: crate::Connector
//! [`Connection`]: crate::Connection
//! [`Runtime::block_on`]: crate::Runtime::block_on

mod error;
mod peer;
mod pool;
mod request;
mod response;

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

pub use error::{ClientError, ClientErrorKind};
pub use peer::{split_url, Peer};
pub use pool::{close_idle, idle_count};
pub use request::ClientRequest;
#[doc(hidden)]
pub use response::__parse_head_for_fuzzing;
pub use response::ClientResponse;

use super::Method;
use crate::{Connection, Connector};
use pool::PoolKey;
use request::ReqFraming;
use response::Exchange;

/// Limits and timeouts of a [`Client`]. Plain data (`Copy`).
///
/// ```
/// use std::time::Duration;
/// use corering::http::client::ClientConfig;
/// let cfg = ClientConfig::new()
///     .connect_timeout(Duration::from_secs(1))
///     .request_timeout(None)
///     .max_body(64 << 10);
/// assert_eq!(cfg.max_body, 64 << 10);
/// ```
#[derive(Clone, Copy, Debug)]
pub struct ClientConfig {
    /// Longest wait for a connection to open (default 10 s).
    pub connect_timeout: Option<Duration>,
    /// Longest wait for the response head once the request is sent
    /// (default 30 s).
    pub head_timeout: Option<Duration>,
    /// Longest time for the whole exchange, from connecting to the last
    /// body byte (default 60 s).
    pub request_timeout: Option<Duration>,
    /// Largest response head in bytes (default 64 KiB); also bounds the
    /// chunk extensions and trailers of a chunked body.
    pub max_head: usize,
    /// Most header fields in a response (default 100, at most 128).
    pub max_headers: usize,
    /// Largest body [`ClientResponse::body`] collects (default 16 MiB).
    pub max_body: u64,
    /// Most idle connections kept per peer address (default 8; 0 turns
    /// keep-alive reuse off).
    pub max_idle_per_peer: usize,
    /// Most idle connections kept per worker (default 256).
    pub max_idle_total: usize,
    /// An idle connection older than this is not reused (default 30 s).
    pub idle_timeout: Duration,
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig::new()
    }
}

impl ClientConfig {
    /// The defaults (see each field).
    ///
    /// ```
    /// let cfg = corering::http::client::ClientConfig::new();
    /// assert_eq!(cfg.max_idle_per_peer, 8);
    /// ```
    pub const fn new() -> ClientConfig {
        ClientConfig {
            connect_timeout: Some(Duration::from_secs(10)),
            head_timeout: Some(Duration::from_secs(30)),
            request_timeout: Some(Duration::from_secs(60)),
            max_head: 64 << 10,
            max_headers: 100,
            max_body: 16 << 20,
            max_idle_per_peer: 8,
            max_idle_total: 256,
            idle_timeout: Duration::from_secs(30),
        }
    }

    /// Sets [`connect_timeout`](ClientConfig::connect_timeout).
    ///
    /// ```
    /// use std::time::Duration;
    /// use corering::http::client::ClientConfig;
    /// let cfg = ClientConfig::new().connect_timeout(Duration::from_secs(2));
    /// assert_eq!(cfg.connect_timeout, Some(Duration::from_secs(2)));
    /// ```
    pub fn connect_timeout(mut self, t: impl Into<Option<Duration>>) -> Self {
        self.connect_timeout = t.into();
        self
    }

    /// Sets [`head_timeout`](ClientConfig::head_timeout).
    ///
    /// ```
    /// use std::time::Duration;
    /// use corering::http::client::ClientConfig;
    /// let cfg = ClientConfig::new().head_timeout(None);
    /// assert_eq!(cfg.head_timeout, None);
    /// ```
    pub fn head_timeout(mut self, t: impl Into<Option<Duration>>) -> Self {
        self.head_timeout = t.into();
        self
    }

    /// Sets [`request_timeout`](ClientConfig::request_timeout).
    ///
    /// ```
    /// use std::time::Duration;
    /// use corering::http::client::ClientConfig;
    /// let cfg = ClientConfig::new().request_timeout(Duration::from_secs(5));
    /// assert_eq!(cfg.request_timeout, Some(Duration::from_secs(5)));
    /// ```
    pub fn request_timeout(mut self, t: impl Into<Option<Duration>>) -> Self {
        self.request_timeout = t.into();
        self
    }

    /// Sets [`max_head`](ClientConfig::max_head).
    ///
    /// ```
    /// use corering::http::client::ClientConfig;
    /// assert_eq!(ClientConfig::new().max_head(8192).max_head, 8192);
    /// ```
    pub const fn max_head(mut self, bytes: usize) -> Self {
        self.max_head = bytes;
        self
    }

    /// Sets [`max_headers`](ClientConfig::max_headers).
    ///
    /// ```
    /// use corering::http::client::ClientConfig;
    /// assert_eq!(ClientConfig::new().max_headers(32).max_headers, 32);
    /// ```
    pub const fn max_headers(mut self, n: usize) -> Self {
        self.max_headers = n;
        self
    }

    /// Sets [`max_body`](ClientConfig::max_body).
    ///
    /// ```
    /// use corering::http::client::ClientConfig;
    /// assert_eq!(ClientConfig::new().max_body(1 << 20).max_body, 1 << 20);
    /// ```
    pub const fn max_body(mut self, bytes: u64) -> Self {
        self.max_body = bytes;
        self
    }

    /// Sets [`max_idle_per_peer`](ClientConfig::max_idle_per_peer) (0:
    /// never reuse connections).
    ///
    /// ```
    /// use corering::http::client::ClientConfig;
    /// // A new connection for every request.
    /// let cfg = ClientConfig::new().max_idle_per_peer(0);
    /// # let _ = cfg;
    /// ```
    pub const fn max_idle_per_peer(mut self, n: usize) -> Self {
        self.max_idle_per_peer = n;
        self
    }

    /// Sets [`max_idle_total`](ClientConfig::max_idle_total).
    ///
    /// ```
    /// use corering::http::client::ClientConfig;
    /// assert_eq!(ClientConfig::new().max_idle_total(16).max_idle_total, 16);
    /// ```
    pub const fn max_idle_total(mut self, n: usize) -> Self {
        self.max_idle_total = n;
        self
    }

    /// Sets [`idle_timeout`](ClientConfig::idle_timeout).
    ///
    /// ```
    /// use std::time::Duration;
    /// use corering::http::client::ClientConfig;
    /// let cfg = ClientConfig::new().idle_timeout(Duration::from_secs(5));
    /// assert_eq!(cfg.idle_timeout, Duration::from_secs(5));
    /// ```
    pub const fn idle_timeout(mut self, t: Duration) -> Self {
        self.idle_timeout = t;
        self
    }
}

/// An HTTP/1.1 client. Cheap to clone, `Send + Sync`; the connection pool
/// it uses belongs to the worker it runs on, not to the `Client`.
///
/// Must be used on a corering worker: in a server handler, a task spawned
/// there, or under [`Runtime::block_on`](crate::Runtime::block_on).
///
/// ```no_run
/// # async fn f() -> Result<(), corering::http::client::ClientError> {
/// use corering::http::client::{Client, ClientRequest};
/// let client = Client::new();
/// let addr = "127.0.0.1:8080".parse().unwrap();
/// let resp = client.get(addr, "/plaintext").await?;
/// assert!(resp.status().as_u16() == 200);
/// let body = resp.bytes().await?;
///
/// // A body streamed in pieces (chunked, as no length is declared).
/// let mut w = client.start(addr, &ClientRequest::post("/echo", "")).await?;
/// w.write(b"hello, ").await?;
/// w.write(b"world").await?;
/// let echoed = w.finish().await?.text().await?;
/// # let _ = (body, echoed); Ok(()) }
/// ```
#[derive(Clone, Debug, Default)]
pub struct Client {
    cfg: ClientConfig,
    connector: Connector,
    /// TLS settings for `https://` peers; `None`: the default (webpki
    /// roots), made on first use.
    #[cfg(feature = "tls")]
    tls: Option<crate::tls::TlsConnector>,
}

impl Client {
    /// A client with the default [`ClientConfig`].
    ///
    /// ```
    /// let client = corering::http::client::Client::new();
    /// assert_eq!(client.config().max_idle_per_peer, 8);
    /// ```
    pub fn new() -> Client {
        Client::with_config(ClientConfig::new())
    }

    /// A client with `cfg`.
    ///
    /// ```
    /// use corering::http::client::{Client, ClientConfig};
    /// let client = Client::with_config(ClientConfig::new().max_idle_per_peer(0));
    /// assert_eq!(client.config().max_idle_per_peer, 0);
    /// ```
    pub fn with_config(cfg: ClientConfig) -> Client {
        Client {
            cfg,
            connector: Connector::new(),
            #[cfg(feature = "tls")]
            tls: None,
        }
    }

    /// Uses `tls` for `https://` peers (root store, CA files, ALPN,
    /// handshake timeout). Without it the client trusts the webpki roots.
    ///
    /// ```no_run
    /// # fn f() -> std::io::Result<()> {
    /// use corering::http::client::Client;
    /// use corering::tls::TlsConnector;
    /// let tls = TlsConnector::builder().ca_file("dev-ca.pem")?.build();
    /// let client = Client::new().tls(tls);
    /// # let _ = client; Ok(()) }
    /// ```
    #[cfg(feature = "tls")]
    pub fn tls(mut self, tls: crate::tls::TlsConnector) -> Client {
        self.tls = Some(tls);
        self
    }

    /// The TLS settings `https://` peers are reached with.
    #[cfg(feature = "tls")]
    fn tls_connector(&self) -> &crate::tls::TlsConnector {
        static DEFAULT: std::sync::OnceLock<crate::tls::TlsConnector> = std::sync::OnceLock::new();
        self.tls
            .as_ref()
            .unwrap_or_else(|| DEFAULT.get_or_init(crate::tls::TlsConnector::new))
    }

    /// The pool key of `peer` for this client.
    fn key(&self, peer: Peer) -> PoolKey {
        #[cfg(feature = "tls")]
        let tls = peer.is_tls().then(|| self.tls_connector().config().clone());
        PoolKey {
            peer,
            #[cfg(feature = "tls")]
            tls,
        }
    }

    /// `GET url` (`http://` or `https://`, see [`split_url`]); the body is
    /// left to read.
    ///
    /// ```no_run
    /// # async fn f() -> Result<(), corering::http::client::ClientError> {
    /// let client = corering::http::client::Client::new();
    /// let text = client.get_url("https://localhost:8443/").await?.text().await?;
    /// # let _ = text; Ok(()) }
    /// ```
    pub async fn get_url(&self, url: &str) -> Result<ClientResponse, ClientError> {
        let (peer, target) = split_url(url)?;
        self.send_to(&peer, &ClientRequest::get(target)).await
    }

    /// The configuration.
    ///
    /// ```
    /// let client = corering::http::client::Client::new();
    /// assert_eq!(client.config().max_body, 16 << 20);
    /// ```
    pub fn config(&self) -> &ClientConfig {
        &self.cfg
    }

    /// `GET target` from `addr` (plain HTTP); the body is left to read.
    ///
    /// ```no_run
    /// fn main() -> std::io::Result<()> {
    ///     corering::Runtime::new()?.block_on(async {
    ///         let client = corering::http::client::Client::new();
    ///         let addr = "127.0.0.1:8080".parse().unwrap();
    ///         match client.get(addr, "/health").await {
    ///             Ok(resp) => println!("{}: {:?}", resp.status().as_u16(), resp.text().await),
    ///             Err(e) => eprintln!("failed: {e}"),
    ///         }
    ///     });
    ///     Ok(())
    /// }
    /// ```
    pub async fn get(&self, addr: SocketAddr, target: &str) -> Result<ClientResponse, ClientError> {
        self.send(addr, &ClientRequest::get(target)).await
    }

    /// Sends `req` (with its body) to `addr` over plain HTTP; see
    /// [`send_to`](Client::send_to), which also takes HTTPS peers.
    ///
    /// ```no_run
    /// use corering::http::client::{Client, ClientRequest};
    ///
    /// fn main() -> std::io::Result<()> {
    ///     corering::Runtime::new()?.block_on(async {
    ///         let client = Client::new();
    ///         let addr = "127.0.0.1:8080".parse().unwrap();
    ///         let req = ClientRequest::post("/items", r#"{"name":"pen"}"#)
    ///             .header("content-type", "application/json");
    ///         if let Ok(resp) = client.send(addr, &req).await {
    ///             println!("{}", resp.status().as_u16());
    ///         }
    ///     });
    ///     Ok(())
    /// }
    /// ```
    pub async fn send(
        &self,
        addr: SocketAddr,
        req: &ClientRequest,
    ) -> Result<ClientResponse, ClientError> {
        self.send_to(&Peer::http(addr), req).await
    }

    /// Sends `req` (with its body) to `peer` (plain HTTP or HTTPS) and
    /// reads the response head; the body is left to read from the
    /// [`ClientResponse`].
    ///
    /// On a reused keep-alive connection that turns out to be closed (no
    /// response byte came back), the request is sent again on a new
    /// connection if its method is idempotent (RFC 9110 §9.2.2, see
    /// [`Method::is_idempotent`]) or if none of its bytes left: the
    /// connection failed before the kernel accepted any. Otherwise (a
    /// `POST` or `PATCH` that may have reached the server) it fails with
    /// [`ClientErrorKind::MaybeProcessed`].
    ///
    /// ```no_run
    /// use corering::http::client::{Client, ClientRequest, Peer};
    ///
    /// fn main() -> std::io::Result<()> {
    ///     corering::Runtime::new()?.block_on(async {
    ///         let peer = Peer::from_url("https://example.com").expect("resolves");
    ///         let req = ClientRequest::get("/").header("accept", "text/html");
    ///         if let Ok(resp) = Client::new().send_to(&peer, &req).await {
    ///             println!("{} {:?}", resp.status().as_u16(), resp.header_str("content-type"));
    ///         }
    ///     });
    ///     Ok(())
    /// }
    /// ```
    pub async fn send_to(
        &self,
        peer: &Peer,
        req: &ClientRequest,
    ) -> Result<ClientResponse, ClientError> {
        req.check()?;
        let key = self.key(peer.clone());
        let deadline = self.cfg.request_timeout.map(|t| Instant::now() + t);
        let mut head = Vec::with_capacity(128 + req.target().len());
        req.write_head(&mut head, &key.peer.host_field(), req.framing());
        let body = req.body_bytes();
        let idempotent = req.method().is_idempotent();
        let mut reuse = true;
        loop {
            let (mut conn, reused) = self.connection(&key, deadline, reuse).await?;
            // A request that is not idempotent waits until its bytes are
            // with the kernel: a failure until then proves they never left.
            let settle = reused && !idempotent;
            let before = if settle { conn.byte_counts().1 } else { 0 };
            let sent = within(deadline, "sending the request", async {
                conn.write_all_vectored(&[&head, body]).await?;
                if settle {
                    conn.flush().await?;
                }
                Ok(())
            })
            .await;
            let r = match sent {
                Ok(()) => {
                    let x = self.exchange(conn, key.clone(), deadline, reused, req);
                    match ClientResponse::read(x).await {
                        // The request left; whether the server acted on
                        // it cannot be known.
                        Err(e) if e.stale && settle => Err(e.maybe_processed(req.method())),
                        r => r,
                    }
                }
                Err(e) if reused && e.kind() != ClientErrorKind::Timeout => {
                    // A failed send discards what was queued; if the
                    // count of bytes the kernel took did not move, none of
                    // this request's bytes left.
                    if settle && conn.byte_counts().1 != before {
                        Err(e.maybe_processed(req.method()))
                    } else {
                        Err(e.stale())
                    }
                }
                Err(e) => Err(e),
            };
            match r {
                Err(e) if e.stale => {
                    // The pooled connection was closed by the peer while
                    // idle, and the request is idempotent or never left:
                    // send it on a fresh one.
                    log::debug!("http client: retrying on a new connection: {e}");
                    reuse = false;
                }
                r => return r,
            }
        }
    }

    /// Starts a request whose body is streamed: sends `req`'s head now
    /// (its body is ignored) and returns a writer for the body. The body
    /// is chunked unless [`ClientRequest::content_length`] declared its
    /// length.
    ///
    /// ```
    /// use corering::http::client::{Client, ClientError, ClientRequest};
    ///
    /// async fn upload(client: &Client) -> Result<u16, ClientError> {
    ///     let addr = "127.0.0.1:8080".parse().unwrap();
    ///     let req = ClientRequest::new(corering::http::Method::Put, "/log");
    ///     let mut body = client.start(addr, &req).await?;
    ///     for line in ["one\n", "two\n", "three\n"] {
    ///         body.write(line.as_bytes()).await?;
    ///     }
    ///     let resp = body.finish().await?;
    ///     Ok(resp.status().as_u16())
    /// }
    /// ```
    pub async fn start(
        &self,
        addr: SocketAddr,
        req: &ClientRequest,
    ) -> Result<RequestWriter, ClientError> {
        self.start_to(&Peer::http(addr), req).await
    }

    /// [`start`](Client::start) for any peer, plain HTTP or HTTPS.
    ///
    /// ```
    /// use corering::http::client::{Client, ClientError, ClientRequest, Peer};
    ///
    /// async fn upload(client: &Client, peer: &Peer) -> Result<(), ClientError> {
    ///     let req = ClientRequest::post("/upload", "").content_length(5);
    ///     let mut body = client.start_to(peer, &req).await?;
    ///     body.write(b"hello").await?;
    ///     body.finish().await?;
    ///     Ok(())
    /// }
    /// ```
    pub async fn start_to(
        &self,
        peer: &Peer,
        req: &ClientRequest,
    ) -> Result<RequestWriter, ClientError> {
        req.check()?;
        let key = self.key(peer.clone());
        let deadline = self.cfg.request_timeout.map(|t| Instant::now() + t);
        let framing = match req.declared_length() {
            Some(n) => ReqFraming::Length(n),
            None => ReqFraming::Chunked,
        };
        let mut head = Vec::with_capacity(128 + req.target().len());
        req.write_head(&mut head, &key.peer.host_field(), framing);
        let (mut conn, reused) = self.connection(&key, deadline, true).await?;
        within(deadline, "sending the request head", conn.write_all(&head)).await?;
        Ok(RequestWriter {
            x: Some(self.exchange(conn, key, deadline, reused, req)),
            remaining: match framing {
                ReqFraming::Length(n) => Some(n),
                _ => None,
            },
        })
    }

    fn exchange(
        &self,
        conn: Connection,
        peer: PoolKey,
        deadline: Option<Instant>,
        reused: bool,
        req: &ClientRequest,
    ) -> Exchange {
        Exchange {
            conn,
            peer,
            cfg: self.cfg,
            deadline,
            reused,
            head_request: req.method() == Method::Head,
            close_requested: req.wants_close(),
        }
    }

    /// An idle pooled connection for `key` (if `reuse`), or a new one
    /// (with its TLS handshake done, for an HTTPS peer).
    async fn connection(
        &self,
        key: &PoolKey,
        deadline: Option<Instant>,
        reuse: bool,
    ) -> Result<(Connection, bool), ClientError> {
        let addr = key.peer.addr();
        if reuse && self.cfg.max_idle_per_peer > 0 {
            if let Some(c) = pool::take(key, self.cfg.idle_timeout) {
                return Ok((c, true));
            }
        }
        let left = deadline.map(|d| d.saturating_duration_since(Instant::now()));
        let t = match (self.cfg.connect_timeout, left) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        if t == Some(Duration::ZERO) {
            return Err(ClientError::new(
                ClientErrorKind::Timeout,
                format!("no time left to connect to {addr}"),
            ));
        }
        let connector = self.connector.clone().timeout(t);
        let conn = if key.peer.is_tls() {
            self.connect_tls(&connector, key, deadline).await
        } else {
            connector.connect(addr).await
        };
        match conn {
            Ok(c) => Ok((c, false)),
            Err(e) if e.kind() == io::ErrorKind::TimedOut => {
                Err(ClientError::io(ClientErrorKind::Timeout, e.to_string(), e))
            }
            Err(e) => Err(ClientError::io(ClientErrorKind::Connect, e.to_string(), e)),
        }
    }
}

impl Client {
    /// Connects and runs the TLS handshake for `key`'s peer, within the
    /// request deadline as well as the handshake timeout.
    #[cfg(feature = "tls")]
    async fn connect_tls(
        &self,
        connector: &Connector,
        key: &PoolKey,
        deadline: Option<Instant>,
    ) -> io::Result<Connection> {
        let tls = self.tls_connector();
        let name = key.peer.server_name();
        let fut = connector.connect_tls(key.peer.addr(), tls, &name);
        match deadline {
            None => fut.await,
            Some(d) => {
                let left = d.saturating_duration_since(Instant::now());
                crate::time::timeout(left, fut).await.unwrap_or_else(|_| {
                    Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        format!("tls handshake with {name} not done by the request deadline"),
                    ))
                })
            }
        }
    }

    #[cfg(not(feature = "tls"))]
    async fn connect_tls(
        &self,
        _: &Connector,
        key: &PoolKey,
        _: Option<Instant>,
    ) -> io::Result<Connection> {
        Err(io::Error::new(
            io::ErrorKind::Unsupported,
            format!("{}: corering was built without its `tls` feature", key.peer),
        ))
    }
}

/// Runs a write with the exchange's deadline.
async fn within(
    deadline: Option<Instant>,
    what: &str,
    fut: impl Future<Output = io::Result<()>>,
) -> Result<(), ClientError> {
    let r = match deadline {
        Some(d) => {
            let left = d.saturating_duration_since(Instant::now());
            match crate::time::timeout(left, fut).await {
                Ok(r) => r,
                Err(_) => {
                    return Err(ClientError::new(
                        ClientErrorKind::Timeout,
                        format!("{what}: the request deadline passed"),
                    ))
                }
            }
        }
        None => fut.await,
    };
    r.map_err(|e| ClientError::from_io(what, e))
}

/// The body writer of a request started with [`Client::start`].
///
/// ```
/// use corering::http::client::{Client, ClientError, ClientRequest};
///
/// async fn upload(client: &Client) -> Result<u16, ClientError> {
///     let addr = "127.0.0.1:8080".parse().unwrap();
///     let req = ClientRequest::new(corering::http::Method::Put, "/log");
///     let mut body = client.start(addr, &req).await?;
///     for line in ["one\n", "two\n", "three\n"] {
///         body.write(line.as_bytes()).await?;
///     }
///     let resp = body.finish().await?;
///     Ok(resp.status().as_u16())
/// }
/// ```
pub struct RequestWriter {
    /// `None` after a failed write.
    x: Option<Exchange>,
    /// Bytes still to send of a declared length.
    remaining: Option<u64>,
}

impl std::fmt::Debug for RequestWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RequestWriter")
            .field("remaining", &self.remaining)
            .finish()
    }
}

impl RequestWriter {
    fn exchange(&mut self) -> Result<&mut Exchange, ClientError> {
        self.x.as_mut().ok_or_else(|| {
            ClientError::new(ClientErrorKind::Io, "an earlier write of this body failed")
        })
    }

    /// Sends `data` as the next piece of the body (a chunk, unless a
    /// length was declared). Waits only while the connection's write
    /// buffer is over its limit.
    pub async fn write(&mut self, data: &[u8]) -> Result<(), ClientError> {
        if data.is_empty() {
            return Ok(());
        }
        let remaining = self.remaining;
        if let Some(n) = remaining {
            if data.len() as u64 > n {
                self.x = None;
                return Err(ClientError::new(
                    ClientErrorKind::InvalidRequest,
                    "more body bytes than the declared Content-Length",
                ));
            }
            self.remaining = Some(n - data.len() as u64);
        }
        let x = self.exchange()?;
        let deadline = x.deadline;
        let conn = &mut x.conn;
        let r = if remaining.is_some() {
            within(deadline, "sending the request body", conn.write_all(data)).await
        } else {
            let mut line = [0u8; 18];
            let line = super::itoa::chunk_size_line(data.len() as u64, &mut line);
            within(
                deadline,
                "sending the request body",
                conn.write_all_vectored(&[line, data, b"\r\n"]),
            )
            .await
        };
        if r.is_err() {
            self.x = None;
        }
        r
    }

    /// Ends the body and reads the response head.
    pub async fn finish(mut self) -> Result<ClientResponse, ClientError> {
        if let Some(n) = self.remaining.filter(|&n| n > 0) {
            return Err(ClientError::new(
                ClientErrorKind::InvalidRequest,
                format!("body ended {n} bytes short of the declared Content-Length"),
            ));
        }
        let chunked = self.remaining.is_none();
        let mut x = self.x.take().ok_or_else(|| {
            ClientError::new(ClientErrorKind::Io, "an earlier write of this body failed")
        })?;
        if chunked {
            within(
                x.deadline,
                "sending the request body",
                x.conn.write_all(b"0\r\n\r\n"),
            )
            .await?;
        }
        // The body is gone: a retry is impossible, so no failure is stale.
        x.reused = false;
        ClientResponse::read(x).await
    }
}
