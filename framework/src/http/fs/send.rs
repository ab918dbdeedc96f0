//! Answering with an opened file: the decision (`304`, `200`, `206`,
//! `416`, [`choose`], shared with the ring path in `direct.rs`) and the
//! bytes. On this path all disk work runs on the blocking pool
//! ([`spawn_blocking`](crate::task::spawn_blocking)); the worker only
//! writes.
//!
//! ```text
//!  worker: copy the conditional fields ──► pool: open, fstat, decide, and
//!                                          read the bytes if ≤ 64 KiB
//!  worker: one Response (Content-Length) ◄──┘
//!      or: stream_sized, then the bytes (`body.rs`): sendfile(2) of
//!          spans the page cache holds, else 256 KiB reads on the pool
//! ```

use std::fs::File;
use std::os::unix::fs::FileExt;

use super::conditional::Validators;
use super::range::{parse_range, RangeAsk};
use super::resolve::{Found, Lookup, Refusal};
use crate::http::{Method, Request, Response, Status};

/// Bodies up to this size are read in the same pool job as the open and
/// answered in one piece; larger ones are streamed.
pub(crate) const SMALL: u64 = 64 * 1024;
/// The size of each read of a streamed body.
pub(crate) const CHUNK: usize = 256 * 1024;

/// The request fields the answer depends on, copied so the pool job can
/// own them.
#[derive(Debug, Default)]
pub(crate) struct Ask {
    head: bool,
    if_none_match: Option<Vec<u8>>,
    if_modified_since: Option<Vec<u8>>,
    range: Option<Vec<u8>>,
    if_range: Option<Vec<u8>>,
}

impl Ask {
    /// The fields of `req`.
    pub(crate) fn of(req: &Request<'_>) -> Ask {
        let get = |n: &str| req.header(n).map(<[u8]>::to_vec);
        Ask {
            head: req.method() == Method::Head,
            if_none_match: get("if-none-match"),
            if_modified_since: get("if-modified-since"),
            range: get("range"),
            if_range: get("if-range"),
        }
    }
}

/// The answer decided on the pool.
#[derive(Debug)]
pub(crate) enum Plan {
    /// Refused, absent, or a directory needing its slash.
    Lookup(Lookup),
    /// A file to answer with.
    File(Decided),
}

/// What to send of a file.
#[derive(Debug)]
pub(crate) struct Decided {
    validators: Validators,
    len: u64,
    content_type: &'static str,
    what: What,
    /// The bytes to send, when read already (small bodies).
    bytes: Option<Vec<u8>>,
    /// The open file, when its bytes are still to be read.
    file: Option<Source>,
}

