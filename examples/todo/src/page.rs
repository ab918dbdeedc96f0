//! The page on `/`: `static/index.html`, a small plain-JS client of the API
//! (no build step), compiled into the binary so it runs from anywhere.

// TODO(ServeDir): serve the whole `static/` directory with the framework's
// static-file server once it exists, instead of one compiled-in file.

use corering::http::Response;

/// The page's HTML.
pub const INDEX_HTML: &str = include_str!("../static/index.html");

/// `200` with the page.
pub fn index() -> Response {
    Response::html(INDEX_HTML)
}
