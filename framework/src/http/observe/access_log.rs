//! `AccessLog`: a handler wrapper that writes one line per request.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use super::log_line::{write_entry, Answer, Entry};
use super::log_writer;
use crate::http::{Handler, Request, Response};
use crate::runtime::time::now_ns;

/// Wraps a handler (a router, or any [`Handler`]) and logs each request
/// it answers to stderr, one line each, in `key=value` form:
///
/// ```text
/// time=1764768314.123 peer=127.0.0.1:40312 method=GET target=/users/42 version=HTTP/1.1 status=200 bytes=9 duration=0.000041
/// ```
///
/// `bytes` is the length of the response body the handler returned (`0`
/// for a streamed response). `duration` is in seconds, read from the
/// worker's loop-turn clock as nginx and HAProxy time requests with the
/// time they cache per event-loop iteration: from the start of the turn
/// in which the handler was called (when that turn's requests were taken
/// from the kernel, so time a request waited behind others of a pipelined
/// batch counts) to the start of the turn in which its response was
/// ready. A handler that waits (a database, an upstream, a timer) is
/// timed to within a turn; one answered in the turn it was called in
/// logs `duration=0.000000`, however long it computed. For the time to
/// the response itself, [`precise_duration`](AccessLog::precise_duration)
/// reads the clock per request (about 35 ns on a virtual machine's TSC,
/// a few percent of a small request's cost).
/// `time` is the wall clock, to the millisecond, of the worker's loop turn
/// in which the line was written (read once per turn, as for the `Date`
/// field). Bytes of the target outside printable ASCII, and `"` and `\`,
/// are written as `\xHH`, so a line is always one line with
/// space-separated fields. Lines are buffered per worker and leave once
/// per loop turn, so logging costs one `write(2)` per batch of requests
/// (plus a `getpeername(2)` per TCP connection) rather than one per line;
/// a request costs no clock read and no allocation (the line is written
/// straight into the worker's buffer; the request's future holds where
/// its target lies, not a copy). A Unix-socket peer is logged as
/// `peer=unix`, its name (if it has one) not looked up.
///
/// ```no_run
/// use corering::http::observe::AccessLog;
/// use corering::http::{self, Http1Config, Request, Response};
///
/// async fn hello(_req: Request<'_>) -> Response {
///     Response::text("Hello, World!")
/// }
///
/// fn main() -> std::io::Result<()> {
///     let cfg = Http1Config::new();
///     let app = AccessLog::new(hello);
///     corering::Server::builder()
///         .bind("127.0.0.1:8080")
///         .build()?
///         .serve(move |conn| http::serve(conn, cfg, app))
/// }
/// ```
///
/// As a [layer](crate::http::layer) on a router, [`AccessLog::layer`]:
///
/// ```
/// use corering::http::observe::AccessLog;
///
/// #[corering::get("/")]
/// async fn index() -> &'static str { "home" }
///
/// let app = corering::routes![index].layer(AccessLog::layer());
/// # let _ = app;
/// ```
#[derive(Debug, Clone, Copy)]
pub struct AccessLog<H> {
    inner: H,
    on: bool,
    how: How,
}

/// Where lines go and how they are timed.
#[derive(Debug, Clone, Copy)]
struct How {
    sink: Sink,
    /// The clock read when the response is ready, not the turn's.
    precise: bool,
}

impl How {
    const DEFAULT: How = How {
        sink: Sink::Stderr,
        precise: false,
    };
}

/// Where the lines go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sink {
    Stderr,
    /// Formatted, then dropped (for benchmarks of the logging cost).
    Discard,
}

/// The [`AccessLog`] as a [`Layer`](crate::http::layer::Layer): made by
/// [`AccessLog::layer`].
#[derive(Debug, Clone, Copy)]
pub struct AccessLogLayer {
    on: bool,
    how: How,
}

impl AccessLogLayer {
    /// Switches logging on or off, as [`AccessLog::enabled`].
    pub fn enabled(mut self, on: bool) -> AccessLogLayer {
        self.on = on;
        self
    }

    /// Formats each line as usual, then drops it instead of writing it: for
    /// measuring what logging costs without the terminal or file behind
    /// stderr.
    pub fn discard(mut self) -> AccessLogLayer {
        self.how.sink = Sink::Discard;
        self
    }

    /// Times each request to its response with a clock read, as
    /// [`AccessLog::precise_duration`].
    pub fn precise_duration(mut self) -> AccessLogLayer {
        self.how.precise = true;
        self
    }
}

impl<H> crate::http::layer::Layer<H> for AccessLogLayer {
    type Handler = AccessLog<H>;
    fn layer(self, inner: H) -> AccessLog<H> {
        AccessLog {
            inner,
            on: self.on,
            how: self.how,
        }
    }
}

