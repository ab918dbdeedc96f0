//! Extractors: the types a route handler's arguments may have.

use std::any::Any;
use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::rc::Rc;
use std::str::FromStr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use super::matcher::Params;
use super::rejection::{Rejection, RejectionHook, RejectionKind};
use crate::http::{Method, Request, Response, Status};

/// Builds one worker's state.
struct LocalInit {
    /// Tells routers apart.
    id: usize,
    /// The state's type (for `Router::check`).
    type_id: std::any::TypeId,
    make: Box<dyn Fn() -> Rc<dyn Any> + Send + Sync>,
}

/// Application state, as stored by [`Router::with_state`](super::Router::with_state)
/// and [`Router::with_local_state`](super::Router::with_local_state).
///
/// Cloned into every request's future: four words (what is only needed
/// at startup, the per-worker state's type, stays behind its `Arc`).
#[derive(Clone, Default)]
pub struct AppState {
    shared: Option<Arc<dyn Any + Send + Sync>>,
    local: Option<Arc<LocalInit>>,
    on_rejection: Option<RejectionHook>,
}

static NEXT_LOCAL: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    /// Each worker's per-worker states, by router.
    static LOCAL: RefCell<Vec<(usize, Rc<dyn Any>)>> = const { RefCell::new(Vec::new()) };
}

impl AppState {
    pub(crate) fn set_shared<T: Send + Sync + 'static>(&mut self, state: T) {
        self.shared = Some(Arc::new(state));
    }

    pub(crate) fn set_local<T: 'static>(&mut self, init: impl Fn() -> T + Send + Sync + 'static) {
        let id = NEXT_LOCAL.fetch_add(1, Ordering::Relaxed);
        let init: Box<dyn Fn() -> Rc<dyn Any> + Send + Sync> =
            Box::new(move || Rc::new(init()) as Rc<dyn Any>);
        self.local = Some(Arc::new(LocalInit {
            id,
            type_id: std::any::TypeId::of::<T>(),
            make: init,
        }));
    }

    /// The type of the shared state, if set.
    pub(crate) fn shared_type(&self) -> Option<std::any::TypeId> {
        self.shared.as_deref().map(|s| s.type_id())
    }

    /// The type of the per-worker state, if set.
    pub(crate) fn local_type(&self) -> Option<std::any::TypeId> {
        self.local.as_ref().map(|l| l.type_id)
    }

    pub(crate) fn set_rejection_hook(&mut self, hook: RejectionHook) {
        self.on_rejection = Some(hook);
    }

    /// The rejection hook, if set.
    pub(crate) fn rejection_hook(&self) -> Option<RejectionHook> {
        self.on_rejection
    }

    /// Fills what this state lacks from `parent` (a merged or nested
    /// router takes the outer router's state and hook unless it has its
    /// own).
    pub(crate) fn inherit(&mut self, parent: &AppState) {
        if self.shared.is_none() {
            self.shared.clone_from(&parent.shared);
        }
        if self.local.is_none() {
            self.local.clone_from(&parent.local);
        }
        if self.on_rejection.is_none() {
            self.on_rejection = parent.on_rejection;
        }
    }

    pub(crate) fn has_shared(&self) -> bool {
        self.shared.is_some()
    }

    /// This worker's state, built on first use.
    fn local(&self) -> Option<Rc<dyn Any>> {
        let init = self.local.as_ref()?;
        let LocalInit { id, make, .. } = &**init;
        let found = LOCAL.with(|l| {
            l.borrow()
                .iter()
                .find(|(k, _)| k == id)
                .map(|(_, v)| v.clone())
        });
        Some(match found {
            Some(v) => v,
            None => {
                let v = make();
                LOCAL.with(|l| l.borrow_mut().push((*id, v.clone())));
                v
            }
        })
    }
}

