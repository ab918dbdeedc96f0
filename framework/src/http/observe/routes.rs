//! The bodies of the metrics and readiness routes.

use crate::http::{Response, Status};
use crate::metrics::{Metrics, CONTENT_TYPE};

/// The Prometheus text exposition (format 0.0.4) of the server's counters,
/// for a route such as `#[get("/metrics")]`.
///
/// Called off a corering worker it answers `500`.
///
/// ```no_run
/// use corering::http::{observe, Response};
///
/// #[corering::get("/metrics")]
/// async fn metrics() -> Response {
///     observe::metrics()
/// }
/// ```
pub fn metrics() -> Response {
    let Some(m) = Metrics::current() else {
        return Response::new(Status::INTERNAL_SERVER_ERROR);
    };
    let mut out = String::with_capacity(4096);
    m.render_prometheus(&mut out);
    Response::new(Status::OK)
        .content_type(CONTENT_TYPE)
        .header("cache-control", "no-store")
        .body(out)
}

/// `200 ready` while the server is serving, `503 shutting down` from the
/// moment shutdown is requested, on every worker (before connections are
/// closed), for a load balancer's health check.
///
/// ```no_run
/// use corering::http::{observe, Response};
///
/// #[corering::get("/ready")]
/// async fn ready() -> Response {
///     observe::ready()
/// }
/// ```
pub fn ready() -> Response {
    let stopping =
        crate::is_shutting_down() || Metrics::current().is_some_and(|m| m.is_shutting_down());
    let (status, body) = if stopping {
        (Status::SERVICE_UNAVAILABLE, "shutting down\n")
    } else {
        (Status::OK, "ready\n")
    };
    Response::text(body)
        .with_status(status)
        .header("cache-control", "no-store")
}
