//! `ClientResponse`: the parsed response head (in place in its receive
//! buffer) and a reader of the body, framed by `Content-Length`, the
//! chunked coding, or the end of the connection.
//!
//! ```text
//!  Inbound ──► httparse::Response (in place) ──► 1xx? consume, parse on
//!    └─ head spans leases: assembly buffer        │
//!       (copied only up to the head's end)        ▼
//!  body: BodyReader over the same Inbound ─► Length / Chunked / UntilClose
//!  body done + keep-alive + nothing extra ─► connection back to the pool
//! ```
//!
//! The body reader and its framing rules are the server's
//! ([`BodyReader`](super::super::body::BodyReader)); only the deadline,
//! the pool and the error type are the client's ([`ClientSource`]).

use std::time::Instant;

use super::super::body::{self, BodyReader, BodySource, ChunkedDecoder, Remaining};
use super::super::{Status, Upgraded, Version};
use super::error::{ClientError, ClientErrorKind};
use super::pool::{self, PoolKey};
use super::{ClientConfig, Peer};
use crate::conn::Tail;
use crate::time::timeout;
use crate::{Connection, Inbound, Lease};

/// Most header fields in a response head this client parses.
pub(crate) const MAX_RESPONSE_HEADERS: usize = 128;

/// Where one header field lies in the head buffer.
#[derive(Clone, Copy, Debug)]
struct Span {
    name: (u32, u32),
    value: (u32, u32),
}

/// The parts of an exchange that outlive the request: where to read, and
/// what the connection's future is.
pub(crate) struct Exchange {
    pub(crate) conn: Connection,
    pub(crate) peer: PoolKey,
    pub(crate) cfg: ClientConfig,
    pub(crate) deadline: Option<Instant>,
    /// The connection came from the pool (a failure before any response
    /// byte may be retried).
    pub(crate) reused: bool,
    pub(crate) head_request: bool,
    pub(crate) close_requested: bool,
}

/// A response: status, header fields and a body to read.
///
/// The head is parsed in place in the receive buffer it arrived in (copied
/// only if it spans buffers), and the body is read on demand: piece by
/// piece with [`chunk`](ClientResponse::chunk), or collected with
/// [`body`](ClientResponse::body). Once the body has been read to its end,
/// the connection goes back to the worker's pool if both sides allow it;
/// a response dropped before that closes its connection.
///
/// ```no_run
/// # async fn f() -> Result<(), corering::http::client::ClientError> {
/// let client = corering::http::client::Client::new();
/// let mut resp = client.get("127.0.0.1:8080".parse().unwrap(), "/json").await?;
/// assert_eq!(resp.status().as_u16(), 200);
/// let ct = resp.header_str("content-type").unwrap_or("").to_owned();
/// let body = resp.body().await?;
/// println!("{ct}: {} bytes", body.len());
/// # Ok(()) }
/// ```
pub struct ClientResponse {
    status: Status,
    version: Version,
    reason: (u32, u32),
    spans: Vec<Span>,
    content_length: Option<u64>,
    chunked: bool,
    /// Where the head starts in the input's front view (its spans are
    /// relative to it).
    head_at: usize,
    reader: Reader,
    collected: Vec<u8>,
    collected_done: bool,
}

/// The body half of a response.
struct Reader {
    /// `None` once released to the pool or closed.
    conn: Option<Connection>,
    peer: PoolKey,
    cfg: ClientConfig,
    deadline: Option<Instant>,
    /// The head (kept at the front), then the body and anything after.
    input: Inbound,
    body: BodyReader,
    keep_alive: bool,
}

impl std::fmt::Debug for ClientResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientResponse")
            .field("status", &self.status)
            .field("version", &self.version)
            .field("progress", self.reader.body.remaining())
            .finish()
    }
}

/// A parsed head, offsets relative to the start of the buffer.
struct Parsed {
    len: usize,
    code: u16,
    version: Version,
    reason: (u32, u32),
    content_length: Option<u64>,
    te: bool,
    chunked_last: bool,
    conn_close: bool,
    conn_keep_alive: bool,
}

