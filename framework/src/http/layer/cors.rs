//! `Cors`: cross-origin resource sharing (the Fetch standard's CORS
//! protocol) for browsers calling the server from other origins.

use std::future::{ready, Ready};
use std::sync::Arc;

use super::{Finish, Layer, MapFuture};
use crate::http::route::OneOf;
use crate::http::{Handler, Method, Request, Response, Status};

/// A CORS layer. A request with an `Origin` the layer allows gets
/// `Access-Control-Allow-Origin` on its response (and `Vary: Origin`
/// unless any origin is allowed); a preflight (`OPTIONS` with
/// `Access-Control-Request-Method`) from an allowed origin is answered
/// here with `204` and the `Access-Control-Allow-Methods`,
/// `-Allow-Headers` and `-Max-Age` fields, without reaching the handler.
/// A preflight from another origin gets `403`; other requests from other
/// origins pass unchanged (the browser then refuses the response to the
/// page).
///
/// ```
/// use corering::http::layer::Cors;
///
/// #[corering::get("/api/items")]
/// async fn items() -> &'static str { "[]" }
///
/// let app = corering::routes![items].layer(
///     Cors::new()
///         .allow_origin("https://app.example")
///         .allow_methods("GET, POST, DELETE")
///         .allow_headers("content-type, authorization")
///         .max_age(600),
/// );
/// # let _ = app;
/// ```
#[derive(Debug, Clone)]
pub struct Cors {
    cfg: Arc<Config>,
}

#[derive(Debug, Clone)]
struct Config {
    /// Empty: any origin (`*`).
    origins: Vec<String>,
    methods: &'static str,
    headers: &'static str,
    max_age: Option<u32>,
    credentials: bool,
}

impl Cors {
    /// Allows any origin (`Access-Control-Allow-Origin: *`) until
    /// [`allow_origin`](Cors::allow_origin) names some; methods `GET, HEAD,
    /// POST`; request headers `content-type`.
    ///
    /// ```
    /// let any_origin = corering::http::layer::Cors::new();
    /// # let _ = any_origin;
    /// ```
    pub fn new() -> Cors {
        Cors {
            cfg: Arc::new(Config {
                origins: Vec::new(),
                methods: "GET, HEAD, POST",
                headers: "content-type",
                max_age: None,
                credentials: false,
            }),
        }
    }

    fn cfg(&mut self) -> &mut Config {
        Arc::make_mut(&mut self.cfg)
    }

    /// Allows `origin` (`scheme://host[:port]`, compared exactly); once
    /// one is named, only the named ones are allowed.
    ///
    /// ```
    /// use corering::http::layer::Cors;
    /// let cors = Cors::new()
    ///     .allow_origin("https://app.example")
    ///     .allow_origin("https://admin.example");
    /// # let _ = cors;
    /// ```
    pub fn allow_origin(mut self, origin: &str) -> Cors {
        self.cfg().origins.push(origin.to_owned());
        self
    }

    /// The methods a preflight allows (`Access-Control-Allow-Methods`).
    ///
    /// # Panics
    /// If the value holds a control character.
    ///
    /// ```
    /// let cors = corering::http::layer::Cors::new().allow_methods("GET, PUT, DELETE");
    /// # let _ = cors;
    /// ```
    pub fn allow_methods(mut self, methods: &'static str) -> Cors {
        assert!(
            !methods.bytes().any(|b| b.is_ascii_control()),
            "allow_methods: control character"
        );
        self.cfg().methods = methods;
        self
    }

    /// The request header fields a preflight allows
    /// (`Access-Control-Allow-Headers`).
    ///
    /// # Panics
    /// If the value holds a control character.
    ///
    /// ```
    /// let cors = corering::http::layer::Cors::new().allow_headers("content-type, x-api-key");
    /// # let _ = cors;
    /// ```
    pub fn allow_headers(mut self, headers: &'static str) -> Cors {
        assert!(
            !headers.bytes().any(|b| b.is_ascii_control()),
            "allow_headers: control character"
        );
        self.cfg().headers = headers;
        self
    }