/// What an extractor sees: the request, the matched path parameters, the
/// application state, and which parameter the argument being extracted is
/// bound to (by name).
///
/// ```
/// use corering::http::route::{FromRequest, RequestContext};
/// use corering::http::{Response, Status};
///
/// /// The `X-Tenant` field, required.
/// struct Tenant(String);
///
/// impl FromRequest for Tenant {
///     async fn from_request(cx: &mut RequestContext<'_>) -> Result<Self, Response> {
///         match cx.request().header_str("x-tenant") {
///             Some(t) => Ok(Tenant(t.to_owned())),
///             None => Err(Response::new(Status::BAD_REQUEST).body("X-Tenant missing\n")),
///         }
///     }
/// }
///
/// #[corering::get("/whoami")]
/// async fn whoami(t: Tenant) -> String {
///     t.0
/// }
/// # let _ = corering::routes![whoami];
/// ```
pub struct RequestContext<'a> {
    req: Request<'a>,
    params: Params<'a>,
    state: AppState,
    bound: Option<(usize, &'static str)>,
}

impl<'a> RequestContext<'a> {
    #[doc(hidden)]
    pub fn __new(req: Request<'a>, params: Params<'a>, state: AppState) -> Self {
        RequestContext {
            req,
            params,
            state,
            bound: None,
        }
    }

    #[doc(hidden)]
    pub fn __into_request(self) -> Request<'a> {
        self.req
    }

    /// Answers `rejection` the router's way: through its
    /// [`on_rejection`](super::Router::on_rejection) hook if it has one,
    /// else with the status and the message as `text/plain`. Custom
    /// extractors call this so their errors look like the built-in ones.
    ///
    /// ```
    /// use corering::http::route::{FromRequest, Rejection, RejectionKind, RequestContext};
    /// use corering::http::{Response, Status};
    ///
    /// struct ApiKey(String);
    ///
    /// impl FromRequest for ApiKey {
    ///     async fn from_request(cx: &mut RequestContext<'_>) -> Result<Self, Response> {
    ///         match cx.request().header_str("x-api-key") {
    ///             Some(k) => Ok(ApiKey(k.to_owned())),
    ///             None => Err(cx.reject(Rejection::new(
    ///                 RejectionKind::Custom,
    ///                 Status::UNAUTHORIZED,
    ///                 "missing x-api-key",
    ///             ))),
    ///         }
    ///     }
    /// }
    /// ```
    pub fn reject(&self, rejection: Rejection) -> Response {
        rejection.respond(self.state.on_rejection)
    }

    #[doc(hidden)]
    pub fn __params_mut(&mut self) -> &mut Params<'a> {
        &mut self.params
    }

    #[doc(hidden)]
    pub fn __bind(&mut self, bound: Option<(usize, &'static str)>) {
        self.bound = bound;
    }

    /// The request.
    pub fn request(&self) -> &Request<'a> {
        &self.req
    }

    /// The request, for reading its body.
    pub fn request_mut(&mut self) -> &mut Request<'a> {
        &mut self.req
    }

    /// The matched path parameters, in pattern order (raw: not
    /// percent-decoded).
    pub fn params(&self) -> &Params<'a> {
        &self.params
    }

    /// The parameter the current argument is named after: its name and
    /// value, if the argument's name is one of the route's parameters.
    pub fn bound_param(&self) -> Option<(&'static str, &'a str)> {
        let (i, name) = self.bound?;
        Some((name, self.params.get(i)?))
    }

    /// The shared application state, if it is a `T`.
    pub fn state<T: 'static>(&self) -> Option<&T> {
        self.state.shared.as_deref()?.downcast_ref()
    }

    /// This worker's application state, if it is a `T`.
    pub fn local_state<T: 'static>(&self) -> Option<Rc<T>> {
        self.state.local()?.downcast().ok()
    }
}

