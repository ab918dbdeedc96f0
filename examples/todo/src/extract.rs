//! `JsonBody<T>`: a JSON request body whose failures are answered as JSON
//! errors (the framework's `Json` extractor answers them as plain text).

// TODO(rejections): once the router can map extractor rejections to a
// typed error, use `Json<T>` and convert its rejection into `ApiError`.

use corering::http::route::{Bytes, FromRequest, IntoResponse, RequestContext};
use corering::http::{Response, Status};
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// A request body of `Content-Type: application/json`, deserialized.
///
/// Another content type is `415`, malformed JSON `400`, JSON of the wrong
/// shape (a missing or unknown field, a wrong type) `422`; each with a
/// JSON error body.
#[derive(Debug, Clone)]
pub struct JsonBody<T>(pub T);

/// True if the `Content-Type` is `application/json`, parameters ignored.
fn is_json(content_type: Option<&str>) -> bool {
    let Some(ct) = content_type else {
        return false;
    };
    let mime = ct.split(';').next().unwrap_or("").trim();
    mime.eq_ignore_ascii_case("application/json")
}

impl<T: DeserializeOwned> FromRequest for JsonBody<T> {
    async fn from_request(cx: &mut RequestContext<'_>) -> Result<Self, Response> {
        if !is_json(cx.request().header_str("content-type")) {
            return Err(ApiError::new(
                Status::UNSUPPORTED_MEDIA_TYPE,
                "unsupported media type",
                "expected `Content-Type: application/json`",
            )
            .into_response());
        }
        let body = match Bytes::from_request(cx).await {
            Ok(b) => b.0,
            // The body could not be read (too large, cut short): keep the
            // framework's status, answer in JSON.
            Err(resp) => {
                let detail = String::from_utf8_lossy(resp.body_bytes()).into_owned();
                return Err(ApiError::new(resp.status(), "invalid body", detail).into_response());
            }
        };
        serde_json::from_slice(&body).map(JsonBody).map_err(|e| {
            let err = if e.is_data() {
                ApiError::new(Status::UNPROCESSABLE_CONTENT, "invalid todo", e.to_string())
            } else {
                ApiError::bad_request("invalid JSON", e.to_string())
            };
            err.into_response()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::is_json;

    #[test]
    fn json_content_types() {
        for ok in [
            "application/json",
            "Application/JSON",
            "application/json; charset=utf-8",
            " application/json ;x=y",
        ] {
            assert!(is_json(Some(ok)), "{ok:?}");
        }
        for bad in [
            "",
            "text/plain",
            "application/jsonx",
            "application/x-www-form-urlencoded",
            "application/problem+json",
        ] {
            assert!(!is_json(Some(bad)), "{bad:?}");
        }
        assert!(!is_json(None));
    }
}
