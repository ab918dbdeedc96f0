//! `tracing` spans for connections and HTTP requests, with the cargo
//! feature `tracing`. Without it only [`connections`] remains, as the
//! identity; the HTTP loop calls its handler without any wrapper (an
//! identity function taking the request's future would still move it).
//!
//! Spans are at debug level and carry what is known without extra system
//! calls unless a subscriber wants them (the peer address is looked up
//! only for an enabled span). No subscriber is installed here.

use std::future::Future;

#[cfg(feature = "tracing")]
use crate::http::Request;
use crate::Connection;

/// The span of a request.
#[cfg(feature = "tracing")]
pub(crate) type Span = tracing::Span;

/// A `request` span with the method and target.
#[cfg(feature = "tracing")]
#[inline(always)]
pub(crate) fn request_span(req: &Request<'_>) -> Span {
    tracing::debug_span!("request", method = %req.method(), target = req.target())
}

/// Runs `fut` inside `span` (each poll enters it).
#[cfg(feature = "tracing")]
#[inline(always)]
pub(crate) fn instrument<F: Future>(span: Span, fut: F) -> tracing::instrument::Instrumented<F> {
    tracing::Instrument::instrument(fut, span)
}

/// Wraps a connection handler so each connection's task runs in a
/// `connection` span (worker index, peer address).
#[cfg(feature = "tracing")]
pub(crate) fn connections<H, F>(
    handler: H,
) -> impl Fn(Connection) -> tracing::instrument::Instrumented<F> + Send + Sync + 'static
where
    H: Fn(Connection) -> F + Send + Sync + 'static,
    F: Future<Output = ()> + 'static,
{
    move |conn: Connection| {
        let span = tracing::debug_span!(
            "connection",
            worker = crate::runtime::try_with(|w| w.index),
            peer = tracing::field::Empty
        );
        if !span.is_disabled() {
            if let Ok(peer) = conn.peer_addr() {
                span.record("peer", tracing::field::display(peer));
            }
        }
        instrument(span, handler(conn))
    }
}

/// Wraps a connection handler (the identity without the `tracing` feature).
#[cfg(not(feature = "tracing"))]
#[inline(always)]
pub(crate) fn connections<H, F>(handler: H) -> H
where
    H: Fn(Connection) -> F + Send + Sync + 'static,
    F: Future<Output = ()> + 'static,
{
    handler
}
