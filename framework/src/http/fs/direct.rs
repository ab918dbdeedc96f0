//! Files opened and read on the worker's ring (io_uring with the file
//! opcodes, `runtime/file_io.rs`): no pool thread, no hand-off, and still
//! no wait on the disk in the worker (the kernel reads a cached page
//! inline and a cold one on its own threads).
//!
//! ```text
//!  open (openat2: beneath the root's descriptor, no symbolic links)
//!    ├─ ENOENT / ENOTDIR ──────────────► 404
//!    ├─ a link, anything else ─────────► the pool path (`send.rs`), which
//!    │                                   resolves links and checks them
//!  statx ─ a directory ────────────────► the pool path (slash, index file)
//!        ─ not a regular file ─────────► 404
//!  decide (send::choose) ─ ≤ 64 KiB: one read, one Response
//!                        ─ larger: stream_sized, 256 KiB reads, the next
//!                          under way while one is written
//!  close on the ring, unawaited
//! ```
//!
//! Refusing links here and leaving them to the pool keeps one definition
//! of which links are allowed (those that stay under the root) and of the
//! content type (the link target's name), however a request is served.

use std::ffi::CString;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::resolve::{Lookup, Refusal};
use super::send::{choose, Ask, Plan, Source, CHUNK, SMALL};
use crate::http::{Request, Response, Status};
use crate::runtime::file_io;

/// The plan for the file at `path` (relative to `dir`, and kept beneath
/// it if `beneath`), or `None` where the pool path must answer.
pub(crate) async fn plan(dir: RawFd, path: &Path, beneath: bool, ask: &Ask) -> Option<Plan> {
    let not_found = || Some(Plan::Lookup(Lookup::Refused(Refusal::NotFound)));
    let c_path = CString::new(path.as_os_str().as_bytes()).ok()?;
    let fd = match file_io::open(dir, c_path, beneath).await {
        Ok(fd) => fd,
        Err(e) => {
            return match e.raw_os_error() {
                Some(libc::ENOENT | libc::ENOTDIR) => not_found(),
                _ => None,
            }
        }
    };
    let st = match file_io::statx(fd.as_raw_fd()).await {
        Ok(st) => st,
        Err(_) => {
            file_io::close_file(fd);
            return None;
        }
    };
    match st.stx_mode as libc::mode_t & libc::S_IFMT {
        libc::S_IFREG => {}
        libc::S_IFDIR => {
            file_io::close_file(fd);
            return None;
        }
        _ => {
            file_io::close_file(fd);
            return not_found();
        }
    }
    let (mut decided, span) = choose(st.stx_size, mtime(&st), path, ask);
    match span {
        Some((at, n)) if n <= SMALL => {
            let read = read_exact(&fd, at, n as usize).await;
            file_io::close_file(fd);
            match read {
                Some(bytes) => decided.set_bytes(bytes),
                None => return not_found(),
            }
        }
        Some(_) => decided.set_source(Source::Ring(fd)),
        None => file_io::close_file(fd),
    }
    Some(Plan::File(decided))
}

/// The modification time as `Metadata::modified` gives it.
fn mtime(st: &libc::statx) -> SystemTime {
    let t = st.stx_mtime;
    let nsec = Duration::from_nanos(t.tv_nsec as u64);
    if t.tv_sec >= 0 {
        UNIX_EPOCH + Duration::from_secs(t.tv_sec as u64) + nsec
    } else {
        UNIX_EPOCH - Duration::from_secs(t.tv_sec.unsigned_abs()) + nsec
    }
}

/// `n` bytes at `at`, in as many reads as it takes; `None` if the file
/// ends first (it shrank) or a read fails.
async fn read_exact(fd: &OwnedFd, at: u64, n: usize) -> Option<Vec<u8>> {
    let mut bytes = file_io::read_at(fd.as_raw_fd(), Vec::new(), n, at)
        .await
        .ok()?;
    while bytes.len() < n {
        let more = file_io::read_at(
            fd.as_raw_fd(),
            Vec::new(),
            n - bytes.len(),
            at + bytes.len() as u64,
        )
        .await
        .ok()?;
        if more.is_empty() {
            return None;
        }
        bytes.extend_from_slice(&more);
    }
    Some(bytes)
}

/// Streams `n` bytes of `fd` from `start` as `send::stream` does from the
/// pool, the next ring read in flight while one is written; each buffer is
/// handed to the connection whole (`write_vec`) rather than copied into
/// its write buffer, so memory is the write buffer limit plus one read.
pub(crate) async fn stream(
    req: &mut Request<'_>,
    head: Response,
    fd: OwnedFd,
    start: u64,
    n: u64,
) -> Response {
    let raw = fd.as_raw_fd();
    let end = start + n;
    let read =
        |at: u64| file_io::read_at(raw, Vec::new(), (end - at).min(CHUNK as u64) as usize, at);
    let mut pending = Some(Box::pin(read(start)));
    let out = req.stream_sized(head, n).await;
    let Ok(mut out) = out else {
        drop(pending);
        file_io::close_file(fd);
        return Response::new(Status::INTERNAL_SERVER_ERROR);
    };
    let mut at = start;
    while let Some(job) = pending.take() {
        let buf = match job.await {
            Ok(buf) if !buf.is_empty() => buf,
            // The file shrank or failed: cut the body short.
            _ => {
                file_io::close_file(fd);
                return out.abort();
            }
        };
        at += buf.len() as u64;
        if at < end {
            pending = Some(Box::pin(read(at)));
        }
        // Handed over, not copied: the connection sends this buffer as it
        // is, and the next read gets a fresh one.
        if out.write_vec(buf).await.is_err() {
            drop(pending);
            file_io::close_file(fd);
            return out.abort();
        }
    }
    file_io::close_file(fd);
    out.finish().await
}
