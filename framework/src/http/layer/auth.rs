//! `RequireBearer`: a bearer token (RFC 6750) in `Authorization`, or `401`.

use std::future::{ready, Ready};
use std::sync::Arc;

use super::Layer;
use crate::http::route::OneOf;
use crate::http::{Handler, Request, Response, Status};

/// A layer answering `401 Unauthorized` with `WWW-Authenticate: Bearer`
/// (and `error="invalid_token"` when a wrong token was sent) to requests
/// without `Authorization: Bearer <token>` for the token given; others
/// reach the handler. The comparison takes the same time wherever the
/// tokens differ.
///
/// ```
/// use corering::http::layer::RequireBearer;
///
/// #[corering::get("/admin")]
/// async fn admin() -> &'static str { "secret" }
///
/// let token = std::env::var("ADMIN_TOKEN").unwrap_or_else(|_| "dev-token".into());
/// let app = corering::routes![admin].layer(RequireBearer::new(&token).realm("admin"));
/// # let _ = app;
/// ```
#[derive(Debug, Clone)]
pub struct RequireBearer {
    token: Arc<str>,
    challenge: &'static str,
    invalid: &'static str,
}

impl RequireBearer {
    /// Requires `token`.
    ///
    /// ```
    /// use corering::http::layer::RequireBearer;
    /// let token = std::env::var("API_TOKEN").unwrap_or_else(|_| "dev-token".into());
    /// let auth = RequireBearer::new(&token);
    /// # let _ = auth;
    /// ```
    pub fn new(token: &str) -> RequireBearer {
        RequireBearer {
            token: token.into(),
            challenge: "Bearer",
            invalid: "Bearer error=\"invalid_token\"",
        }
    }

    /// Names the protection space in the challenge (`Bearer
    /// realm="name"`).
    ///
    /// # Panics
    /// If `name` holds `"`, `\` or a control character.
    ///
    /// ```
    /// let auth = corering::http::layer::RequireBearer::new("s3cret").realm("admin");
    /// # let _ = auth;
    /// ```
    pub fn realm(mut self, name: &str) -> RequireBearer {
        assert!(
            !name
                .bytes()
                .any(|b| b == b'"' || b == b'\\' || b.is_ascii_control()),
            "RequireBearer::realm: bad character in {name:?}"
        );
        // Built once at startup and kept for the server's life.
        self.challenge = Box::leak(format!("Bearer realm=\"{name}\"").into_boxed_str());
        self.invalid =
            Box::leak(format!("Bearer realm=\"{name}\", error=\"invalid_token\"").into_boxed_str());
        self
    }
}

impl<H> Layer<H> for RequireBearer {
    type Handler = Bearer<H>;
    fn layer(self, inner: H) -> Bearer<H> {
        Bearer { cfg: self, inner }
    }
}

/// A handler under [`RequireBearer`].
#[derive(Debug, Clone)]
pub struct Bearer<H> {
    cfg: RequireBearer,
    inner: H,
}

/// Equal, in a time that depends only on the lengths.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl<'a, H: Handler<'a>> Handler<'a> for Bearer<H> {
    type Future = OneOf<H::Future, Ready<Response>>;

    fn call(&self, req: Request<'a>) -> Self::Future {
        let sent = req.header("authorization").map(|v| match v.get(..7) {
            Some(scheme) if scheme.eq_ignore_ascii_case(b"bearer ") => {
                same(v[7..].trim_ascii(), self.cfg.token.as_bytes())
            }
            _ => false,
        });
        let challenge = match sent {
            Some(true) => return OneOf::A(self.inner.call(req)),
            Some(false) => self.cfg.invalid,
            None => self.cfg.challenge,
        };
        OneOf::B(ready(
            Response::text("unauthorized\n")
                .with_status(Status::UNAUTHORIZED)
                .header("www-authenticate", challenge),
        ))
    }
}