fn malformed(msg: &str) -> ClientError {
    ClientError::new(ClientErrorKind::Malformed, msg)
}

/// Parses a response head at the start of `buf` (offsets relative to
/// `base`); `Ok(None)` if incomplete.
fn parse(
    buf: &[u8],
    base: usize,
    cfg: &ClientConfig,
    spans: &mut Vec<Span>,
) -> Result<Option<Parsed>, ClientError> {
    spans.clear();
    let mut headers = [httparse::EMPTY_HEADER; MAX_RESPONSE_HEADERS];
    let max = cfg.max_headers.min(MAX_RESPONSE_HEADERS);
    let mut resp = httparse::Response::new(&mut headers[..max]);
    let len = match resp.parse(buf) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) => {
            if buf.len() >= cfg.max_head {
                return Err(ClientError::new(
                    ClientErrorKind::HeadTooLarge,
                    format!("response head over {} bytes", cfg.max_head),
                ));
            }
            return Ok(None);
        }
        Err(httparse::Error::TooManyHeaders) => {
            return Err(ClientError::new(
                ClientErrorKind::HeadTooLarge,
                format!("more than {max} header fields in the response"),
            ))
        }
        Err(e) => {
            let line = buf.split(|&b| b == b'\n').next().unwrap_or(buf);
            let line = String::from_utf8_lossy(&line[..line.len().min(80)]);
            return Err(malformed(&format!(
                "invalid response head ({e}): {:?}",
                line.trim_end()
            )));
        }
    };
    if len > cfg.max_head {
        return Err(ClientError::new(
            ClientErrorKind::HeadTooLarge,
            format!("response head of {len} bytes, over {}", cfg.max_head),
        ));
    }
    let start = buf.as_ptr() as usize;
    let off = |s: &[u8]| (s.as_ptr() as usize - start + base) as u32;
    let code = resp.code.unwrap_or(0);
    let version = match resp.version {
        Some(0) => Version::Http10,
        _ => Version::Http11,
    };
    let reason_s = resp.reason.unwrap_or("").as_bytes();
    let reason = if reason_s.is_empty() {
        (0, 0)
    } else {
        let r0 = off(reason_s);
        (r0, r0 + reason_s.len() as u32)
    };
    let mut p = Parsed {
        len,
        code,
        version,
        reason,
        content_length: None,
        te: false,
        chunked_last: false,
        conn_close: false,
        conn_keep_alive: false,
    };
    let mut bad_length = false;
    for h in resp.headers.iter() {
        let name = h.name.as_bytes();
        let value = body::trim_ows(h.value);
        let n0 = off(name);
        let v0 = off(value);
        spans.push(Span {
            name: (n0, n0 + name.len() as u32),
            value: (v0, v0 + value.len() as u32),
        });
        if name.eq_ignore_ascii_case(b"content-length") {
            bad_length |= body::content_length(value, &mut p.content_length).is_err();
        } else if name.eq_ignore_ascii_case(b"transfer-encoding") {
            p.te = true;
            for coding in value.split(|&b| b == b',').map(body::trim_ows) {
                if coding.is_empty() {
                    continue;
                }
                let name = body::trim_ows(coding.split(|&b| b == b';').next().unwrap_or(coding));
                p.chunked_last = name.eq_ignore_ascii_case(b"chunked");
            }
        } else if name.eq_ignore_ascii_case(b"connection") {
            for opt in value.split(|&b| b == b',').map(body::trim_ows) {
                if opt.eq_ignore_ascii_case(b"close") {
                    p.conn_close = true;
                } else if opt.eq_ignore_ascii_case(b"keep-alive") {
                    p.conn_keep_alive = true;
                }
            }
        }
    }
    // With Transfer-Encoding, Content-Length is ignored (RFC 9112 §6.3).
    if bad_length && !p.te {
        return Err(malformed("invalid Content-Length in the response"));
    }
    Ok(Some(p))
}

