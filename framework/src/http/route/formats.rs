//! The extractors built on serde (feature `serde`, on by default):
//! [`Query`], [`Json`] and [`Form`].

use serde::de::DeserializeOwned;

use super::extract::{body, hook, reject, FromRequest, RequestContext};
use super::rejection::RejectionKind;
use crate::http::{Request, Response, Status};

/// The query string, deserialized with `serde_urlencoded` (no query is an
/// empty one). Failing to deserialize is `400 Bad Request`.
///
/// ```
/// use corering::http::route::serde::Deserialize;
/// use corering::http::route::Query;
///
/// #[derive(Deserialize)]
/// #[serde(crate = "corering::http::route::serde")]
/// struct Page {
///     page: u32,
///     q: Option<String>,
/// }
///
/// /// `GET /search?page=2&q=rust`
/// #[corering::get("/search")]
/// async fn search(Query(p): Query<Page>) -> String {
///     format!("page {} of {:?}", p.page, p.q)
/// }
/// # let _ = corering::routes![search];
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Query<T>(pub T);

impl<T: DeserializeOwned> FromRequest for Query<T> {
    async fn from_request(cx: &mut RequestContext<'_>) -> Result<Self, Response> {
        let q = cx.request().query().unwrap_or("");
        serde_urlencoded::from_str(q).map(Query).map_err(|e| {
            reject(
                hook(cx),
                RejectionKind::Query,
                Status::BAD_REQUEST,
                format!("invalid query: {e}"),
            )
        })
    }
}

/// True if the request's `Content-Type` is `essence` (or, with `suffix`,
/// any `type/x+suffix`), ignoring parameters and case.
fn has_content_type(req: &Request<'_>, essence: &str, suffix: Option<&str>) -> bool {
    let Some(ct) = req.header_str("content-type") else {
        return false;
    };
    let mime = ct.split(';').next().unwrap_or("").trim();
    if mime.eq_ignore_ascii_case(essence) {
        return true;
    }
    match (suffix, mime.rsplit_once('+')) {
        (Some(s), Some((_, got))) => got.eq_ignore_ascii_case(s),
        _ => false,
    }
}

/// A JSON body (`serde_json`), or a JSON response (`application/json`).
///
/// As an extractor, as axum: a `Content-Type` other than
/// `application/json` (or `*/*+json`) is `415 Unsupported Media Type`,
/// malformed JSON `400 Bad Request`, and JSON of the wrong shape
/// `422 Unprocessable Content`. As a response, a value that fails to
/// serialize is `500`.
///
/// ```
/// use corering::http::route::serde::{Deserialize, Serialize};
/// use corering::http::route::Json;
/// use corering::http::Status;
///
/// #[derive(Deserialize, Serialize)]
/// #[serde(crate = "corering::http::route::serde")]
/// struct Item {
///     name: String,
///     qty: u32,
/// }
///
/// #[corering::post("/items")]
/// async fn add(Json(item): Json<Item>) -> (Status, Json<Item>) {
///     (Status::CREATED, Json(item))
/// }
/// # let _ = corering::routes![add];
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Json<T>(pub T);

impl<T: DeserializeOwned> FromRequest for Json<T> {
    async fn from_request(cx: &mut RequestContext<'_>) -> Result<Self, Response> {
        if !has_content_type(cx.request(), "application/json", Some("json")) {
            return Err(reject(
                hook(cx),
                RejectionKind::ContentType,
                Status::UNSUPPORTED_MEDIA_TYPE,
                "expected `Content-Type: application/json`",
            ));
        }
        let h = hook(cx);
        let bytes = body(cx).await?;
        serde_json::from_slice(bytes).map(Json).map_err(|e| {
            let (kind, status) = if e.is_data() {
                (RejectionKind::JsonData, Status::UNPROCESSABLE_CONTENT)
            } else {
                (RejectionKind::JsonSyntax, Status::BAD_REQUEST)
            };
            reject(h, kind, status, format!("invalid JSON body: {e}"))
        })
    }
}

/// A `application/x-www-form-urlencoded` body (`serde_urlencoded`).
///
/// Another `Content-Type` is `415 Unsupported Media Type`; a body that does
/// not deserialize is `422 Unprocessable Content` (as axum).
///
/// ```
/// use corering::http::route::serde::Deserialize;
/// use corering::http::route::Form;
///
/// #[derive(Deserialize)]
/// #[serde(crate = "corering::http::route::serde")]
/// struct Login {
///     user: String,
/// }
///
/// #[corering::post("/login")]
/// async fn login(Form(f): Form<Login>) -> String {
///     format!("welcome, {}", f.user)
/// }
/// # let _ = corering::routes![login];
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Form<T>(pub T);

impl<T: DeserializeOwned> FromRequest for Form<T> {
    async fn from_request(cx: &mut RequestContext<'_>) -> Result<Self, Response> {
        if !has_content_type(cx.request(), "application/x-www-form-urlencoded", None) {
            return Err(reject(
                hook(cx),
                RejectionKind::ContentType,
                Status::UNSUPPORTED_MEDIA_TYPE,
                "expected `Content-Type: application/x-www-form-urlencoded`",
            ));
        }
        let h = hook(cx);
        let bytes = body(cx).await?;
        serde_urlencoded::from_bytes(bytes).map(Form).map_err(|e| {
            reject(
                h,
                RejectionKind::Form,
                Status::UNPROCESSABLE_CONTENT,
                format!("invalid form: {e}"),
            )
        })
    }
}
