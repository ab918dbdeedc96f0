//! `ServeDir`: the files under a directory.

use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use super::cached;
use super::resolve::{lookup, relative_path, Lookup, Refusal};
use super::send::{decide, refused, send, Ask, Plan};
use crate::http::{Method, Request, Response, Status};
use crate::task::spawn_blocking;

/// Serves the files under a directory (the root): content type by
/// extension, `ETag` / `Last-Modified` with `304` answers, single byte
/// ranges, `HEAD`, and `index.html` for a directory. A directory named
/// without its trailing slash is redirected to it (`301`), so relative
/// links in its index work. Nothing outside the root is ever served:
/// `..`, absolute paths, backslashes and NUL bytes are `403` before the
/// disk is touched, and so is a symbolic link that resolves outside the
/// root; a missing file (or a FIFO, device or socket) is `404`. Methods
/// other than `GET` and `HEAD` are `405`.
///
/// The worker never waits on the disk. On io_uring (with the file
/// opcodes, Linux 5.6+) a file is opened, `statx`ed, read and closed as
/// operations on the worker's own ring; on epoll, and for directories and
/// paths with symbolic links, opening, `stat` and reading run on the
/// blocking pool ([`spawn_blocking`]). Files up to 64 KiB are read whole
/// and sent in one response; larger ones are streamed in 256 KiB reads,
/// so memory does not grow with file size.
///
/// Cloning is cheap (one `Arc`), so a `ServeDir` can be router state or a
/// captured value.
///
/// ```no_run
/// use corering::http::fs::ServeDir;
/// use corering::http::route::{Path, State};
/// use corering::http::{self, Http1Config, Request, Response};
/// use corering::{get, routes};
///
/// #[get("/static/{*path}")]
/// async fn files(
///     path: Path<String>,
///     State(dir): State<ServeDir>,
///     req: &mut Request<'_>,
/// ) -> Response {
///     dir.serve(req, &path.0).await
/// }
///
/// fn main() -> std::io::Result<()> {
///     let router = routes![files].with_state(ServeDir::new("./public"));
///     corering::Server::builder()
///         .bind("127.0.0.1:8080")
///         .build()?
///         .serve(move |conn| http::serve(conn, Http1Config::new(), router.clone()))
/// }
/// ```
#[derive(Clone, Debug)]
pub struct ServeDir {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    root: PathBuf,
    /// The canonical root, resolved on first use (on the pool); `None`
    /// if the root does not exist then (everything is `404`).
    canonical: OnceLock<Option<PathBuf>>,
    /// The canonical root opened as a directory (on the pool, with
    /// `canonical`), for opens beneath it on the ring (`direct.rs`).
    root_fd: OnceLock<Option<OwnedFd>>,
    index: Option<String>,
}

impl Inner {
    fn new(root: PathBuf, index: Option<String>) -> Inner {
        Inner {
            root,
            canonical: OnceLock::new(),
            root_fd: OnceLock::new(),
            index,
        }
    }

    /// The canonical root, resolved (and opened) on first use. Blocking.
    fn canonical_root(&self) -> Option<&PathBuf> {
        let root = self
            .canonical
            .get_or_init(|| self.root.canonicalize().ok())
            .as_ref();
        self.root_fd.get_or_init(|| {
            let root = root?;
            std::fs::OpenOptions::new()
                .read(true)
                .custom_flags(libc::O_DIRECTORY | libc::O_CLOEXEC)
                .open(root)
                .ok()
                .map(OwnedFd::from)
        });
        root
    }
}

impl ServeDir {
    /// Serves the files under `root` (resolved, links included, on the
    /// first request; it should exist by then). The index file is
    /// `index.html`.
    ///
    /// ```
    /// let dir = corering::http::fs::ServeDir::new("/srv/www");
    /// ```
    pub fn new(root: impl Into<PathBuf>) -> ServeDir {
        ServeDir {
            inner: Arc::new(Inner::new(root.into(), Some("index.html".into()))),
        }
    }

    /// Sets the file served for a directory (`None`: a directory is
    /// `404`; there are no listings).
    ///
    /// ```
    /// use corering::http::fs::ServeDir;
    /// let dir = ServeDir::new("/srv/www").index_file(Some("default.htm"));
    /// let bare = ServeDir::new("/srv/www").index_file(None);
    /// ```
    pub fn index_file(self, name: Option<&str>) -> ServeDir {
        ServeDir {
            inner: Arc::new(Inner::new(self.inner.root.clone(), name.map(str::to_owned))),
        }
    }

