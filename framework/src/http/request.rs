//! `Request`: a borrowed view of one request head plus its body stream.
//!
//! The method, target and header fields borrow the receive buffer the head
//! was parsed from (a lease, or the assembly buffer when the head spanned
//! leases); nothing is copied. The body is read on demand from the bytes
//! after the head and then from the connection, by the body reader the
//! client shares ([`BodyReader`](super::body::BodyReader)), through the
//! connection's [`Inbound`](crate::Inbound).

use std::cell::OnceCell;
use std::fmt;
use std::time::{Duration, Instant};

use super::body::{BodyKind, BodyReader, BodySource, ChunkedDecoder, Remaining};
use super::head::{Head, HeaderSpan, TargetForm, Version};
use super::pace::SendPace;
use super::response::{Framing, HeadOptions};
use super::staged::Staged;
use super::{Error, Http1Config, Method, MinRate, Response, Status};
use crate::conn::Tail;
use crate::{Address, Connection};

/// One request, as handed to a handler. Borrows the connection's buffers,
/// so it lives only while the handler runs.
///
/// ```no_run
/// use corering::http::{Request, Response};
/// async fn handle(mut req: Request<'_>) -> Response {
///     let agent = req.header_str("user-agent").unwrap_or("?").len();
///     match req.body().await {
///         Ok(body) => Response::text(format!("{} bytes, agent {agent}", body.len())),
///         Err(e) => Response::new(e.status()),
///     }
/// }
/// ```
pub struct Request<'a> {
    pub(crate) head: &'a Head,
    /// The head's bytes (offsets in `head` and `spans` index into them).
    pub(crate) buf: &'a [u8],
    pub(crate) spans: &'a [HeaderSpan],
    pub(crate) body: BodyIo<'a>,
    pub(crate) collected: &'a mut Vec<u8>,
    /// Scratch buffer for a streamed response's head.
    pub(crate) scratch: &'a mut Vec<u8>,
    /// The peer as the access log shows it: looked up for the first
    /// logged request of the connection, then kept for the others.
    pub(crate) log_peer: &'a OnceCell<Option<Address>>,
}

impl fmt::Debug for Request<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Request")
            .field("method", &self.head.method)
            .field("target", &self.target())
            .field("version", &self.head.version)
            .finish()
    }
}

impl<'a> Request<'a> {
    /// The method.
    #[inline]
    pub fn method(&self) -> Method {
        self.head.method
    }

    /// The protocol version.
    pub fn version(&self) -> Version {
        self.head.version
    }

