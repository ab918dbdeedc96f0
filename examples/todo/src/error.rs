//! Errors as JSON bodies: every failure the API answers itself is
//! `{"error": "...", "detail": "..."}` with a 4xx or 5xx status.

use std::fmt;

use corering::http::route::IntoResponse;
use corering::http::{Response, Status};
use serde::Serialize;

/// An error answered as a JSON body.
///
/// ```
/// use corering::http::route::IntoResponse;
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
