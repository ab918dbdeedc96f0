//! `RequestId`: an id per request, from the client or made here, echoed
//! on the response.

use std::cell::Cell;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use super::{Finish, Layer, MapFuture};
use crate::http::itoa;
use crate::http::{Handler, Request, Response, INLINE_VALUE_MAX};

/// A layer giving each request an id in a header field (`x-request-id`
/// by default): the client's, if it sent one of at most 38 visible ASCII
/// characters, else a new one, `<process>-<thread>-<counter>` in hex
/// (unique within a server run and, with the process part taken from the
/// start time, across runs). The response carries the same field. No
/// allocation: the id lives in the request's future and the response
/// ([`Response::header_inline`]); the counter is per thread.
///
/// Handlers read a client's id with `req.header("x-request-id")`; a made
/// id appears on the response only.
///
/// ```
/// use corering::http::layer::RequestId;
///
/// #[corering::get("/")]
/// async fn index() -> &'static str { "home" }
///
/// let app = corering::routes![index].layer(RequestId::new().header("x-correlation-id"));
/// # let _ = app;
/// ```
#[derive(Debug, Clone, Copy)]
pub struct RequestId {
    name: &'static str,
}

impl RequestId {
    /// Ids in `x-request-id`.
    ///
    /// ```
    /// #[corering::get("/")]
    /// async fn index() -> &'static str { "home" }
    /// let app = corering::routes![index].layer(corering::http::layer::RequestId::new());
    /// # let _ = app;
    /// ```
    pub fn new() -> RequestId {
        RequestId {
            name: "x-request-id",
        }
    }

    /// Ids in the field `name` instead.
    ///
    /// # Panics
    /// If `name` is not a field name (a token).
    ///
    /// ```
    /// let ids = corering::http::layer::RequestId::new().header("x-trace-id");
    /// # let _ = ids;
    /// ```
    pub fn header(mut self, name: &'static str) -> RequestId {
        assert!(
            !name.is_empty() && name.bytes().all(crate::http::body::is_tchar),
            "RequestId::header: {name:?} is not a field name"
        );
        self.name = name;
        self
    }
}

impl Default for RequestId {
    fn default() -> Self {
        RequestId::new()
    }
}

impl<H> Layer<H> for RequestId {
    type Handler = WithRequestId<H>;
    fn layer(self, inner: H) -> WithRequestId<H> {
        WithRequestId { cfg: self, inner }
    }
}

/// A handler under [`RequestId`].
#[derive(Debug, Clone, Copy)]
pub struct WithRequestId<H> {
    cfg: RequestId,
    inner: H,
}

/// The id, carried to the response.
#[derive(Debug, Clone, Copy)]
pub struct SetId {
    name: &'static str,
    len: u8,
    id: [u8; INLINE_VALUE_MAX],
}

impl Finish for SetId {
    #[inline]
    fn finish(self, resp: Response) -> Response {
        resp.header_inline(self.name, &self.id[..usize::from(self.len)])
    }
}

impl<'a, H: Handler<'a>> Handler<'a> for WithRequestId<H> {
    type Future = MapFuture<H::Future, SetId>;
    #[inline]
    fn call(&self, req: Request<'a>) -> Self::Future {
        let mut set = SetId {
            name: self.cfg.name,
            len: 0,
            id: [0; INLINE_VALUE_MAX],
        };
        match req.header(self.cfg.name) {
            Some(v)
                if !v.is_empty()
                    && v.len() <= INLINE_VALUE_MAX
                    && v.iter().all(u8::is_ascii_graphic) =>
            {
                set.id[..v.len()].copy_from_slice(v);
                set.len = v.len() as u8;
            }
            _ => set.len = make_id(&mut set.id) as u8,
        }
        MapFuture::new(self.inner.call(req), set)
    }
}

/// The process part of made ids (from the clock at first use).
static PROCESS: AtomicU32 = AtomicU32::new(0);
/// Thread numbers, handed out at each thread's first id.
static THREADS: AtomicU32 = AtomicU32::new(0);

thread_local! {
    /// This thread's number and its next counter value.
    static NEXT: Cell<(u32, u64)> = const { Cell::new((u32::MAX, 0)) };
}

/// Writes a new id into `out`; returns its length.
fn make_id(out: &mut [u8; INLINE_VALUE_MAX]) -> usize {
    let mut process = PROCESS.load(Ordering::Relaxed);
    if process == 0 {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        let mixed = (now.as_nanos() as u32) ^ std::process::id().rotate_left(16);
        let _ = PROCESS.compare_exchange(0, mixed | 1, Ordering::Relaxed, Ordering::Relaxed);
        process = PROCESS.load(Ordering::Relaxed);
    }
    let (thread, n) = NEXT.with(|c| {
        let (mut t, n) = c.get();
        if t == u32::MAX {
            t = THREADS.fetch_add(1, Ordering::Relaxed);
        }
        c.set((t, n + 1));
        (t, n)
    });
    let mut at = 0;
    for (i, part) in [u64::from(process), u64::from(thread), n]
        .into_iter()
        .enumerate()
    {
        if i > 0 {
            out[at] = b'-';
            at += 1;
        }
        let mut digits = [0u8; 16];
        let digits = itoa::fmt_hex(part, &mut digits);
        out[at..at + digits.len()].copy_from_slice(digits);
        at += digits.len();
    }
    at
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_differ_and_fit() {
        let mut a = [0; INLINE_VALUE_MAX];
        let mut b = [0; INLINE_VALUE_MAX];
        let la = make_id(&mut a);
        let lb = make_id(&mut b);
        assert_ne!(a[..la], b[..lb]);
        assert!(a[..la].iter().all(|c| c.is_ascii_hexdigit() || *c == b'-'));
    }
}
