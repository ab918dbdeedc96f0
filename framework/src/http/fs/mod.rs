//! Static files: [`ServeDir`] (a directory tree) and [`ServeFile`] (one
//! file), for routes or as a whole handler.
//!
//! ```text
//!  request path ─► resolve.rs: decoded path checked (.., /, \, NUL → 403)
//!       │
//!  io_uring: direct.rs on the worker's ring: openat2 beneath the root (no
//!       │   links), statx, decide, read, close; a link or a directory ──┐
//!       │                                                               ▼
//!  epoll: cached.rs on the worker, if the path and bytes are cached ─┐
//!       │                                                               ▼
//!  or the above: pool job (spawn_blocking): canonicalize under the root
//!       │   (links out → 403), open (regular files only), fstat, validators
//!       │   (conditional.rs), 304 / 200 / 206 / 416 (range.rs), read if ≤ 64 KiB
//!       ▼
//!  send.rs: one Response, or Request::stream_sized and body.rs: spans in
//!          the page cache by sendfile(2) (no layers), others read (ring or pool)
//! ```
//!
//! | request | answer |
//! |---|---|
//! | `GET` a file | `200`, `Content-Type` by extension ([`content_type_for`]), `ETag`, `Last-Modified`, `Accept-Ranges: bytes` |
//! | `HEAD` | the same fields and `Content-Length`, no body |
//! | `If-None-Match` naming the `ETag` (or `*`), else `If-Modified-Since` not before `Last-Modified` | `304` |
//! | `Range: bytes=a-b`, `a-`, `-n` (`GET` only; with `If-Range`, only if it names this version) | `206` with `Content-Range` |
//! | a range wholly past the end | `416` with `Content-Range: bytes */len` |
//! | several ranges, another unit, a malformed `Range` | `200`, the whole file (RFC 9110 allows ignoring them; no `multipart/byteranges`) |
//! | a directory with its slash | its `index.html` (or `404`) |
//! | a directory without its slash | `301` to the path with `/` |
//! | `..`, an absolute path, `\`, NUL, a link leading outside the root | `403` |
//! | absent, or not a regular file | `404` |
//!
//! # The ring, the worker, and the blocking pool
//!
//! On io_uring the worker submits the open, `statx`, reads and close
//! itself: the kernel copies a cached page inline and waits for a cold one
//! on its own threads, so the loop stays free without a hand-off (a 4 KiB
//! file costs about 0.6x nginx's CPU; `cargo bench --bench static_load`,
//! BENCHMARKS.md). Without file operations on the ring (the epoll
//! backend), the worker opens and reads with plain system calls only when
//! the kernel promises no disk wait (`openat2` with `RESOLVE_CACHED`, and
//! `cachestat(2)` for the bytes; `cached.rs`): about 0.7x nginx at 4 KiB,
//! where a pool job per request cost 1.5x. Anything else (a cold path or
//! cold bytes, a link, a directory) is one
//! [`spawn_blocking`](crate::task::spawn_blocking) job: one hand-off to a
//! pool thread and one wake back. Large bodies go out by `sendfile(2)`
//! where the page cache holds them (`body.rs`). The cost against reading
//! with `std::fs` on the worker is measured by `suite/tests/http_files.rs`
//! (`measure_`, ignored; see the README).

mod body;
mod cached;
mod conditional;
mod dir;
mod direct;
mod file;
mod mime;
mod range;
mod resolve;
mod send;

pub use dir::ServeDir;
pub use file::ServeFile;
pub use mime::{content_type_for, DEFAULT_CONTENT_TYPE};
