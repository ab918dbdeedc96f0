//! `ServeFile`: one file, whatever the request path.

use std::path::PathBuf;
use std::sync::Arc;

use super::cached;
use super::resolve::{open_regular, Lookup};
use super::send::{decide, refused, send, Ask, Plan};
use crate::http::{Method, Request, Response, Status};
use crate::task::spawn_blocking;

/// Serves one file (a favicon, an SPA's `index.html` as a fallback) with
/// the same handling as [`ServeDir`](super::ServeDir): content type by
/// extension, validators and `304`, ranges, `HEAD`, streaming of large
/// files, the disk work on the worker's ring (io_uring) or the blocking
/// pool (epoll, or a path with a symbolic link). A missing file is `404`.
///
/// ```no_run
/// use corering::http::fs::ServeFile;
/// use corering::http::route::State;
/// use corering::http::{Request, Response};
/// use corering::get;
///
/// #[get("/favicon.ico")]
/// async fn favicon(State(f): State<ServeFile>, req: &mut Request<'_>) -> Response {
///     f.serve(req).await
/// }
/// ```
#[derive(Clone, Debug)]
pub struct ServeFile {
    path: Arc<PathBuf>,
}

impl ServeFile {
    /// Serves the file at `path` (links followed: the path is the
    /// application's, not the client's).
    ///
    /// ```
    /// let f = corering::http::fs::ServeFile::new("public/favicon.ico");
    /// ```
    pub fn new(path: impl Into<PathBuf>) -> ServeFile {
        ServeFile {
            path: Arc::new(path.into()),
        }
    }

    /// Answers `req` with the file (`GET` and `HEAD`; others are `405`).
    pub async fn serve(&self, req: &mut Request<'_>) -> Response {
        if !matches!(req.method(), Method::Get | Method::Head) {
            return Response::new(Status::METHOD_NOT_ALLOWED).header("Allow", "GET, HEAD");
        }
        let ask = Ask::of(req);
        // On the worker: plain calls for a file in the caches, the ring
        // for a cold one on io_uring (a path with a link goes to the pool,
        // which resolves it).
        let plan = cached::on_worker(libc::AT_FDCWD, &self.path, false, &ask).await;
        if let Some(plan) = plan {
            return answer(req, plan).await;
        }
        let path = Arc::clone(&self.path);
        let plan = spawn_blocking(move || {
            // Resolved first, so the name of a link's target gives the type.
            let lookup = match path.canonicalize() {
                Ok(p) => open_regular(p),
                Err(_) => Lookup::Refused(super::resolve::Refusal::NotFound),
            };
            decide(lookup, &ask)
        })
        .await;
        answer(req, plan).await
    }
}

async fn answer(req: &mut Request<'_>, plan: Plan) -> Response {
    match plan {
        Plan::File(d) => send(req, d).await,
        Plan::Lookup(Lookup::Refused(r)) => refused(r),
        Plan::Lookup(_) => refused(super::resolve::Refusal::NotFound),
    }
}