/// A type that can be a route handler's argument: it is built from the
/// request before the handler runs, or the request is answered with the
/// error response it returns (the handler does not run).
///
/// Arguments are extracted in order; extractors that read the body
/// ([`Json`](super::Json), [`Form`](super::Form), [`Bytes`], `String`) should come last, and may
/// share one body: every one sees the same bytes.
///
/// A custom extractor:
///
/// ```
/// use corering::http::route::{FromRequest, RequestContext};
/// use corering::http::{Response, Status};
///
/// struct ApiKey(String);
///
/// impl FromRequest for ApiKey {
///     async fn from_request(cx: &mut RequestContext<'_>) -> Result<Self, Response> {
///         match cx.request().header_str("x-api-key") {
///             Some(k) => Ok(ApiKey(k.to_owned())),
///             None => Err(Response::new(Status::UNAUTHORIZED)),
///         }
///     }
/// }
///
/// #[corering::get("/secret")]
/// async fn secret(key: ApiKey) -> String {
///     format!("hello, {}", key.0)
/// }
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not an extractor, so it cannot be a route handler argument",
    label = "not an extractor",
    note = "extractors: Path<T>, Query<T>, Json<T>, Form<T>, Bytes, String, Headers, Method, State<T>, Local<T>, Upgrade, or a type implementing `FromRequest`",
    note = "extractors that borrow the request (&Request, &mut Request, BodyStream, &[u8], &str) can only be the last argument"
)]
pub trait FromRequest: Sized {
    /// Builds the value, or the response to send instead.
    fn from_request(cx: &mut RequestContext<'_>) -> impl Future<Output = Result<Self, Response>>;

    /// The application states this extractor needs, for the router's
    /// startup check (only [`State`] and [`Local`] have any).
    #[doc(hidden)]
    fn __needs(_out: &mut Vec<super::check::Need>) {}
}

/// Answers a built-in extractor's refusal through `cx`'s hook.
pub(super) fn reject(
    hook: Option<RejectionHook>,
    kind: RejectionKind,
    status: Status,
    msg: impl Into<std::borrow::Cow<'static, str>>,
) -> Response {
    Rejection::new(kind, status, msg).respond(hook)
}

/// The router's rejection hook, copied out so `cx` can be borrowed
/// elsewhere meanwhile.
pub(super) fn hook(cx: &RequestContext<'_>) -> Option<RejectionHook> {
    cx.state.on_rejection
}

/// A path parameter, matched by the argument's name (`id: Path<u32>` takes
/// `{id}`; so does `Path(id): Path<u32>`) and parsed with [`FromStr`].
/// A value that does not parse is answered with `400 Bad Request`.
///
/// Values are percent-decoded first (`%20` is a space; a bad escape or a
/// result that is not UTF-8 is `400`); a value without `%` is parsed in
/// place, with no allocation. A `{*tail}` parameter is the rest of the
/// path without its leading `/` (possibly empty; its `/`s are kept).
///
/// ```
/// use corering::http::route::Path;
///
/// #[corering::get("/users/{id}/files/{*rest}")]
/// async fn file(Path(id): Path<u32>, rest: Path<String>) -> String {
///     format!("user {id}, file {}", rest.0)
/// }
/// # let _ = corering::routes![file];
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Path<T>(pub T);

impl<T: FromStr> FromRequest for Path<T> {
    async fn from_request(cx: &mut RequestContext<'_>) -> Result<Self, Response> {
        let h = hook(cx);
        let Some((name, raw)) = cx.bound_param() else {
            return Err(reject(
                h,
                RejectionKind::PathParam,
                Status::INTERNAL_SERVER_ERROR,
                "Path argument not named after a path parameter",
            ));
        };
        let decoded;
        let text = if raw.contains('%') {
            decoded = percent_decode(raw).ok_or_else(|| {
                reject(
                    h,
                    RejectionKind::PathParam,
                    Status::BAD_REQUEST,
                    format!("invalid percent-encoding in path parameter `{name}`: {raw:?}"),
                )
            })?;
            decoded.as_str()
        } else {
            raw
        };
        match text.parse() {
            Ok(v) => Ok(Path(v)),
            Err(_) => Err(reject(
                h,
                RejectionKind::PathParam,
                Status::BAD_REQUEST,
                format!("invalid path parameter `{name}`: {raw:?}"),
            )),
        }
    }
}

/// `%XX` escapes decoded; `None` for a bad escape or non-UTF-8 result.
pub(crate) fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = b.get(i + 1..i + 3)?;
            let digit = |c: u8| (c as char).to_digit(16);
            out.push((digit(hex[0])? * 16 + digit(hex[1])?) as u8);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

pub(super) async fn body<'r>(cx: &'r mut RequestContext<'_>) -> Result<&'r [u8], Response> {
    let h = hook(cx);
    cx.req
        .body()
        .await
        .map_err(|e| reject(h, RejectionKind::Body, e.status(), e.reason()))
}

/// The whole body, copied. As a response: `application/octet-stream`.
///
/// ```
/// use corering::http::route::Bytes;
///
/// #[corering::post("/upload")]
/// async fn upload(body: Bytes) -> String {
///     format!("{} bytes", body.0.len())
/// }
/// # let _ = corering::routes![upload];
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Bytes(pub Vec<u8>);

impl FromRequest for Bytes {
    async fn from_request(cx: &mut RequestContext<'_>) -> Result<Self, Response> {
        Ok(Bytes(body(cx).await?.to_vec()))
    }
}

/// The whole body as UTF-8 text; other bytes are `400 Bad Request`.
impl FromRequest for String {
    async fn from_request(cx: &mut RequestContext<'_>) -> Result<Self, Response> {
        let h = hook(cx);
        let bytes = body(cx).await?;
        match std::str::from_utf8(bytes) {
            Ok(s) => Ok(s.to_owned()),
            Err(_) => Err(reject(
                h,
                RejectionKind::Utf8,
                Status::BAD_REQUEST,
                "request body is not UTF-8",
            )),
        }
    }
}

/// The request method.
impl FromRequest for Method {
    async fn from_request(cx: &mut RequestContext<'_>) -> Result<Self, Response> {
        Ok(cx.req.method())
    }
}

/// The request's header fields, copied (names lowercased).
///
/// ```
/// use corering::http::route::Headers;
///
/// #[corering::get("/agent")]
/// async fn agent(headers: Headers) -> String {
///     let n = headers.iter().count();
///     let ua = headers.get_str("user-agent").unwrap_or("unknown");
///     format!("{ua} ({n} fields)")
/// }
/// # let _ = corering::routes![agent];
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Headers(Vec<(String, Vec<u8>)>);

impl Headers {
    /// The first field named `name` (case-insensitive).
    pub fn get(&self, name: &str) -> Option<&[u8]> {
        self.0
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_slice())
    }

