//! Routing: `#[get("/users/{id}")]` on async fns, [`routes!`] to dispatch.
//!
//! ```no_run
//! use corering::http::{self, Http1Config, Status};
//! use corering::http::route::{Json, Path, State};
//! use corering::{get, post, routes};
//!
//! #[get("/users/{id}")]
//! async fn user(id: Path<u32>) -> String {
//!     format!("user {}", id.0)
//! }
//!
//! #[get("/files/{*path}")]
//! async fn file(path: Path<String>, State(root): State<&'static str>) -> String {
//!     format!("{root}/{}", path.0)
//! }
//!
//! #[post("/echo")]
//! async fn echo(Json(v): Json<Vec<u32>>) -> Result<Json<Vec<u32>>, (Status, &'static str)> {
//!     if v.is_empty() { Err((Status::BAD_REQUEST, "empty")) } else { Ok(Json(v)) }
//! }
//!
//! fn main() -> std::io::Result<()> {
//!     let cfg = Http1Config::new();
//!     let router = routes![user, file, echo].with_state("/srv");
//!     corering::Server::builder()
//!         .bind("127.0.0.1:8080")
//!         .build()?
//!         .serve(move |conn| http::serve(conn, cfg, router.clone()))
//! }
//! ```
//!
//! # Routes
//!
//! A pattern is `/`-separated segments: literals, `{name}` parameters (any
//! non-empty segment) and, last only, a `{*name}` tail (the rest of the
//! path, possibly empty: `/files/{*path}` matches `/files`, `/files/` and
//! `/files/a/b`). Names are identifiers; a literal may not contain
//! `{`, `}`, `?`, `#` or spaces. Matching is byte for byte on the raw
//! (not percent-decoded) path, without the query; it allocates nothing
//! (the values are slices of the path in a fixed array of
//! [`MAX_PARAMS`](__private::MAX_PARAMS)).
//!
//! Each handler argument is an extractor ([`FromRequest`]), and the return
//! type implements [`IntoResponse`]. A `Path<T>` argument takes the
//! parameter of its name; every parameter must be taken by one. The last
//! argument may also borrow the request ([`FromRequestRef`]): `&Request`,
//! `&mut Request`, the body in place as `&[u8]` or `&str`, or a
//! [`BodyStream`] of its pieces. `Json`, `Query` and `Form` are built on
//! serde and come with the `serde` feature (on by default; without it
//! corering builds without serde, serde_json and serde_urlencoded).
//! [`Upgrade`] takes a protocol switch
//! (`Connection: upgrade`) and hands the connection to a function of
//! yours.
//!
//! # Which route runs
//!
//! Among the routes whose method is the request's and whose pattern matches
//! the path, the most specific runs: comparing segment by segment, at the
//! first position where the kinds differ a literal beats a parameter, which
//! beats a tail (and a pattern that ends beats a tail matching nothing:
//! `/a/{x}` wins over `/a/{x}/{*rest}` for `/a/1`). So `/a/b` and `/a/{x}`
//! (same method) coexist, and `/a/b` wins for that path. Method first, then
//! specificity: with `GET /a/{x}` and `POST /a/b`, `GET /a/b` runs the
//! first. Two routes with the same method and the same literals
//! and parameters at the same positions (`/users/{id}`, `/users/{name}`)
//! can never be told apart: [`routes!`] rejects them at compile time.
//!
//! * No route matches the path: `404 Not Found`, or the router's
//!   [`fallback`](Router::fallback) handler; before that, the routers
//!   [`merge`](Router::merge)d and [`nest`](Router::nest)ed into it, in
//!   the order they were added (a nested router matches the path after its
//!   prefix).
//! * Routes match the path, none the method: `405 Method Not Allowed` with
//!   an `Allow` field listing their methods (`GET` implies `HEAD`).
//! * `HEAD` with no `HEAD` route for the path runs the `GET` route; the
//!   server sends its fields without the body.
//! * An extractor that fails answers with its own response (`400` for a
//!   path parameter that does not parse, see each extractor); the handler
//!   does not run. The built-in extractors' errors are [`Rejection`]s, and
//!   [`Router::on_rejection`] answers them all in one format of yours.
//!
//! # Middleware
//!
//! [`Router::layer`] wraps the router in a [layer](crate::http::layer)
//! (timeouts, request ids, CORS, auth, compression, access log, your own
//! functions), composed statically.
//!
//! # State
//!
//! [`Router::with_state`] stores one value shared by all workers
//! (`Send + Sync`); [`State<T>`] clones it for each request, so make it an
//! `Arc` or something else cheap to clone. [`Router::with_local_state`]
//! gives each worker its own value, built on first use; [`Local<T>`] hands
//! out an `Rc` of it (no locks: a `Cell` inside is enough). A route taking
//! a state the router lacks is found at startup ([`Router::check`], run by
//! [`Router::layer`]); served anyway, it answers `500` without naming the
//! type.

mod check;
mod closure;
mod extract;
#[cfg(feature = "serde")]
mod formats;
mod matcher;
mod miss;
mod rejection;
mod respond;
mod router;