    /// The request target as sent (`/path?query`, `http://host/path`,
    /// `host:port` or `*`).
    #[inline]
    pub fn target(&self) -> &'a str {
        let (t0, t1) = self.head.target;
        let bytes = &self.buf[t0 as usize..t1 as usize];
        // SAFETY: `buf` holds the very bytes `parse_head` parsed into
        // `head` (the connection does not touch them while the request
        // lives), and it found the target there as text: the scanner
        // takes only visible ASCII, httparse checks UTF-8.
        unsafe { std::str::from_utf8_unchecked(bytes) }
    }

    /// The target's form.
    pub fn target_form(&self) -> TargetForm {
        self.head.form
    }

    /// Part `(start, end)` (buffer offsets) of the target.
    #[inline]
    fn target_part(&self, (s, e): (u32, u32)) -> &'a str {
        let t0 = self.head.target.0;
        self.target()
            .get((s - t0) as usize..(e - t0) as usize)
            .unwrap_or("")
    }

    /// The path: the target up to `?` (for absolute-form, the part after
    /// the authority, `/` if empty; for authority-form, `""`; `*` as is).
    #[inline]
    pub fn path(&self) -> &'a str {
        if self.head.path_root {
            return "/";
        }
        self.target_part(self.head.path)
    }

    /// The query: the target after the first `?`, if there is one.
    pub fn query(&self) -> Option<&'a str> {
        self.head.query.map(|q| self.target_part(q))
    }

    /// The first header field named `name` (ASCII case-insensitive); its
    /// value without surrounding whitespace.
    #[inline]
    pub fn header(&self, name: &str) -> Option<&'a [u8]> {
        let buf = self.buf;
        let name = name.as_bytes();
        // Lengths first, from the spans alone: most fields differ in
        // length from the one looked for.
        self.spans
            .iter()
            .find(|s| s.name_len() == name.len() && s.name(buf).eq_ignore_ascii_case(name))
            .map(|s| s.value(buf))
    }

    /// [`header`](Request::header) as text; `None` also if not UTF-8.
    pub fn header_str(&self, name: &str) -> Option<&'a str> {
        self.header(name).and_then(|v| std::str::from_utf8(v).ok())
    }

    /// All header fields named `name`, in order.
    pub fn header_all<'n>(&self, name: &'n str) -> impl Iterator<Item = &'a [u8]> + 'n
    where
        'a: 'n,
    {
        let buf = self.buf;
        self.spans
            .iter()
            .filter(move |s| s.name(buf).eq_ignore_ascii_case(name.as_bytes()))
            .map(move |s| s.value(buf))
    }

    /// Every header field as `(name, value)`, in order.
    pub fn headers(&self) -> impl Iterator<Item = (&'a str, &'a [u8])> + 'a {
        let buf = self.buf;
        self.spans.iter().map(move |s| {
            // Names are tokens (ASCII), checked by the parser.
            (std::str::from_utf8(s.name(buf)).unwrap_or(""), s.value(buf))
        })
    }

    /// The `Host` field's value (`""` in an HTTP/1.0 request without one).
    pub fn host(&self) -> &'a str {
        self.head
            .host
            .and_then(|i| self.spans.get(i as usize))
            .and_then(|s| std::str::from_utf8(s.value(self.buf)).ok())
            .unwrap_or("")
    }

    /// The declared body length: `Some(0)` without a body, `None` for a
    /// chunked body.
    pub fn content_length(&self) -> Option<u64> {
        match self.head.body {
            BodyKind::Empty => Some(0),
            BodyKind::Length(n) => Some(n),
            BodyKind::Chunked => None,
        }
    }

    /// The connection the request arrived on (addresses, features).
    pub fn connection(&self) -> &Connection {
        self.body.conn
    }

    /// The peer as the access log shows it, kept by the connection's loop
    /// (not in the request's future: a log entry holds this reference, and
    /// copies no address per request).
    #[inline]
    pub(crate) fn log_peer(&self) -> &'a Option<Address> {
        self.log_peer.get_or_init(|| self.body.conn.log_peer())
    }

    /// The protocols the client asks to switch to (the `Upgrade` field's
    /// value, such as `websocket`), if the request asks for a switch: an
    /// HTTP/1.1 request with `upgrade` among its `Connection` options and
    /// an `Upgrade` field. Answer with
    /// [`Response::upgrade`](super::Response::upgrade) to switch, or
    /// with any other response to stay with HTTP.
    pub fn upgrade(&self) -> Option<&'a str> {
        std::str::from_utf8(self.head.upgrade_offer(self.buf, self.spans)?).ok()
    }

    /// True if the request asks to switch to `protocol`, a protocol name
    /// (`name` or `name/version`; a bare name also matches an offered
    /// `name/version`, case-insensitive): the switches
    /// [`Response::upgrade`](super::Response::upgrade) may answer with.
    pub fn offers_upgrade(&self, protocol: &str) -> bool {
        self.head
            .upgrade_offer(self.buf, self.spans)
            .is_some_and(|offer| super::upgrade::offers(offer, protocol.as_bytes()))
    }

    /// True if the client asked for the connection to stay open.
    pub fn keep_alive(&self) -> bool {
        self.head.keep_alive
    }

    /// Sets the minimum rate of this request's body (`None`: switched off),
    /// in place of [`Http1Config::min_request_body_rate`], for a route
    /// that expects its client to send slowly (a long-lived upload of
    /// events). [`body_timeout`](Http1Config::body_timeout) still bounds
    /// each wait.
    ///
    /// ```no_run
    /// use corering::http::{Request, Response};
    /// #[corering::post("/events")]
    /// async fn events(req: &mut Request<'_>) -> Response {
    ///     req.set_min_body_rate(None);
    ///     let mut n = 0;
    ///     while let Ok(Some(piece)) = req.chunk().await {
    ///         n += piece.len();
    ///     }
    ///     Response::text(format!("{n} bytes"))
    /// }
    /// ```
    pub fn set_min_body_rate(&mut self, rate: Option<MinRate>) {
        self.body.state.body_rate = rate;
    }

    /// Sets the minimum rate at which the client must take this request's
    /// response (`None`: switched off), in place of
    /// [`Http1Config::min_response_rate`], for a long-poll or streamed
    /// response that a client may read slowly. It holds until the
    /// response is sent, also while its bytes leave after the handler has
    /// returned; the next request starts with the configured rate again.
    pub fn set_min_response_rate(&mut self, rate: Option<MinRate>) {
        self.body.state.send_rate = rate;
    }

    /// Reads the whole body (up to the configured limit) and returns it.
    ///
    /// A body that arrived with the head is returned in place; otherwise it
    /// is collected into a buffer the connection reuses. Answers `100
    /// Continue` first if the client expects it. Calling it again returns
    /// the same bytes; after [`chunk`](Request::chunk) it returns the rest.
    ///
    /// On error the server answers with the error's status (not the
    /// handler's response) and closes the connection.
    pub async fn body(&mut self) -> Result<&[u8], Error> {
        if self.body.state.collected {
            return Ok(match self.body.state.whole {
                Some(n) => &self.body.tail.bytes()[..n],
                None => self.collected,
            });
        }
        if let Some(n) = self.body.state.reader.whole_in_place(&self.body.tail) {
            self.body.state.collected = true;
            self.body.state.whole = Some(n);
            return Ok(&self.body.tail.bytes()[..n]);
        }
        self.collected.clear();
        while let Some(piece) = self.body.next().await? {
            self.collected.extend_from_slice(piece);
        }
        self.body.state.collected = true;
        Ok(self.collected)
    }

    /// Reads the next piece of the body as it arrives; `Ok(None)` at its
    /// end. Pieces borrow the receive buffers (no copy).
    pub async fn chunk(&mut self) -> Result<Option<&[u8]>, Error> {
        self.body.next().await
    }

    /// Starts a streamed response: sends `head`'s status and fields now
    /// (its body is ignored), then the body in pieces through the returned
    /// writer, with `Transfer-Encoding: chunked` (to an HTTP/1.0 client:
    /// unframed, and the connection closes after it).
    ///
    /// Once a stream has started, the `Response` the handler returns is not
    /// sent; return the one [`ResponseStream::finish`] gives.
    ///
    /// ```no_run
    /// use corering::http::{Request, Response, Status};
    /// async fn numbers(mut req: Request<'_>) -> Response {
    ///     let Ok(mut out) = req.stream(Response::text("")).await else {
    ///         return Response::new(Status::INTERNAL_SERVER_ERROR);
    ///     };
    ///     for i in 0..3u8 {
    ///         if out.write(&[b'0' + i, b'\n']).await.is_err() {
    ///             break;
    ///         }
    ///     }
    ///     out.finish().await
    /// }
    /// ```
    pub async fn stream(&mut self, head: Response) -> std::io::Result<ResponseStream<'_>> {
        self.start_stream(head, None).await
    }

    /// Starts a streamed response of known length: as
    /// [`stream`](Request::stream), but the head carries
    /// `Content-Length: len` and the body goes out unframed, so exactly
    /// `len` bytes must follow (a static file, a proxied body of known
    /// size). Writing more fails with `InvalidInput`; finishing (or
    /// dropping the stream) with fewer closes the connection, so the
    /// client sees a body cut short rather than a wrong one. To a `HEAD`
    /// request the length is stated and nothing is sent.
    ///
    /// ```no_run
    /// use corering::http::{Request, Response, Status};
    /// async fn zeros(mut req: Request<'_>) -> Response {
    ///     let Ok(mut out) = req.stream_sized(Response::text(""), 8192).await else {
    ///         return Response::new(Status::INTERNAL_SERVER_ERROR);
    ///     };
    ///     for _ in 0..2 {
    ///         if out.write(&[0u8; 4096]).await.is_err() {
    ///             break;
    ///         }
    ///     }
    ///     out.finish().await
    /// }
    /// ```
    pub async fn stream_sized(
        &mut self,
        head: Response,
        len: u64,
    ) -> std::io::Result<ResponseStream<'_>> {
        self.start_stream(head, Some(len)).await
    }

    async fn start_stream(
        &mut self,
        head: Response,
        sized: Option<u64>,
    ) -> std::io::Result<ResponseStream<'_>> {
        if self.body.state.stream != StreamState::NotStarted {
            return Err(std::io::Error::other("the response was already started"));
        }
        let st = &*self.body.state;
        let unanswered = !st.is_done() && st.expect_continue && !st.sent_continue;
        let http10 = self.head.version == Version::Http10;
        let close = !self.head.keep_alive || unanswered || http10 || crate::is_shutting_down();
        let send_body = self.head.method != Method::Head && !head.status().is_bodiless();
        let (framing, head) = match sized {
            Some(len) => (Framing::Length, head.omitted_body(Some(len))),
            None if http10 => (Framing::UntilClose, head),
            None => (Framing::Chunked, head),
        };
        self.scratch.clear();
        head.write_head(
            self.scratch,
            HeadOptions {
                close,
                keep_alive_1_0: false,
                server: self.body.state.server,
                framing,
            },
        );
        let rate = self.body.state.send_rate;
        // The stream keeps its own watch: a run of queued output starts
        // when a write first finds the buffer full.
        let mut pace = SendPace::default();
        // Responses to earlier requests go first.
        let sent = match self.body.staged.write_out(self.body.conn).await {
            Ok(()) => pace.writable(self.body.conn, rate).await,
            Err(e) => Err(e),
        };
        let sent = match sent {
            Ok(()) => self.body.conn.write_all(self.scratch).await,
            Err(e) => Err(e),
        };
        if let Err(e) = sent {
            self.body.state.stream = StreamState::failed(&pace);
            return Err(e);
        }
        self.body.state.stream = StreamState::Open {
            framing,
            send_body,
            close,
            left: sized.unwrap_or(0),
        };
        Ok(ResponseStream {
            conn: self.body.conn,
            state: &mut self.body.state.stream,
            pace,
            rate,
            status: head.status(),
        })
    }
}

