//! Watching an HTTP server: a metrics route, a readiness route for load
//! balancers, and an access log.
//!
//! * [`metrics`] answers with the Prometheus text exposition of the
//!   server's counters (see [`crate::metrics`]).
//! * [`ready`] answers `200` while the server is serving and `503` from
//!   the moment shutdown begins, so a balancer polling it stops sending
//!   new requests before connections are closed.
//! * [`AccessLog`] wraps a handler and writes one line per request to
//!   stderr (off unless you wrap).
//!
//! Mount the routes at paths of your choosing:
//!
//! ```no_run
//! use corering::http::observe::{self, AccessLog};
//! use corering::http::{self, Http1Config, Response};
//! use corering::{get, routes};
//!
//! #[get("/metrics")]
//! async fn metrics() -> Response {
//!     observe::metrics()
//! }
//!
//! #[get("/ready")]
//! async fn ready() -> Response {
//!     observe::ready()
//! }
//!
//! fn main() -> std::io::Result<()> {
//!     let cfg = Http1Config::new();
//!     let app = AccessLog::new(routes![metrics, ready]);
//!     corering::Server::builder()
//!         .bind("127.0.0.1:8080")
//!         .build()?
//!         .serve(move |conn| http::serve(conn, cfg, app.clone()))
//! }
//! ```
//!
//! With the cargo feature `tracing`, every server connection runs in a
//! `connection` span and every HTTP request in a `request` span (at debug
//! level, with the `tracing` crate only: install a subscriber of your
//! choice). Without the feature none of this is compiled.

mod access_log;
mod log_line;
mod log_writer;
mod routes;

pub use access_log::{AccessLog, AccessLogLayer, Logged};
pub use routes::{metrics, ready};
