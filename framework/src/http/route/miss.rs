//! What a router does with a request none of its routes take: the chain
//! of merged and nested routers, then the fallback (or `404`/`405`).
//!
//! All of it is static: each link is a type, the chain a nested generic,
//! and a request that a route takes never touches it beyond one clone of
//! the chain's handles (nothing, for a router with no fallback, merge or
//! nest: the links are zero-sized then).

use std::future::{ready, Future, Ready};
use std::pin::Pin;
use std::task::{Context, Poll};

use super::check::{MissingState, NeedsFn};
use super::closure::RouteFn;
use super::extract::AppState;
use super::matcher::{RouteInfo, Selected};
use super::rejection::RejectionHook;
use crate::http::{Handler, Request, Response};

/// What the dispatch function a [`routes!`](super::routes) makes returns:
/// a route's response, or the request back with why no route took it.
pub type Routed<'a> = Result<Response, (Request<'a>, Selected)>;

/// The request-independent side of a miss chain: state handed down, links
/// appended, the fallback set.
#[doc(hidden)]
pub trait MissChain: Clone {
    /// This chain with `sub` tried before its end.
    type Appended<G: Clone>: MissChain;
    /// This chain ending in `fallback` instead.
    type WithFallback<H: Clone>: MissChain;
    /// This chain with the run-time route `route` tried before its end.
    type AppendedFn<H: Clone>: MissChain;
    /// Hands the outer router's state (and rejection hook) to the
    /// routers of the chain that lack their own.
    fn inherit(&mut self, parent: &AppState);
    /// Appends `sub` before the end of the chain.
    fn append<G: Clone>(self, sub: Sub<G, NotFound>) -> Self::Appended<G>;
    /// Appends `route` before the end of the chain.
    fn append_fn<H: Clone>(self, route: RouteFn<H, NotFound>) -> Self::AppendedFn<H>;
    /// Replaces the end of the chain.
    fn with_fallback<H: Clone>(self, fallback: H) -> Self::WithFallback<H>;
    /// Lists the routes of the chain's routers that need a state their
    /// router lacks.
    fn missing_states(&self, out: &mut Vec<String>);
}

/// Answers a request no route took.
#[doc(hidden)]
pub trait Miss<'a>: MissChain {
    /// The answer's future.
    type Future: Future<Output = Response>;
    /// Answers `req`, which routes before this link did not take (`sel`
    /// says why); `skip` bytes of its path belong to nest prefixes. A
    /// `404`/`405` goes through `hook`, the outermost router's.
    fn miss(
        &self,
        req: Request<'a>,
        sel: Selected,
        skip: usize,
        hook: Option<RejectionHook>,
    ) -> Self::Future;
}

/// The end of a chain without a fallback: `404 Not Found`, or `405 Method
/// Not Allowed` with `Allow` (through the rejection hook, if any).
#[derive(Debug, Clone, Copy, Default)]
pub struct NotFound;

impl MissChain for NotFound {
    type Appended<G: Clone> = Sub<G, NotFound>;
    type WithFallback<H: Clone> = Fallback<H>;
    type AppendedFn<H: Clone> = RouteFn<H, NotFound>;
    fn inherit(&mut self, _: &AppState) {}
    fn append<G: Clone>(self, sub: Sub<G, NotFound>) -> Sub<G, NotFound> {
        sub
    }
    fn append_fn<H: Clone>(self, route: RouteFn<H, NotFound>) -> RouteFn<H, NotFound> {
        route
    }
    fn with_fallback<H: Clone>(self, fallback: H) -> Fallback<H> {
        Fallback(fallback)
    }
    fn missing_states(&self, _: &mut Vec<String>) {}
}

impl<'a> Miss<'a> for NotFound {
    type Future = Ready<Response>;
    fn miss(
        &self,
        _: Request<'a>,
        sel: Selected,
        _: usize,
        hook: Option<RejectionHook>,
    ) -> Ready<Response> {
        ready(sel.answer(hook))
    }
}

/// The end of a chain with a fallback handler: it answers what would be
/// `404`; `405` stays the router's (through the rejection hook, if any).
#[derive(Debug, Clone, Copy)]
pub struct Fallback<H>(H);

impl<H: Clone> MissChain for Fallback<H> {
    type Appended<G: Clone> = Sub<G, Fallback<H>>;
    type WithFallback<H2: Clone> = Fallback<H2>;
    type AppendedFn<H2: Clone> = RouteFn<H2, Fallback<H>>;
    fn inherit(&mut self, _: &AppState) {}
    fn append_fn<H2: Clone>(self, route: RouteFn<H2, NotFound>) -> RouteFn<H2, Fallback<H>> {
        route.map_next(|_| self)
    }
    fn append<G: Clone>(self, sub: Sub<G, NotFound>) -> Sub<G, Fallback<H>> {
        sub.map_next(|_| self)
    }
    fn with_fallback<H2: Clone>(self, fallback: H2) -> Fallback<H2> {
        Fallback(fallback)
    }
    fn missing_states(&self, _: &mut Vec<String>) {}
}