    /// The first field named `name`, if it is UTF-8.
    pub fn get_str(&self, name: &str) -> Option<&str> {
        std::str::from_utf8(self.get(name)?).ok()
    }

    /// All fields, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &[u8])> {
        self.0.iter().map(|(n, v)| (n.as_str(), v.as_slice()))
    }
}

impl FromRequest for Headers {
    async fn from_request(cx: &mut RequestContext<'_>) -> Result<Self, Response> {
        Ok(Headers(
            cx.req
                .headers()
                .map(|(n, v)| (n.to_ascii_lowercase(), v.to_vec()))
                .collect(),
        ))
    }
}

/// The application state given to
/// [`Router::with_state`](super::Router::with_state), cloned for each
/// request (it is shared by all workers: wrap it in an `Arc`, or make it
/// cheap to clone). A route asking for a state of another type is answered
/// with `500` (a [`Rejection`] of kind
/// [`MissingState`](RejectionKind::MissingState)) whose body does not name
/// the type; stderr does, once per worker.
///
/// For state that each worker keeps to itself, see [`Local`].
///
/// ```
/// use std::sync::atomic::{AtomicU64, Ordering};
/// use std::sync::Arc;
/// use corering::http::route::State;
///
/// #[corering::post("/hits")]
/// async fn hits(State(n): State<Arc<AtomicU64>>) -> String {
///     (n.fetch_add(1, Ordering::Relaxed) + 1).to_string()
/// }
///
/// let app = corering::routes![hits].with_state(Arc::new(AtomicU64::new(0)));
/// # let _ = app;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct State<T>(pub T);

