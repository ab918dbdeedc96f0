//! `Compression`: gzip response bodies for clients that accept it
//! (feature `compression`, on by default; zlib-rs, the crate
//! permessage-deflate already uses, so it adds nothing to the build), and
//! Brotli and Zstandard with the features `brotli` and `zstd`.

use super::accept_encoding::{choose, Coding};
use super::{Finish, Layer, MapFuture};
use crate::http::{Handler, Request, Response};

/// A layer compressing response bodies with gzip (RFC 1952), and with
/// Brotli (RFC 7932, feature `brotli`) and Zstandard (RFC 8878, feature
/// `zstd`) where built, when the request's `Accept-Encoding` allows it,
/// adding `Content-Encoding` and, to every response it could have
/// compressed, `Vary: Accept-Encoding` (so caches keep the forms apart).
///
/// The coding is the one of those built that the client gives the highest
/// q-value (a coding it does not list takes `*`'s weight, or is refused;
/// `q=0` refuses); between equal weights, Brotli, then Zstandard, then
/// gzip. So `curl --compressed` (`deflate, gzip, br, zstd`) gets Brotli
/// when the feature is on, and `br;q=0.5, gzip` gets gzip.
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

/// What the response step needs: the settings, and the coding the client
/// takes (if any).
#[derive(Debug, Clone, Copy)]
pub struct Encode {
    cfg: Compression,
    coding: Option<Coding>,
}

impl<'a, H: Handler<'a>> Handler<'a> for Compressed<H> {
    type Future = MapFuture<H::Future, Encode>;
    #[inline]
    fn call(&self, req: Request<'a>) -> Self::Future {
        let coding = choose(req.header_all("accept-encoding"));
        MapFuture::new(
            self.inner.call(req),
            Encode {
                cfg: self.cfg,
                coding,
            },
        )
    }
}

impl Finish for Encode {
    fn finish(self, resp: &mut Response) {
        resp.update(|resp| self.encoded(resp));
    }
}

impl Encode {
    /// `resp`, encoded if it is worth it and the client takes a coding.
    fn encoded(self, resp: Response) -> Response {
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
        let Some(coding) = self.coding else {
            return resp;
        };
        match encode(coding, resp.body_bytes(), self.cfg.level) {
            Some(z) if z.len() < resp.body_bytes().len() => {
                resp.body(z).header("content-encoding", coding.as_str())
            }
            _ => resp,
        }
    }
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

/// `data` in `coding` at `level` (1 to 9: zlib's level; Brotli's
/// quality and Zstandard's level are the same number, on their longer
/// scales), or `None` if the encoder fails.
fn encode(coding: Coding, data: &[u8], level: u8) -> Option<Vec<u8>> {
    match coding {
        Coding::Gzip => gzip(data, level),
        #[cfg(feature = "brotli")]
        Coding::Br => brotli(data, level),
        #[cfg(feature = "zstd")]
        Coding::Zstd => zstd::bulk::compress(data, i32::from(level)).ok(),
    }
}

/// `data` as a Brotli stream (a 4 MiB window at most, what browsers
/// decode).
#[cfg(feature = "brotli")]
fn brotli(data: &[u8], quality: u8) -> Option<Vec<u8>> {
    let params = brotli::enc::BrotliEncoderParams {
        quality: i32::from(quality),
        lgwin: 22,
        size_hint: data.len(),
        ..Default::default()
    };
    let mut out = Vec::with_capacity(data.len() / 2);
    brotli::BrotliCompress(&mut &data[..], &mut out, &params).ok()?;
    Some(out)
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
