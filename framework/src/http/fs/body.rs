//! A file's bytes as a streamed body (`Request::stream_sized`), from
//! either source:
//!
//! ```text
//!  span in the page cache (cachestat), connection without layers
//!      └─► queued as a file span (up to 16 MiB): sendfile(2) from the
//!          page cache, no copy
//!  otherwise (a cold span, TLS, an old kernel)
//!      └─► read in 256 KiB pieces (the worker's ring, or the blocking
//!          pool), the next under way while one is written; each buffer is
//!          handed over whole
//! ```
//!
//! Either way the stream holds at most the connection's write limit plus
//! one read, whatever the file's size, and the response pace
//! (`min_response_rate`) holds the client as for any streamed body.

use std::fs::File;
use std::future::Future;
use std::os::fd::AsRawFd;
use std::pin::Pin;
use std::sync::Arc;

use super::send::{read_exact, Source, CHUNK};
use crate::driver::sendfile::cached;
use crate::http::{Request, Response, Status};
use crate::runtime::file_io;
use crate::task::spawn_blocking;

type Read = Pin<Box<dyn Future<Output = std::io::Result<Vec<u8>>>>>;

/// The most bytes queued as one file span: a span takes no memory, so it
/// is large, which makes a typical file one `cachestat(2)` and, as far as
/// the socket takes it, one `sendfile(2)`.
const SPAN: u64 = 16 << 20;

/// Streams `n` bytes of `source` from `start` after `head`.
pub(crate) async fn stream(
    req: &mut Request<'_>,
    head: Response,
    source: Source,
    start: u64,
    n: u64,
) -> Response {
    let (file, ring) = match source {
        Source::Pool(f) => (Arc::new(f), false),
        Source::Ring(fd) => (Arc::new(File::from(fd)), true),
    };
    let end = start + n;
    let read = |at: u64| -> Read {
        let len = (end - at).min(CHUNK as u64) as usize;
        if ring {
            Box::pin(file_io::read_at(file.as_raw_fd(), Vec::new(), len, at))
        } else {
            let file = Arc::clone(&file);
            Box::pin(spawn_blocking(move || {
                read_exact(&file, at, len, Vec::new())
            }))
        }
    };
    let Ok(mut out) = req.stream_sized(head, n).await else {
        return Response::new(Status::INTERNAL_SERVER_ERROR);
    };
    let files = out.sends_files();
    // Whether the span at `at` goes out by `sendfile(2)`, and its length.
    let span = |at: u64| {
        let len = (end - at).min(SPAN);
        (files && cached(file.as_raw_fd(), at, len)).then_some(len)
    };
    let mut at = start;
    let mut pending: Option<Read> = None;
    while at < end {
        let Some(job) = pending.take() else {
            if let Some(len) = span(at) {
                if out.write_file(&file, at, len as usize).await.is_err() {
                    return out.abort();
                }
                at += len;
            } else {
                pending = Some(read(at));
            }
            continue;
        };
        let buf = match job.await {
            Ok(buf) if !buf.is_empty() => buf,
            // The file shrank or failed: cut the body short.
            _ => return out.abort(),
        };
        at += buf.len() as u64;
        if at < end && span(at).is_none() {
            pending = Some(read(at));
        }
        // Handed over, not copied: the connection sends this buffer as it
        // is, and the next read gets a fresh one.
        if out.write_vec(buf).await.is_err() {
            return out.abort();
        }
    }
    out.finish().await
}
