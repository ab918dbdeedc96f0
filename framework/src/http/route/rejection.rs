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
    /// No route matches the path (`404`): the router's own answer when
    /// it has no [`fallback`](super::Router::fallback).
    NotFound,
    /// Routes match the path but not the method (`405`); [`Rejection::allow`]
    /// lists the methods they take, and the router puts them in an `Allow`
    /// field if the hook's response has none.
    MethodNotAllowed,
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
            RejectionKind::NotFound => "not_found",
            RejectionKind::MethodNotAllowed => "method_not_allowed",
        }
    }
}

/// An extractor's refusal, or the router's own `404`/`405`: its kind, the
/// status to answer with and a message for the client.
///
/// By default a rejection is answered with its status and the message as
/// `text/plain`; [`Router::on_rejection`](super::Router::on_rejection)
/// replaces that for every extractor of the router and for its `404` and
/// `405`, so a JSON API answers in its own format:
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
    /// For `405`: the methods the path takes (`GET, HEAD, POST`).
    allow: Option<String>,
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
            allow: None,
        }
    }

    /// The router's `405 Method Not Allowed` for a path whose routes take
    /// `allow` (methods separated by `, `).
    pub(crate) fn method_not_allowed(allow: String) -> Self {
        Rejection {
            allow: Some(allow),
            ..Rejection::new(
                RejectionKind::MethodNotAllowed,
                Status::METHOD_NOT_ALLOWED,
                "Method Not Allowed",
            )
        }
    }

    /// For a [`MethodNotAllowed`](RejectionKind::MethodNotAllowed)
    /// rejection, the methods the path takes, as the `Allow` field lists
    /// them (`GET, HEAD, POST`); `None` for any other.
    ///
    /// ```
    /// use corering::http::route::{Rejection, RejectionKind};
    /// use corering::http::Status;
    /// let r = Rejection::new(RejectionKind::Query, Status::BAD_REQUEST, "x");
    /// assert_eq!(r.allow(), None);
    /// ```
    pub fn allow(&self) -> Option<&str> {
        self.allow.as_deref()
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

    /// The default answer: the status, the message as `text/plain` (and,
    /// for `405`, the `Allow` field).
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
        let resp = Response::new(self.status).content_type("text/plain; charset=utf-8");
        match self.allow {
            Some(allow) => resp.header_owned("Allow", allow).body(body),
            None => resp.body(body),
        }
    }

    /// The answer through `hook` if there is one, else the default. A
    /// `405` keeps its `Allow` field whatever the hook answers.
    pub(crate) fn respond(self, hook: Option<RejectionHook>) -> Response {
        match (hook, &self.allow) {
            (None, _) => self.into_default_response(),
            (Some(h), None) => h(self),
            (Some(h), Some(allow)) => {
                let allow = allow.clone();
                let resp = h(self);
                if resp.has_header("allow") {
                    resp
                } else {
                    resp.header_owned("Allow", allow)
                }
            }
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
