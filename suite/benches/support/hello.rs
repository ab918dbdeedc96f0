//! The answer every server of the HTTP benches gives to `GET /plaintext`, checked before
//! a server is loaded.

use super::Res;

/// Checks the response at the start of `buf`: status 200, a `Content-Length`,
/// `Content-Type: text/plain`, a `Date` field and the body `Hello, World!`. Returns its
/// length once it is complete, `None` while it is not.
pub fn parse_hello_response(buf: &[u8]) -> Res<Option<usize>> {
    let Some(head_end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
        return Ok(None);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]);
    let mut lines = head.split("\r\n");
    let status = lines.next().unwrap_or_default();
    if !status.starts_with("HTTP/1.1 200 ") {
        return Err(format!("status line {status:?}, not 200"));
    }
    let (mut length, mut content_type, mut date) = (None, None, false);
    for line in lines {
        let (name, value) = line.split_once(':').unwrap_or((line, ""));
        let value = value.trim();
        match name.to_ascii_lowercase().as_str() {
            "content-length" => length = value.parse::<usize>().ok(),
            "content-type" => content_type = Some(value.to_string()),
            "date" => date = !value.is_empty(),
            _ => {}
        }
    }
    let length = length.ok_or("no Content-Length")?;
    if !content_type.is_some_and(|t| t.starts_with("text/plain")) {
        return Err("no Content-Type: text/plain".into());
    }
    if !date {
        return Err("no Date".into());
    }
    let total = head_end + 4 + length;
    if buf.len() < total {
        return Ok(None);
    }
    let body = &buf[head_end + 4..total];
    if body != b"Hello, World!" {
        return Err(format!("body {:?}", String::from_utf8_lossy(body)));
    }
    Ok(Some(total))
}
