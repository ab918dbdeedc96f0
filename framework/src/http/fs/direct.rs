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
//!  statx (a plain call) ─ a directory ─► the pool path (slash, index file)
//!        ─ not a regular file ─────────► 404
//!  decide (send::choose) ─ ≤ 64 KiB: one read, one Response
//!                        ─ larger: stream_sized, then `body.rs`:
//!                          sendfile(2) of cached spans, else ring reads
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

use super::cached::{file_type, mtime, stat_cached};
use super::resolve::{Lookup, Refusal};
use super::send::{choose, Ask, Plan, Source, SMALL};
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
    let st = match stat_cached(fd.as_raw_fd()) {
        Ok(st) => st,
        Err(_) => {
            file_io::close_file(fd);
            return None;
        }
    };
    match file_type(&st) {
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
