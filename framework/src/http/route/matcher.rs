//! Path patterns, matching and the compile-time collision check.
//!
//! Everything here is used by code the route macros generate; it is public
//! only through `route::__private`.

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
}

/// Parameter values of a matched route: slices of the request path, in
/// pattern order. Fixed size: matching allocates nothing.
#[derive(Clone, Copy, Debug)]
pub struct Params<'a> {
    vals: [&'a str; MAX_PARAMS],
    len: usize,
}

impl<'a> Params<'a> {
    /// No values.
    pub const fn new() -> Params<'a> {
        Params {
            vals: [""; MAX_PARAMS],
            len: 0,
        }
    }

    /// The `i`-th value, in pattern order.
    pub fn get(&self, i: usize) -> Option<&'a str> {
        self.vals[..self.len].get(i).copied()
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
        self.vals[self.len] = v;
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
    *out = Params::new();
    let Some(mut rest) = path.strip_prefix('/') else {
        return false;
    };
    // `rest` holds the unmatched segments; `done` once all are used (an
    // empty `rest` after `/` is no segment for "/", one empty segment
    // after a trailing slash).
    let mut done = rest.is_empty();
    for seg in segs {
        if let Segment::Tail(_) = seg {
            return out.push(if done { "" } else { rest });
        }
        if done {
            return false;
        }
        let (this, next) = match rest.find('/') {
            Some(i) => (&rest[..i], Some(&rest[i + 1..])),
            None => (rest, None),
        };
        match seg {
            Segment::Lit(l) if *l == this => {}
            Segment::Param(_) if !this.is_empty() => {
                if !out.push(this) {
                    return false;
                }
            }
            _ => return false,
        }
        match next {
            Some(n) => rest = n,
            None => done = true,
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
pub fn more_specific(a: &[Segment], b: &[Segment]) -> bool {
    let n = a.len().max(b.len());
    for i in 0..n {
        let (ra, rb) = (rank(a.get(i)), rank(b.get(i)));
        if ra != rb {
            return ra > rb;
        }
    }
    false
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
/// in `params`.
///
/// Among the routes whose pattern matches the path and whose method is the
/// request's, the most specific wins ([`more_specific`]); a `HEAD` request
/// with no `HEAD` route is served by the `GET` route. If none has the
/// method, the methods of those matching the path are returned for the
/// `Allow` field (a `GET` route implies `HEAD`).
pub fn select<'p>(
    routes: &[RouteInfo],
    method: Method,
    path: &'p str,
    params: &mut Params<'p>,
) -> Selected {
    let mut scratch = Params::new();
    let mut allow = 0u16;
    let mut best: Option<usize> = None;
    let mut best_get: Option<usize> = None;
    for (i, r) in routes.iter().enumerate() {
        if !r.valid || !match_path(r.segments, path, &mut scratch) {
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
        let better = match *slot {
            Some(b) => more_specific(r.segments, routes[b].segments),
            None => true,
        };
        if better {
            *slot = Some(i);
        }
    }
    match best.or(best_get) {
        Some(i) => {
            match_path(routes[i].segments, path, params);
            Selected::Route(i)
        }
        None if allow == 0 => Selected::NotFound,
        None => {
            if allow & (1 << Method::Get as u16) != 0 {
                allow |= 1 << Method::Head as u16;
            }
            Selected::MethodNotAllowed(allow)
        }
    }
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
    /// The automatic response for `NotFound` and `MethodNotAllowed`
    /// (`Route` gives `500`: it is not an answer).
    pub fn fallback(self) -> Response {
        match self {
            Selected::NotFound => Response::new(Status::NOT_FOUND)
                .content_type("text/plain; charset=utf-8")
                .body("Not Found"),
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
                Response::new(Status::METHOD_NOT_ALLOWED)
                    .content_type("text/plain; charset=utf-8")
                    .header_owned("Allow", allow)
                    .body("Method Not Allowed")
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

    const fn route(method: Method, segments: &'static [Segment]) -> RouteInfo {
        RouteInfo {
            method,
            path: "",
            name: "",
            segments,
            valid: true,
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
            select(&routes, Method::Get, "/a/b", &mut p),
            Selected::Route(1)
        );
        assert_eq!(
            select(&routes, Method::Get, "/a/c", &mut p),
            Selected::Route(0)
        );
        assert_eq!(
            select(&routes, Method::Head, "/a/c", &mut p),
            Selected::Route(0)
        );
        assert!(matches!(
            select(&routes, Method::Post, "/a/c", &mut p),
            Selected::MethodNotAllowed(_)
        ));
        assert!(!collide(&routes[0], &routes[1]));
        // An exact pattern beats a tail matching nothing.
        static TAIL: [Segment; 3] = [Segment::Lit("a"), Segment::Param("x"), Segment::Tail("r")];
        let both = [route(Method::Get, &TAIL), route(Method::Get, &PARAM)];
        assert_eq!(
            select(&both, Method::Get, "/a/c", &mut p),
            Selected::Route(1)
        );
        assert_eq!(
            select(&both, Method::Get, "/a/c/d", &mut p),
            Selected::Route(0)
        );
        assert_eq!(p.get(1), Some("d"));
        assert!(collide(&routes[0], &route(Method::Get, &PARAM2)));
        assert!(!collide(&routes[0], &route(Method::Post, &PARAM2)));
    }
}
