//! Server-Sent Events: a `text/event-stream` response fed by a channel or
//! any async source of [`Event`]s.
//!
//! ```text
//!  producers (any thread) ── EventSender::send ──► channel ──► EventReceiver
//!                                                                 │
//!  handler: Sse::new(rx).respond(req) ── loop, first of: ─────────┤
//!      an event ─► id/event/retry/data: lines, empty line ─► chunk│
//!      N s of silence ─► ": keep-alive" comment (also finds a client gone)
//!      server shutdown, or the source ends ─► last chunk, response ends
//!      a write fails (client gone) ─► connection closed; senders see is_closed
//! ```
//!
//! A reconnecting client sends the id of the last event it got in
//! `Last-Event-ID`; [`last_event_id`] (or the [`LastEventId`] extractor)
//! reads it, so the handler can resume from there.
//!
//! ```no_run
//! use std::time::Duration;
//! use corering::http::sse::{self, channel, Event, Sse};
//! use corering::http::{Request, Response};
//!
//! #[corering::get("/events")]
//! async fn events(req: &mut Request<'_>) -> Response {
//!     let from: u64 = sse::last_event_id(req).and_then(|v| v.parse().ok()).unwrap_or(0);
//!     let (tx, rx) = channel(64);
//!     corering::task::spawn_local(async move {
//!         for n in from + 1.. {
//!             if tx.send(Event::new(format!("tick {n}")).id(n.to_string())).is_err() {
//!                 break; // the client went away (or fell behind)
//!             }
//!             corering::time::sleep(Duration::from_secs(1)).await;
//!         }
//!     });
//!     Sse::new(rx).keep_alive(Some(Duration::from_secs(15))).respond(req).await
//! }
//! ```

mod channel;
mod event;
mod last_id;

use std::future::Future;
use std::pin::pin;
use std::time::Duration;

pub use channel::{channel, EventReceiver, EventSender, SendError};
pub use event::Event;
pub use last_id::{last_event_id, LastEventId};

use crate::future::{race, Either};
use crate::http::{Method, Request, Response, Status};

/// The default interval of keep-alive comments.
pub const DEFAULT_KEEP_ALIVE: Duration = Duration::from_secs(15);

/// Where an SSE response takes its events from.
///
/// Implemented by [`EventReceiver`] and by [`from_fn`]'s wrapper; anything
/// with an async "next event" can implement it.
pub trait EventSource {
    /// The next event; `None` ends the stream. Must be cancel-safe: the
    /// future is dropped when a keep-alive or shutdown comes first.
    fn next_event(&mut self) -> impl Future<Output = Option<Event>>;
}

impl EventSource for EventReceiver {
    fn next_event(&mut self) -> impl Future<Output = Option<Event>> {
        self.recv()
    }
}

/// An [`EventSource`] calling `f` for each event (see [`from_fn`]).
#[derive(Debug, Clone)]
pub struct FromFn<F>(F);

/// Events from a function returning a future of the next one (`None`
/// ends the stream); the future must be cancel-safe.
///
/// ```
/// use corering::http::sse::{from_fn, Event, Sse};
/// let mut left = 3u32;
/// let source = from_fn(move || {
///     let e = (left > 0).then(|| Event::new(format!("{left} left")));
///     left = left.saturating_sub(1);
///     std::future::ready(e)
/// });
/// let _sse = Sse::new(source);
/// ```
pub fn from_fn<F, Fut>(f: F) -> FromFn<F>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<Event>>,
{
    FromFn(f)
}

impl<F, Fut> EventSource for FromFn<F>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<Event>>,
{
    fn next_event(&mut self) -> impl Future<Output = Option<Event>> {
        (self.0)()
    }
}

/// A Server-Sent Events response: `200`, `Content-Type:
/// text/event-stream`, `Cache-Control: no-cache`, then each event as it
/// comes, chunked, until the source ends, the client goes away, or the
/// server shuts down (so a graceful shutdown never waits on an open
/// stream). A keep-alive comment goes out after each stretch of silence
/// ([`DEFAULT_KEEP_ALIVE`] unless set), which keeps proxies from timing
/// the stream out and finds a client that left without closing cleanly
/// (the write after its reset fails).
///
/// A `HEAD` request gets the fields and no stream.
///
/// ```no_run
/// use corering::http::sse::{from_fn, Event, Sse};
/// use corering::http::{Request, Response};
///
/// async fn countdown(req: &mut Request<'_>) -> Response {
///     let mut n = 3;
///     let source = from_fn(move || {
///         n -= 1;
///         std::future::ready((n >= 0).then(|| Event::new(n.to_string())))
///     });
///     Sse::new(source).respond(req).await
/// }
/// ```
#[derive(Debug)]
pub struct Sse<S> {
    source: S,
    keep_alive: Option<Duration>,
}

impl<S: EventSource> Sse<S> {
    /// A response sending `source`'s events.
    pub fn new(source: S) -> Sse<S> {
        Sse {
            source,
            keep_alive: Some(DEFAULT_KEEP_ALIVE),
        }
    }

    /// Sets the silence after which a keep-alive comment (`: keep-alive`)
    /// is sent; `None` sends none.
    pub fn keep_alive(mut self, every: Option<Duration>) -> Sse<S> {
        self.keep_alive = every;
        self
    }

    /// Streams the events as the answer to `req`; returns the `Response`
    /// for the handler to return once the stream has ended.
    pub async fn respond(mut self, req: &mut Request<'_>) -> Response {
        let head = Response::new(Status::OK)
            .content_type("text/event-stream")
            .header("Cache-Control", "no-cache");
        if req.method() == Method::Head {
            return head.omitted_body(None);
        }
        let Ok(mut out) = req.stream(head).await else {
            return Response::new(Status::INTERNAL_SERVER_ERROR);
        };
        let mut shutdown = pin!(crate::shutdown_requested());
        let mut buf = Vec::new();
        loop {
            let next = self.source.next_event();
            let step = match self.keep_alive {
                Some(every) => {
                    match race(shutdown.as_mut(), race(next, crate::time::sleep(every))).await {
                        Either::Left(()) => Step::End,
                        Either::Right(Either::Left(e)) => Step::from(e),
                        Either::Right(Either::Right(())) => Step::KeepAlive,
                    }
                }
                None => match race(shutdown.as_mut(), next).await {
                    Either::Left(()) => Step::End,
                    Either::Right(e) => Step::from(e),
                },
            };
            buf.clear();
            match step {
                Step::Event(e) => e.encode(&mut buf),
                Step::KeepAlive => buf.extend_from_slice(b": keep-alive\n\n"),
                Step::End => break,
            }
            if out.write(&buf).await.is_err() {
                return out.abort();
            }
        }
        out.finish().await
    }
}

/// What the stream does next.
enum Step {
    Event(Event),
    KeepAlive,
    /// The source ended, or the server shuts down.
    End,
}

impl From<Option<Event>> for Step {
    fn from(e: Option<Event>) -> Step {
        e.map_or(Step::End, Step::Event)
    }
}