    /// Answers `req` with the file at `path` below the root: a relative,
    /// `/`-separated, already percent-decoded path, as a `{*path}` route
    /// parameter gives it ([`Path<String>`](crate::http::route::Path)).
    /// A trailing `/` names a directory. See [`ServeDir`] for the rules.
    pub async fn serve(&self, req: &mut Request<'_>, path: &str) -> Response {
        if !matches!(req.method(), Method::Get | Method::Head) {
            return Response::new(Status::METHOD_NOT_ALLOWED).header("Allow", "GET, HEAD");
        }
        let rel = match relative_path(path) {
            Ok(rel) => rel,
            Err(r) => return refused(r),
        };
        let slash = path.is_empty() || path.ends_with('/');
        let ask = Ask::of(req);
        // On the worker once the root is open (the first request opens it,
        // on the pool): plain calls for a file in the caches, the ring for
        // a cold one on io_uring.
        let root_fd = self.inner.root_fd.get().and_then(Option::as_ref);
        let direct = match root_fd {
            Some(fd) if !rel.as_os_str().is_empty() => {
                cached::on_worker(fd.as_raw_fd(), &rel, true, &ask).await
            }
            _ => None,
        };
        let plan = match direct {
            Some(plan) => plan,
            None => {
                let inner = Arc::clone(&self.inner);
                spawn_blocking(move || {
                    let Some(root) = inner.canonical_root() else {
                        return Plan::Lookup(Lookup::Refused(Refusal::NotFound));
                    };
                    decide(lookup(root, &rel, slash, inner.index.as_deref()), &ask)
                })
                .await
            }
        };
        match plan {
            Plan::File(d) => send(req, d).await,
            Plan::Lookup(Lookup::AddSlash) => add_slash(req),
            Plan::Lookup(Lookup::Refused(r)) => refused(r),
            Plan::Lookup(Lookup::File(_)) => unreachable!("decide turns files into plans"),
        }
    }

    /// Answers `req` with the file its path names once `prefix` is taken
    /// off (`/assets` and `/assets/app.js` give `app.js`), for a
    /// `ServeDir` used as a whole handler or a router's fallback rather
    /// than behind a `{*path}` route. The rest is percent-decoded (a bad
    /// escape is `400`); a path outside `prefix` is `404`.
    ///
    /// ```no_run
    /// use std::sync::LazyLock;
    /// use corering::http::fs::ServeDir;
    /// use corering::http::{self, Http1Config, Request, Response};
    ///
    /// static PUBLIC: LazyLock<ServeDir> = LazyLock::new(|| ServeDir::new("./public"));
    ///
    /// async fn site(mut req: Request<'_>) -> Response {
    ///     PUBLIC.serve_prefixed(&mut req, "/").await
    /// }
    ///
    /// fn main() -> std::io::Result<()> {
    ///     corering::Server::builder()
    ///         .bind("127.0.0.1:8080")
    ///         .build()?
    ///         .serve(|conn| http::serve(conn, Http1Config::new(), site))
    /// }
    /// ```
    pub async fn serve_prefixed(&self, req: &mut Request<'_>, prefix: &str) -> Response {
        let prefix = prefix.trim_end_matches('/');
        let Some(rest) = req.path().strip_prefix(prefix) else {
            return refused(Refusal::NotFound);
        };
        let rest = match rest.strip_prefix('/') {
            Some(r) => r,
            None if rest.is_empty() => "",
            None => return refused(Refusal::NotFound),
        };
        let Some(decoded) = crate::http::route::percent_decode(rest) else {
            return Response::new(Status::BAD_REQUEST).body("Bad Request\n");
        };
        self.serve(req, &decoded).await
    }
}

/// `301` to the request's path with a `/` added (and its query kept).
fn add_slash(req: &Request<'_>) -> Response {
    // A path starting `//` would read as another host in `Location`.
    let path = format!("/{}/", req.path().trim_start_matches('/'));
    let location = match req.query() {
        Some(q) => format!("{path}?{q}"),
        None => path,
    };
    Response::new(Status::MOVED_PERMANENTLY)
        .header_owned("Location", location)
        .body("Moved Permanently\n")
}