/// A head as [`__parse_head_for_fuzzing`] returns it: length, status
/// code, fields.
#[doc(hidden)]
pub type FuzzHead<'b> = (usize, u16, Vec<(&'b [u8], &'b [u8])>);

/// Parses `buf` as a response head as the client does, for the fuzz
/// target: the head's length, status code and every field as
/// `(name, value)` slices of `buf`. Not a public API.
#[doc(hidden)]
pub fn __parse_head_for_fuzzing<'b>(
    buf: &'b [u8],
    cfg: &ClientConfig,
) -> Result<Option<FuzzHead<'b>>, ClientError> {
    let mut spans = Vec::new();
    let Some(p) = parse(buf, 0, cfg, &mut spans)? else {
        return Ok(None);
    };
    let at = |(s, e): (u32, u32)| &buf[s as usize..e as usize];
    let fields = spans.iter().map(|sp| (at(sp.name), at(sp.value))).collect();
    Ok(Some((p.len, p.code, fields)))
}

/// Reads, failing with a timeout (described by `expired`) once `limit`
/// passes.
async fn read_within(
    conn: &mut Connection,
    limit: Option<Instant>,
    what: &str,
    expired: impl FnOnce() -> String,
) -> Result<Option<Lease>, ClientError> {
    let r = match limit {
        Some(t) => {
            let left = t.saturating_duration_since(Instant::now());
            match timeout(left, conn.read()).await {
                Ok(r) => r,
                Err(_) => return Err(ClientError::new(ClientErrorKind::Timeout, expired())),
            }
        }
        None => conn.read().await,
    };
    r.map_err(|e| ClientError::from_io(what, e))
}

fn request_expired(cfg: &ClientConfig, peer: &Peer) -> String {
    match cfg.request_timeout {
        Some(t) => format!("request to {peer} not complete within {t:?}"),
        None => format!("request to {peer} timed out"),
    }
}

fn earliest(a: Option<Instant>, b: Option<Instant>) -> Option<Instant> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

impl ClientResponse {
    /// Reads the response head (skipping interim `1xx` responses) from the
    /// exchange's connection.
    pub(crate) async fn read(x: Exchange) -> Result<ClientResponse, ClientError> {
        let Exchange {
            mut conn,
            peer,
            cfg,
            deadline,
            reused,
            head_request,
            close_requested,
        } = x;
        let head_deadline = cfg.head_timeout.map(|t| Instant::now() + t);
        let head_by = earliest(head_deadline, deadline);
        let expired = || match cfg.head_timeout {
            Some(t) if head_by == head_deadline => {
                format!("no response head from {} within {t:?}", peer.peer)
            }
            _ => request_expired(&cfg, &peer.peer),
        };
        let mut input = Inbound::new();
        let mut spans = Vec::with_capacity(16);
        let mut received = false;
        let parsed = loop {
            let data = input.bytes();
            if !data.is_empty() {
                if let Some(p) = parse(data, 0, &cfg, &mut spans)? {
                    if (100..200).contains(&p.code) && p.code != 101 {
                        // An interim response (100 Continue, 103 Early
                        // Hints): skip it, the final one follows.
                        input.consume(p.len);
                        continue;
                    }
                    break p;
                }
                let rest = input.unassembled();
                if !rest.is_empty() {
                    // Assembling: copy through the next place the head
                    // may end (the body stays in the lease).
                    let n = super::super::conn::head_end(data, rest).unwrap_or(rest.len());
                    input.assemble(n);
                    continue;
                }
                // The head continues in the next lease: assemble.
                input.begin_assembly();
            }
            let what = "waiting for the response head";
            let lease = match read_within(&mut conn, head_by, what, expired).await {
                Ok(l) => l,
                Err(e) if reused && !received && e.kind() == ClientErrorKind::ClosedEarly => {
                    return Err(e.stale())
                }
                Err(e) => return Err(e),
            };
            let Some(l) = lease else {
                let e = if received {
                    ClientError::new(
                        ClientErrorKind::ClosedEarly,
                        "connection closed in the middle of the response head",
                    )
                } else {
                    ClientError::new(
                        ClientErrorKind::ClosedEarly,
                        "connection closed before any response",
                    )
                };
                return Err(if reused && !received { e.stale() } else { e });
            };
            received = true;
            input.push(l);
        };
        let status = Status::from_u16(parsed.code)
            .ok_or_else(|| malformed("response status out of range"))?;
        let mut keep_alive = !close_requested
            && !parsed.conn_close
            && (parsed.version == Version::Http11 || parsed.conn_keep_alive);
        let bodiless = head_request || status.is_bodiless();
        let progress = if bodiless {
            if parsed.code == 101 {
                keep_alive = false;
            }
            Remaining::Done
        } else if parsed.te {
            if parsed.content_length.is_some() {
                // Both framings: a message smuggling risk; do not reuse.
                keep_alive = false;
            }
            if parsed.chunked_last {
                Remaining::Chunked(ChunkedDecoder::new(cfg.max_head))
            } else {
                keep_alive = false;
                Remaining::UntilClose
            }
        } else {
            match parsed.content_length {
                Some(0) => Remaining::Done,
                Some(n) => Remaining::Length(n),
                None => {
                    keep_alive = false;
                    Remaining::UntilClose
                }
            }
        };
        // The head stays at the front; the body is read on past it.
        let head_at = input.position();
        input.split().1.consume(parsed.len);
        let mut resp = ClientResponse {
            status,
            version: parsed.version,
            reason: parsed.reason,
            spans,
            content_length: if parsed.te {
                None
            } else {
                parsed.content_length
            },
            chunked: parsed.te && parsed.chunked_last,
            head_at,
            reader: Reader {
                conn: Some(conn),
                peer,
                cfg,
                deadline,
                input,
                body: BodyReader::new(progress, u64::MAX),
                keep_alive,
            },
            collected: Vec::new(),
            collected_done: false,
        };
        // A `101` keeps its connection for `into_upgraded`.
        if resp.reader.body.is_done() && parsed.code != 101 {
            resp.reader.release();
        }
        Ok(resp)
    }