impl<T: Clone + 'static> FromRequest for State<T> {
    async fn from_request(cx: &mut RequestContext<'_>) -> Result<Self, Response> {
        match cx.state::<T>() {
            Some(s) => Ok(State(s.clone())),
            None => Err(missing_state::<T>(cx, "State")),
        }
    }

    fn __needs(out: &mut Vec<super::check::Need>) {
        out.push(super::check::Need::of::<T>(false));
    }
}

/// A route asked for a state the router lacks: a server bug. The type is
/// named on stderr (once per worker and type), never to the client.
fn missing_state<T: 'static>(cx: &RequestContext<'_>, extractor: &str) -> Response {
    thread_local! {
        static REPORTED: RefCell<Vec<std::any::TypeId>> = const { RefCell::new(Vec::new()) };
    }
    let id = std::any::TypeId::of::<T>();
    let first = REPORTED.with(|r| {
        let mut r = r.borrow_mut();
        let first = !r.contains(&id);
        if first {
            r.push(id);
        }
        first
    });
    if first {
        eprintln!(
            "corering: route {} {} asks for {extractor}<{}>, which its router was not given \
             (Router::with_state / with_local_state); answering 500",
            cx.req.method(),
            cx.req.path(),
            std::any::type_name::<T>()
        );
    }
    reject(
        hook(cx),
        RejectionKind::MissingState,
        Status::INTERNAL_SERVER_ERROR,
        "Internal Server Error",
    )
}

/// This worker's application state, built on the worker's first request by
/// the function given to
/// [`Router::with_local_state`](super::Router::with_local_state) and kept
/// for the worker's life: no locks, no atomics (a `Cell` or `RefCell`
/// inside is enough). A route asking for a local state of another type is
/// answered with `500`.
///
/// ```
/// use std::cell::Cell;
/// use corering::http::route::Local;
///
/// #[corering::get("/count")]
/// async fn count(Local(n): Local<Cell<u64>>) -> String {
///     n.set(n.get() + 1);
///     format!("{} on this worker", n.get())
/// }
///
/// let app = corering::routes![count].with_local_state(|| Cell::new(0u64));
/// # let _ = app;
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Local<T>(pub Rc<T>);

impl<T: 'static> FromRequest for Local<T> {
    async fn from_request(cx: &mut RequestContext<'_>) -> Result<Self, Response> {
        match cx.local_state::<T>() {
            Some(s) => Ok(Local(s)),
            None => Err(missing_state::<T>(cx, "Local")),
        }
    }

    fn __needs(out: &mut Vec<super::check::Need>) {
        out.push(super::check::Need::of::<T>(true));
    }
}

/// An extractor that borrows the request, so it can only be a handler's
/// **last** argument: [`&Request`](Request) and `&mut Request`, the body in
/// place as `&[u8]` or `&str` (no copy when it arrived with the head), and
/// [`BodyStream`] (the body piece by piece as it arrives). Every
/// [`FromRequest`] type is one too.
///
/// ```
/// use corering::http::route::{BodyStream, Path};
///
/// #[corering::post("/upload/{name}")]
/// async fn upload(name: Path<String>, mut body: BodyStream<'_, '_>) -> String {
///     let mut total = 0;
///     while let Ok(Some(piece)) = body.next().await {
///         total += piece.len();
///     }
///     format!("{}: {total} bytes", name.0)
/// }
///
/// #[corering::post("/text")]
/// async fn text(body: &str) -> String {
///     body.to_uppercase()
/// }
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not an extractor, so it cannot be a route handler argument",
    label = "not an extractor",
    note = "extractors: Path<T>, Query<T>, Json<T>, Form<T>, Bytes, String, Headers, Method, State<T>, Local<T>, Upgrade, &Request, &mut Request, BodyStream, &[u8], &str, or a type implementing `FromRequest`"
)]
pub trait FromRequestRef<'r, 'a>: Sized {
    /// Builds the value, or the response to send instead.
    fn from_request_ref(
        cx: &'r mut RequestContext<'a>,
    ) -> impl Future<Output = Result<Self, Response>>;
}

impl<'r, 'a, T: FromRequest> FromRequestRef<'r, 'a> for T {
    fn from_request_ref(
        cx: &'r mut RequestContext<'a>,
    ) -> impl Future<Output = Result<Self, Response>> {
        T::from_request(cx)
    }
}