impl<'a, H: Handler<'a> + Clone> Miss<'a> for Fallback<H> {
    type Future = OneOf<H::Future, Ready<Response>>;
    fn miss(
        &self,
        req: Request<'a>,
        sel: Selected,
        _: usize,
        hook: Option<RejectionHook>,
    ) -> Self::Future {
        match sel {
            Selected::NotFound => OneOf::A(self.0.call(req)),
            other => OneOf::B(ready(other.answer(hook))),
        }
    }
}

/// A merged (`prefix` empty) or nested router in the chain, tried before
/// `next`.
#[derive(Clone)]
pub struct Sub<G, N> {
    dispatch: G,
    /// The state it was given itself.
    own: AppState,
    /// What its routes see: its own, filled from the outer router's.
    state: AppState,
    prefix: &'static str,
    routes: &'static [RouteInfo],
    needs: &'static [NeedsFn],
    next: N,
}

impl<G> Sub<G, NotFound> {
    pub(super) fn new(
        dispatch: G,
        own: AppState,
        prefix: &'static str,
        routes: &'static [RouteInfo],
        needs: &'static [NeedsFn],
    ) -> Self {
        Sub {
            dispatch,
            state: own.clone(),
            own,
            prefix,
            routes,
            needs,
            next: NotFound,
        }
    }
}

impl<G, N> Sub<G, N> {
    /// This router with the rest of its chain replaced by `f`'s.
    fn map_next<N2>(self, f: impl FnOnce(N) -> N2) -> Sub<G, N2> {
        Sub {
            dispatch: self.dispatch,
            own: self.own,
            state: self.state,
            prefix: self.prefix,
            routes: self.routes,
            needs: self.needs,
            next: f(self.next),
        }
    }
}

impl<G: Clone, N: MissChain> MissChain for Sub<G, N> {
    type Appended<G2: Clone> = Sub<G, N::Appended<G2>>;
    type WithFallback<H: Clone> = Sub<G, N::WithFallback<H>>;
    type AppendedFn<H: Clone> = Sub<G, N::AppendedFn<H>>;
    fn append_fn<H: Clone>(self, route: RouteFn<H, NotFound>) -> Self::AppendedFn<H> {
        self.map_next(|next| next.append_fn(route))
    }
    fn inherit(&mut self, parent: &AppState) {
        self.state = self.own.clone();
        self.state.inherit(parent);
        self.next.inherit(parent);
    }
    fn append<G2: Clone>(self, sub: Sub<G2, NotFound>) -> Self::Appended<G2> {
        self.map_next(|next| next.append(sub))
    }
    fn with_fallback<H: Clone>(self, fallback: H) -> Self::WithFallback<H> {
        self.map_next(|next| next.with_fallback(fallback))
    }
    fn missing_states(&self, out: &mut Vec<String>) {
        MissingState::collect(out, self.prefix, self.routes, self.needs, &self.state);
        self.next.missing_states(out);
    }
}

impl<'a, G, GF, N> Miss<'a> for Sub<G, N>
where
    G: Fn(Request<'a>, AppState, usize) -> GF + Clone,
    GF: Future<Output = Routed<'a>>,
    N: Miss<'a>,
{
    type Future = Chained<'a, GF, N>;
    fn miss(
        &self,
        req: Request<'a>,
        sel: Selected,
        skip: usize,
        hook: Option<RejectionHook>,
    ) -> Self::Future {
        let rest = unnested(req.path(), skip);
        let inside = self.prefix.is_empty()
            || rest
                .strip_prefix(self.prefix)
                .is_some_and(|r| r.starts_with('/'));
        if inside {
            let skip_in = skip + self.prefix.len();
            Chained::new(
                (self.dispatch)(req, self.state.clone(), skip_in),
                self.next.clone(),
                sel,
                skip,
                hook,
            )
        } else {
            Chained {
                stage: Stage::Next(self.next.miss(req, sel, skip, hook)),
                next: None,
                sel,
                skip,
                hook,
            }
        }
    }
}

/// What is left of `path` once the nest prefixes that take its first
/// `skip` bytes are cut off.
pub(super) fn unnested(path: &str, skip: usize) -> &str {
    path.get(skip..).unwrap_or("")
}

/// Why neither of two routers took a request: `405` if either has the
/// path under another method (their methods together), else `404`.
/// The future of a router with nothing after its routes (no `merge`,
/// `nest` or `fallback`): the route's answer, or `404`/`405` at once. The
/// usual router skips [`Chained`]'s stages this way.
#[derive(Debug)]
#[must_use = "futures do nothing unless polled"]
pub struct Direct<F>(F, Option<RejectionHook>);

impl<F> Direct<F> {
    pub(super) fn new(routing: F, hook: Option<RejectionHook>) -> Self {
        Direct(routing, hook)
    }
}

impl<'a, F: Future<Output = Routed<'a>>> Future for Direct<F> {
    type Output = Response;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Response> {
        let hook = self.1;
        // SAFETY: the first field is pinned structurally (never moved out);
        // the second is plain data, copied out above.
        let routing = unsafe { self.map_unchecked_mut(|d| &mut d.0) };
        match routing.poll(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Ok(resp)) => Poll::Ready(resp),
            Poll::Ready(Err((_, sel))) => Poll::Ready(sel.answer(hook)),
        }
    }
}