    /// For `101 Switching Protocols` (the answer to a request with
    /// `Connection: upgrade` and an `Upgrade` field): the connection, now
    /// speaking the new protocol, with any bytes of it that arrived with
    /// the response head (in its [`Inbound`], not copied). Any other
    /// response is handed back as it is.
    ///
    /// ```no_run
    /// use corering::http::client::{Client, ClientRequest};
    /// # async fn f() -> Result<(), Box<dyn std::error::Error>> {
    /// let req = ClientRequest::get("/chat")
    ///     .header("Connection", "upgrade")
    ///     .header("Upgrade", "echo");
    /// let resp = Client::new().send("127.0.0.1:8080".parse()?, &req).await?;
    /// match resp.into_upgraded() {
    ///     Ok(up) => {
    ///         let (mut conn, early) = up.into_parts();
    ///         conn.write_all(b"hello").await?;
    ///         let _ = (early.bytes(), conn.read().await?);
    ///     }
    ///     Err(resp) => println!("no switch: {}", resp.status()),
    /// }
    /// # Ok(()) }
    /// ```
    // The `Err` is the response itself, handed back as it came (boxing it
    // would allocate on the common, declined path).
    #[allow(clippy::result_large_err)]
    pub fn into_upgraded(mut self) -> Result<Upgraded, ClientResponse> {
        if self.status != Status::SWITCHING_PROTOCOLS {
            return Err(self);
        }
        let Some(conn) = self.reader.conn.take() else {
            return Err(self);
        };
        let input = std::mem::take(&mut self.reader.input);
        Ok(Upgraded::new(conn, input))
    }

    /// The head's bytes (and what follows them in the same buffer).
    fn head(&self) -> &[u8] {
        self.reader
            .input
            .front()
            .get(self.head_at..)
            .unwrap_or_default()
    }

