//! `Last-Event-ID`: where a reconnecting client asks the stream to resume.

use crate::http::route::{FromRequest, RequestContext};
use crate::http::{Request, Response};

/// The `Last-Event-ID` a reconnecting client sent (the id of the last
/// event it received), if any, without surrounding whitespace.
///
/// ```no_run
/// # async fn f(req: &mut corering::http::Request<'_>) {
/// let resume_after = corering::http::sse::last_event_id(req).unwrap_or("");
/// # }
/// ```
pub fn last_event_id<'a>(req: &Request<'a>) -> Option<&'a str> {
    req.header_str("last-event-id").map(str::trim)
}

/// The `Last-Event-ID` field as a route argument (`None` on a first
/// connection, or if the value is not UTF-8).
///
/// ```no_run
/// use corering::http::sse::{channel, Event, LastEventId, Sse};
/// use corering::http::{Request, Response};
///
/// #[corering::get("/feed")]
/// async fn feed(LastEventId(last): LastEventId, req: &mut Request<'_>) -> Response {
///     let (tx, rx) = channel(8);
///     let _ = tx.send(Event::new(format!("resuming after {last:?}")));
///     drop(tx);
///     Sse::new(rx).respond(req).await
/// }
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LastEventId(pub Option<String>);

impl FromRequest for LastEventId {
    async fn from_request(cx: &mut RequestContext<'_>) -> Result<Self, Response> {
        Ok(LastEventId(last_event_id(cx.request()).map(str::to_owned)))
    }
}