impl AccessLog<()> {
    /// The access log as a layer:
    /// `routes![...].layer(AccessLog::layer())`.
    pub fn layer() -> AccessLogLayer {
        AccessLogLayer {
            on: true,
            how: How::DEFAULT,
        }
    }
}

impl<H> AccessLog<H> {
    /// Logs the requests `inner` answers.
    pub fn new(inner: H) -> AccessLog<H> {
        AccessLog {
            inner,
            on: true,
            how: How::DEFAULT,
        }
    }

    /// Switches logging on or off (on by default), so one server can
    /// decide at startup, for example from a command-line flag, without
    /// a second handler type. Off, a request costs one branch.
    pub fn enabled(mut self, on: bool) -> AccessLog<H> {
        self.on = on;
        self
    }

    /// Times each request from the start of the turn it was called in to
    /// a clock read when its response is ready, so a handler's own
    /// computing counts too (see the type's docs for the default). One
    /// clock read per request.
    ///
    /// ```
    /// use corering::http::observe::AccessLog;
    ///
    /// #[corering::get("/")]
    /// async fn index() -> &'static str { "home" }
    ///
    /// let app = AccessLog::new(corering::routes![index]).precise_duration();
    /// # let _ = app;
    /// ```
    pub fn precise_duration(mut self) -> AccessLog<H> {
        self.how.precise = true;
        self
    }

    /// The wrapped handler.
    pub fn into_inner(self) -> H {
        self.inner
    }
}

impl<'a, H: Handler<'a>> Handler<'a> for AccessLog<H> {
    type Future = Logged<'a, H::Future>;

    #[inline(always)]
    fn call(&self, req: Request<'a>) -> Self::Future {
        // The entry is made first, so that the inner call is the last
        // step and writes its future where this one's goes (with a step
        // after it, the whole future was built aside and copied). It
        // holds the connection's peer by reference: a copied address was
        // read back at once in a stalled load.
        let entry = if self.on {
            let entry = Entry {
                start: crate::runtime::turn_ns().unwrap_or_else(now_ns),
                method: req.method(),
                target: req.target().as_bytes(),
                version: req.version(),
                peer: req.log_peer(),
            };
            Some((entry, self.how))
        } else {
            None
        };
        Logged {
            fut: self.inner.call(req),
            entry,
        }
    }
    #[inline(always)]
    fn poll_into(fut: Pin<&mut Self::Future>, cx: &mut Context<'_>, out: &mut Poll<Response>) {
        // SAFETY: as in `Logged::poll`.
        let this = unsafe { fut.get_unchecked_mut() };
        // SAFETY: as in `Logged::poll`.
        H::poll_into(unsafe { Pin::new_unchecked(&mut this.fut) }, cx, out);
        if let (Some((e, how)), Poll::Ready(resp)) = (&this.entry, &*out) {
            log_entry(e, *how, Answer::of(resp));
        }
    }
}

/// The future of a request handled under [`AccessLog`]: the inner
/// handler's, logging its response when it is ready.
#[derive(Debug)]
#[must_use = "futures do nothing unless polled"]
pub struct Logged<'a, F> {
    fut: F,
    /// `None` when logging is off (nothing else in the future then).
    entry: Option<(Entry<'a>, How)>,
}

impl<F: Future<Output = Response>> Future for Logged<'_, F> {
    type Output = Response;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Response> {
        // SAFETY: `fut` is pinned structurally: it is never moved out of
        // `self` nor handed out unpinned; `entry` is not pinned and only
        // read here.
        let this = unsafe { self.get_unchecked_mut() };
        // SAFETY: see above; `this` stays pinned where it is.
        let fut = unsafe { Pin::new_unchecked(&mut this.fut) };
        // Off: the inner poll is the whole poll (its result written where
        // the caller wants it, not moved through a local).
        let Some((e, how)) = &this.entry else {
            return fut.poll(cx);
        };
        // The inner poll's result is handed on as it is (not taken apart
        // and rebuilt); the line needs two numbers from it.
        let polled = fut.poll(cx);
        if let Poll::Ready(resp) = &polled {
            log_entry(e, *how, Answer::of(resp));
        }
        polled
    }
}

/// Writes the line of a finished request.
#[inline(always)]
fn log_entry(e: &Entry<'_>, how: How, resp: Answer) {
    // The turn's clock unless asked for a read of its own (off a worker,
    // always read).
    let end = match crate::runtime::turn_ns() {
        Some(turn) if !how.precise => turn,
        _ => now_ns(),
    };
    let elapsed = end.saturating_sub(e.start);
    match how.sink {
        Sink::Stderr => log_writer::write_line(|out| write_entry(out, e, resp, elapsed)),
        Sink::Discard => {
            thread_local! {
                static SCRATCH: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
            }
            SCRATCH.with(|s| {
                if let Ok(mut s) = s.try_borrow_mut() {
                    s.clear();
                    write_entry(&mut s, e, resp, elapsed);
                    std::hint::black_box(&*s);
                }
            });
        }
    }
}