/// The body writer of a streamed response (see [`Request::stream`]).
///
/// # Shutdown
///
/// A stream that runs until its source ends (events, a long poll) should
/// also end when the server shuts down, or it holds the shutdown for the
/// whole grace period: race its source against
/// [`corering::shutdown_requested`](crate::shutdown_requested) and
/// [`finish`](ResponseStream::finish) when that wins. The response then
/// ends cleanly, carries `Connection: close` if it started during
/// shutdown, and the connection closes after it.
///
/// ```no_run
/// use std::time::Duration;
/// use corering::future::{race, Either};
/// use corering::http::{Request, Response, Status};
///
/// async fn ticks(req: &mut Request<'_>) -> Response {
///     let Ok(mut out) = req.stream(Response::text("")).await else {
///         return Response::new(Status::INTERNAL_SERVER_ERROR);
///     };
///     let mut shutdown = std::pin::pin!(corering::shutdown_requested());
///     loop {
///         let tick = corering::time::sleep(Duration::from_secs(1));
///         match race(shutdown.as_mut(), tick).await {
///             Either::Left(()) => break,
///             Either::Right(()) => {
///                 if out.write(b"tick\n").await.is_err() {
///                     break;
///                 }
///             }
///         }
///     }
///     out.finish().await
/// }
/// ```
#[derive(Debug)]
pub struct ResponseStream<'r> {
    conn: &'r mut Connection,
    state: &'r mut StreamState,
    pace: SendPace,
    rate: Option<MinRate>,
    status: Status,
}

