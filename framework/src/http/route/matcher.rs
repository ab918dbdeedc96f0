//! Path patterns, matching and the compile-time collision check.
//!
//! Everything here is used by code the route macros generate; it is public
//! only through `route::__private`.

use std::mem::MaybeUninit;

use super::rejection::{Rejection, RejectionHook, RejectionKind};
use crate::http::head::find_byte;
use crate::http::{Method, Response, Status};

/// Most parameters (`{name}` and `{*tail}`) one route may have.
pub const MAX_PARAMS: usize = 8;

/// One segment of a route pattern.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Segment {
    /// Must equal the request's segment byte for byte.
    Lit(&'static str),
    /// `{name}`: any non-empty segment.
    Param(&'static str),
    /// `{*name}`: the rest of the path (possibly empty); always last.
    Tail(&'static str),
}

/// What a route attribute records about its route.
#[derive(Clone, Copy, Debug)]
pub struct RouteInfo {
    /// The route's method.
    pub method: Method,
    /// The pattern as written.
    pub path: &'static str,
    /// The handler's name.
    pub name: &'static str,
    /// The parsed pattern (`"/"` has none).
    pub segments: &'static [Segment],
    /// False for the placeholder emitted after a compile error.
    pub valid: bool,
    /// Every segment is a literal and `path` spells them: the route matches
    /// exactly the paths equal to `path`.
    pub literal: bool,
}

impl RouteInfo {
    /// A route's record, with what is derived from its segments.
    pub const fn new(
        method: Method,
        path: &'static str,
        name: &'static str,
        segments: &'static [Segment],
        valid: bool,
    ) -> RouteInfo {
        RouteInfo {
            method,
            path,
            name,
            segments,
            valid,
            literal: valid && spells(path, segments),
        }
    }
}

/// True if every segment is a literal and `path` is `/` followed by them,
/// `/`-separated.
const fn spells(path: &str, segs: &[Segment]) -> bool {
    let p = path.as_bytes();
    if p.is_empty() || p[0] != b'/' {
        return false;
    }
    let mut at = 1;
    let mut i = 0;
    while i < segs.len() {
        let Segment::Lit(l) = segs[i] else {
            return false;
        };
        if i > 0 {
            if at >= p.len() || p[at] != b'/' {
                return false;
            }
            at += 1;
        }
        let l = l.as_bytes();
        let mut j = 0;
        while j < l.len() {
            if at >= p.len() || p[at] != l[j] {
                return false;
            }
            at += 1;
            j += 1;
        }
        i += 1;
    }
    at == p.len()
}

/// Parameter values of a matched route: slices of the request path, in
/// pattern order. Fixed size: matching allocates nothing.
#[derive(Clone, Copy)]
pub struct Params<'a> {
    /// Only `vals[..len]` are initialized and this match's; the rest are
    /// left uninitialized (a router's context is made per request, and
    /// most routes have no parameters) or over from an earlier attempt.
    vals: [MaybeUninit<&'a str>; MAX_PARAMS],
    len: usize,
}

impl std::fmt::Debug for Params<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.values()).finish()
    }
}

impl<'a> Params<'a> {
    /// No values.
    pub const fn new() -> Params<'a> {
        Params {
            vals: [MaybeUninit::uninit(); MAX_PARAMS],
            len: 0,
        }
    }

    /// The `i`-th value, in pattern order.
    pub fn get(&self, i: usize) -> Option<&'a str> {
        self.values().get(i).copied()
    }

    /// The values, in pattern order.
    fn values(&self) -> &[&'a str] {
        let init = &self.vals[..self.len];
        // SAFETY: `push` writes `vals[len]` before counting it, so the
        // first `len` are initialized; `MaybeUninit<T>` has `T`'s layout.
        unsafe { &*(init as *const [MaybeUninit<&'a str>] as *const [&'a str]) }
    }

    /// How many values there are.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True if the route had no parameters.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn push(&mut self, v: &'a str) -> bool {
        if self.len == MAX_PARAMS {
            return false;
        }
        self.vals[self.len] = MaybeUninit::new(v);
        self.len += 1;
        true
    }
}

impl Default for Params<'_> {
    fn default() -> Self {
        Params::new()
    }
}

