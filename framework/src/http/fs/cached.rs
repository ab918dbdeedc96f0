//! Files opened and read on the worker with plain system calls where the
//! kernel promises not to wait for the disk: the path walk only through
//! the dentry cache (`openat2` with `RESOLVE_CACHED`, else `EAGAIN`), and
//! a small file's bytes only from the page cache (`preadv2` with
//! `RWF_NOWAIT`). Tried first on every backend: on a file in the caches
//! it takes the fewest steps (on io_uring the ring's open, read and close
//! measured slower than these calls, 1.03x nginx's CPU a 4 KiB request
//! against 0.99x). What is not in the caches goes to the ring where there
//! is one (`direct.rs`); that, and directories, links and failures, go to
//! the pool path (`send.rs`), which may block.
//!
//! ```text
//!  openat2 (beneath the root, no links, RESOLVE_CACHED)
//!    ├─ ENOENT / ENOTDIR ─────────────────► 404
//!    ├─ EAGAIN (not cached) ──────────────► the ring, else the pool
//!    ├─ a link, anything else ────────────► the pool path
//!  statx ─ a directory ───────────────────► the pool path
//!        ─ not a regular file ────────────► 404
//!  decide (send::choose) ─ ≤ 64 KiB, in the page cache: one preadv2
//!                        ─ ≤ 64 KiB, not cached: the ring, else the pool
//!                        ─ larger: `body.rs` (sendfile of cached spans,
//!                          ring reads or the pool's for the rest)
//! ```

use std::ffi::CString;
use std::fs::File;
use std::os::fd::{AsRawFd, FromRawFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::resolve::{Lookup, Refusal};
use super::send::{choose, Ask, Plan, Source, SMALL};
use crate::driver::op::{open_file_resolve, OPEN_FILE_FLAGS};
use crate::runtime::file_io;

/// The plan made on the worker for the file at `path` (relative to `dir`,
/// and kept beneath it if `beneath`): with plain calls for a file in the
/// caches, else on the ring where there is one; `None` where the pool
/// path must answer.
pub(crate) async fn on_worker(dir: RawFd, path: &Path, beneath: bool, ask: &Ask) -> Option<Plan> {
    match plan(dir, path, beneath, ask) {
        Ok(plan) => Some(plan),
        Err(Fallback::Uncached) if file_io::available() => {
            super::direct::plan(dir, path, beneath, ask).await
        }
        Err(_) => None,
    }
}

/// Why the plain calls left a file to another path.
enum Fallback {
    /// A path component or a small file's bytes are not in the caches
    /// (or the file system cannot say): the ring can read them.
    Uncached,
    /// A directory, a link, or a failure: the pool path answers (it
    /// resolves links and index files).
    Pool,
}

/// The plan for the file at `path` with plain calls, or why they cannot
/// make it without waiting for the disk.
fn plan(dir: RawFd, path: &Path, beneath: bool, ask: &Ask) -> Result<Plan, Fallback> {
    let not_found = || Ok(Plan::Lookup(Lookup::Refused(Refusal::NotFound)));
    let c_path = CString::new(path.as_os_str().as_bytes()).map_err(|_| Fallback::Pool)?;
    let file = match open(dir, &c_path, beneath) {
        Ok(f) => f,
        Err(e) => {
            return match e.raw_os_error() {
                Some(libc::ENOENT | libc::ENOTDIR) => not_found(),
                Some(libc::EAGAIN) => Err(Fallback::Uncached),
                _ => Err(Fallback::Pool),
            }
        }
    };
    let st = stat_cached(file.as_raw_fd()).map_err(|_| Fallback::Pool)?;
    match file_type(&st) {
        libc::S_IFREG => {}
        libc::S_IFDIR => return Err(Fallback::Pool),
        _ => return not_found(),
    }
    let (mut decided, span) = choose(st.stx_size, mtime(&st), path, ask);
    match span {
        Some((at, n)) if n <= SMALL => {
            let bytes = read_cached(&file, at, n as usize).ok_or(Fallback::Uncached)?;
            decided.set_bytes(bytes);
        }
        // Cold spans of it are read on the ring where there is one.
        Some(_) if file_io::available() => decided.set_source(Source::Ring(file.into())),
        Some(_) => decided.set_source(Source::Pool(file)),
        None => {}
    }
    Ok(Plan::File(decided))
}

/// statx(2) of the open file `fd`, a plain call on either path: the
/// inode of an open file is in memory, and `AT_STATX_DONT_SYNC` keeps a
/// network file system from asking its server. (On the ring, statx
/// always goes to an io-wq thread: a hand-off and a wake-up a request.)
pub(super) fn stat_cached(fd: RawFd) -> std::io::Result<libc::statx> {
    // SAFETY: statx is plain data; all zeroes is a valid value.
    let mut st: libc::statx = unsafe { std::mem::zeroed() };
    let mask = libc::STATX_TYPE | libc::STATX_SIZE | libc::STATX_MTIME;
    let flags = libc::AT_EMPTY_PATH | libc::AT_STATX_DONT_SYNC;
    // SAFETY: `fd` is an open descriptor, the path a valid empty C
    // string, and `st` a valid statx buffer the call fills.
    let r = unsafe { libc::statx(fd, c"".as_ptr(), flags, mask, &mut st) };
    if r == 0 {
        Ok(st)
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// The file type bits (`S_IFREG`, `S_IFDIR`, ...) of `st`.
pub(super) fn file_type(st: &libc::statx) -> libc::mode_t {
    libc::mode_t::from(st.stx_mode) & libc::S_IFMT
}

/// The modification time as `Metadata::modified` gives it.
pub(super) fn mtime(st: &libc::statx) -> SystemTime {
    let t = st.stx_mtime;
    let nsec = Duration::from_nanos(u64::from(t.tv_nsec));
    if t.tv_sec >= 0 {
        UNIX_EPOCH + Duration::from_secs(t.tv_sec as u64) + nsec
    } else {
        UNIX_EPOCH - Duration::from_secs(t.tv_sec.unsigned_abs()) + nsec
    }
}

/// `n` bytes at `at`, read only from the page cache (`RWF_NOWAIT`, one
/// call, into memory not zeroed first); `None` if any of them is not
/// there, the file is shorter now, or the file system cannot promise it:
/// another path reads them.
fn read_cached(file: &File, at: u64, n: usize) -> Option<Vec<u8>> {
    let mut bytes: Vec<u8> = Vec::with_capacity(n);
    let iov = libc::iovec {
        iov_base: bytes.as_mut_ptr().cast(),
        iov_len: n,
    };
    let offset = libc::off_t::try_from(at).ok()?;
    // SAFETY: `iov` covers the `n` bytes of `bytes`' spare capacity, which
    // the call may write and nothing else references meanwhile.
    let r = unsafe { libc::preadv2(file.as_raw_fd(), &iov, 1, offset, libc::RWF_NOWAIT) };
    if usize::try_from(r).ok()? != n {
        return None;
    }
    // SAFETY: the call wrote all `n` bytes.
    unsafe { bytes.set_len(n) };
    Some(bytes)
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