    /// The status.
    ///
    /// ```
    /// use corering::http::client::{ClientError, ClientResponse};
    ///
    /// async fn show(resp: ClientResponse) -> Result<(), ClientError> {
    ///     if resp.status().as_u16() >= 400 {
    ///         eprintln!("failed: {}", resp.text().await?);
    ///     }
    ///     Ok(())
    /// }
    /// ```
    pub fn status(&self) -> Status {
        self.status
    }

    /// The protocol version of the response.
    ///
    /// ```
    /// use corering::http::client::{ClientError, ClientResponse};
    ///
    /// async fn show(resp: ClientResponse) -> Result<(), ClientError> {
    ///     println!("{:?}", resp.version());
    ///     Ok(())
    /// }
    /// ```
    pub fn version(&self) -> Version {
        self.version
    }

    /// The reason phrase as sent (may be empty).
    ///
    /// ```
    /// use corering::http::client::{ClientError, ClientResponse};
    ///
    /// async fn show(resp: ClientResponse) -> Result<(), ClientError> {
    ///     println!("{} {}", resp.status().as_u16(), resp.reason());
    ///     Ok(())
    /// }
    /// ```
    pub fn reason(&self) -> &str {
        let (s, e) = self.reason;
        std::str::from_utf8(&self.head()[s as usize..e as usize]).unwrap_or("")
    }

    /// The first header field named `name` (ASCII case-insensitive),
    /// without surrounding whitespace.
    ///
    /// ```
    /// use corering::http::client::{ClientError, ClientResponse};
    ///
    /// async fn show(resp: ClientResponse) -> Result<(), ClientError> {
    ///     let etag: Option<Vec<u8>> = resp.header("etag").map(<[u8]>::to_vec);
    ///     # let _ = etag;
    ///     Ok(())
    /// }
    /// ```
    pub fn header(&self, name: &str) -> Option<&[u8]> {
        self.headers()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }

    /// [`header`](ClientResponse::header) as text; `None` also if not UTF-8.
    ///
    /// ```
    /// use corering::http::client::{ClientError, ClientResponse};
    ///
    /// async fn show(resp: ClientResponse) -> Result<(), ClientError> {
    ///     let is_json = resp.header_str("content-type") == Some("application/json");
    ///     # let _ = is_json;
    ///     Ok(())
    /// }
    /// ```
    pub fn header_str(&self, name: &str) -> Option<&str> {
        self.header(name).and_then(|v| std::str::from_utf8(v).ok())
    }