pub(super) fn combine(a: Selected, b: Selected) -> Selected {
    match (a, b) {
        (Selected::MethodNotAllowed(x), Selected::MethodNotAllowed(y)) => {
            Selected::MethodNotAllowed(x | y)
        }
        (m @ Selected::MethodNotAllowed(_), _) | (_, m @ Selected::MethodNotAllowed(_)) => m,
        _ => Selected::NotFound,
    }
}

enum Stage<F, M> {
    Route(F),
    Next(M),
}

/// A router's routes, then (if none took the request) the rest of its
/// chain: the future of a [`Router`](super::Router) and of each merged or
/// nested router.
#[must_use = "futures do nothing unless polled"]
pub struct Chained<'a, F, N: Miss<'a>> {
    stage: Stage<F, N::Future>,
    /// The rest of the chain (taken when the routes miss).
    next: Option<N>,
    sel: Selected,
    skip: usize,
    /// The outermost router's rejection hook, for its `404`/`405`.
    hook: Option<RejectionHook>,
}

impl<'a, F, N: Miss<'a>> Chained<'a, F, N> {
    pub(super) fn new(
        routing: F,
        next: N,
        sel: Selected,
        skip: usize,
        hook: Option<RejectionHook>,
    ) -> Self {
        Chained {
            stage: Stage::Route(routing),
            next: Some(next),
            sel,
            skip,
            hook,
        }
    }
}

impl<'a, F, N> Future for Chained<'a, F, N>
where
    F: Future<Output = Routed<'a>>,
    N: Miss<'a>,
{
    type Output = Response;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Response> {
        // SAFETY: `stage` is pinned structurally (never moved out; replaced
        // only through `Pin::set`, which drops the old value in place);
        // the other fields are plain data, never pinned.
        let this = unsafe { self.get_unchecked_mut() };
        loop {
            // SAFETY: see above; `this.stage` does not move.
            let mut stage = unsafe { Pin::new_unchecked(&mut this.stage) };
            // SAFETY: projecting the pinned enum onto its pinned variant.
            match unsafe { stage.as_mut().get_unchecked_mut() } {
                Stage::Route(f) => {
                    // SAFETY: a field of the pinned `stage`.
                    let f = unsafe { Pin::new_unchecked(f) };
                    match f.poll(cx) {
                        Poll::Pending => return Poll::Pending,
                        Poll::Ready(Ok(resp)) => return Poll::Ready(resp),
                        Poll::Ready(Err((req, sel))) => {
                            let sel = combine(this.sel, sel);
                            let Some(next) = this.next.take() else {
                                return Poll::Ready(sel.answer(this.hook));
                            };
                            stage.set(Stage::Next(next.miss(req, sel, this.skip, this.hook)));
                        }
                    }
                }
                // SAFETY: a field of the pinned `stage`.
                Stage::Next(m) => return unsafe { Pin::new_unchecked(m) }.poll(cx),
            }
        }
    }
}

/// One of two futures of the same output.
#[must_use = "futures do nothing unless polled"]
#[derive(Debug)]
pub enum OneOf<A, B> {
    /// The first.
    A(A),
    /// The second.
    B(B),
}

impl<A, B, T> Future for OneOf<A, B>
where
    A: Future<Output = T>,
    B: Future<Output = T>,
{
    type Output = T;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        // SAFETY: the variants are pinned structurally: the enum is never
        // moved out of nor switched while pinned.
        match unsafe { self.get_unchecked_mut() } {
            // SAFETY: as above.
            OneOf::A(a) => unsafe { Pin::new_unchecked(a) }.poll(cx),
            // SAFETY: as above.
            OneOf::B(b) => unsafe { Pin::new_unchecked(b) }.poll(cx),
        }
    }
}

/// The routes of a router and of the routers merged or nested into it,
/// with their prefixes, to find collisions when they are combined.
pub(super) type Tables = std::sync::Arc<Vec<(&'static str, &'static [RouteInfo])>>;
