//! Request-level middleware: layers that wrap a [`Handler`] (a
//! [`Router`](crate::http::route::Router) or any other), composed
//! statically.
//!
//! A [`Layer`] turns a handler into another handler. Each built-in layer
//! is a plain struct whose future is a named type holding the inner
//! handler's future: a stack of layers is one nested type, polled with no
//! boxing, no virtual call and no allocation per request (the
//! zero-allocation test runs a router under [`RequestId`],
//! [`AccessLog`](crate::http::observe::AccessLog) and [`Timeout`]).
//!
//! ```no_run
//! use std::time::Duration;
//! use corering::http::layer::{map_response, Cors, RequestId, RequireBearer, Timeout};
//! use corering::http::observe::AccessLog;
//! use corering::http::{self, Http1Config, Response};
//!
//! #[corering::get("/hello")]
//! async fn hello() -> &'static str {
//!     "Hello, World!"
//! }
//!
//! fn main() -> std::io::Result<()> {
//!     let cfg = Http1Config::new();
//!     let app = corering::routes![hello]
//!         .layer(Timeout::new(Duration::from_secs(10)))
//!         .layer(RequireBearer::new("s3cret"))
//!         .layer(map_response(|r: Response| r.header("x-frame-options", "DENY")))
//!         .layer(Cors::new().allow_origin("https://app.example"))
//!         .layer(RequestId::new())
//!         .layer(AccessLog::layer());
//!     corering::Server::builder()
//!         .bind("127.0.0.1:8080")
//!         .build()?
//!         .serve(move |conn| http::serve(conn, cfg, app.clone()))
//! }
//! ```
//!
//! **Order.** The last layer added is the outermost: above, the access
//! log sees the request first and the final response (with its request
//! id) last; the timeout is the innermost and covers only the router.
//!
//! | layer | does |
//! |---|---|
//! | [`Timeout`] | answers `503` when the handler takes too long |
//! | [`RequestId`] | reads or makes `x-request-id`, sets it on the response |
//! | [`Cors`] | answers preflights, adds `Access-Control-Allow-Origin` |
//! | [`RequireBearer`] | `401` with `WWW-Authenticate` without the token |
//! | [`Compression`] | gzip bodies the client accepts (feature `compression`) |
//! | [`AccessLog`](crate::http::observe::AccessLog) | one log line per request |
//! | [`map_request`], [`map_response`] | your own function, before or after |

#[cfg(feature = "compression")]
mod accept_encoding;
mod auth;
#[cfg(feature = "compression")]
mod compress;
mod cors;
mod map;
mod request_id;
mod timeout;

use std::pin::Pin;
use std::task::{Context, Poll};

use crate::http::{Handler, Request, Response};

#[cfg(feature = "compression")]
pub use accept_encoding::Coding;
pub use auth::{Bearer, RequireBearer};
#[cfg(feature = "compression")]
pub use compress::{Compressed, Compression, Encode};
pub use cors::{Cors, CorsHandler};
pub use map::{map_request, map_response, Finish, MapFuture, MapRequest, MapResponse};
pub use request_id::{RequestId, WithRequestId};
pub use timeout::{TimedOut, Timeout, WithTimeout};

/// A middleware: wraps a handler `H` into another handler.
///
/// Implement it for your own layer by writing the wrapping handler (a
/// struct holding `H`) and its [`Handler`] impl; see
/// [`map_request`]/[`map_response`] for the common cases without a new
/// type.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a layer for `{H}`",
    label = "not a layer",
    note = "layers: Timeout, RequestId, Cors, RequireBearer, Compression, AccessLog::layer(), map_request(f), map_response(f), or a type implementing `Layer<H>`"
)]
pub trait Layer<H> {
    /// The wrapped handler.
    type Handler;
    /// Wraps `inner`.
    fn layer(self, inner: H) -> Self::Handler;
}

/// A handler with layers: [`Router::layer`](crate::http::route::Router::layer)
/// makes one, and [`layer`](Layered::layer) adds more. It is a
/// [`Handler`] itself, for [`http::serve`](crate::http::serve).
#[derive(Debug, Clone, Copy)]
pub struct Layered<H>(H);

impl<H> Layered<H> {
    /// `inner`, ready for layers (any handler: a plain `async fn` too).
    ///
    /// ```
    /// use corering::http::layer::{Layered, RequestId};
    /// use corering::http::{Request, Response};
    ///
    /// async fn hello(_req: Request<'_>) -> Response {
    ///     Response::text("hi")
    /// }
    ///
    /// let app = Layered::new(hello).layer(RequestId::new());
    /// # let _ = app;
    /// ```
    pub fn new(inner: H) -> Layered<H> {
        Layered(inner)
    }

    /// Wraps the handler in `layer`, which becomes the outermost.
    ///
    /// ```
    /// use std::time::Duration;
    /// use corering::http::layer::{Layered, RequestId, Timeout};
    /// use corering::http::{Request, Response};
    ///
    /// async fn hello(_req: Request<'_>) -> Response {
    ///     Response::text("hi")
    /// }
    ///
    /// // The timeout is inside the request id: the id is set on its 503 too.
    /// let app = Layered::new(hello)
    ///     .layer(Timeout::new(Duration::from_secs(5)))
    ///     .layer(RequestId::new());
    /// # let _ = app;
    /// ```
    pub fn layer<L: Layer<H>>(self, layer: L) -> Layered<L::Handler> {
        Layered(layer.layer(self.0))
    }

    /// The wrapped handler.
    ///
    /// ```
    /// use corering::http::layer::{Layered, RequestId};
    /// use corering::http::{Request, Response};
    ///
    /// async fn hello(_req: Request<'_>) -> Response {
    ///     Response::text("hi")
    /// }
    ///
    /// let app = Layered::new(hello).layer(RequestId::new());
    /// let _with_id = app.into_inner();
    /// ```
    pub fn into_inner(self) -> H {
        self.0
    }
}

impl<'a, H: Handler<'a>> Handler<'a> for Layered<H> {
    type Future = H::Future;
    #[inline(always)]
    fn call(&self, req: Request<'a>) -> H::Future {
        self.0.call(req)
    }
    #[inline(always)]
    fn poll_into(fut: Pin<&mut H::Future>, cx: &mut Context<'_>, out: &mut Poll<Response>) {
        H::poll_into(fut, cx, out);
    }
}
