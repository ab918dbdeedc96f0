//! Validators of a file (`ETag`, `Last-Modified`) and the conditional
//! request fields checked against them (RFC 9110 §13): `If-None-Match`,
//! `If-Modified-Since` and `If-Range`.

use std::time::{SystemTime, UNIX_EPOCH};

use crate::http::date;

/// A file's validators, from its size and modification time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Validators {
    /// The strong entity tag, quotes included: `"<size>-<secs>.<nanos>"`
    /// in hex. It changes whenever the size or the modification time does.
    pub etag: String,
    /// Modification time, whole seconds since the epoch.
    pub modified: u64,
}

impl Validators {
    /// The validators of a file of `len` bytes modified at `mtime`.
    pub fn new(len: u64, mtime: SystemTime) -> Validators {
        let since = mtime.duration_since(UNIX_EPOCH).unwrap_or_default();
        Validators {
            etag: format!(
                "\"{len:x}-{:x}.{:x}\"",
                since.as_secs(),
                since.subsec_nanos()
            ),
            modified: since.as_secs(),
        }
    }

    /// The `Last-Modified` value (an IMF-fixdate).
    pub fn last_modified(&self) -> String {
        String::from_utf8_lossy(&date::format_imf(self.modified)).into_owned()
    }

    /// True if a `GET` or `HEAD` with these fields is answered `304`:
    /// `If-None-Match` lists this tag (weak comparison) or is `*`; without
    /// it, `If-Modified-Since` is a date not before the modification.
    pub fn not_modified(
        &self,
        if_none_match: Option<&[u8]>,
        if_modified_since: Option<&[u8]>,
    ) -> bool {
        if let Some(list) = if_none_match {
            return tag_listed(list, &self.etag, false);
        }
        match if_modified_since.and_then(date::parse_imf) {
            Some(since) => self.modified <= since,
            None => false,
        }
    }

    /// True if a `Range` request with this `If-Range` value may be served
    /// as a range: the value is this (strong) tag, or exactly the
    /// modification date (RFC 9110 §13.1.5).
    pub fn if_range_holds(&self, value: &[u8]) -> bool {
        let value = value.trim_ascii();
        if value.starts_with(b"\"") || value.starts_with(b"W/") {
            return tag_listed(value, &self.etag, true);
        }
        date::parse_imf(value) == Some(self.modified)
    }
}

/// True if `list` (`*`, or comma-separated entity tags) holds `etag`;
/// `strong`: a weak tag (`W/"..."`) never matches.
fn tag_listed(list: &[u8], etag: &str, strong: bool) -> bool {
    let list = list.trim_ascii();
    if list == b"*" {
        return !strong;
    }
    list.split(|&b| b == b',').any(|t| {
        let t = t.trim_ascii();
        match t.strip_prefix(b"W/") {
            Some(_) if strong => false,
            Some(weak) => weak == etag.as_bytes(),
            None => t == etag.as_bytes(),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn v() -> Validators {
        Validators::new(4096, UNIX_EPOCH + Duration::new(784_111_777, 5))
    }

    #[test]
    fn etag_and_date() {
        assert_eq!(v().etag, "\"1000-2ebc98a1.5\"");
        assert_eq!(v().last_modified(), "Sun, 06 Nov 1994 08:49:37 GMT");
    }

    #[test]
    fn if_none_match() {
        let v = v();
        let tag = v.etag.clone();
        assert!(v.not_modified(Some(tag.as_bytes()), None));
        assert!(v.not_modified(Some(format!("\"x\", W/{tag}").as_bytes()), None));
        assert!(v.not_modified(Some(b"*"), None));
        assert!(!v.not_modified(Some(b"\"other\""), None));
        // If-None-Match wins over If-Modified-Since.
        assert!(!v.not_modified(Some(b"\"other\""), Some(b"Sun, 06 Nov 1994 08:49:37 GMT")));
    }

    #[test]
    fn if_modified_since() {
        let v = v();
        assert!(v.not_modified(None, Some(b"Sun, 06 Nov 1994 08:49:37 GMT")));
        assert!(v.not_modified(None, Some(b"Mon, 07 Nov 1994 08:49:37 GMT")));
        assert!(!v.not_modified(None, Some(b"Sun, 06 Nov 1994 08:49:36 GMT")));
        assert!(!v.not_modified(None, Some(b"yesterday")));
        assert!(!v.not_modified(None, None));
    }

    #[test]
    fn if_range() {
        let v = v();
        assert!(v.if_range_holds(v.etag.as_bytes()));
        assert!(!v.if_range_holds(format!("W/{}", v.etag).as_bytes()));
        assert!(v.if_range_holds(b"Sun, 06 Nov 1994 08:49:37 GMT"));
        assert!(!v.if_range_holds(b"Mon, 07 Nov 1994 08:49:37 GMT"));
        assert!(!v.if_range_holds(b"\"nope\""));
    }
}