impl ResponseStream<'_> {
    /// Sends `data` as the next piece of the body (one chunk; nothing for an
    /// empty slice or a `HEAD` request). Waits only while the connection's
    /// write buffer is over its limit; a client that meanwhile takes the
    /// response below the minimum rate fails it with `TimedOut` (see
    /// [`Request::set_min_response_rate`]).
    pub async fn write(&mut self, data: &[u8]) -> std::io::Result<()> {
        let Some(framing) = self.admit(data.len())? else {
            return Ok(());
        };
        self.room().await?;
        let r = if framing == Framing::Chunked {
            let mut line = [0u8; 18];
            let line = super::itoa::chunk_size_line(data.len() as u64, &mut line);
            self.conn.write_all_vectored(&[line, data, b"\r\n"]).await
        } else {
            self.conn.write_all(data).await
        };
        self.queued(r)
    }

    /// Waits until the connection takes more output, at the response rate;
    /// a failure fails the stream.
    async fn room(&mut self) -> std::io::Result<()> {
        let r = self.pace.writable(self.conn, self.rate).await;
        if r.is_err() {
            *self.state = StreamState::failed(&self.pace);
        }
        r
    }

    /// `r`, the result of queuing a piece; a failure fails the stream.
    fn queued(&mut self, r: std::io::Result<()>) -> std::io::Result<()> {
        if r.is_err() {
            *self.state = StreamState::Failed;
        }
        r
    }

    /// As [`write`](Self::write), for a buffer the stream may keep: with a
    /// `Content-Length` body it is queued as it is, not copied into the
    /// connection's buffers (static files' large bodies).
    pub(crate) async fn write_vec(&mut self, data: Vec<u8>) -> std::io::Result<()> {
        let Some(framing) = self.admit(data.len())? else {
            return Ok(());
        };
        if framing == Framing::Chunked {
            // Admitting a chunked piece changes nothing: `write` admits it
            // again and frames it.
            return self.write(&data).await;
        }
        self.room().await?;
        let r = self.conn.write_owned(data).await;
        self.queued(r)
    }

    /// Whether [`write_file`](Self::write_file) may be used: the
    /// connection has no layers (TLS), so file spans can go out by
    /// `sendfile(2)`.
    pub(crate) fn sends_files(&self) -> bool {
        self.conn.raw_out().is_some()
    }

    /// As [`write_vec`](Self::write_vec), for `len` bytes of `file` from
    /// `offset` that the page cache holds: queued as a file span and sent
    /// by `sendfile(2)`, never copied (a `Content-Length` body on a
    /// connection without layers; see [`sends_files`](Self::sends_files)).
    pub(crate) async fn write_file(
        &mut self,
        file: &std::sync::Arc<std::fs::File>,
        offset: u64,
        len: usize,
    ) -> std::io::Result<()> {
        let Some(framing) = self.admit(len)? else {
            return Ok(());
        };
        if framing != Framing::Length {
            *self.state = StreamState::Failed;
            return Err(std::io::Error::new(
                std::io::ErrorKind::Unsupported,
                "file spans are sent only in a Content-Length body",
            ));
        }
        self.room().await?;
        let r = self.conn.write_file(file, offset, len).await;
        self.queued(r)
    }

    /// Takes `n` more body bytes into account: their framing, or `None`
    /// if nothing is to be sent (`HEAD`, or no bytes); an error for a
    /// finished stream or more bytes than the declared length.
    fn admit(&mut self, n: usize) -> std::io::Result<Option<Framing>> {
        let StreamState::Open {
            framing,
            send_body,
            close,
            left,
        } = *self.state
        else {
            return Err(std::io::Error::other("the response stream is finished"));
        };
        if !send_body || n == 0 {
            return Ok(None);
        }
        if framing == Framing::Length {
            let Some(left) = left.checked_sub(n as u64) else {
                *self.state = StreamState::Failed;
                return Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    "more bytes than the declared Content-Length",
                ));
            };
            *self.state = StreamState::Open {
                framing,
                send_body,
                close,
                left,
            };
        }
        Ok(Some(framing))
    }

    /// Waits until everything written so far has been handed to the kernel
    /// (failing with `TimedOut` if the client takes it below the minimum
    /// response rate).
    pub async fn flush(&mut self) -> std::io::Result<()> {
        let r = self.pace.flush(self.conn, self.rate).await;
        if r.is_err() {
            *self.state = StreamState::failed(&self.pace);
        }
        r
    }

    /// Abandons the body: the last chunk is not sent and the connection
    /// is closed, so the client sees the body cut short rather than a
    /// complete one (for a proxy whose upstream failed mid-body). Returns
    /// the `Response` for the handler to return (it is not sent).
    pub fn abort(self) -> Response {
        *self.state = StreamState::Failed;
        Response::new(self.status)
    }

    /// Ends the body (the last chunk) and returns the `Response` for the
    /// handler to return (its contents are not sent again). A stream that is
    /// dropped without `finish` is finished by the server.
    pub async fn finish(mut self) -> Response {
        if let StreamState::Open {
            framing,
            send_body,
            close,
            left,
        } = *self.state
        {
            let end = framing == Framing::Chunked && send_body;
            if framing == Framing::Length && send_body && left > 0 {
                // Fewer bytes than declared: only closing can tell.
                *self.state = StreamState::Failed;
            } else if end && self.last_chunk().await.is_err() {
                *self.state = StreamState::failed(&self.pace);
            } else {
                *self.state = StreamState::Done { close };
            }
        }
        Response::new(self.status)
    }

    async fn last_chunk(&mut self) -> std::io::Result<()> {
        self.pace.writable(self.conn, self.rate).await?;
        self.conn.write_all(b"0\r\n\r\n").await
    }
}

