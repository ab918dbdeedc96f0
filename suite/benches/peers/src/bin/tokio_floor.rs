//! The epoll counterpart of `uring_floor` for the `http_load` bench: a minimal HTTP/1.1
//! responder written by hand on tokio's current-thread runtime (one thread; tokio's
//! reactor is edge-triggered epoll), with no framework. It is what a careful person writes
//! for this one job, and what corering's epoll backend is measured against.
//!
//! Per connection: one task (`spawn_local`), `TCP_NODELAY`, one 4 KiB read buffer and one
//! output buffer, both allocated once. After every read it parses each complete request in
//! the buffer with `httparse` and appends its answer to the output buffer, then sends all
//! the answers of that read with one `write_all`; an incomplete request at the end of the
//! buffer is moved to its start and waits for the next read. Nothing is allocated per
//! request.
//!
//! The answers are those of corering's `examples/hello` for the bench's requests:
//! `GET /plaintext` (or `HEAD`) gets `200 OK` with `Date`, `Server`, `Content-Type:
//! text/plain; charset=utf-8`, `Content-Length: 13` and `Hello, World!`, in hello's field
//! order (the `Server` value is `tokio-floor`, three bytes longer than hello's `corering`);
//! any other path gets `404 Not Found`. The `Date` is formatted once per second, when a
//! read finds the second changed. Keep-alive as HTTP/1.1 has it: `Connection: close`, or
//! HTTP/1.0 without `Connection: keep-alive`, gets `Connection: close` on its answer and
//! the connection is shut down after it. What the bench never sends is refused rather than
//! served: a request with a body, a malformed one, or a head that does not fit the buffer
//! (or has more than 16 fields) gets `400 Bad Request` / `431 Request Header Fields Too
//! Large` and the connection is closed.
//!
//! `tokio_floor --addr 127.0.0.1:8080` prints `listening on ADDR` once bound and exits
//! with status 0 on SIGTERM.

use std::cell::Cell;
use std::io::Write as _;
use std::rc::Rc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use corering_http_peers::tokio_serve::serve_tcp;
use corering_http_peers::{exit_on_sigterm, parse_addr, BODY};

const NAME: &str = "tokio_floor";

/// Bytes of the read buffer: the largest request head (with what follows it in the same
/// read) a connection takes.
const READ_BUF: usize = 4096;

/// Most header fields a request may have.
const MAX_HEADERS: usize = 16;

// `Answer::Hello` says `Content-Length: 13`.
const _: () = assert!(BODY.len() == 13);

/// Length of an IMF-fixdate, `Thu, 03 Dec 2026 18:32:32 GMT`.
const DATE_LEN: usize = 29;

/// The `Date` value, formatted again only when the second changes. Shared by the
/// connections of the one thread.
struct Clock {
    /// The Unix second `date` was formatted for.
    second: Cell<u64>,
    date: Cell<[u8; DATE_LEN]>,
}

impl Clock {
    fn new() -> Clock {
        let clock = Clock {
            second: Cell::new(u64::MAX),
            date: Cell::new([b' '; DATE_LEN]),
        };
        clock.date();
        clock
    }

    /// The current `Date` value.
    fn date(&self) -> [u8; DATE_LEN] {
        let now = SystemTime::now();
        let second = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
        if second != self.second.get() {
            let mut date = [b' '; DATE_LEN];
            let at = UNIX_EPOCH + Duration::from_secs(second);
            // An IMF-fixdate is always DATE_LEN bytes; formatting it allocates nothing.
            let _ = write!(&mut date[..], "{}", httpdate::HttpDate::from(at));
            self.date.set(date);
            self.second.set(second);
        }
        self.date.get()
    }
}

/// The answers this responder gives.
#[derive(Clone, Copy)]
enum Answer {
    Hello,
    NotFound,
    BadRequest,
    TooLarge,
}

