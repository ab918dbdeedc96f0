//! The page and its assets: the files under `static/`, read from disk with
//! the framework's `ServeDir` by the router's fallback (so the page and any
//! file added next to it are served without a rebuild). A path that is no
//! route and no file is a JSON `404`.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;

use corering::http::fs::ServeDir;
use corering::http::route::IntoResponse;
use corering::http::{Handler, Method, Request, Response, Status};

use crate::error::ApiError;

/// The `static/` directory next to this crate's `Cargo.toml`: found
/// whatever the working directory (the workspace root, the package's own
/// directory, anywhere else) as long as the sources are where they were
/// built.
///
/// ```
/// assert!(todo::page::default_static_dir().join("index.html").is_file());
/// ```
pub fn default_static_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("static")
}

/// The router's fallback: `GET`/`HEAD` of a file under the static
/// directory (`/` is its `index.html`), else `{"error": "not found"}`.
///
/// ```
/// let files = todo::page::StaticFiles::new(todo::page::default_static_dir());
/// # let _ = files;
/// ```
#[derive(Debug, Clone)]
pub struct StaticFiles(ServeDir);

impl StaticFiles {
    /// Serves the files under `root`.
    pub fn new(root: impl Into<PathBuf>) -> StaticFiles {
        StaticFiles(ServeDir::new(root))
    }
}

/// The JSON `404` for a path with no route and no file.
fn no_route(path: &str) -> Response {
    ApiError::new(
        Status::NOT_FOUND,
        "not found",
        format!("no route or file for {path}"),
    )
    .into_response()
}

impl<'a> Handler<'a> for StaticFiles {
    type Future = Pin<Box<dyn Future<Output = Response> + 'a>>;

    fn call(&self, mut req: Request<'a>) -> Self::Future {
        let dir = self.0.clone();
        Box::pin(async move {
            if !matches!(req.method(), Method::Get | Method::Head) {
                return no_route(req.path());
            }
            let resp = dir.serve_prefixed(&mut req, "/").await;
            if resp.status() == Status::NOT_FOUND {
                no_route(req.path())
            } else {
                resp
            }
        })
    }
}