/// The request itself.
impl<'r, 'a> FromRequestRef<'r, 'a> for &'r Request<'a> {
    async fn from_request_ref(cx: &'r mut RequestContext<'a>) -> Result<Self, Response> {
        Ok(&cx.req)
    }
}

/// The request itself, to read its body or stream the response
/// ([`Request::stream`]).
impl<'r, 'a> FromRequestRef<'r, 'a> for &'r mut Request<'a> {
    async fn from_request_ref(cx: &'r mut RequestContext<'a>) -> Result<Self, Response> {
        Ok(&mut cx.req)
    }
}

/// The whole body, borrowed: in place when it arrived with the head, else
/// collected into the connection's reused buffer ([`Request::body`]).
impl<'r, 'a> FromRequestRef<'r, 'a> for &'r [u8] {
    async fn from_request_ref(cx: &'r mut RequestContext<'a>) -> Result<Self, Response> {
        body(cx).await
    }
}

/// The whole body as UTF-8 text, borrowed; other bytes are `400 Bad
/// Request`.
impl<'r, 'a> FromRequestRef<'r, 'a> for &'r str {
    async fn from_request_ref(cx: &'r mut RequestContext<'a>) -> Result<Self, Response> {
        let h = hook(cx);
        std::str::from_utf8(body(cx).await?).map_err(|_| {
            reject(
                h,
                RejectionKind::Utf8,
                Status::BAD_REQUEST,
                "request body is not UTF-8",
            )
        })
    }
}

/// The request body as a stream of pieces, each borrowing the receive
/// buffers (no copy), read as the handler asks for them: a body of any
/// size in constant memory. A handler's last argument (it borrows the
/// request). Whatever the handler leaves unread is read and discarded
/// after it returns.
///
/// ```
/// use corering::http::route::BodyStream;
///
/// #[corering::post("/count")]
/// async fn count(mut body: BodyStream<'_, '_>) -> String {
///     let mut n = 0;
///     while let Ok(Some(piece)) = body.next().await {
///         n += piece.len();
///     }
///     format!("{n} bytes")
/// }
/// # let _ = corering::routes![count];
/// ```
pub struct BodyStream<'r, 'a> {
    req: &'r mut Request<'a>,
}

impl<'a> BodyStream<'_, 'a> {
    /// The next piece of the body; `Ok(None)` at its end. Errors (a body
    /// over the limit, cut short, or malformed) are answered by the
    /// server with their status, whatever the handler returns.
    pub async fn next(&mut self) -> Result<Option<&[u8]>, crate::http::Error> {
        self.req.chunk().await
    }

    /// The request the body belongs to.
    pub fn request(&self) -> &Request<'_> {
        self.req
    }

    /// The request, mutably: for
    /// [`set_min_body_rate`](Request::set_min_body_rate) on a route whose
    /// client may send its body slowly.
    ///
    /// ```
    /// use corering::http::route::BodyStream;
    ///
    /// #[corering::post("/feed")]
    /// async fn feed(mut body: BodyStream<'_, '_>) -> String {
    ///     body.request_mut().set_min_body_rate(None);
    ///     let mut lines = 0;
    ///     while let Ok(Some(piece)) = body.next().await {
    ///         lines += piece.iter().filter(|&&b| b == b'\n').count();
    ///     }
    ///     format!("{lines} lines")
    /// }
    /// ```
    pub fn request_mut<'s>(&'s mut self) -> &'s mut Request<'a> {
        self.req
    }
}

impl fmt::Debug for BodyStream<'_, '_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BodyStream").finish_non_exhaustive()
    }
}

impl<'r, 'a> FromRequestRef<'r, 'a> for BodyStream<'r, 'a> {
    async fn from_request_ref(cx: &'r mut RequestContext<'a>) -> Result<Self, Response> {
        Ok(BodyStream { req: &mut cx.req })
    }
}

