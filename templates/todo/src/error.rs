//! Errors as JSON bodies: every failure is `{"error": "...", "detail":
//! "..."}` with a 4xx or 5xx status, whether a route answers it, an
//! extractor refuses the request or the path does not take the method
//! (both through the router's rejection hook, [`on_rejection`]), or the
//! router has no route for it (the fallback in [`crate::page`]).

use std::fmt;

use corering::http::route::{IntoResponse, Rejection, RejectionKind};
use corering::http::{Response, Status};
use serde::Serialize;

/// An error answered as a JSON body.
///
/// ```
/// use corering::http::route::{IntoResponse, Rejection, RejectionKind};
/// let r = todo::error::ApiError::not_found(7).into_response();
/// assert_eq!(r.status().as_u16(), 404);
/// assert!(std::str::from_utf8(r.body_bytes()).unwrap().contains("\"not found\""));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// The status it is answered with.
    pub status: Status,
    /// A short, stable description (`"not found"`, `"invalid id"`, ...).
    pub error: &'static str,
    /// What exactly was wrong, for a human.
    pub detail: String,
}

/// The body's shape.
#[derive(Serialize)]
struct Body<'a> {
    error: &'a str,
    detail: &'a str,
}

impl ApiError {
    /// An error with this status, short description and detail.
    pub fn new(status: Status, error: &'static str, detail: impl Into<String>) -> ApiError {
        ApiError {
            status,
            error,
            detail: detail.into(),
        }
    }

    /// `404`: no todo with this id.
    pub fn not_found(id: i64) -> ApiError {
        ApiError::new(
            Status::NOT_FOUND,
            "not found",
            format!("no todo with id {id}"),
        )
    }

    /// `400`: a request that is not valid (a bad id, a bad title, bad JSON).
    pub fn bad_request(error: &'static str, detail: impl Into<String>) -> ApiError {
        ApiError::new(Status::BAD_REQUEST, error, detail)
    }

    /// `500`: the database failed; the detail goes to the log, not the client.
    pub fn database(err: impl fmt::Display) -> ApiError {
        eprintln!("todo: database error: {err}");
        ApiError::new(
            Status::INTERNAL_SERVER_ERROR,
            "database error",
            "the database failed; see the server's log",
        )
    }
}

/// The router's rejection hook: an extractor's refusal as an [`ApiError`],
/// with the extractor's status (`400` for a bad id or malformed JSON, `415`
/// for a body that is not `application/json`, `422` for JSON of the wrong
/// shape...).
///
/// ```
/// use corering::http::route::{Rejection, RejectionKind};
/// use corering::http::Status;
/// let r = Rejection::new(RejectionKind::PathParam, Status::BAD_REQUEST, "not a number");
/// let resp = todo::error::on_rejection(r);
/// assert_eq!(resp.status(), Status::BAD_REQUEST);
/// assert!(std::str::from_utf8(resp.body_bytes()).unwrap().contains("\"invalid id\""));
/// ```
///
/// It answers the router's `405` too (a path the API has, a method it does
/// not take), as `method not allowed`; the router adds `Allow`.
pub fn on_rejection(r: Rejection) -> Response {
    let error = match r.kind() {
        RejectionKind::PathParam => "invalid id",
        RejectionKind::ContentType => "unsupported media type",
        RejectionKind::JsonSyntax => "invalid JSON",
        RejectionKind::JsonData => "invalid todo",
        RejectionKind::Body | RejectionKind::Utf8 => "invalid body",
        // The router's own 405: its `Allow` field is added by the router.
        RejectionKind::MethodNotAllowed => {
            let detail = format!("this path takes {}", r.allow().unwrap_or_default());
            return ApiError::new(r.status(), "method not allowed", detail).into_response();
        }
        _ if r.status().as_u16() >= 500 => "internal error",
        _ => "invalid request",
    };
    ApiError::new(r.status(), error, r.message()).into_response()
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {}: {}",
            self.status.as_u16(),
            self.error,
            self.detail
        )
    }
}

impl std::error::Error for ApiError {}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Body {
            error: self.error,
            detail: &self.detail,
        };
        // Two strings always serialize.
        let json = serde_json::to_vec(&body).unwrap_or_default();
        Response::json(json).with_status(self.status)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_is_json_with_error_and_detail() {
        let r = ApiError::bad_request("invalid id", "\"x\" is \\ odd").into_response();
        assert_eq!(r.status(), Status::BAD_REQUEST);
        assert_eq!(
            r.header_value("content-type"),
            Some(&b"application/json"[..])
        );
        let v: serde_json::Value = serde_json::from_slice(r.body_bytes()).unwrap();
        assert_eq!(
            v,
            serde_json::json!({ "error": "invalid id", "detail": "\"x\" is \\ odd" })
        );
    }

    #[test]
    fn database_errors_hide_the_driver_message() {
        let r = ApiError::database("password authentication failed").into_response();
        assert_eq!(r.status(), Status::INTERNAL_SERVER_ERROR);
        let text = std::str::from_utf8(r.body_bytes()).unwrap();
        assert!(!text.contains("password"), "{text}");
        assert!(text.contains("\"database error\""), "{text}");
    }
}