/// Where a streamed body's bytes are read: on the pool, or on the
/// worker's ring (`direct.rs`).
#[derive(Debug)]
pub(crate) enum Source {
    Pool(File),
    Ring(std::os::fd::OwnedFd),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum What {
    NotModified,
    Whole,
    Part { start: u64, end: u64 },
    Unsatisfiable,
}

/// Decides the answer for a lookup and reads a small body. Blocking.
pub(crate) fn decide(lookup: Lookup, ask: &Ask) -> Plan {
    let Found { file, meta, path } = match lookup {
        Lookup::File(f) => *f,
        other => return Plan::Lookup(other),
    };
    let mtime = meta.modified().unwrap_or(std::time::UNIX_EPOCH);
    let (mut decided, span) = choose(meta.len(), mtime, &path, ask);
    match span {
        Some((at, n)) if n <= SMALL => match read_exact(&file, at, n as usize, Vec::new()) {
            Ok(b) => decided.bytes = Some(b),
            Err(_) => return Plan::Lookup(Lookup::Refused(Refusal::NotFound)),
        },
        Some(_) => decided.file = Some(Source::Pool(file)),
        None => {}
    }
    Plan::File(decided)
}

/// The answer for a file of `len` bytes modified at `mtime` whose name
/// (the last component of `path`) gives the type, and the bytes to send
/// (offset, count), if any. Nothing read yet.
pub(crate) fn choose(
    len: u64,
    mtime: std::time::SystemTime,
    path: &std::path::Path,
    ask: &Ask,
) -> (Decided, Option<(u64, u64)>) {
    let validators = Validators::new(len, mtime);
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let content_type = super::content_type_for(name);
    let mut what = if validators.not_modified(
        ask.if_none_match.as_deref(),
        ask.if_modified_since.as_deref(),
    ) {
        What::NotModified
    } else {
        What::Whole
    };
    // Ranges are for GET only (RFC 9110 §14.2), and only while `If-Range`
    // (if sent) still names this version.
    if let (What::Whole, false, Some(range)) = (what, ask.head, &ask.range) {
        let current = ask
            .if_range
            .as_deref()
            .is_none_or(|v| validators.if_range_holds(v));
        if current {
            what = match parse_range(range, len) {
                RangeAsk::Whole => What::Whole,
                RangeAsk::Part { start, end } => What::Part { start, end },
                RangeAsk::Unsatisfiable => What::Unsatisfiable,
            };
        }
    }
    let span = match what {
        What::Whole if !ask.head => Some((0, len)),
        What::Part { start, end } => Some((start, end - start + 1)),
        _ => None,
    };
    let decided = Decided {
        validators,
        len,
        content_type,
        what,
        bytes: None,
        file: None,
    };
    (decided, span)
}

impl Decided {
    /// Sets the bytes read already (a small body).
    pub(crate) fn set_bytes(&mut self, bytes: Vec<u8>) {
        self.bytes = Some(bytes);
    }

    /// Sets the file a large body is streamed from.
    pub(crate) fn set_source(&mut self, source: Source) {
        self.file = Some(source);
    }
}

/// Reads `n` bytes at `at` into `buf` (reused: a buffer of the same
/// length is read over, not zeroed again); a file that shrank meanwhile is
/// an error.
pub(crate) fn read_exact(
    file: &File,
    at: u64,
    n: usize,
    mut buf: Vec<u8>,
) -> std::io::Result<Vec<u8>> {
    buf.resize(n, 0);
    file.read_exact_at(&mut buf, at)?;
    Ok(buf)
}

/// The response for a refused lookup.
pub(crate) fn refused(r: Refusal) -> Response {
    match r {
        Refusal::NotFound => Response::new(Status::NOT_FOUND).body("Not Found\n"),
        Refusal::Forbidden => Response::new(Status::FORBIDDEN).body("Forbidden\n"),
    }
}

/// Sends what [`decide`] chose.
pub(crate) async fn send(req: &mut Request<'_>, d: Decided) -> Response {
    let v = &d.validators;
    let base = |status: Status| {
        Response::new(status)
            .header_owned("ETag", v.etag.clone())
            .header_owned("Last-Modified", v.last_modified())
            .header("Accept-Ranges", "bytes")
    };
    let (resp, start, n) = match d.what {
        What::NotModified => return base(Status::NOT_MODIFIED),
        What::Unsatisfiable => {
            return Response::new(Status::RANGE_NOT_SATISFIABLE)
                .header_owned("Content-Range", format!("bytes */{}", d.len))
                .body("Range Not Satisfiable\n");
        }
        What::Whole => (base(Status::OK), 0, d.len),
        What::Part { start, end } => (
            base(Status::PARTIAL_CONTENT)
                .header_owned("Content-Range", format!("bytes {start}-{end}/{}", d.len)),
            start,
            end - start + 1,
        ),
    };
    let resp = resp.content_type(d.content_type);
    if let Some(bytes) = d.bytes {
        return resp.body(bytes);
    }
    let Some(source) = d.file else {
        // HEAD: the length a GET would get, no bytes.
        return resp.omitted_body(Some(n));
    };
    super::body::stream(req, resp, source, start, n).await
}