    /// All header fields named `name`, in order.
    ///
    /// ```
    /// use corering::http::client::{ClientError, ClientResponse};
    ///
    /// async fn show(resp: ClientResponse) -> Result<(), ClientError> {
    ///     let cookies = resp.header_all("set-cookie").count();
    ///     println!("{cookies} cookies");
    ///     Ok(())
    /// }
    /// ```
    pub fn header_all<'s>(&'s self, name: &'s str) -> impl Iterator<Item = &'s [u8]> + 's {
        self.headers()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }

    /// Every header field, in order: name and value.
    ///
    /// ```
    /// use corering::http::client::{ClientError, ClientResponse};
    ///
    /// async fn show(resp: ClientResponse) -> Result<(), ClientError> {
    ///     for (name, value) in resp.headers() {
    ///         println!("{name}: {}", String::from_utf8_lossy(value));
    ///     }
    ///     Ok(())
    /// }
    /// ```
    pub fn headers(&self) -> impl Iterator<Item = (&str, &[u8])> + '_ {
        let buf = self.head();
        self.spans.iter().map(move |s| {
            let name = &buf[s.name.0 as usize..s.name.1 as usize];
            // Names are tokens (ASCII), checked by the parser.
            (
                std::str::from_utf8(name).unwrap_or(""),
                &buf[s.value.0 as usize..s.value.1 as usize],
            )
        })
    }

    /// The `Content-Length` the response declared (`None` with
    /// `Transfer-Encoding`, or without either field).
    ///
    /// ```
    /// use corering::http::client::{ClientError, ClientResponse};
    ///
    /// async fn show(resp: ClientResponse) -> Result<(), ClientError> {
    ///     if resp.content_length().is_some_and(|n| n > 1 << 20) {
    ///         return Ok(()); // too big: dropped unread
    ///     }
    ///     Ok(())
    /// }
    /// ```
    pub fn content_length(&self) -> Option<u64> {
        self.content_length
    }

    /// True if the body uses the chunked transfer coding.
    ///
    /// ```
    /// use corering::http::client::{ClientError, ClientResponse};
    ///
    /// async fn show(resp: ClientResponse) -> Result<(), ClientError> {
    ///     println!("chunked: {}", resp.is_chunked());
    ///     Ok(())
    /// }
    /// ```
    pub fn is_chunked(&self) -> bool {
        self.chunked
    }

    /// True if the connection may be reused after this response (as far as
    /// the response and request said).
    ///
    /// ```
    /// use corering::http::client::{ClientError, ClientResponse};
    ///
    /// async fn show(resp: ClientResponse) -> Result<(), ClientError> {
    ///     println!("reusable: {}", resp.keep_alive());
    ///     Ok(())
    /// }
    /// ```
    pub fn keep_alive(&self) -> bool {
        self.reader.keep_alive
    }

    /// True once the body has been read to its end (at once for `HEAD`,
    /// `204`, `304` and empty bodies).
    ///
    /// ```
    /// use corering::http::client::{ClientError, ClientResponse};
    ///
    /// async fn show(mut resp: ClientResponse) -> Result<(), ClientError> {
    ///     let _ = resp.body().await?;
    ///     assert!(resp.is_done());
    ///     Ok(())
    /// }
    /// ```
    pub fn is_done(&self) -> bool {
        self.reader.body.is_done()
    }

    /// Reads the next piece of the body; `Ok(None)` at its end. Pieces
    /// borrow the receive buffers (no copy). The body size is not limited
    /// here; [`body`](ClientResponse::body) applies the limit.
    ///
    /// ```
    /// use corering::http::client::{ClientError, ClientResponse};
    ///
    /// async fn show(mut resp: ClientResponse) -> Result<(), ClientError> {
    ///     let mut total = 0;
    ///     while let Some(piece) = resp.chunk().await? {
    ///         total += piece.len();
    ///     }
    ///     println!("{total} bytes");
    ///     Ok(())
    /// }
    /// ```
    pub async fn chunk(&mut self) -> Result<Option<&[u8]>, ClientError> {
        self.reader.next().await
    }

    /// Reads the whole body, up to [`ClientConfig::max_body`]; more is a
    /// [`ClientErrorKind::BodyTooLarge`] error. Calling it again returns
    /// the same bytes; after [`chunk`](ClientResponse::chunk) it returns the
    /// rest.
    ///
    /// ```
    /// use corering::http::client::{ClientError, ClientResponse};
    ///
    /// async fn show(mut resp: ClientResponse) -> Result<(), ClientError> {
    ///     let body = resp.body().await?;
    ///     println!("{} bytes", body.len());
    ///     Ok(())
    /// }
    /// ```
    pub async fn body(&mut self) -> Result<&[u8], ClientError> {
        if self.collected_done {
            return Ok(&self.collected);
        }
        let max = self.reader.cfg.max_body;
        let too_large = || {
            ClientError::new(
                ClientErrorKind::BodyTooLarge,
                format!("response body over {max} bytes"),
            )
        };
        if let Remaining::Length(n) = *self.reader.body.remaining() {
            if n > max {
                return Err(too_large());
            }
            self.collected.reserve(n as usize);
        }
        while let Some(piece) = self.reader.next().await? {
            if (self.collected.len() + piece.len()) as u64 > max {
                return Err(too_large());
            }
            self.collected.extend_from_slice(piece);
        }
        self.collected_done = true;
        Ok(&self.collected)
    }

    /// Reads the whole body (as [`body`](ClientResponse::body)) and returns
    /// it.
    ///
    /// ```
    /// use corering::http::client::{ClientError, ClientResponse};
    ///
    /// async fn show(resp: ClientResponse) -> Result<(), ClientError> {
    ///     let body: Vec<u8> = resp.bytes().await?;
    ///     # let _ = body;
    ///     Ok(())
    /// }
    /// ```
    pub async fn bytes(mut self) -> Result<Vec<u8>, ClientError> {
        self.body().await?;
        Ok(std::mem::take(&mut self.collected))
    }

    /// Reads the whole body as text (invalid UTF-8 is replaced).
    ///
    /// ```
    /// use corering::http::client::{ClientError, ClientResponse};
    ///
    /// async fn show(resp: ClientResponse) -> Result<(), ClientError> {
    ///     let text: String = resp.text().await?;
    ///     println!("{text}");
    ///     Ok(())
    /// }
    /// ```
    pub async fn text(self) -> Result<String, ClientError> {
        let b = self.bytes().await?;
        Ok(match String::from_utf8(b) {
            Ok(s) => s,
            Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
        })
    }
}

