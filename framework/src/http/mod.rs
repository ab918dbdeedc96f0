//! HTTP/1.1 server (RFC 9110, RFC 9112) as a protocol on top of
//! [`Connection`](crate::Connection): nothing here is special to the engine.
//!
//! ```text
//!  Connection::read ──► Lease ──► parse_head (httparse, in place) ──► Request<'_>
//!                         │         └─ head spans leases: assembly buffer
//!                         └─► body: Content-Length / ChunkedDecoder, pieces in place
//!  handler(Request) ──► Response ──► status line + fields into a reused Vec ──► write
//! ```
//!
//! * [`serve`] runs one connection: keep-alive, pipelining (answered in
//!   order), `Expect: 100-continue`, draining unread bodies, lingering
//!   close after the last response.
//! * Framing is strict (RFC 9112 §6): `Content-Length` with
//!   `Transfer-Encoding`, differing or malformed lengths, codings that do
//!   not end in `chunked`, bad chunk lines, obs-fold, whitespace before a
//!   colon, bare CR and control characters are answered with `400` and the
//!   connection is closed. Repeated *equal* lengths (`5, 5`, or two fields
//!   of `5`) are accepted as that length (RFC 9110 §8.6 allows either).
//! * A request asking to switch protocols (`Connection: upgrade`,
//!   [`Request::upgrade`]) can be answered with [`Response::upgrade`]: the
//!   server sends `101`, stops speaking HTTP and hands the connection, with
//!   any bytes already received after the request, to your function
//!   ([`Upgraded`]).
//! * Responses carry a `Content-Length`; [`Request::stream`] sends one in
//!   pieces with `Transfer-Encoding: chunked` instead. `HEAD` responses
//!   keep their fields and drop the body; one whose body is not at hand
//!   (or a `304`) states the length it would have had with
//!   [`Response::omitted_body`].
//! * Limits and timeouts are [`Http1Config`] settings; each violation has
//!   one status: `414`, `431`, `413`, `408`, `501` (method or transfer
//!   coding), `505` (version), `417` (expectation). A chunk whose declared
//!   size alone passes the body limit is `413` before any of its data.
//! * Slow peers: request bodies and responses must move at a minimum rate
//!   ([`MinRate`], 240 bytes/s after 5 s by default, as Kestrel). A body
//!   below it is `408`; a client that does not take its responses at the
//!   rate is reset. Routes for long polls or slow streams switch either off
//!   ([`Request::set_min_body_rate`], [`Request::set_min_response_rate`]).
//! * Shutdown: connections waiting for a request close at once; a request
//!   under way is finished and answered with `Connection: close`; streamed
//!   responses end by watching [`shutdown_requested`](crate::shutdown_requested)
//!   ([`ResponseStream`]).
//! * A handler that panics is answered with `500` (if nothing of its
//!   response was sent; otherwise the body is cut) and its connection
//!   closed; one line on stderr names the method and path, and the
//!   worker goes on.
//! * Once warm, a keep-alive request answered with a static body allocates
//!   nothing: the head is parsed in place, header positions go into a
//!   reused table, and the response head (with a per-thread cached `Date`)
//!   is written into a reused buffer.
//! * Heads are parsed in the receive buffer they arrived in; only a head
//!   cut by the end of a buffer is copied (its start, then the next
//!   buffer's bytes up to its end), and the body and pipelined requests
//!   after it are read in place again.

mod body;
pub mod client;
mod config;
mod conn;
mod date;
mod error;
pub mod fs;
mod head;
mod itoa;
pub mod layer;
mod method;
pub mod observe;
mod pace;
mod panic;
mod request;
mod response;
pub mod route;
mod scan;
pub mod sse;
mod staged;
mod status;
pub(crate) mod upgrade;

pub use body::{BodyKind, ChunkStep, ChunkedDecoder};
pub use config::{Http1Config, MinRate, MAX_HEADERS_CAP};
#[doc(hidden)]
pub use conn::bytes_assembled;
pub use conn::{serve, Handler};
pub use error::Error;
#[doc(hidden)]
pub use head::parse_head_httparse;
pub use head::{parse_head, Head, HeaderSpan, TargetForm, Version};
pub use method::Method;
pub use request::{Request, ResponseStream};
pub use response::{Body, Response, INLINE_VALUE_MAX};
pub use status::Status;
pub use upgrade::Upgraded;
