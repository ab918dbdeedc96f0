//! `IntoResponse`: what a route handler may return.

use super::extract::Bytes;
use crate::http::{Response, Status};

/// A route handler's return type: anything that becomes a [`Response`].
///
/// ```
/// use corering::http::route::IntoResponse;
/// use corering::http::{Response, Status};
///
/// /// An error of the application, answered as `text/plain`.
/// enum AppError {
///     NotFound,
///     Busy,
/// }
///
/// impl IntoResponse for AppError {
///     fn into_response(self) -> Response {
///         match self {
///             AppError::NotFound => Response::text("no such thing").with_status(Status::NOT_FOUND),
///             AppError::Busy => Response::text("try later").with_status(Status::SERVICE_UNAVAILABLE),
///         }
///     }
/// }
///
/// #[corering::get("/thing/{id}")]
/// async fn thing(id: corering::http::route::Path<u32>) -> Result<String, AppError> {
///     match id.0 {
///         0 => Err(AppError::NotFound),
///         n if n > 100 => Err(AppError::Busy),
///         n => Ok(format!("thing {n}")),
///     }
/// }
/// # let _ = corering::routes![thing];
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be returned from a route handler",
    label = "does not implement `IntoResponse`",
    note = "return a Response, &'static str, String, Vec<u8>, Json<T>, Status, (Status, T), Result<T, E>, or a type implementing `IntoResponse`"
)]
pub trait IntoResponse {
    /// Converts `self` into the response to send.
    fn into_response(self) -> Response;
}

impl IntoResponse for Response {
    fn into_response(self) -> Response {
        self
    }
}

/// `200` with `text/plain; charset=utf-8`.
impl IntoResponse for &'static str {
    fn into_response(self) -> Response {
        Response::text(self)
    }
}

/// `200` with `text/plain; charset=utf-8`.
impl IntoResponse for String {
    fn into_response(self) -> Response {
        Response::text(self)
    }
}

/// `200` with `application/octet-stream`.
impl IntoResponse for Vec<u8> {
    fn into_response(self) -> Response {
        Response::new(Status::OK)
            .content_type("application/octet-stream")
            .body(self)
    }
}

/// `200` with `application/octet-stream`.
impl IntoResponse for &'static [u8] {
    fn into_response(self) -> Response {
        Response::new(Status::OK)
            .content_type("application/octet-stream")
            .body(self)
    }
}

/// `200` with `application/octet-stream`.
impl IntoResponse for Bytes {
    fn into_response(self) -> Response {
        self.0.into_response()
    }
}

/// `200` with no body.
impl IntoResponse for () {
    fn into_response(self) -> Response {
        Response::new(Status::OK)
    }
}

/// That status, no body.
impl IntoResponse for Status {
    fn into_response(self) -> Response {
        Response::new(self)
    }
}

/// `T`'s response with its status replaced.
impl<T: IntoResponse> IntoResponse for (Status, T) {
    fn into_response(self) -> Response {
        self.1.into_response().with_status(self.0)
    }
}

/// `200` with `application/json`; `500` if `T` does not serialize.
#[cfg(feature = "serde")]
impl<T: serde::Serialize> IntoResponse for super::Json<T> {
    fn into_response(self) -> Response {
        match serde_json::to_vec(&self.0) {
            Ok(v) => Response::json(v),
            Err(e) => Response::new(Status::INTERNAL_SERVER_ERROR)
                .content_type("text/plain; charset=utf-8")
                .body(format!("cannot serialize response: {e}")),
        }
    }
}

/// Either side's response.
impl<T: IntoResponse, E: IntoResponse> IntoResponse for Result<T, E> {
    fn into_response(self) -> Response {
        match self {
            Ok(v) => v.into_response(),
            Err(e) => e.into_response(),
        }
    }
}
