//! `Router`: the routes of a [`routes!`](super::routes), their state, the
//! rejection hook, the fallback, merged and nested routers, and layers.

use std::future::Future;
use std::sync::Arc;

use super::check::{MissingState, NeedsFn};
use super::closure::{collision_message, leak_route, RouteFn};
use super::extract::AppState;
use super::matcher::{collide, RouteInfo, Selected};
use super::miss::{Chained, Direct, Fallback, Miss, MissChain, NotFound, Routed, Sub, Tables};
use super::rejection::RejectionHook;
use crate::http::layer::{Layer, Layered};
use crate::http::{Handler, Method, Request};

/// Routes built by [`routes!`](super::routes): a [`Handler`] for
/// [`http::serve`](crate::http::serve).
///
/// Cloning is cheap (the dispatch function is a function item; the states
/// are behind `Arc`s). Each request costs one `Arc` clone per kind of state
/// set.
///
/// `M` is what answers requests no route takes: `404`/`405` by default,
/// then a [`fallback`](Router::fallback), and the routers
/// [`merge`](Router::merge)d or [`nest`](Router::nest)ed in, all composed
/// statically (no boxing, no allocation per request).
///
/// ```
/// use corering::http::route::{Json, Rejection};
/// use corering::http::{Response, Status};
/// use corering::{get, routes};
///
/// #[get("/users/{id}")]
/// async fn user(id: corering::http::route::Path<u32>) -> String {
///     format!("user {}", id.0)
/// }
///
/// #[get("/health")]
/// async fn health() -> &'static str {
///     "ok"
/// }
///
/// async fn not_found(_req: corering::http::Request<'_>) -> Response {
///     Response::json(r#"{"error":"not found"}"#).with_status(Status::NOT_FOUND)
/// }
///
/// fn json_rejection(r: Rejection) -> Response {
///     Response::json(format!(r#"{{"error":"{}"}}"#, r.kind().as_str())).with_status(r.status())
/// }
///
/// let app = routes![health]
///     .nest("/api", routes![user])
///     .on_rejection(json_rejection)
///     .fallback(not_found);
/// # let _ = app;
/// ```
#[derive(Clone)]
pub struct Router<F, M = NotFound> {
    dispatch: F,
    state: AppState,
    miss: M,
    tables: Tables,
    routes: &'static [RouteInfo],
    needs: &'static [NeedsFn],
}

impl<F> Router<F> {
    #[doc(hidden)]
    pub fn __new(
        dispatch: F,
        routes: &'static [RouteInfo],
        needs: &'static [NeedsFn],
    ) -> Router<F> {
        Router {
            dispatch,
            state: AppState::default(),
            miss: NotFound,
            tables: Arc::new(vec![("", routes)]),
            routes,
            needs,
        }
    }
}

