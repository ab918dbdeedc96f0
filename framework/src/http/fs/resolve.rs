//! From a request path to a file under the root, refusing every way out:
//! `..` segments, absolute paths, backslashes and NUL bytes (checked on
//! the decoded path before the disk is touched), and symbolic links that
//! lead outside the root (the resolved path must start with the
//! canonical root).
//!
//! The check and the open are two steps: a link swapped in between them
//! by someone who can write under the root could still be followed for
//! the directories on the way (the last component is opened with
//! `O_NOFOLLOW`). Roots writable by untrusted users are not supported.

use std::fs::{File, Metadata, OpenOptions};
use std::io;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// Why a path is not served.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// Nothing servable there: `404`.
    NotFound,
    /// A path that tries to leave the root: `403`.
    Forbidden,
}

/// The relative path `rel` (percent-decoded, `/`-separated) as a path
/// below the root, or `Forbidden` for one that could leave it. Empty and
/// `.` segments are dropped.
///
/// ```text
///  "css/site.css"  -> css/site.css        "a//./b" -> a/b
///  "../etc/passwd" -> Forbidden           "/etc"   -> Forbidden
///  "a\\..\\b"      -> Forbidden           "a\0b"   -> Forbidden
/// ```
pub(crate) fn relative_path(rel: &str) -> Result<PathBuf, Refusal> {
    if rel.starts_with('/') || rel.contains(['\0', '\\']) {
        return Err(Refusal::Forbidden);
    }
    let mut out = PathBuf::new();
    for seg in rel.split('/') {
        match seg {
            "" | "." => {}
            ".." => return Err(Refusal::Forbidden),
            s => out.push(s),
        }
    }
    Ok(out)
}

/// A file found and opened, with its metadata (taken from the open file).
#[derive(Debug)]
pub(crate) struct Found {
    pub file: File,
    pub meta: Metadata,
    /// The resolved path (its name gives the content type).
    pub path: PathBuf,
}

/// What a lookup under a root gives.
#[derive(Debug)]
pub(crate) enum Lookup {
    /// A regular file, open (boxed: the other answers are a byte).
    File(Box<Found>),
    /// A directory named without its trailing slash: redirect to it.
    AddSlash,
    /// Refused or absent.
    Refused(Refusal),
}

/// Resolves `rel` (from [`relative_path`]) under `root` (canonical), and
/// opens it: a directory with `index` in it gives that file, if
/// `slash` (the request path ended with `/`; otherwise [`Lookup::AddSlash`]).
/// Blocking: run it off the worker.
pub(crate) fn lookup(root: &Path, rel: &Path, slash: bool, index: Option<&str>) -> Lookup {
    let path = match beneath(root, &root.join(rel)) {
        Ok(p) => p,
        Err(r) => return Lookup::Refused(r),
    };
    let Ok(meta) = std::fs::metadata(&path) else {
        return Lookup::Refused(Refusal::NotFound);
    };
    if meta.is_dir() {
        if !slash && !rel.as_os_str().is_empty() {
            return Lookup::AddSlash;
        }
        let Some(index) = index else {
            return Lookup::Refused(Refusal::NotFound);
        };
        return match beneath(root, &path.join(index)) {
            Ok(p) => open_regular(p),
            Err(r) => Lookup::Refused(r),
        };
    }
    open_regular(path)
}

/// `path` resolved (links followed), if it stays under `root`.
fn beneath(root: &Path, path: &Path) -> Result<PathBuf, Refusal> {
    let real = path.canonicalize().map_err(|_| Refusal::NotFound)?;
    if real.starts_with(root) {
        Ok(real)
    } else {
        Err(Refusal::Forbidden)
    }
}

/// Opens `path` if it is a regular file (never a FIFO or a device, whose
/// open or read could block for good).
pub(crate) fn open_regular(path: PathBuf) -> Lookup {
    match open_file(&path) {
        Ok((file, meta)) => Lookup::File(Box::new(Found { file, meta, path })),
        Err(_) => Lookup::Refused(Refusal::NotFound),
    }
}

fn open_file(path: &Path) -> io::Result<(File, Metadata)> {
    let file = OpenOptions::new()
        .read(true)
        // Not a link (resolved already), and a FIFO put there meanwhile
        // does not block the open.
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC)
        .open(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(io::Error::other("not a regular file"));
    }
    Ok((file, meta))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths() {
        assert_eq!(
            relative_path("css/site.css"),
            Ok(PathBuf::from("css/site.css"))
        );
        assert_eq!(relative_path("a//./b/"), Ok(PathBuf::from("a/b")));
        assert_eq!(relative_path(""), Ok(PathBuf::new()));
        assert_eq!(relative_path("..hidden"), Ok(PathBuf::from("..hidden")));
        for bad in [
            "..",
            "../x",
            "a/../b",
            "a/..",
            "/etc/passwd",
            "a\\..\\b",
            "a\0b",
        ] {
            assert_eq!(relative_path(bad), Err(Refusal::Forbidden), "{bad:?}");
        }
    }
}
