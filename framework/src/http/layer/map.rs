//! `map_request` and `map_response`: a function of yours before or after
//! the handler, and `MapFuture`, the future most layers return.

use std::future::{ready, Future, Ready};
use std::pin::Pin;
use std::task::{Context, Poll};

use super::Layer;
use crate::http::route::OneOf;
use crate::http::{Handler, Request, Response};

/// What a layer does to a response once the handler has made it: a named
/// type (unlike a closure), so the layer's future can be named too.
///
/// It changes the response where it lies: a layer's future hands the
/// handler's answer on without moving it (a `Response` is over a hundred
/// bytes, and a stack of layers would otherwise copy it once per layer).
///
/// ```
/// use corering::http::layer::Finish;
/// use corering::http::Response;
///
/// /// Adds `x-served-by` to every answer.
/// struct ServedBy;
///
/// impl Finish for ServedBy {
///     fn finish(self, resp: &mut Response) {
///         resp.update(|r| r.header("x-served-by", "edge-1"));
///     }
/// }
///
/// let mut resp = Response::text("hi");
/// ServedBy.finish(&mut resp);
/// assert_eq!(resp.header_value("x-served-by"), Some(&b"edge-1"[..]));
/// ```
pub trait Finish {
    /// Changes the handler's response into the one sent.
    fn finish(self, resp: &mut Response);
}

/// Nothing to do.
impl Finish for () {
    #[inline]
    fn finish(self, _resp: &mut Response) {}
}

/// `None`: nothing to do.
impl<T: Finish> Finish for Option<T> {
    #[inline]
    fn finish(self, resp: &mut Response) {
        if let Some(f) = self {
            f.finish(resp);
        }
    }
}

/// A function applied to the response.
#[derive(Debug, Clone, Copy)]
pub struct Apply<G>(G);

impl<G: FnOnce(Response) -> Response> Finish for Apply<G> {
    #[inline]
    fn finish(self, resp: &mut Response) {
        resp.update(self.0);
    }
}

/// The inner handler's future, then `finish` on its response.
#[must_use = "futures do nothing unless polled"]
#[derive(Debug)]
pub struct MapFuture<F, G> {
    fut: F,
    finish: Option<G>,
}

impl<F, G> MapFuture<F, G> {
    /// `fut`, whose response `finish` will take.
    pub fn new(fut: F, finish: G) -> Self {
        MapFuture {
            fut,
            finish: Some(finish),
        }
    }
}