impl<F, M: MissChain> Router<F, M> {
    /// Sets the application state that [`State<T>`](super::State)
    /// extracts: one `T` shared by all workers (replaces any earlier
    /// shared state). Merged and nested routers without a state of their
    /// own get it too.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use corering::http::route::State;
    ///
    /// struct Config {
    ///     greeting: String,
    /// }
    ///
    /// #[corering::get("/")]
    /// async fn hello(State(cfg): State<Arc<Config>>) -> String {
    ///     cfg.greeting.clone()
    /// }
    ///
    /// let app = corering::routes![hello].with_state(Arc::new(Config { greeting: "hi".into() }));
    /// # let _ = app;
    /// ```
    pub fn with_state<T: Send + Sync + 'static>(mut self, state: T) -> Router<F, M> {
        self.state.set_shared(state);
        self.miss.inherit(&self.state);
        self
    }

    /// Sets the per-worker state that [`Local<T>`](super::Local)
    /// extracts: each worker calls `init` once, on its first request that
    /// asks for it, and keeps the `T` (replaces any earlier per-worker
    /// state).
    ///
    /// ```
    /// use std::cell::RefCell;
    /// use corering::http::route::Local;
    ///
    /// #[corering::get("/recent")]
    /// async fn recent(Local(log): Local<RefCell<Vec<String>>>) -> String {
    ///     log.borrow_mut().push("seen".into());
    ///     format!("{} requests on this worker", log.borrow().len())
    /// }
    ///
    /// let app = corering::routes![recent].with_local_state(|| RefCell::new(Vec::<String>::new()));
    /// # let _ = app;
    /// ```
    pub fn with_local_state<T: 'static>(
        mut self,
        init: impl Fn() -> T + Send + Sync + 'static,
    ) -> Router<F, M> {
        self.state.set_local(init);
        self.miss.inherit(&self.state);
        self
    }

    /// Answers every extractor's refusal ([`Rejection`](super::Rejection):
    /// a bad path parameter, query or JSON body, a missing state...) and
    /// the router's own `404 Not Found` (no route matches the path, and no
    /// [`fallback`](Router::fallback)) and `405 Method Not Allowed` (routes
    /// match the path, not the method: kinds
    /// [`NotFound`](super::RejectionKind::NotFound) and
    /// [`MethodNotAllowed`](super::RejectionKind::MethodNotAllowed)) with
    /// `hook`'s response instead of the default `text/plain` one. A `405`
    /// keeps its `Allow` field: the router adds it if the hook's response
    /// has none. Merged and nested routers without a hook of their own use
    /// this one for their extractors; a request no router takes is
    /// answered through the outermost router's hook.
    ///
    /// ```
    /// use corering::http::route::{Json, Rejection};
    /// use corering::http::Response;
    ///
    /// #[corering::post("/items")]
    /// async fn add(Json(v): Json<Vec<u32>>) -> String {
    ///     format!("{} items", v.len())
    /// }
    ///
    /// fn as_json(r: Rejection) -> Response {
    ///     let body = format!(r#"{{"error":"{}","status":{}}}"#, r.kind().as_str(), r.status().as_u16());
    ///     Response::json(body).with_status(r.status())
    /// }
    ///
    /// let app = corering::routes![add].on_rejection(as_json);
    /// # let _ = app;
    /// ```
    pub fn on_rejection(mut self, hook: RejectionHook) -> Router<F, M> {
        self.state.set_rejection_hook(hook);
        self.miss.inherit(&self.state);
        self
    }

    /// Answers the requests no route takes (what would be `404 Not
    /// Found`) with `handler`: any [`Handler`], such as an `async fn
    /// (Request<'_>) -> Response`. `405 Method Not Allowed` (the path has
    /// routes, for other methods) stays the router's, answered through
    /// the [`on_rejection`](Router::on_rejection) hook if there is one.
    /// Replaces an earlier fallback; merged and nested routers are tried
    /// before it.
    ///
    /// ```
    /// use corering::http::{Request, Response, Status};
    ///
    /// #[corering::get("/")]
    /// async fn index() -> &'static str {
    ///     "home"
    /// }
    ///
    /// async fn json_404(req: Request<'_>) -> Response {
    ///     let body = format!(r#"{{"error":"no route for {}"}}"#, req.path().escape_default());
    ///     Response::json(body).with_status(Status::NOT_FOUND)
    /// }
    ///
    /// let app = corering::routes![index].fallback(json_404);
    /// # let _ = app;
    /// ```
    pub fn fallback<H>(self, handler: H) -> Router<F, M::WithFallback<H>>
    where
        H: Clone + for<'a> Handler<'a>,
    {
        Router {
            dispatch: self.dispatch,
            state: self.state,
            miss: self.miss.with_fallback(handler),
            tables: self.tables,
            routes: self.routes,
            needs: self.needs,
        }
    }

    /// Adds `other`'s routes: a request none of this router's routes takes
    /// goes to `other`'s (routers are tried in the order they were added,
    /// then the fallback). Each router keeps its own state and rejection
    /// hook, or takes this one's if it has none. A path with routes in both
    /// routers for different methods gets `405` with both routers' methods.
    ///
    /// # Panics
    /// If a route of `other` collides with one of this router (same
    /// method, and paths no request can tell apart): the message names
    /// both. Call it at startup.
    ///
    /// ```
    /// #[corering::get("/a")]
    /// async fn a() -> &'static str { "a" }
    /// #[corering::get("/b")]
    /// async fn b() -> &'static str { "b" }
    ///
    /// let app = corering::routes![a].merge(corering::routes![b]);
    /// # let _ = app;
    /// ```
    pub fn merge<G: Clone>(self, other: Router<G>) -> Router<F, M::Appended<G>> {
        self.add(other, "")
    }

    /// Serves `other` under `prefix`: a request whose path is `prefix`
    /// followed by `/...` and that no route of this router takes goes to
    /// `other`, whose routes match the path **without** the prefix
    /// (`nest("/api", routes![users])` with `#[get("/users")]` answers
    /// `GET /api/users`). The handlers still see the whole path in
    /// [`Request::path`]. The prefix alone (`/api`) is not routed to
    /// `other` (give this router a route for it). State and rejection
    /// hook as for [`merge`](Router::merge).
    ///
    /// # Panics
    /// If `prefix` does not start with `/`, ends with `/`, or holds `{`,
    /// `}`, `?` or `#`; or if `other`'s routes collide with another router
    /// nested under the same prefix.
    ///
    /// ```
    /// #[corering::get("/users")]
    /// async fn users() -> &'static str { "[]" }
    ///
    /// #[corering::get("/")]
    /// async fn index() -> &'static str { "home" }
    ///
    /// let app = corering::routes![index].nest("/api", corering::routes![users]);
    /// # let _ = app;
    /// ```
    pub fn nest<G: Clone>(
        self,
        prefix: &'static str,
        other: Router<G>,
    ) -> Router<F, M::Appended<G>> {
        assert!(
            prefix.starts_with('/')
                && prefix.len() > 1
                && !prefix.ends_with('/')
                && !prefix.contains(['{', '}', '?', '#', ' ']),
            "Router::nest: prefix {prefix:?} must start with `/`, not end with `/`, and hold \
             no `{{`, `}}`, `?`, `#` or space"
        );
        self.add(other, prefix)
    }

    fn add<G: Clone>(
        mut self,
        other: Router<G>,
        prefix: &'static str,
    ) -> Router<F, M::Appended<G>> {
        let mut tables = (*self.tables).clone();
        for &(p, theirs) in other.tables.iter() {
            for (q, ours) in tables.iter().filter(|(q, _)| *q == prefix) {
                for a in ours.iter() {
                    for b in theirs.iter() {
                        assert!(
                            !(p.is_empty() && collide(a, b)),
                            "routes `{}` ({} {q}{}) and `{}` ({} {prefix}{}) collide: same \
                             method, and no request can tell their paths apart",
                            a.name,
                            a.method,
                            a.path,
                            b.name,
                            b.method,
                            b.path
                        );
                    }
                }
            }
            tables.push((prefix, theirs));
        }
        self.tables = Arc::new(tables);
        let mut sub = Sub::new(
            other.dispatch,
            other.state,
            prefix,
            other.routes,
            other.needs,
        );
        sub.inherit(&self.state);
        Router {
            dispatch: self.dispatch,
            miss: self.miss.append(sub),
            state: self.state,
            tables: self.tables,
            routes: self.routes,
            needs: self.needs,
        }
    }

    /// Adds a route at run time, without a route attribute: `handler`
    /// (any [`Handler`]: an `async fn(Request<'_>) -> Response`, or a
    /// closure taking the [`Request`]) answers `method` on `path`, a
    /// pattern as the attributes take it (`/users/{id}`, `/files/{*rest}`).
    /// A `GET` route answers `HEAD` too, and the route counts for `405`
    /// and `Allow` like the others.
    ///
    /// It is tried after the routes already in the router (attribute
    /// routes, merged and nested routers, earlier `route`s), before the
    /// fallback. Its handler reads the path itself
    /// ([`Request::path`]): extractors are for attribute routes. The
    /// pattern is kept for the life of the process: add routes at startup.
    /// Add them to the outermost router (one with run-time routes cannot
    /// be [`merge`](Router::merge)d or [`nest`](Router::nest)ed itself).
    ///
    /// # Panics
    /// If `path` is not a pattern (it must start with `/`, hold no empty
    /// segment, `?`, `#` or space, and use `{name}` and a last `{*name}`
    /// only as whole segments), or if the route collides with one already
    /// in the router (same method, and paths no request can tell apart).
    ///
    /// ```
    /// use corering::http::{Method, Request, Response};
    ///
    /// #[corering::get("/")]
    /// async fn index() -> &'static str { "home" }
    ///
    /// async fn version(_req: Request<'_>) -> Response {
    ///     Response::text(env!("CARGO_PKG_VERSION"))
    /// }
    ///
    /// let greeting = String::from("hello");
    /// let app = corering::routes![index]
    ///     .route(Method::Get, "/version", version)
    ///     .route(Method::Get, "/greet/{name}", move |req: Request<'_>| {
    ///         // Read what the answer needs before the future: it cannot
    ///         // borrow the request.
    ///         let name = req.path().rsplit('/').next().unwrap_or("").to_owned();
    ///         let text = format!("{greeting}, {name}");
    ///         async move { Response::text(text) }
    ///     });
    /// # let _ = app;
    /// ```
    pub fn route<H>(
        mut self,
        method: Method,
        path: &'static str,
        handler: H,
    ) -> Router<F, M::AppendedFn<H>>
    where
        H: Clone + for<'a> Handler<'a>,
    {
        let info = leak_route(method, path);
        for &(prefix, theirs) in self.tables.iter() {
            if let Some(a) = theirs
                .iter()
                .find(|a| prefix.is_empty() && collide(a, info))
            {
                panic!("{}", collision_message(a, prefix, info));
            }
        }
        let mut tables = (*self.tables).clone();
        tables.push(("", std::slice::from_ref(info)));
        self.tables = Arc::new(tables);
        Router {
            dispatch: self.dispatch,
            miss: self.miss.append_fn(RouteFn::new(info, handler)),
            state: self.state,
            tables: self.tables,
            routes: self.routes,
            needs: self.needs,
        }
    }

    /// Wraps the router in `layer` (a middleware: [`Timeout`](crate::http::layer::Timeout),
    /// [`Cors`](crate::http::layer::Cors), [`map_response`](crate::http::layer::map_response)...).
    /// Layers wrap everything the router answers, fallback and rejections
    /// included; the last one added is the outermost (it sees the
    /// request first and the response last). Set routes, state, hook and
    /// fallback first: a layered router is a [`Layered`] handler.
    ///
    /// ```
    /// use std::time::Duration;
    /// use corering::http::layer::{RequestId, Timeout};
    ///
    /// #[corering::get("/")]
    /// async fn index() -> &'static str { "home" }
    ///
    /// let app = corering::routes![index]
    ///     .layer(Timeout::new(Duration::from_secs(5)))
    ///     .layer(RequestId::new());
    /// # let _ = app;
    /// ```
    ///
    /// # Panics
    /// If a route takes a [`State<T>`](super::State) or
    /// [`Local<T>`](super::Local) the router was not given (see
    /// [`check`](Router::check)): the message lists them.
    pub fn layer<L: Layer<Self>>(self, layer: L) -> Layered<L::Handler> {
        if let Err(e) = self.check() {
            panic!("{e}");
        }
        Layered::new(self).layer(layer)
    }

    /// Checks at startup that every [`State<T>`](super::State) and
    /// [`Local<T>`](super::Local) the routes take (those of merged and
    /// nested routers too) was given, with that type; the error lists
    /// each route and type. [`layer`](Router::layer) runs it; call it
    /// yourself before serving a router without layers. (A route whose
    /// state is missing anyway answers `500` without naming the type.)
    ///
    /// ```
    /// use corering::http::route::State;
    ///
    /// #[corering::get("/count")]
    /// async fn count(State(n): State<u32>) -> String {
    ///     n.to_string()
    /// }
    ///
    /// let err = corering::routes![count].check().unwrap_err();
    /// assert!(err.to_string().contains("GET /count (fn count) takes State<u32>"));
    /// assert!(corering::routes![count].with_state(7u32).check().is_ok());
    /// ```
    pub fn check(&self) -> Result<(), MissingState> {
        let mut lines = Vec::new();
        MissingState::collect(&mut lines, "", self.routes, self.needs, &self.state);
        self.miss.missing_states(&mut lines);
        MissingState::from_lines(lines)
    }
}

