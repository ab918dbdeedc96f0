//! Content types by file extension: a small built-in table of what web
//! servers commonly serve; anything else is `application/octet-stream`.

/// The type of anything not in the table.
pub const DEFAULT_CONTENT_TYPE: &str = "application/octet-stream";

/// Extension (lowercase) to content type, text types with their charset.
const TABLE: &[(&str, &str)] = &[
    ("html", "text/html; charset=utf-8"),
    ("htm", "text/html; charset=utf-8"),
    ("css", "text/css; charset=utf-8"),
    ("js", "text/javascript; charset=utf-8"),
    ("mjs", "text/javascript; charset=utf-8"),
    ("json", "application/json"),
    ("map", "application/json"),
    ("webmanifest", "application/manifest+json"),
    ("txt", "text/plain; charset=utf-8"),
    ("md", "text/markdown; charset=utf-8"),
    ("csv", "text/csv; charset=utf-8"),
    ("xml", "application/xml"),
    ("png", "image/png"),
    ("jpg", "image/jpeg"),
    ("jpeg", "image/jpeg"),
    ("gif", "image/gif"),
    ("webp", "image/webp"),
    ("avif", "image/avif"),
    ("svg", "image/svg+xml"),
    ("ico", "image/x-icon"),
    ("wasm", "application/wasm"),
    ("woff", "font/woff"),
    ("woff2", "font/woff2"),
    ("ttf", "font/ttf"),
    ("otf", "font/otf"),
    ("pdf", "application/pdf"),
    ("zip", "application/zip"),
    ("gz", "application/gzip"),
    ("mp4", "video/mp4"),
    ("webm", "video/webm"),
    ("mp3", "audio/mpeg"),
    ("ogg", "audio/ogg"),
];

/// The content type for a file name, by its extension (case-insensitive);
/// [`DEFAULT_CONTENT_TYPE`] for an unknown or missing one.
///
/// ```
/// use corering::http::fs::content_type_for;
/// assert_eq!(content_type_for("app.WASM"), "application/wasm");
/// assert_eq!(content_type_for("index.html"), "text/html; charset=utf-8");
/// assert_eq!(content_type_for("README"), "application/octet-stream");
/// ```
pub fn content_type_for(name: &str) -> &'static str {
    let name = name.rsplit('/').next().unwrap_or(name);
    let Some((stem, ext)) = name.rsplit_once('.') else {
        return DEFAULT_CONTENT_TYPE;
    };
    if stem.is_empty() {
        // `.htaccess` is a name, not an extension.
        return DEFAULT_CONTENT_TYPE;
    }
    TABLE
        .iter()
        .find(|(e, _)| e.eq_ignore_ascii_case(ext))
        .map_or(DEFAULT_CONTENT_TYPE, |&(_, t)| t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_unknown_and_odd_names() {
        assert_eq!(content_type_for("a/b/style.css"), "text/css; charset=utf-8");
        assert_eq!(content_type_for("x.tar.gz"), "application/gzip");
        assert_eq!(content_type_for("font.woff2"), "font/woff2");
        assert_eq!(content_type_for("photo.JpG"), "image/jpeg");
        assert_eq!(content_type_for(".hidden"), DEFAULT_CONTENT_TYPE);
        assert_eq!(content_type_for("dir.d/noext"), DEFAULT_CONTENT_TYPE);
        assert_eq!(content_type_for("trailing."), DEFAULT_CONTENT_TYPE);
    }
}