impl Answer {
    /// The status line and the name of the first field, `Date`.
    fn status_line(self) -> &'static [u8] {
        match self {
            Answer::Hello => b"HTTP/1.1 200 OK\r\nDate: ",
            Answer::NotFound => b"HTTP/1.1 404 Not Found\r\nDate: ",
            Answer::BadRequest => b"HTTP/1.1 400 Bad Request\r\nDate: ",
            Answer::TooLarge => b"HTTP/1.1 431 Request Header Fields Too Large\r\nDate: ",
        }
    }

    /// The fields after `Date` up to and including `Content-Length`, and the body.
    fn fields_and_body(self) -> (&'static [u8], &'static [u8]) {
        macro_rules! fields {
            ($len:literal) => {
                concat!(
                    "\r\nServer: tokio-floor\r\nContent-Type: text/plain; charset=utf-8\r\n",
                    "Content-Length: ",
                    $len,
                    "\r\n"
                )
                .as_bytes()
            };
        }
        match self {
            Answer::Hello => (fields!("13"), BODY),
            Answer::NotFound => (fields!("9"), b"Not Found"),
            Answer::BadRequest | Answer::TooLarge => (fields!("0"), b""),
        }
    }

    /// Appends this answer to `out`: with `Connection: close` if `close`, without the body
    /// if `head` (a `HEAD` request).
    fn push(self, out: &mut Vec<u8>, date: &[u8; DATE_LEN], close: bool, head: bool) {
        let (fields, body) = self.fields_and_body();
        out.extend_from_slice(self.status_line());
        out.extend_from_slice(date);
        out.extend_from_slice(fields);
        if close {
            out.extend_from_slice(b"Connection: close\r\n");
        }
        out.extend_from_slice(b"\r\n");
        if !head {
            out.extend_from_slice(body);
        }
    }
}

/// What one parsed request asks for.
struct Request {
    /// Bytes of the request in the buffer.
    len: usize,
    answer: Answer,
    head: bool,
    /// The connection ends after this answer.
    close: bool,
}

/// Parses the request at the start of `buf`; `None` while it is incomplete. A request the
/// responder refuses comes back with a `400`/`431` answer and `close`.
fn parse(buf: &[u8]) -> Option<Request> {
    let refuse = |answer| {
        Some(Request {
            len: buf.len(),
            answer,
            head: false,
            close: true,
        })
    };
    let mut fields = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut fields);
    let len = match req.parse(buf) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) => return None,
        Err(httparse::Error::TooManyHeaders) => return refuse(Answer::TooLarge),
        Err(_) => return refuse(Answer::BadRequest),
    };
    // HTTP/1.1 keeps the connection unless told otherwise; HTTP/1.0 closes it unless told.
    let mut close = req.version == Some(0);
    for field in req.headers.iter() {
        let name = field.name.as_bytes();
        if name.eq_ignore_ascii_case(b"connection") {
            if field.value.eq_ignore_ascii_case(b"close") {
                close = true;
            } else if field.value.eq_ignore_ascii_case(b"keep-alive") {
                close = false;
            }
        } else if name.eq_ignore_ascii_case(b"transfer-encoding")
            || (name.eq_ignore_ascii_case(b"content-length") && field.value != b"0")
        {
            // A body: the bench sends none, and this responder reads none.
            return refuse(Answer::BadRequest);
        }
    }
    let head = req.method == Some("HEAD");
    let answer = match (req.method, req.path) {
        (Some("GET" | "HEAD"), Some("/plaintext")) => Answer::Hello,
        _ => Answer::NotFound,
    };
    Some(Request {
        len,
        answer,
        head,
        close,
    })
}

/// Serves one connection until the peer closes it, an answer closes it, or it fails.
async fn serve(mut stream: TcpStream, clock: Rc<Clock>) -> std::io::Result<()> {
    let mut buf = vec![0u8; READ_BUF].into_boxed_slice();
    let mut filled = 0;
    let mut out = Vec::with_capacity(READ_BUF);
    loop {
        let n = stream.read(&mut buf[filled..]).await?;
        if n == 0 {
            return Ok(());
        }
        filled += n;
        let date = clock.date();
        let mut start = 0;
        let mut close = false;
        while !close {
            let Some(req) = parse(&buf[start..filled]) else {
                break;
            };
            req.answer.push(&mut out, &date, req.close, req.head);
            start += req.len;
            close = req.close;
        }
        if start == 0 && filled == buf.len() {
            // A head that does not fit the buffer.
            Answer::TooLarge.push(&mut out, &date, true, false);
            close = true;
        }
        if !out.is_empty() {
            stream.write_all(&out).await?;
            out.clear();
        }
        if close {
            return stream.shutdown().await;
        }
        buf.copy_within(start..filled, 0);
        filled -= start;
    }
}

fn main() {
    let addr = parse_addr(NAME);
    exit_on_sigterm();
    let clock = Rc::new(Clock::new());
    serve_tcp(NAME, addr, |stream| {
        tokio::task::spawn_local(serve(stream, clock.clone()));
    });
}
