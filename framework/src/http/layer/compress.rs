//! `Compression`: gzip response bodies for clients that accept it
//! (feature `compression`, on by default; zlib-rs, the crate
//! permessage-deflate already uses, so it adds nothing to the build).

use super::{Finish, Layer, MapFuture};
use crate::http::{Handler, Request, Response};

/// A layer compressing response bodies with gzip (RFC 1952) when the
/// request's `Accept-Encoding` allows it, adding `Content-Encoding: gzip`
/// and, to every response it could have compressed, `Vary:
/// Accept-Encoding` (so caches keep both forms apart).
///
/// Left as they are: bodies under [`min_size`](Compression::min_size)
/// (1 KiB by default), responses that already carry a
/// `Content-Encoding`, types that are compressed already or not known to
/// compress (only `text/*`, JSON, JavaScript, XML, SVG, WebAssembly and
/// `*+json`/`*+xml` are), `1xx`/`204`/`206`/`304`, protocol switches,
/// streamed responses ([`Request::stream`]: their bytes are sent before the
/// layer sees the response) and bodies that would not get smaller.
/// Compression costs one allocation (the compressed body) per response.
///
/// ```
/// use corering::http::layer::Compression;
///
/// #[corering::get("/report")]
/// async fn report() -> String {
///     "lots of text ".repeat(1000)
/// }
///
/// let app = corering::routes![report].layer(Compression::new().level(6).min_size(512));
/// # let _ = app;
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Compression {
    level: u8,
    min_size: usize,
}

impl Compression {
    /// gzip at level 4 for bodies of at least 1 KiB.
    ///
    /// ```
    /// #[corering::get("/")]
    /// async fn index() -> &'static str { "home" }
    /// let app = corering::routes![index].layer(corering::http::layer::Compression::new());
    /// # let _ = app;
    /// ```
    pub fn new() -> Compression {
        Compression {
            level: 4,
            min_size: 1024,
        }
    }

    /// The zlib level, 1 (fastest) to 9 (smallest); clamped.
    ///
    /// ```
    /// let fast = corering::http::layer::Compression::new().level(1);
    /// # let _ = fast;
    /// ```
    pub fn level(mut self, level: u8) -> Compression {
        self.level = level.clamp(1, 9);
        self
    }

    /// Bodies shorter than this are sent as they are.
    ///
    /// ```
    /// let big_only = corering::http::layer::Compression::new().min_size(16 * 1024);
    /// # let _ = big_only;
    /// ```
    pub fn min_size(mut self, bytes: usize) -> Compression {
        self.min_size = bytes;
        self
    }
}

impl Default for Compression {
    fn default() -> Self {
        Compression::new()
    }
}

impl<H> Layer<H> for Compression {
    type Handler = Compressed<H>;
    fn layer(self, inner: H) -> Compressed<H> {
        Compressed { cfg: self, inner }
    }
}

/// A handler under [`Compression`].
#[derive(Debug, Clone, Copy)]
pub struct Compressed<H> {
    cfg: Compression,
    inner: H,
}

/// What the response step needs: the settings, and whether the client
/// takes gzip.
#[derive(Debug, Clone, Copy)]
pub struct Gzip {
    cfg: Compression,
    accepted: bool,
}

impl<'a, H: Handler<'a>> Handler<'a> for Compressed<H> {
    type Future = MapFuture<H::Future, Gzip>;
    #[inline]
    fn call(&self, req: Request<'a>) -> Self::Future {
        let accepted = req.header_all("accept-encoding").any(accepts_gzip);
        MapFuture::new(
            self.inner.call(req),
            Gzip {
                cfg: self.cfg,
                accepted,
            },
        )
    }
}

impl Finish for Gzip {
    fn finish(self, resp: Response) -> Response {
        let code = resp.status().as_u16();
        let body = resp.body_bytes();
        if code < 200
            || matches!(code, 204 | 206 | 304)
            || resp.is_upgrade()
            || body.len() < self.cfg.min_size
            || resp.has_header("content-encoding")
            || !resp.header_value("content-type").is_some_and(compressible)
        {
            return resp;
        }
        let resp = if resp.has_header("vary") {
            resp
        } else {
            resp.header("vary", "Accept-Encoding")
        };
        if !self.accepted {
            return resp;
        }
        match gzip(resp.body_bytes(), self.cfg.level) {
            Some(z) if z.len() < resp.body_bytes().len() => {
                resp.body(z).header("content-encoding", "gzip")
            }
            _ => resp,
        }
    }
}

/// True if an `Accept-Encoding` value allows gzip: listed (or `*`) with
/// a nonzero weight (RFC 9110 §12.5.3).
fn accepts_gzip(value: &[u8]) -> bool {
    let Ok(value) = std::str::from_utf8(value) else {
        return false;
    };
    value.split(',').any(|item| {
        let mut parts = item.split(';');
        let coding = parts.next().unwrap_or("").trim();
        if !coding.eq_ignore_ascii_case("gzip")
            && !coding.eq_ignore_ascii_case("x-gzip")
            && coding != "*"
        {
            return false;
        }
        !parts.any(|p| {
            let p = p.trim();
            p.len() >= 2
                && p[..2].eq_ignore_ascii_case("q=")
                && p[2..].trim().parse::<f32>().is_ok_and(|q| q <= 0.0)
        })
    })
}

/// True for media types worth compressing.
fn compressible(content_type: &[u8]) -> bool {
    let Ok(ct) = std::str::from_utf8(content_type) else {
        return false;
    };
    let mime = ct
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    mime.starts_with("text/")
        || mime.ends_with("+json")
        || mime.ends_with("+xml")
        || matches!(
            mime.as_str(),
            "application/json"
                | "application/javascript"
                | "application/xml"
                | "application/wasm"
                | "image/svg+xml"
        )
}

/// `data` as a gzip member, or `None` if zlib fails.
fn gzip(data: &[u8], level: u8) -> Option<Vec<u8>> {
    // 16 + 15: a gzip header and trailer around a 32 KiB window.
    let config = zlib_rs::DeflateConfig {
        level: i32::from(level),
        window_bits: 16 + 15,
        ..zlib_rs::DeflateConfig::default()
    };
    // The bound for zlib's wrapper, plus gzip's longer header and trailer.
    let mut out = vec![0u8; zlib_rs::compress_bound(data.len()) + 18];
    let (z, rc) = zlib_rs::compress_slice(&mut out, data, config);
    if rc != zlib_rs::ReturnCode::Ok {
        return None;
    }
    let n = z.len();
    out.truncate(n);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_encoding_parsing() {
        assert!(accepts_gzip(b"gzip"));
        assert!(accepts_gzip(b"deflate, gzip;q=1.0, br"));
        assert!(accepts_gzip(b"*"));
        assert!(accepts_gzip(b"GZIP ; q=0.5"));
        assert!(!accepts_gzip(b"gzip;q=0"));
        assert!(!accepts_gzip(b"br, deflate"));
        assert!(!accepts_gzip(b""));
        assert!(!accepts_gzip(b"\xff"));
    }

    #[test]
    fn types() {
        assert!(compressible(b"text/html; charset=utf-8"));
        assert!(compressible(b"application/json"));
        assert!(compressible(b"application/problem+json"));
        assert!(!compressible(b"image/png"));
        assert!(!compressible(b"application/octet-stream"));
    }

    #[test]
    fn gzip_magic() {
        let z = gzip(&b"abc".repeat(1000), 4).unwrap();
        assert_eq!(&z[..2], &[0x1f, 0x8b]);
        assert!(z.len() < 100);
    }
}