pub(crate) use extract::percent_decode;
pub use extract::{
    BodyStream, Bytes, FromRequest, FromRequestRef, Headers, Local, Path, RequestContext, State,
    Upgrade,
};
#[cfg(feature = "serde")]
pub use formats::{Form, Json, Query};
pub use respond::IntoResponse;

pub use corering_macros::{delete, get, head, options, patch, post, put, route, routes};

/// The `serde` that [`Json`], [`Query`] and [`Form`] use, for
/// `#[derive(corering::http::route::serde::Deserialize)]` with
/// `#[serde(crate = "corering::http::route::serde")]` in crates that do
/// not depend on `serde` themselves.
#[cfg(feature = "serde")]
pub use serde;

pub use check::MissingState;
pub use closure::RouteFn;
pub use miss::{Chained, Direct, Fallback, NotFound, OneOf, Sub};
pub use rejection::{Rejection, RejectionHook, RejectionKind};
pub use router::Router;

/// Used by the code the route macros generate; not a public API.
#[doc(hidden)]
pub mod __private {
    pub use super::check::{Need, NeedsFn};
    pub use super::extract::AppState;
    pub use super::matcher::{
        collide, match_path, more_specific, order, select, Params, RouteInfo, Segment, Selected,
        MAX_PARAMS,
    };
    pub use super::miss::Routed;
    pub use crate::http::{Method, Request, Response};

    use super::{FromRequest, FromRequestRef, RequestContext};
    use std::future::Future;
    use std::marker::PhantomData;

    /// Extraction by autoref specialization: `(&Extract::<T>::new()).extract(cx)`
    /// is [`FromRequest`] when `T` is an extractor, and otherwise a silent
    /// fallback, so that the only error for a non-extractor argument is the
    /// one from its named check.
    pub struct Extract<T>(PhantomData<T>);

    impl<T> Extract<T> {
        /// The marker.
        #[allow(clippy::new_without_default)]
        pub const fn new() -> Self {
            Extract(PhantomData)
        }
    }

    /// The real extraction.
    pub trait ViaFromRequest {
        /// The extracted type.
        type Out;
        /// Extracts.
        fn extract(
            &self,
            cx: &mut RequestContext<'_>,
        ) -> impl Future<Output = Result<Self::Out, Response>>;
    }

    impl<T: FromRequest> ViaFromRequest for Extract<T> {
        type Out = T;
        fn extract(
            &self,
            cx: &mut RequestContext<'_>,
        ) -> impl Future<Output = Result<T, Response>> {
            T::from_request(cx)
        }
    }

    /// Chosen only when the argument is not an extractor, which is a
    /// compile error anyway; never runs.
    pub trait ViaFallback {
        /// The argument's type.
        type Out;
        /// Answers `500`.
        fn extract(
            &self,
            cx: &mut RequestContext<'_>,
        ) -> impl Future<Output = Result<Self::Out, Response>>;
    }

    impl<T> ViaFallback for &Extract<T> {
        type Out = T;
        async fn extract(&self, _: &mut RequestContext<'_>) -> Result<T, Response> {
            Err(Response::new(crate::http::Status::INTERNAL_SERVER_ERROR))
        }
    }

    /// The states an extractor argument needs (see [`Need`]).
    pub trait ViaNeeds {
        /// Adds them to `out`.
        fn needs(&self, out: &mut Vec<Need>);
    }

    impl<T: FromRequest> ViaNeeds for Extract<T> {
        fn needs(&self, out: &mut Vec<Need>) {
            T::__needs(out);
        }
    }

    /// Arguments that are not [`FromRequest`] (those borrowing the
    /// request) need no state.
    pub trait NeedsNothing {
        /// Adds nothing.
        fn needs(&self, out: &mut Vec<Need>);
    }

    impl<T> NeedsNothing for &Extract<T> {
        fn needs(&self, _: &mut Vec<Need>) {}
    }

    /// The last argument's real extraction: it may borrow the request.
    pub trait ViaFromRequestRef<'r, 'a> {
        /// The extracted type.
        type Out;
        /// Extracts.
        fn extract_last(
            &self,
            cx: &'r mut RequestContext<'a>,
        ) -> impl Future<Output = Result<Self::Out, Response>>;
    }

    impl<'r, 'a, T: FromRequestRef<'r, 'a>> ViaFromRequestRef<'r, 'a> for Extract<T> {
        type Out = T;
        fn extract_last(
            &self,
            cx: &'r mut RequestContext<'a>,
        ) -> impl Future<Output = Result<T, Response>> {
            T::from_request_ref(cx)
        }
    }

    /// The last argument's fallback, as [`ViaFallback`].
    pub trait ViaFallbackRef {
        /// The argument's type.
        type Out;
        /// Answers `500`.
        fn extract_last(
            &self,
            cx: &mut RequestContext<'_>,
        ) -> impl Future<Output = Result<Self::Out, Response>>;
    }

    impl<T> ViaFallbackRef for &Extract<T> {
        type Out = T;
        async fn extract_last(&self, _: &mut RequestContext<'_>) -> Result<T, Response> {
            Err(Response::new(crate::http::Status::INTERNAL_SERVER_ERROR))
        }
    }
}