/// Writes the end of a stream the handler did not finish; returns whether
/// the connection may continue and must close (`None`: it failed).
pub(crate) async fn end_stream(conn: &mut Connection, state: StreamState) -> Option<bool> {
    match state {
        StreamState::NotStarted => Some(false),
        StreamState::Open {
            framing,
            send_body,
            close,
            left,
        } => {
            if framing == Framing::Length && send_body && left > 0 {
                return None;
            }
            if framing == Framing::Chunked && send_body {
                conn.write_all(b"0\r\n\r\n").await.ok()?;
            }
            Some(close)
        }
        StreamState::Done { close } => Some(close),
        StreamState::Failed | StreamState::TooSlow => None,
    }
}

/// Body progress of the current request, owned by the connection loop so it
/// survives the handler.
#[derive(Debug)]
pub(crate) struct BodyState {
    pub(crate) reader: BodyReader,
    timeout: Duration,
    /// Minimum body rate, and the time spent waiting for body bytes.
    body_rate: Option<MinRate>,
    waited: Duration,
    /// Minimum rate at which the client must take this response.
    pub(crate) send_rate: Option<MinRate>,
    pub(crate) expect_continue: bool,
    pub(crate) sent_continue: bool,
    pub(crate) error: Option<Error>,
    /// The `Server` field of responses (from the configuration).
    pub(crate) server: Option<&'static str>,
    /// Whether the handler started a streamed response.
    pub(crate) stream: StreamState,
    /// `body()` has returned the whole body...
    collected: bool,
    /// ...in place: the first `n` bytes after the head (until the body
    /// reader releases them).
    whole: Option<usize>,
}

