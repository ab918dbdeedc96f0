//! `RouteFn`: one route added at run time by
//! [`Router::route`](super::Router::route), a link of the miss chain
//! (`miss.rs`) tried after the routes before it.
//!
//! Its pattern is parsed when it is added (a bad one panics, at startup)
//! and kept for the life of the process, as the route macros' patterns
//! are: the router's collision check and `405` lists read it like theirs.

use super::extract::AppState;
use super::matcher::{match_path, serves, Params, RouteInfo, Segment, Selected};
use super::miss::{combine, unnested, Miss, MissChain, NotFound, OneOf, Sub};
use super::rejection::RejectionHook;
use crate::http::{Handler, Method, Request};

/// A route added by [`Router::route`](super::Router::route): its method
/// and pattern, its handler, and the rest of the chain.
#[derive(Clone)]
pub struct RouteFn<H, N> {
    info: &'static RouteInfo,
    handler: H,
    next: N,
}

impl<H> RouteFn<H, NotFound> {
    pub(super) fn new(info: &'static RouteInfo, handler: H) -> Self {
        RouteFn {
            info,
            handler,
            next: NotFound,
        }
    }
}

impl<H, N> RouteFn<H, N> {
    /// This route with the rest of its chain replaced by `f`'s.
    pub(super) fn map_next<N2>(self, f: impl FnOnce(N) -> N2) -> RouteFn<H, N2> {
        RouteFn {
            info: self.info,
            handler: self.handler,
            next: f(self.next),
        }
    }
}

/// The record of `method` `path`, parsed and kept for the life of the
/// process.
///
/// # Panics
/// If `path` is not a pattern a route attribute takes: it must start with
/// `/`, hold no empty segment, `?` or `#`, and use `{name}` and a last
/// `{*name}` only as whole segments.
pub(super) fn leak_route(method: Method, path: &'static str) -> &'static RouteInfo {
    let segments: &'static [Segment] = Box::leak(parse(path).into_boxed_slice());
    Box::leak(Box::new(RouteInfo::new(
        method, path, "closure", segments, true,
    )))
}

/// `path`'s segments, as the route macros parse them.
fn parse(path: &'static str) -> Vec<Segment> {
    let bad = |why: &str| -> ! { panic!("Router::route: path {path:?}: {why}") };
    let Some(rest) = path.strip_prefix('/') else {
        bad("must start with `/`")
    };
    if path.contains(['?', '#', ' ']) {
        bad("holds `?`, `#` or a space");
    }
    if rest.is_empty() {
        return Vec::new();
    }
    let parts: Vec<&'static str> = rest.split('/').collect();
    let last = parts.len() - 1;
    let mut names: Vec<&str> = Vec::new();
    let mut out = Vec::with_capacity(parts.len());
    for (i, part) in parts.into_iter().enumerate() {
        let seg = match part.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
            Some(inner) => {
                let (tail, name) = match inner.strip_prefix('*') {
                    Some(n) => (true, n),
                    None => (false, inner),
                };
                let ident = name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
                    && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
                if !ident {
                    bad("a parameter's name must be an identifier");
                }
                if names.contains(&name) {
                    bad("a parameter's name appears twice");
                }
                names.push(name);
                if tail && i != last {
                    bad("`{*name}` must be the last segment");
                }
                if tail {
                    Segment::Tail(name)
                } else {
                    Segment::Param(name)
                }
            }
            None if part.is_empty() => bad("has an empty segment"),
            None if part.contains(['{', '}']) => bad("`{` and `}` must enclose a whole segment"),
            None => Segment::Lit(part),
        };
        out.push(seg);
    }
    out
}

impl<H: Clone, N: MissChain> MissChain for RouteFn<H, N> {
    type Appended<G: Clone> = RouteFn<H, N::Appended<G>>;
    type WithFallback<F: Clone> = RouteFn<H, N::WithFallback<F>>;
    type AppendedFn<H2: Clone> = RouteFn<H, N::AppendedFn<H2>>;
    fn inherit(&mut self, parent: &AppState) {
        self.next.inherit(parent);
    }
    fn append<G: Clone>(self, sub: Sub<G, NotFound>) -> Self::Appended<G> {
        self.map_next(|next| next.append(sub))
    }
    fn append_fn<H2: Clone>(self, route: RouteFn<H2, NotFound>) -> Self::AppendedFn<H2> {
        self.map_next(|next| next.append_fn(route))
    }
    fn with_fallback<F: Clone>(self, fallback: F) -> Self::WithFallback<F> {
        self.map_next(|next| next.with_fallback(fallback))
    }
    fn missing_states(&self, out: &mut Vec<String>) {
        self.next.missing_states(out);
    }
}

impl<'a, H, N> Miss<'a> for RouteFn<H, N>
where
    H: Handler<'a> + Clone,
    N: Miss<'a>,
{
    type Future = OneOf<H::Future, N::Future>;
    fn miss(
        &self,
        req: Request<'a>,
        sel: Selected,
        skip: usize,
        hook: Option<RejectionHook>,
    ) -> Self::Future {
        let mut params = Params::new();
        if !match_path(self.info.segments, unnested(req.path(), skip), &mut params) {
            return OneOf::B(self.next.miss(req, sel, skip, hook));
        }
        let ours = self.info.method;
        if serves(ours, req.method()) {
            return OneOf::A(self.handler.call(req));
        }
        let sel = combine(sel, Selected::not_allowed(1 << ours as u16));
        OneOf::B(self.next.miss(req, sel, skip, hook))
    }
}

/// Routes the router's tables collide with, for the panic of
/// [`Router::route`](super::Router::route).
pub(super) fn collision_message(a: &RouteInfo, prefix: &str, b: &RouteInfo) -> String {
    format!(
        "Router::route: {} {} collides with route `{}` ({} {prefix}{}): same method, and no \
         request can tell their paths apart",
        b.method, b.path, a.name, a.method, a.path
    )
}