/// The client's side of reading a response body: the request deadline,
/// a close that ends a close-delimited body, and its errors.
struct ClientSource<'s> {
    conn: Option<&'s mut Connection>,
    deadline: Option<Instant>,
    cfg: &'s ClientConfig,
    peer: &'s Peer,
}

impl BodySource for ClientSource<'_> {
    type Error = ClientError;

    async fn refill(
        &mut self,
        tail: &mut Tail<'_>,
        rem: &Remaining,
        _received: u64,
    ) -> Result<bool, ClientError> {
        let Some(conn) = self.conn.as_deref_mut() else {
            return Err(ClientError::new(
                ClientErrorKind::ClosedEarly,
                "the connection is gone",
            ));
        };
        let what = "reading the response body";
        let (cfg, peer) = (self.cfg, self.peer);
        let r = read_within(conn, self.deadline, what, || request_expired(cfg, peer)).await;
        let r = match r {
            // A reset after a close-delimited body: some servers do that.
            Err(e)
                if e.kind() == ClientErrorKind::ClosedEarly
                    && matches!(rem, Remaining::UntilClose) =>
            {
                None
            }
            r => r?,
        };
        match r {
            Some(l) => {
                tail.push(l);
                Ok(true)
            }
            None => Ok(false),
        }
    }

    fn invalid(&self, e: super::super::Error) -> ClientError {
        malformed(&format!("invalid chunked body: {}", e.reason()))
    }

    fn cut_short(&self, rem: &Remaining) -> ClientError {
        ClientError::new(
            ClientErrorKind::ClosedEarly,
            match rem {
                Remaining::Length(n) => {
                    format!("connection closed with {n} bytes of the body still to come")
                }
                _ => "connection closed before the end of the chunked body".to_owned(),
            },
        )
    }

    fn too_large(&self) -> ClientError {
        ClientError::new(ClientErrorKind::BodyTooLarge, "response body too large")
    }
}

impl Reader {
    /// Hands the connection back to the pool if it may be reused: the body
    /// is complete, both sides allow keep-alive, and nothing beyond the
    /// response arrived.
    fn release(&mut self) {
        let Some(conn) = self.conn.take() else {
            return;
        };
        let leftover = self.input.len() > self.body.pending();
        if self.keep_alive && !leftover && self.body.is_done() {
            pool::put(
                self.peer.clone(),
                conn,
                self.cfg.max_idle_per_peer,
                self.cfg.max_idle_total,
            );
        }
    }

    async fn next(&mut self) -> Result<Option<&[u8]>, ClientError> {
        let got = {
            let (_, mut tail) = self.input.split();
            let mut src = ClientSource {
                conn: self.conn.as_mut(),
                deadline: self.deadline,
                cfg: &self.cfg,
                peer: &self.peer.peer,
            };
            self.body.next(&mut tail, &mut src).await
        };
        match got {
            Ok(piece) => {
                if self.body.is_done() {
                    self.release();
                }
                Ok(piece.map(|n| &self.input.bytes()[..n]))
            }
            Err(e) => {
                // The framing is in doubt: the connection is not reusable.
                self.body.abandon();
                self.keep_alive = false;
                self.conn = None;
                Err(e)
            }
        }
    }
}