/// Matches `path` (starting with `/`, no query) against `segs`, filling
/// `out` with the parameter values.
pub fn match_path<'p>(segs: &[Segment], path: &'p str, out: &mut Params<'p>) -> bool {
    out.len = 0;
    let b = path.as_bytes();
    if b.first() != Some(&b'/') {
        return false;
    }
    // `pos` is where the next unmatched segment starts; `done` once all are
    // used (nothing after `/` is no segment for "/", an empty segment after
    // a trailing slash). Segments end at `/` (ASCII), so every slice below
    // is on a character boundary.
    let mut pos = 1;
    let mut done = b.len() == 1;
    for seg in segs {
        if done {
            return matches!(seg, Segment::Tail(_)) && out.push("");
        }
        let end = match seg {
            Segment::Tail(_) => return out.push(&path[pos..]),
            // A literal holds no `/`: it matches if it is the segment's
            // start and the segment ends right after it.
            Segment::Lit(l) => {
                let l = l.as_bytes();
                let end = pos + l.len();
                // The first byte settles most mismatches without a compare
                // call.
                if l.first().is_some_and(|c| b.get(pos) != Some(c))
                    || b.get(pos..end) != Some(l)
                    || b.get(end).is_some_and(|&c| c != b'/')
                {
                    return false;
                }
                end
            }
            Segment::Param(_) => {
                let end = find_byte(b, pos, b'/').unwrap_or(b.len());
                if end == pos || !out.push(&path[pos..end]) {
                    return false;
                }
                end
            }
        };
        if end == b.len() {
            done = true;
        } else {
            pos = end + 1;
        }
    }
    done
}

/// Specificity of a segment kind: literals before parameters before the
/// end of a pattern before tails (of two patterns matching one path, one
/// can end only where the other has a tail matching nothing).
const fn rank(s: Option<&Segment>) -> u8 {
    match s {
        Some(Segment::Lit(_)) => 4,
        Some(Segment::Param(_)) => 3,
        None => 2,
        Some(Segment::Tail(_)) => 1,
    }
}

/// True if `a` is more specific than `b` (both matched the same path): at
/// the first position where their kinds differ, `a`'s ranks higher.
pub const fn more_specific(a: &[Segment], b: &[Segment]) -> bool {
    let n = if a.len() > b.len() { a.len() } else { b.len() };
    let mut i = 0;
    while i < n {
        let ra = rank(if i < a.len() { Some(&a[i]) } else { None });
        let rb = rank(if i < b.len() { Some(&b[i]) } else { None });
        if ra != rb {
            return ra > rb;
        }
        i += 1;
    }
    false
}

/// The order in which [`select`] tries `routes`: the
/// [`literal`](RouteInfo::literal) ones first, then the others most
/// specific first ([`more_specific`] is a total preorder: it compares the
/// sequences of segment kinds lexicographically), ties in their listed
/// order. Computed at compile time by `routes!`.
///
/// A literal route matching a path is more specific than any other route
/// matching it (at the first position where they differ the other has a
/// parameter or a tail, or ends where the literal route has none), and two
/// literal routes matching one path have one pattern. So literals may go
/// first, where they are cheap to try.
pub const fn order<const N: usize>(routes: &[RouteInfo; N]) -> [usize; N] {
    let mut out = [0; N];
    let mut i = 0;
    while i < N {
        // Insertion sort, stable: move `i` before the ones it goes before.
        let mut j = i;
        while j > 0 && goes_before(&routes[i], &routes[out[j - 1]]) {
            out[j] = out[j - 1];
            j -= 1;
        }
        out[j] = i;
        i += 1;
    }
    out
}

/// `a` is tried before `b` (see [`order`]).
const fn goes_before(a: &RouteInfo, b: &RouteInfo) -> bool {
    match (a.literal, b.literal) {
        (true, false) => true,
        (false, true) | (true, true) => false,
        (false, false) => more_specific(a.segments, b.segments),
    }
}

/// The outcome of routing one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Selected {
    /// The index of the route to run.
    Route(usize),
    /// No route matches the path: `404`.
    NotFound,
    /// Routes match the path but not the method: `405`; bit `m` set for
    /// each [`Method`] `m as u16` they accept.
    MethodNotAllowed(u16),
}

