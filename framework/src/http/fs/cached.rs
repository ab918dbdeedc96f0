//! Files opened and read on the worker with plain system calls where the
//! kernel promises not to wait for the disk: the path walk only through
//! the dentry cache (`openat2` with `RESOLVE_CACHED`, else `EAGAIN`), and
//! the bytes only if `cachestat(2)` finds them in the page cache. Used
//! where the ring has no file operations (the epoll backend, or an
//! io_uring without them); anything it cannot promise goes to the pool
//! path (`send.rs`), which may block.
//!
//! ```text
//!  openat2 (beneath the root, no links, RESOLVE_CACHED)
//!    ├─ ENOENT / ENOTDIR ─────────────────► 404
//!    ├─ EAGAIN (not cached), a link, ... ─► the pool path
//!  fstat ─ a directory ───────────────────► the pool path
//!        ─ not a regular file ────────────► 404
//!  decide (send::choose) ─ ≤ 64 KiB, in the page cache: one pread
//!                        ─ ≤ 64 KiB, not cached: the pool path
//!                        ─ larger: `body.rs` (sendfile of cached spans)
//! ```

use std::ffi::CString;
use std::fs::File;
use std::os::fd::{AsRawFd, FromRawFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::FileExt;
use std::path::Path;

use super::resolve::{Lookup, Refusal};
use super::send::{choose, Ask, Plan, Source, SMALL};
use crate::driver::op::{open_file_resolve, OPEN_FILE_FLAGS};
use crate::driver::sendfile::cached;

/// The plan for the file at `path` (relative to `dir`, and kept beneath
/// it if `beneath`), or `None` where the pool path must answer.
pub(crate) fn plan(dir: RawFd, path: &Path, beneath: bool, ask: &Ask) -> Option<Plan> {
    let not_found = || Some(Plan::Lookup(Lookup::Refused(Refusal::NotFound)));
    let c_path = CString::new(path.as_os_str().as_bytes()).ok()?;
    let file = match open(dir, &c_path, beneath) {
        Ok(f) => f,
        Err(e) => {
            return match e.raw_os_error() {
                Some(libc::ENOENT | libc::ENOTDIR) => not_found(),
                _ => None,
            }
        }
    };
    // The inode is in memory once open: no disk wait.
    let meta = file.metadata().ok()?;
    if meta.is_dir() {
        return None;
    }
    if !meta.is_file() {
        return not_found();
    }
    let mtime = meta.modified().unwrap_or(std::time::UNIX_EPOCH);
    let (mut decided, span) = choose(meta.len(), mtime, path, ask);
    match span {
        Some((at, n)) if n <= SMALL => {
            if !cached(file.as_raw_fd(), at, n) {
                return None;
            }
            let mut bytes = vec![0u8; n as usize];
            file.read_exact_at(&mut bytes, at).ok()?;
            decided.set_bytes(bytes);
        }
        Some(_) => decided.set_source(Source::Pool(file)),
        None => {}
    }
    Some(Plan::File(decided))
}

/// `openat2(dir, path)` as the ring would open it (`Request::OpenFile`),
/// and only through cached path components.
fn open(dir: RawFd, path: &CString, beneath: bool) -> std::io::Result<File> {
    // SAFETY: open_how is three integers; all zeros is its empty value.
    let mut how: libc::open_how = unsafe { std::mem::zeroed() };
    how.flags = OPEN_FILE_FLAGS as u64;
    how.resolve = open_file_resolve(beneath) | libc::RESOLVE_CACHED;
    // SAFETY: `path` is NUL-terminated and `how` a live open_how of the
    // size passed; the result is a new descriptor this function owns.
    let fd = unsafe {
        libc::syscall(
            libc::SYS_openat2,
            dir,
            path.as_ptr(),
            &how as *const libc::open_how,
            std::mem::size_of::<libc::open_how>(),
        )
    };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: openat2 returned a new descriptor, owned by nothing else.
    Ok(unsafe { File::from_raw_fd(fd as RawFd) })
}