impl<F, M> std::fmt::Debug for Router<F, M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Router")
            .field("shared_state", &self.state.has_shared())
            .field("route_tables", &self.tables.len())
            .finish()
    }
}

/// The usual router (nothing after its routes): a miss is answered at
/// once, without the stages of a chain.
impl<'a, F, Fut> Handler<'a> for Router<F, NotFound>
where
    F: Fn(Request<'a>, AppState, usize) -> Fut,
    Fut: Future<Output = Routed<'a>>,
{
    type Future = Direct<Fut>;
    #[inline]
    fn call(&self, req: Request<'a>) -> Self::Future {
        Direct::new(
            (self.dispatch)(req, self.state.clone(), 0),
            self.state.rejection_hook(),
        )
    }
}

/// A router with merged or nested routers after its routes.
impl<'a, F, Fut, G, N> Handler<'a> for Router<F, Sub<G, N>>
where
    F: Fn(Request<'a>, AppState, usize) -> Fut,
    Fut: Future<Output = Routed<'a>>,
    Sub<G, N>: Miss<'a>,
{
    type Future = Chained<'a, Fut, Sub<G, N>>;
    #[inline]
    fn call(&self, req: Request<'a>) -> Self::Future {
        chain(self, req)
    }
}

/// A router with routes added at run time after its own.
impl<'a, F, Fut, H, N> Handler<'a> for Router<F, RouteFn<H, N>>
where
    F: Fn(Request<'a>, AppState, usize) -> Fut,
    Fut: Future<Output = Routed<'a>>,
    RouteFn<H, N>: Miss<'a>,
{
    type Future = Chained<'a, Fut, RouteFn<H, N>>;
    #[inline]
    fn call(&self, req: Request<'a>) -> Self::Future {
        chain(self, req)
    }
}

/// A router with a fallback handler.
impl<'a, F, Fut, H> Handler<'a> for Router<F, Fallback<H>>
where
    F: Fn(Request<'a>, AppState, usize) -> Fut,
    Fut: Future<Output = Routed<'a>>,
    Fallback<H>: Miss<'a>,
{
    type Future = Chained<'a, Fut, Fallback<H>>;
    #[inline]
    fn call(&self, req: Request<'a>) -> Self::Future {
        chain(self, req)
    }
}

/// The routes' future, with the rest of the chain to try on a miss.
#[inline]
fn chain<'a, F, Fut, M>(r: &Router<F, M>, req: Request<'a>) -> Chained<'a, Fut, M>
where
    F: Fn(Request<'a>, AppState, usize) -> Fut,
    Fut: Future<Output = Routed<'a>>,
    M: Miss<'a>,
{
    Chained::new(
        (r.dispatch)(req, r.state.clone(), 0),
        r.miss.clone(),
        Selected::NotFound,
        0,
        r.state.rejection_hook(),
    )
}