/// Picks the route for `method` and `path`, leaving its parameter values
/// in `params`. `order` is [`order`]`(routes)`.
///
/// Among the routes whose pattern matches the path and whose method is the
/// request's, the most specific wins ([`more_specific`]); a `HEAD` request
/// with no `HEAD` route is served by the `GET` route. If none has the
/// method, the methods of those matching the path are returned for the
/// `Allow` field (a `GET` route implies `HEAD`).
///
/// Routes are tried most specific first, so the first match with the
/// request's method is the answer. Two routes with one method matching one
/// path are never equally specific: equal kinds everywhere and a path both
/// match mean equal literals, a collision `routes!` rejects.
pub fn select<'p>(
    routes: &[RouteInfo],
    order: &[usize],
    method: Method,
    path: &'p str,
    params: &mut Params<'p>,
) -> Selected {
    let mut get = None;
    for &i in order {
        let r = &routes[i];
        if !r.valid || !serves(r.method, method) {
            continue;
        }
        // A `GET` route for a `HEAD` request: kept if no `HEAD` route matches.
        let fallback = r.method != method;
        let matched = if r.literal {
            params.len = 0;
            r.path.len() == path.len() && r.path == path
        } else {
            match_path(r.segments, path, params)
        };
        if !matched {
            continue;
        }
        if !fallback {
            return Selected::Route(i);
        }
        get = get.or(Some(i));
    }
    if let Some(i) = get {
        match_path(routes[i].segments, path, params);
        return Selected::Route(i);
    }
    // No route has the method: which ones match the path?
    let mut allow = 0u16;
    for r in routes {
        if r.valid && match_path(r.segments, path, params) {
            allow |= 1 << r.method as u16;
        }
    }
    if allow == 0 {
        return Selected::NotFound;
    }
    Selected::not_allowed(allow)
}

/// True if a route for `route` answers a request with `method`: its own,
/// and `HEAD` for a `GET` route.
pub(super) fn serves(route: Method, method: Method) -> bool {
    route == method || (method == Method::Head && route == Method::Get)
}

const ALL_METHODS: [Method; 9] = [
    Method::Get,
    Method::Head,
    Method::Post,
    Method::Put,
    Method::Delete,
    Method::Connect,
    Method::Options,
    Method::Trace,
    Method::Patch,
];

impl Selected {
    /// `405` for a path that routes for the methods in `allow` (bit `m` for
    /// method `m as u16`) take: a `GET` route takes `HEAD` too.
    pub(super) fn not_allowed(mut allow: u16) -> Selected {
        if allow & (1 << Method::Get as u16) != 0 {
            allow |= 1 << Method::Head as u16;
        }
        Selected::MethodNotAllowed(allow)
    }

    /// The automatic response for `NotFound` and `MethodNotAllowed`
    /// (`Route` gives `500`: it is not an answer).
    pub fn fallback(self) -> Response {
        self.answer(None)
    }

    /// The answer to `NotFound` and `MethodNotAllowed`: a [`Rejection`]
    /// through the router's `hook` if it has one (a `405` keeps its
    /// `Allow` field), else `text/plain` (`Route` gives `500`: it is not
    /// an answer).
    pub fn answer(self, hook: Option<RejectionHook>) -> Response {
        match self {
            Selected::NotFound => {
                Rejection::new(RejectionKind::NotFound, Status::NOT_FOUND, "Not Found")
                    .respond(hook)
            }
            Selected::MethodNotAllowed(mask) => {
                let mut allow = String::new();
                for m in ALL_METHODS {
                    if mask & (1 << m as u16) != 0 {
                        if !allow.is_empty() {
                            allow.push_str(", ");
                        }
                        allow.push_str(m.as_str());
                    }
                }
                Rejection::method_not_allowed(allow).respond(hook)
            }
            Selected::Route(_) => Response::new(Status::INTERNAL_SERVER_ERROR),
        }
    }
}