    /// How long a browser may cache a preflight's answer, in seconds
    /// (`Access-Control-Max-Age`).
    ///
    /// ```
    /// let cors = corering::http::layer::Cors::new().max_age(3600);
    /// # let _ = cors;
    /// ```
    pub fn max_age(mut self, secs: u32) -> Cors {
        self.cfg().max_age = Some(secs);
        self
    }

    /// Sends `Access-Control-Allow-Credentials: true` (cookies and
    /// authorization with cross-origin requests). With it the allowed
    /// origin is always echoed, never `*`.
    ///
    /// ```
    /// use corering::http::layer::Cors;
    /// let cors = Cors::new().allow_origin("https://app.example").allow_credentials();
    /// # let _ = cors;
    /// ```
    pub fn allow_credentials(mut self) -> Cors {
        self.cfg().credentials = true;
        self
    }

    /// The `Access-Control-Allow-Origin` value for `origin`, if allowed.
    fn allowed(&self, origin: &str) -> Option<AllowOrigin> {
        let c = &*self.cfg;
        if c.origins.is_empty() {
            return Some(if c.credentials {
                AllowOrigin::Echo(origin.to_owned())
            } else {
                AllowOrigin::Any
            });
        }
        c.origins
            .iter()
            .any(|o| o == origin)
            .then(|| AllowOrigin::Echo(origin.to_owned()))
    }
}

impl Default for Cors {
    fn default() -> Self {
        Cors::new()
    }
}

/// The allowed origin, as sent back.
#[derive(Debug, Clone)]
enum AllowOrigin {
    Any,
    Echo(String),
}

/// Adds the CORS fields of an allowed origin to a response.
#[derive(Debug)]
pub struct CorsFields {
    origin: AllowOrigin,
    credentials: bool,
}

impl Finish for CorsFields {
    fn finish(self, resp: &mut Response) {
        resp.update(|resp| self.fields(resp));
    }
}

impl CorsFields {
    /// `resp` with the fields added.
    fn fields(self, resp: Response) -> Response {
        let resp = match self.origin {
            AllowOrigin::Any => resp.header("access-control-allow-origin", "*"),
            AllowOrigin::Echo(o) => resp
                .header_owned("access-control-allow-origin", o)
                .header("vary", "Origin"),
        };
        if self.credentials {
            resp.header("access-control-allow-credentials", "true")
        } else {
            resp
        }
    }
}

impl<H> Layer<H> for Cors {
    type Handler = CorsHandler<H>;
    fn layer(self, inner: H) -> CorsHandler<H> {
        CorsHandler { cors: self, inner }
    }
}

/// A handler under [`Cors`].
#[derive(Debug, Clone)]
pub struct CorsHandler<H> {
    cors: Cors,
    inner: H,
}

impl<'a, H: Handler<'a>> Handler<'a> for CorsHandler<H> {
    type Future = OneOf<MapFuture<H::Future, Option<CorsFields>>, Ready<Response>>;

    fn call(&self, req: Request<'a>) -> Self::Future {
        let Some(origin) = req.header_str("origin") else {
            return OneOf::A(MapFuture::new(self.inner.call(req), None));
        };
        let allowed = self.cors.allowed(origin);
        let credentials = self.cors.cfg.credentials;
        let preflight = req.method() == Method::Options
            && req.header("access-control-request-method").is_some();
        if preflight {
            return OneOf::B(ready(match allowed {
                Some(origin) => self.preflight(origin),
                None => Response::text("CORS: origin not allowed\n").with_status(Status::FORBIDDEN),
            }));
        }
        let fields = allowed.map(|origin| CorsFields {
            origin,
            credentials,
        });
        OneOf::A(MapFuture::new(self.inner.call(req), fields))
    }
}

impl<H> CorsHandler<H> {
    /// The answer to an allowed preflight.
    fn preflight(&self, origin: AllowOrigin) -> Response {
        let c = &*self.cors.cfg;
        let mut resp = Response::new(Status::NO_CONTENT)
            .header("access-control-allow-methods", c.methods)
            .header("access-control-allow-headers", c.headers);
        if let Some(age) = c.max_age {
            resp = resp.header_owned("access-control-max-age", age.to_string());
        }
        CorsFields {
            origin,
            credentials: c.credentials,
        }
        .fields(resp)
    }
}