/// A request to switch protocols (`Connection: upgrade` with an `Upgrade`
/// field, HTTP/1.1); any other request is answered with `400 Bad
/// Request` (use `Option<Upgrade>` to serve both). Accept it with
/// [`accept`](Upgrade::accept), or answer with any other response to stay
/// with HTTP.
///
/// ```
/// use corering::http::route::Upgrade;
/// use corering::http::{Response, Status};
///
/// #[corering::get("/echo")]
/// async fn echo(up: Upgrade) -> Response {
///     if !up.offers("echo") {
///         return Response::new(Status::BAD_REQUEST);
///     }
///     up.accept("echo", |up| async move {
///         let (mut conn, early) = up.into_parts();
///         let _ = conn.write_all(early.bytes()).await;
///         while let Ok(Some(lease)) = conn.read().await {
///             if conn.write_all(&lease).await.is_err() {
///                 break;
///             }
///         }
///     })
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upgrade {
    offer: String,
}

impl Upgrade {
    /// The `Upgrade` field as sent: the protocols offered, most preferred
    /// first (`websocket`, `h2c, foo/2`).
    ///
    /// ```
    /// use corering::http::route::Upgrade;
    ///
    /// #[corering::get("/switch")]
    /// async fn switch(up: Upgrade) -> String {
    ///     format!("you offered {}", up.protocols())
    /// }
    /// # let _ = corering::routes![switch];
    /// ```
    pub fn protocols(&self) -> &str {
        &self.offer
    }

    /// True if the client offers `protocol` (case-insensitive; a bare
    /// name also matches an offered `name/version`).
    ///
    /// ```
    /// use corering::http::route::Upgrade;
    /// use corering::http::{Response, Status};
    ///
    /// #[corering::get("/tunnel")]
    /// async fn tunnel(up: Upgrade) -> Response {
    ///     if up.offers("tunnel") {
    ///         up.accept("tunnel", |upgraded| async move { drop(upgraded) })
    ///     } else {
    ///         Response::new(Status::BAD_REQUEST)
    ///     }
    /// }
    /// # let _ = corering::routes![tunnel];
    /// ```
    pub fn offers(&self, protocol: &str) -> bool {
        crate::http::upgrade::offers(self.offer.as_bytes(), protocol.as_bytes())
    }

    /// Switches to `protocol`: `101 Switching Protocols`, then
    /// `on_upgrade` runs with the connection (see [`Response::upgrade`]).
    /// A protocol the client did not offer is answered with `500`.
    ///
    /// # Panics
    /// If `protocol` is not a protocol name.
    pub fn accept<F, Fut>(self, protocol: &str, on_upgrade: F) -> Response
    where
        F: FnOnce(crate::http::Upgraded) -> Fut + 'static,
        Fut: Future<Output = ()> + 'static,
    {
        Response::upgrade(protocol, on_upgrade)
    }
}

impl FromRequest for Upgrade {
    async fn from_request(cx: &mut RequestContext<'_>) -> Result<Self, Response> {
        match cx.req.upgrade() {
            Some(offer) => Ok(Upgrade {
                offer: offer.to_owned(),
            }),
            None => Err(reject(
                hook(cx),
                RejectionKind::Upgrade,
                Status::BAD_REQUEST,
                "expected a protocol switch: `Connection: upgrade` and an `Upgrade` field",
            )),
        }
    }
}

/// An optional extractor: `None` where `T` would have answered with an
/// error (a missing or malformed body, query or state).
impl<T: FromRequest> FromRequest for Option<T> {
    async fn from_request(cx: &mut RequestContext<'_>) -> Result<Self, Response> {
        Ok(T::from_request(cx).await.ok())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn percent_decoding() {
        use super::percent_decode as d;
        assert_eq!(d("a%20b%2Fc").as_deref(), Some("a b/c"));
        assert_eq!(d("%C3%A9").as_deref(), Some("\u{e9}"));
        assert_eq!(d("%"), None);
        assert_eq!(d("%2"), None);
        assert_eq!(d("%zz"), None);
        assert_eq!(d("%+1"), None);
        assert_eq!(d("%FF"), None);
    }
}