impl<F, G: Finish> MapFuture<F, G> {
    /// [`Handler::poll_into`] for a handler whose future this is: `poll`
    /// (the inner handler's `poll_into`) leaves the inner response in
    /// `out`, and `finish` changes it there.
    #[inline(always)]
    pub(crate) fn poll_into(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        out: &mut Poll<Response>,
        poll: impl FnOnce(Pin<&mut F>, &mut Context<'_>, &mut Poll<Response>),
    ) {
        // SAFETY: as in `poll` below.
        let this = unsafe { self.get_unchecked_mut() };
        // SAFETY: as in `poll` below.
        poll(unsafe { Pin::new_unchecked(&mut this.fut) }, cx, out);
        if let Poll::Ready(resp) = out {
            if let Some(f) = this.finish.take() {
                f.finish(resp);
            }
        }
    }
}

impl<F: Future<Output = Response>, G: Finish> Future for MapFuture<F, G> {
    type Output = Response;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Response> {
        // SAFETY: `fut` is pinned structurally (never moved out);
        // `finish` is not pinned and only taken by value.
        let this = unsafe { self.get_unchecked_mut() };
        // SAFETY: as above; `this.fut` stays where it is.
        let fut = unsafe { Pin::new_unchecked(&mut this.fut) };
        // The inner answer is changed where the inner poll wrote it and
        // handed on as it is (not taken apart and rebuilt).
        let mut polled = fut.poll(cx);
        if let Poll::Ready(resp) = &mut polled {
            if let Some(f) = this.finish.take() {
                f.finish(resp);
            }
        }
        polled
    }
}

/// A layer running `f` on every response: add a field, change a status.
/// `f` is cloned into each request's future (free for a function or a
/// closure capturing nothing).
///
/// ```
/// use corering::http::layer::map_response;
/// use corering::http::Response;
///
/// #[corering::get("/")]
/// async fn index() -> &'static str { "home" }
///
/// let app = corering::routes![index]
///     .layer(map_response(|r: Response| r.header("cache-control", "no-store")));
/// # let _ = app;
/// ```
pub fn map_response<G>(f: G) -> MapResponse<G, ()>
where
    G: Fn(Response) -> Response + Clone,
{
    MapResponse { f, inner: () }
}

/// See [`map_response`]: the layer, and (with `H` set) the handler.
#[derive(Debug, Clone, Copy)]
pub struct MapResponse<G, H> {
    f: G,
    inner: H,
}

impl<G: Clone, H> Layer<H> for MapResponse<G, ()> {
    type Handler = MapResponse<G, H>;
    fn layer(self, inner: H) -> MapResponse<G, H> {
        MapResponse { f: self.f, inner }
    }
}

impl<'a, G, H> Handler<'a> for MapResponse<G, H>
where
    G: Fn(Response) -> Response + Clone,
    H: Handler<'a>,
{
    type Future = MapFuture<H::Future, Apply<G>>;
    #[inline(always)]
    fn call(&self, req: Request<'a>) -> Self::Future {
        MapFuture::new(self.inner.call(req), Apply(self.f.clone()))
    }
    #[inline(always)]
    fn poll_into(fut: Pin<&mut Self::Future>, cx: &mut Context<'_>, out: &mut Poll<Response>) {
        fut.poll_into(cx, out, H::poll_into);
    }
}

/// A layer running `f` on every request before the handler: it may
/// change the request (its rates, say) or answer in the handler's place
/// by returning `Some(response)`. `f` is synchronous; for work that must
/// wait, write an extractor or a handler of your own.
///
/// ```
/// use corering::http::layer::map_request;
/// use corering::http::{Request, Response, Status};
///
/// #[corering::get("/")]
/// async fn index() -> &'static str { "home" }
///
/// fn only_local(req: &mut Request<'_>) -> Option<Response> {
///     match req.host() {
///         "localhost" | "127.0.0.1" => None,
///         _ => Some(Response::new(Status::FORBIDDEN)),
///     }
/// }
///
/// let app = corering::routes![index].layer(map_request(only_local));
/// # let _ = app;
/// ```
pub fn map_request<G>(f: G) -> MapRequest<G, ()>
where
    G: for<'r, 'a> Fn(&'r mut Request<'a>) -> Option<Response> + Clone,
{
    MapRequest { f, inner: () }
}

/// See [`map_request`]: the layer, and (with `H` set) the handler.
#[derive(Debug, Clone, Copy)]
pub struct MapRequest<G, H> {
    f: G,
    inner: H,
}

impl<G: Clone, H> Layer<H> for MapRequest<G, ()> {
    type Handler = MapRequest<G, H>;
    fn layer(self, inner: H) -> MapRequest<G, H> {
        MapRequest { f: self.f, inner }
    }
}

impl<'a, G, H> Handler<'a> for MapRequest<G, H>
where
    G: for<'r, 'b> Fn(&'r mut Request<'b>) -> Option<Response>,
    H: Handler<'a>,
{
    type Future = OneOf<H::Future, Ready<Response>>;
    #[inline(always)]
    fn call(&self, mut req: Request<'a>) -> Self::Future {
        match (self.f)(&mut req) {
            None => OneOf::A(self.inner.call(req)),
            Some(resp) => OneOf::B(ready(resp)),
        }
    }
}
