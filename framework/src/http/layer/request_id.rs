//! `RequestId`: an id per request, from the client or made here, echoed
//! on the response.

use std::cell::UnsafeCell;
use std::pin::Pin;
use std::sync::atomic::{AtomicU32, Ordering};
use std::task::{Context, Poll};
use std::time::{SystemTime, UNIX_EPOCH};

use super::{Finish, Layer, MapFuture};
use crate::http::itoa;
use crate::http::response::InlineName;
use crate::http::{Handler, Request, Response, INLINE_VALUE_MAX};

/// A layer giving each request an id in a header field (`x-request-id`
/// by default): the client's, if it sent one of at most 38 visible ASCII
/// characters, else a new one, `<process>-<thread>-<counter>` in hex
/// (unique within a server run and, with the process part taken from the
/// start time, across runs). The response carries the same field. No
/// allocation: the request's future keeps only where the client's id
/// lies in the request, and the id is written straight into the
/// response ([`Response::header_inline`]) when it is ready; the counter
/// is per thread, and kept as hex text that is incremented in place, so
/// a new id is a copy and a digit's increment.
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
    name: InlineName,
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
            name: InlineName::new("x-request-id"),
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
            crate::http::body::is_token(name.as_bytes()),
            "RequestId::header: {name:?} is not a field name"
        );
        self.name = InlineName::new(name);
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

/// The id, carried to the response: the client's (in the request's
/// bytes), or `None` for one made when the response is ready.
#[derive(Debug, Clone, Copy)]
pub struct SetId<'a> {
    name: InlineName,
    client: Option<&'a [u8]>,
}

impl Finish for SetId<'_> {
    #[inline]
    fn finish(self, resp: &mut Response) {
        // The id is visible ASCII: a client's was checked, a made one is
        // hex digits and dashes.
        match self.client {
            Some(v) => {
                let mut value = [0; INLINE_VALUE_MAX];
                value[..v.len()].copy_from_slice(v);
                resp.set_inline(self.name, &value, v.len());
            }
            None => with_new_id(|id, len| resp.set_inline(self.name, id, len)),
        }
    }
}

impl<'a, H: Handler<'a>> Handler<'a> for WithRequestId<H> {
    type Future = MapFuture<H::Future, SetId<'a>>;
    #[inline(always)]
    fn call(&self, req: Request<'a>) -> Self::Future {
        let client = req.header(self.cfg.name.as_str()).filter(|v| {
            !v.is_empty() && v.len() <= INLINE_VALUE_MAX && v.iter().all(u8::is_ascii_graphic)
        });
        let set = SetId {
            name: self.cfg.name,
            client,
        };
        MapFuture::new(self.inner.call(req), set)
    }
    #[inline(always)]
    fn poll_into(fut: Pin<&mut Self::Future>, cx: &mut Context<'_>, out: &mut Poll<Response>) {
        fut.poll_into(cx, out, H::poll_into);
    }
}

/// The process part of made ids (from the clock at first use).
static PROCESS: AtomicU32 = AtomicU32::new(0);
/// Thread numbers, handed out at each thread's first id.
static THREADS: AtomicU32 = AtomicU32::new(0);

thread_local! {
    /// This thread's next id as text, `<process>-<thread>-<counter>`, and
    /// its length (0 before the thread's first id).
    static NEXT: UnsafeCell<(u8, [u8; INLINE_VALUE_MAX])> =
        const { UnsafeCell::new((0, [0; INLINE_VALUE_MAX])) };
}

/// Calls `f` with a new id: a whole array and how many of its bytes are
/// the id (the rest is padding).
#[inline]
fn with_new_id<R>(f: impl FnOnce(&[u8; INLINE_VALUE_MAX], usize) -> R) -> R {
    let next = NEXT.with(UnsafeCell::get);
    // SAFETY: `next` is this thread's own state, reached only here, and
    // `f` (which sets a response field) cannot come back into this
    // function: no other reference to it exists while this one lives.
    let (len, id) = unsafe { &mut *next };
    if *len == 0 {
        (*len, *id) = first_id();
    }
    // Handed out, then counted on in place.
    let given = usize::from(*len);
    let r = f(id, given);
    *len = bump(id, given) as u8;
    r
}

/// This thread's first id: `<process>-<thread>-0`.
#[cold]
#[inline(never)]
fn first_id() -> (u8, [u8; INLINE_VALUE_MAX]) {
    let mut process = PROCESS.load(Ordering::Relaxed);
    if process == 0 {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        let mixed = (now.as_nanos() as u32) ^ std::process::id().rotate_left(16);
        let _ = PROCESS.compare_exchange(0, mixed | 1, Ordering::Relaxed, Ordering::Relaxed);
        process = PROCESS.load(Ordering::Relaxed);
    }
    let thread = THREADS.fetch_add(1, Ordering::Relaxed);
    let mut id = [0; INLINE_VALUE_MAX];
    let mut at = 0;
    for part in [process, thread] {
        let mut digits = [0u8; 16];
        let digits = itoa::fmt_hex(u64::from(part), &mut digits);
        id[at..at + digits.len()].copy_from_slice(digits);
        id[at + digits.len()] = b'-';
        at += digits.len() + 1;
    }
    id[at] = b'0';
    ((at + 1) as u8, id)
}

/// Adds one to the hex counter that ends the `len` bytes of `id` (after
/// its last `-`); returns the new length (one more when the counter gains
/// a digit). At most 8 + 1 + 8 + 1 + 17 bytes: it fits.
#[inline]
fn bump(id: &mut [u8; INLINE_VALUE_MAX], len: usize) -> usize {
    let mut i = len;
    while i > 0 {
        i -= 1;
        match id[i] {
            b'f' => id[i] = b'0',
            b'9' => {
                id[i] = b'a';
                return len;
            }
            b'-' => break,
            c => {
                id[i] = c + 1;
                return len;
            }
        }
    }
    // All `f`: a `1` in front of the zeros.
    id.copy_within(i + 1..len, i + 2);
    id[i + 1] = b'1';
    len + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_differ_and_fit() {
        let (a, la) = with_new_id(|id, len| (*id, len));
        let (b, lb) = with_new_id(|id, len| (*id, len));
        assert_ne!(a[..la], b[..lb]);
        assert!(a[..la].iter().all(|c| c.is_ascii_hexdigit() || *c == b'-'));
        assert_eq!(std::str::from_utf8(&a[..la]).unwrap().split('-').count(), 3);
    }

    #[test]
    fn the_counter_counts_in_hex() {
        let mut id = [0; INLINE_VALUE_MAX];
        id[..4].copy_from_slice(b"a-1-");
        let mut len = 4;
        for n in [0u64, 0xe, 0xfe, 0xfff, 0x19f, u64::MAX - 1] {
            let start = format!("{n:x}");
            id[4..4 + start.len()].copy_from_slice(start.as_bytes());
            len = 4 + start.len();
            len = bump(&mut id, len);
            assert_eq!(&id[..len], format!("a-1-{:x}", n + 1).as_bytes());
        }
        // Past `u64::MAX`: one more digit, still unique.
        len = bump(&mut id, len);
        assert_eq!(&id[..len], format!("a-1-1{}", "0".repeat(16)).as_bytes());
    }
}