const fn str_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// True if `a` and `b` can never be told apart: same method and, at every
/// position, equal literals or two parameters or two tails. A literal and a
/// parameter at the same position do not collide (the literal ranks first).
pub const fn collide(a: &RouteInfo, b: &RouteInfo) -> bool {
    if !a.valid || !b.valid || a.method as u16 != b.method as u16 {
        return false;
    }
    if a.segments.len() != b.segments.len() {
        return false;
    }
    let mut i = 0;
    while i < a.segments.len() {
        let same = match (&a.segments[i], &b.segments[i]) {
            (Segment::Lit(x), Segment::Lit(y)) => str_eq(x, y),
            (Segment::Param(_), Segment::Param(_)) | (Segment::Tail(_), Segment::Tail(_)) => true,
            _ => false,
        };
        if !same {
            return false;
        }
        i += 1;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A route with no `path` text: never taken as literal, so these
    /// tests exercise `match_path`.
    const fn route(method: Method, segments: &'static [Segment]) -> RouteInfo {
        RouteInfo::new(method, "", "", segments, true)
    }

    #[test]
    fn literal_routes() {
        use Segment::{Lit, Param};
        let lit = |path, segs| RouteInfo::new(Method::Get, path, "", segs, true).literal;
        assert!(lit("/", &[]));
        assert!(lit("/a", &[Lit("a")]));
        assert!(lit("/a/bc", &[Lit("a"), Lit("bc")]));
        assert!(lit("/a/", &[Lit("a"), Lit("")]));
        assert!(!lit("/a/{x}", &[Lit("a"), Param("x")]));
        assert!(!lit("/ab", &[Lit("a")]));
        assert!(!lit("/a", &[Lit("a"), Lit("")]));
        assert!(!lit("", &[]));
        assert!(!RouteInfo::new(Method::Get, "/", "", &[], false).literal);
        // A literal route answers exactly its path, as `match_path` would.
        static R: [RouteInfo; 3] = [
            RouteInfo::new(Method::Get, "/a/", "", &[Lit("a"), Lit("")], true),
            RouteInfo::new(Method::Post, "/a", "", &[Lit("a")], true),
            RouteInfo::new(Method::Get, "/", "", &[], true),
        ];
        assert!(R.iter().all(|r| r.literal));
        let o = order(&R);
        let plain = R.map(|r| route(r.method, r.segments));
        let mut p = Params::new();
        for path in ["/a/", "/a", "/a//", "/", "//", "/b/", "/a/b", ""] {
            for m in [Method::Get, Method::Head, Method::Post] {
                assert_eq!(
                    select(&R, &o, m, path, &mut p),
                    select(&plain, &o, m, path, &mut p),
                    "{m:?} {path}"
                );
            }
        }
    }

    #[test]
    fn matching() {
        let mut p = Params::new();
        let pat = [Segment::Lit("users"), Segment::Param("id")];
        assert!(match_path(&pat, "/users/42", &mut p));
        assert_eq!(p.get(0), Some("42"));
        assert!(!match_path(&pat, "/users/", &mut p));
        assert!(!match_path(&pat, "/users", &mut p));
        assert!(!match_path(&pat, "/users/1/x", &mut p));
        assert!(match_path(&[], "/", &mut p));
        assert!(!match_path(&[], "/a", &mut p));
        let tail = [Segment::Lit("s"), Segment::Tail("rest")];
        assert!(match_path(&tail, "/s/a/b", &mut p));
        assert_eq!(p.get(0), Some("a/b"));
        assert!(match_path(&tail, "/s", &mut p));
        assert_eq!(p.get(0), Some(""));
        assert!(match_path(&tail, "/s/", &mut p));
        assert_eq!(p.get(0), Some(""));
    }

    #[test]
    fn ranking_and_collisions() {
        static LIT: [Segment; 2] = [Segment::Lit("a"), Segment::Lit("b")];
        static PARAM: [Segment; 2] = [Segment::Lit("a"), Segment::Param("x")];
        static PARAM2: [Segment; 2] = [Segment::Lit("a"), Segment::Param("y")];
        let routes = [route(Method::Get, &PARAM), route(Method::Get, &LIT)];
        let mut p = Params::new();
        assert_eq!(
            select(&routes, &order(&routes), Method::Get, "/a/b", &mut p),
            Selected::Route(1)
        );
        assert_eq!(
            select(&routes, &order(&routes), Method::Get, "/a/c", &mut p),
            Selected::Route(0)
        );
        assert_eq!(
            select(&routes, &order(&routes), Method::Head, "/a/c", &mut p),
            Selected::Route(0)
        );
        assert!(matches!(
            select(&routes, &order(&routes), Method::Post, "/a/c", &mut p),
            Selected::MethodNotAllowed(_)
        ));
        assert!(!collide(&routes[0], &routes[1]));
        // An exact pattern beats a tail matching nothing.
        static TAIL: [Segment; 3] = [Segment::Lit("a"), Segment::Param("x"), Segment::Tail("r")];
        let both = [route(Method::Get, &TAIL), route(Method::Get, &PARAM)];
        assert_eq!(
            select(&both, &order(&both), Method::Get, "/a/c", &mut p),
            Selected::Route(1)
        );
        assert_eq!(
            select(&both, &order(&both), Method::Get, "/a/c/d", &mut p),
            Selected::Route(0)
        );
        assert_eq!(p.get(1), Some("d"));
        assert!(collide(&routes[0], &route(Method::Get, &PARAM2)));
        assert!(!collide(&routes[0], &route(Method::Post, &PARAM2)));
    }

    /// The plain algorithm `select` must agree with: match every route,
    /// keep the most specific per method.
    fn reference(routes: &[RouteInfo], method: Method, path: &str) -> Selected {
        let mut p = Params::new();
        let (mut allow, mut best, mut best_get) = (0u16, None::<usize>, None::<usize>);
        for (i, r) in routes.iter().enumerate() {
            if !r.valid || !match_path(r.segments, path, &mut p) {
                continue;
            }
            allow |= 1 << r.method as u16;
            let slot = if r.method == method {
                &mut best
            } else if method == Method::Head && r.method == Method::Get {
                &mut best_get
            } else {
                continue;
            };
            if slot.is_none_or(|b| more_specific(r.segments, routes[b].segments)) {
                *slot = Some(i);
            }
        }
        match best.or(best_get) {
            Some(i) => Selected::Route(i),
            None if allow == 0 => Selected::NotFound,
            None if allow & (1 << Method::Get as u16) != 0 => {
                Selected::MethodNotAllowed(allow | 1 << Method::Head as u16)
            }
            None => Selected::MethodNotAllowed(allow),
        }
    }

    #[test]
    fn select_agrees_with_reference() {
        use Segment::{Lit, Param, Tail};
        static PATS: [(&str, &[Segment]); 9] = [
            ("/", &[]),
            ("/a", &[Lit("a")]),
            ("/a/b", &[Lit("a"), Lit("b")]),
            ("/a/{x}", &[Lit("a"), Param("x")]),
            ("/{x}/b", &[Param("x"), Lit("b")]),
            ("/a/{*r}", &[Lit("a"), Tail("r")]),
            ("/{*r}", &[Tail("r")]),
            ("/a/", &[Lit("a"), Lit("")]),
            ("/{x}/{y}/{*r}", &[Param("x"), Param("y"), Tail("r")]),
        ];
        let methods = [Method::Get, Method::Head, Method::Post];
        let mut routes = Vec::new();
        for (k, (path, pat)) in PATS.iter().enumerate() {
            // Every pattern for GET, some for HEAD and POST too.
            let mut add = |m| routes.push(RouteInfo::new(m, path, "", pat, true));
            add(Method::Get);
            if k % 3 == 1 {
                add(Method::Head);
            }
            if k % 2 == 0 {
                add(Method::Post);
            }
        }
        let paths = [
            "/", "/a", "/a/", "/a/b", "/a/c", "/c/b", "/a/b/c", "/x", "//", "/a//", "", "a",
        ];
        // Every subset of up to the first 14 routes (listed order kept).
        let n = routes.len().min(14);
        for mask in 0u32..1 << n {
            let sub: Vec<RouteInfo> = (0..n)
                .filter(|i| mask & 1 << i != 0)
                .map(|i| routes[i])
                .collect();
            let pairs_collide = sub
                .iter()
                .enumerate()
                .any(|(j, b)| sub[..j].iter().any(|a| collide(a, b)));
            if pairs_collide {
                continue;
            }
            let ord = order_of(&sub);
            for path in paths {
                for m in methods {
                    let mut p = Params::new();
                    let got = select(&sub, &ord, m, path, &mut p);
                    assert_eq!(got, reference(&sub, m, path), "{m:?} {path:?} {sub:?}");
                    if let Selected::Route(i) = got {
                        let mut q = Params::new();
                        assert!(match_path(sub[i].segments, path, &mut q));
                        assert_eq!(format!("{p:?}"), format!("{q:?}"));
                    }
                }
            }
        }
    }

    /// [`order`] for a slice (tests build route lists at run time).
    fn order_of(routes: &[RouteInfo]) -> Vec<usize> {
        let mut out: Vec<usize> = (0..routes.len()).collect();
        out.sort_by(|&a, &b| {
            if goes_before(&routes[a], &routes[b]) {
                std::cmp::Ordering::Less
            } else if goes_before(&routes[b], &routes[a]) {
                std::cmp::Ordering::Greater
            } else {
                std::cmp::Ordering::Equal
            }
        });
        out
    }

    #[test]
    fn literal_routes_go_first() {
        use Segment::{Lit, Param, Tail};
        const R: [RouteInfo; 5] = [
            RouteInfo::new(Method::Get, "/{x}", "", &[Param("x")], true),
            RouteInfo::new(Method::Get, "/a", "", &[Lit("a")], true),
            RouteInfo::new(Method::Get, "/a/{x}", "", &[Lit("a"), Param("x")], true),
            RouteInfo::new(Method::Get, "/{*r}", "", &[Tail("r")], true),
            RouteInfo::new(Method::Post, "/", "", &[], true),
        ];
        const O: [usize; 5] = order(&R);
        assert_eq!(O, [1, 4, 2, 0, 3]);
        let plain = R.map(|r| route(r.method, r.segments));
        let mut p = Params::new();
        for path in ["/", "/a", "/b", "/a/b", "/a/b/c", "/a/"] {
            for m in [Method::Get, Method::Head, Method::Post, Method::Put] {
                let got = select(&R, &O, m, path, &mut p);
                assert_eq!(got, reference(&plain, m, path), "{m:?} {path}");
            }
        }
    }

    #[test]
    fn const_order_is_sorted_and_stable() {
        use Segment::{Lit, Param, Tail};
        const R: [RouteInfo; 5] = [
            route(Method::Get, &[]),
            route(Method::Get, &[Tail("r")]),
            route(Method::Get, &[Lit("a")]),
            route(Method::Post, &[Param("x")]),
            route(Method::Get, &[Lit("a"), Param("x")]),
        ];
        const O: [usize; 5] = order(&R);
        assert_eq!(O, [4, 2, 3, 0, 1]);
        assert_eq!(order_of(&R), O.to_vec());
    }

    /// The earlier `str`-splitting matcher, the reference for `match_path`.
    fn reference_match<'p>(segs: &[Segment], path: &'p str) -> Option<Vec<&'p str>> {
        let mut out = Vec::new();
        let mut rest = path.strip_prefix('/')?;
        let mut done = rest.is_empty();
        for seg in segs {
            if let Segment::Tail(_) = seg {
                out.push(if done { "" } else { rest });
                return Some(out);
            }
            if done {
                return None;
            }
            let (this, next) = match rest.find('/') {
                Some(i) => (&rest[..i], Some(&rest[i + 1..])),
                None => (rest, None),
            };
            match seg {
                Segment::Lit(l) if *l == this => {}
                Segment::Param(_) if !this.is_empty() => out.push(this),
                _ => return None,
            }
            match next {
                Some(n) => rest = n,
                None => done = true,
            }
        }
        done.then_some(out)
    }

    #[test]
    fn match_path_agrees_with_reference() {
        use Segment::{Lit, Param, Tail};
        let pats: [&[Segment]; 10] = [
            &[],
            &[Lit("a")],
            &[Lit("ab")],
            &[Lit("a"), Lit("b")],
            &[Lit("a"), Param("x")],
            &[Param("x"), Lit("")],
            &[Lit("a"), Tail("r")],
            &[Tail("r")],
            &[Lit("a"), Lit("")],
            &[Param("x"), Param("y"), Tail("r")],
        ];
        let paths = [
            "/", "/a", "/ab", "/a/", "/a/b", "/ab/b", "/a/bc", "/c/b", "/a/b/c", "//", "/a//",
            "//a", "", "a", "/é/b", "/a/é",
        ];
        for pat in pats {
            for path in paths {
                let mut p = Params::new();
                let got = match_path(pat, path, &mut p)
                    .then(|| (0..p.len()).map(|i| p.get(i).unwrap()).collect());
                assert_eq!(got, reference_match(pat, path), "{pat:?} {path:?}");
            }
        }
    }
}