impl BodyState {
    pub(crate) fn new(head: &Head, cfg: &Http1Config) -> BodyState {
        let rem = match head.body {
            BodyKind::Empty => Remaining::Done,
            BodyKind::Length(n) => Remaining::Length(n),
            BodyKind::Chunked => {
                Remaining::Chunked(ChunkedDecoder::new(cfg.max_head).max_body(cfg.max_body))
            }
        };
        BodyState {
            reader: BodyReader::new(rem, cfg.max_body),
            timeout: cfg.body_timeout,
            body_rate: cfg.body_rate,
            waited: Duration::ZERO,
            send_rate: cfg.response_rate,
            expect_continue: head.expect_continue,
            sent_continue: false,
            error: None,
            server: cfg.server,
            stream: StreamState::NotStarted,
            collected: false,
            whole: None,
        }
    }

    /// True once the whole body has been read.
    #[inline]
    pub(crate) fn is_done(&self) -> bool {
        self.reader.is_done()
    }
}

/// Progress of a streamed response.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum StreamState {
    /// The handler's returned `Response` will be sent.
    NotStarted,
    /// The head is sent; body pieces follow.
    Open {
        framing: Framing,
        send_body: bool,
        close: bool,
        /// Body bytes still owed (`Framing::Length` only).
        left: u64,
    },
    /// The last chunk is sent.
    Done { close: bool },
    /// Writing failed: the connection is finished.
    Failed,
    /// The client took the response below the minimum rate: the
    /// connection is to be reset.
    TooSlow,
}

impl StreamState {
    /// The state after a failed write.
    fn failed(pace: &SendPace) -> StreamState {
        if pace.stalled() {
            StreamState::TooSlow
        } else {
            StreamState::Failed
        }
    }
}

