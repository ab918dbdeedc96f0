//! `Rejection`: why an extractor refused a request, as a value.

use std::borrow::Cow;
use std::fmt;

use crate::http::{Response, Status};

/// What kind of extractor refused the request.
///
/// ```
/// use corering::http::route::{Rejection, RejectionKind};
/// use corering::http::Response;
///
/// // A hook that tells the client which part of its request was wrong.
/// fn hook(r: Rejection) -> Response {
///     let part = match r.kind() {
///         RejectionKind::PathParam => "path",
///         RejectionKind::Query => "query",
///         RejectionKind::MissingState => return r.into_default_response(),
///         _ => "body",
///     };
///     Response::text(format!("bad {part}: {}", r.message())).with_status(r.status())
/// }
/// #[corering::get("/users/{id}")]
/// async fn user(id: corering::http::route::Path<u32>) -> String {
///     format!("user {}", id.0)
/// }
/// let app = corering::routes![user].on_rejection(hook);
/// # let _ = app;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RejectionKind {
    /// A path parameter did not parse, or was badly percent-encoded.
    PathParam,
    /// The query string did not deserialize ([`Query`](super::Query)).
    Query,
    /// The `Content-Type` is not the one the extractor reads.
    ContentType,
    /// The body is not valid JSON ([`Json`](super::Json), `400`).
    JsonSyntax,
    /// The body is JSON of the wrong shape ([`Json`](super::Json), `422`).
    JsonData,
    /// The form body did not deserialize ([`Form`](super::Form)).
    Form,
    /// The body could not be read (too large, cut short, malformed).
    Body,
    /// The body is not UTF-8 (`String`, `&str`).
    Utf8,
    /// No protocol switch was asked for ([`Upgrade`](super::Upgrade)).
    Upgrade,
    /// The route asks for a state the router was not given
    /// ([`State`](super::State), [`Local`](super::Local)): a bug of the
    /// server, answered `500` without naming the type.
    MissingState,
    /// A custom extractor's refusal ([`Rejection::new`]).
    Custom,
}

impl RejectionKind {
    /// A short lowercase name (`"path_param"`, `"json_syntax"`...), for
    /// machine-readable error bodies.
    ///
    /// ```
    /// use corering::http::route::RejectionKind;
    /// assert_eq!(RejectionKind::JsonSyntax.as_str(), "json_syntax");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            RejectionKind::PathParam => "path_param",
            RejectionKind::Query => "query",
            RejectionKind::ContentType => "content_type",
            RejectionKind::JsonSyntax => "json_syntax",
            RejectionKind::JsonData => "json_data",
            RejectionKind::Form => "form",
            RejectionKind::Body => "body",
            RejectionKind::Utf8 => "utf8",
            RejectionKind::Upgrade => "upgrade",
            RejectionKind::MissingState => "missing_state",
            RejectionKind::Custom => "custom",
        }
    }
}

/// An extractor's refusal: its kind, the status to answer with and a
/// message for the client.
///
/// By default a rejection is answered with its status and the message as
/// `text/plain`; [`Router::on_rejection`](super::Router::on_rejection)
/// replaces that for every extractor of the router, so a JSON API answers
/// in its own format:
///
/// ```
/// use corering::http::route::{Rejection, RejectionKind};
/// use corering::http::{Response, Status};
///
/// fn json_error(r: Rejection) -> Response {
///     let body = format!(
///         r#"{{"error":"{}","message":{:?}}}"#,
///         r.kind().as_str(),
///         r.message()
///     );
///     Response::json(body).with_status(r.status())
/// }
///
/// let r = Rejection::new(RejectionKind::Custom, Status::UNAUTHORIZED, "no key");
/// assert_eq!(json_error(r).status(), Status::UNAUTHORIZED);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    kind: RejectionKind,
    status: Status,
    message: Cow<'static, str>,
}

/// A router's rejection hook (see
/// [`Router::on_rejection`](super::Router::on_rejection)).
pub type RejectionHook = fn(Rejection) -> Response;

impl Rejection {
    /// A rejection of `kind`, answered with `status` and `message`.
    ///
    /// ```
    /// use corering::http::route::{Rejection, RejectionKind};
    /// use corering::http::Status;
    /// let r = Rejection::new(RejectionKind::Custom, Status::FORBIDDEN, "not yours");
    /// assert_eq!((r.kind(), r.status(), r.message()), (RejectionKind::Custom, Status::FORBIDDEN, "not yours"));
    /// ```
    pub fn new(kind: RejectionKind, status: Status, message: impl Into<Cow<'static, str>>) -> Self {
        Rejection {
            kind,
            status,
            message: message.into(),
        }
    }

    /// What kind of extractor refused.
    ///
    /// ```
    /// use corering::http::route::{Rejection, RejectionKind};
    /// use corering::http::Status;
    /// assert_eq!(Rejection::new(RejectionKind::Query, Status::BAD_REQUEST, "x").kind(), RejectionKind::Query);
    /// ```
    pub fn kind(&self) -> RejectionKind {
        self.kind
    }

    /// The status to answer with.
    ///
    /// ```
    /// use corering::http::route::{Rejection, RejectionKind};
    /// use corering::http::Status;
    /// assert_eq!(Rejection::new(RejectionKind::Form, Status::UNPROCESSABLE_CONTENT, "x").status(), Status::UNPROCESSABLE_CONTENT);
    /// ```
    pub fn status(&self) -> Status {
        self.status
    }

    /// The message for the client (never an internal type name).
    ///
    /// ```
    /// use corering::http::route::{Rejection, RejectionKind};
    /// use corering::http::Status;
    /// assert_eq!(Rejection::new(RejectionKind::Utf8, Status::BAD_REQUEST, "not UTF-8").message(), "not UTF-8");
    /// ```
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The default answer: the status, the message as `text/plain`.
    ///
    /// ```
    /// use corering::http::route::{Rejection, RejectionKind};
    /// use corering::http::Status;
    /// let resp = Rejection::new(RejectionKind::Query, Status::BAD_REQUEST, "page: not a number").into_default_response();
    /// assert_eq!(resp.status(), Status::BAD_REQUEST);
    /// assert_eq!(resp.body_bytes(), b"page: not a number");
    /// ```
    pub fn into_default_response(self) -> Response {
        let body: crate::http::Body = match self.message {
            Cow::Borrowed(s) => s.into(),
            Cow::Owned(s) => s.into(),
        };
        Response::new(self.status)
            .content_type("text/plain; charset=utf-8")
            .body(body)
    }

    /// The answer through `hook` if there is one, else the default.
    pub(crate) fn respond(self, hook: Option<RejectionHook>) -> Response {
        match hook {
            Some(h) => h(self),
            None => self.into_default_response(),
        }
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} ({}): {}",
            self.kind.as_str(),
            self.status.as_u16(),
            self.message
        )
    }
}

impl std::error::Error for Rejection {}

/// The default answer ([`Rejection::into_default_response`]), so a custom
/// extractor can return `Err(rejection.into())`.
impl From<Rejection> for Response {
    fn from(r: Rejection) -> Response {
        r.into_default_response()
    }
}

impl super::IntoResponse for Rejection {
    fn into_response(self) -> Response {
        self.into_default_response()
    }
}