/// The body half of a request: what is needed to read on.
pub(crate) struct BodyIo<'a> {
    /// The bytes after the head (the head itself stays borrowed).
    pub(crate) tail: Tail<'a>,
    pub(crate) conn: &'a mut Connection,
    pub(crate) state: &'a mut BodyState,
    /// Earlier responses not yet queued: they go first.
    pub(crate) staged: &'a Staged,
}

/// The server's side of reading a body: `100 Continue`, the body timeout
/// and minimum rate, and its errors.
struct ServerSource<'s> {
    conn: &'s mut Connection,
    staged: &'s Staged,
    timeout: Duration,
    body_rate: Option<MinRate>,
    waited: &'s mut Duration,
    expect_continue: bool,
    sent_continue: &'s mut bool,
}

impl BodySource for ServerSource<'_> {
    type Error = Error;

    /// Reads the next lease from the connection (answering `100 Continue`
    /// first if the client waits for it).
    async fn refill(
        &mut self,
        tail: &mut Tail<'_>,
        _rem: &Remaining,
        received: u64,
    ) -> Result<bool, Error> {
        // Responses to earlier requests leave before a `100` or a wait.
        self.staged
            .write_out(self.conn)
            .await
            .map_err(|_| Error::bad("connection failed"))?;
        if self.expect_continue && !*self.sent_continue {
            *self.sent_continue = true;
            self.conn
                .write_all(b"HTTP/1.1 100 Continue\r\n\r\n")
                .await
                .map_err(|_| Error::bad("connection failed"))?;
        }
        // The rate counts only the time spent waiting here: by then the
        // body may take `allowed(received)` in all.
        let budget = self
            .body_rate
            .map(|r| r.allowed(received).saturating_sub(*self.waited));
        let (wait, by_rate) = match budget {
            Some(b) if b < self.timeout => (b, true),
            _ => (self.timeout, false),
        };
        let since = Instant::now();
        let got = crate::time::timeout(wait, self.conn.read()).await;
        *self.waited += since.elapsed();
        match got {
            Ok(Ok(Some(lease))) => {
                tail.push(lease);
                Ok(true)
            }
            Ok(Ok(None) | Err(_)) => Ok(false),
            Err(_) if by_rate => Err(Error::new(
                Status::REQUEST_TIMEOUT,
                "body arrives below the minimum data rate",
            )),
            Err(_) => Err(Error::new(
                Status::REQUEST_TIMEOUT,
                "body not received in time",
            )),
        }
    }

    fn invalid(&self, e: Error) -> Error {
        e
    }

    fn cut_short(&self, _rem: &Remaining) -> Error {
        Error::bad("body cut short")
    }

    fn too_large(&self) -> Error {
        Error::new(Status::PAYLOAD_TOO_LARGE, "request body too large")
    }
}

impl BodyIo<'_> {
    /// The next piece of body; records any error in the state.
    pub(crate) async fn next(&mut self) -> Result<Option<&[u8]>, Error> {
        let st = &mut *self.state;
        if let Some(e) = st.error {
            return Err(e);
        }
        let mut src = ServerSource {
            conn: &mut *self.conn,
            staged: self.staged,
            timeout: st.timeout,
            body_rate: st.body_rate,
            waited: &mut st.waited,
            expect_continue: st.expect_continue,
            sent_continue: &mut st.sent_continue,
        };
        match st.reader.next(&mut self.tail, &mut src).await {
            Ok(Some(n)) => Ok(Some(&self.tail.bytes()[..n])),
            Ok(None) => Ok(None),
            Err(e) => {
                st.error = Some(e);
                st.reader.abandon();
                Err(e)
            }
        }
    }

    /// Reads the rest of the body, if any, and discards it; leaves the
    /// input just past the body.
    pub(crate) async fn drain(&mut self) -> Result<(), Error> {
        if !self.state.is_done() {
            while self.next().await?.is_some() {}
        }
        self.release();
        Ok(())
    }

    /// Releases the bytes of a body read to its end (see [`drain`](Self::drain)).
    #[inline]
    pub(crate) fn release(&mut self) {
        self.state.reader.release(&mut self.tail);
    }
}
