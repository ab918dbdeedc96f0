//! `ClientRequest`: method, target, header fields and body of a request,
//! and how its head is written.

use super::super::body::is_token;
use super::super::itoa::push_u64;
use super::super::{Body, Method};
use super::error::{ClientError, ClientErrorKind};

/// A request to send with a [`Client`](super::Client).
///
/// Header fields are serialized as they are added, into one buffer.
/// `Content-Length` and `Transfer-Encoding` are written by the client
/// from the body (fields of those names are ignored); `Host` is the peer's
/// address unless one is given. An invalid name or value does not panic:
/// sending the request fails with [`ClientErrorKind::InvalidRequest`].
///
/// ```
/// use corering::http::client::ClientRequest;
/// use corering::http::Method;
/// let req = ClientRequest::new(Method::Post, "/echo")
///     .header("Content-Type", "text/plain")
///     .body("hello");
/// assert_eq!(req.method(), Method::Post);
/// assert_eq!(req.target(), "/echo");
/// ```
#[derive(Clone, Debug)]
pub struct ClientRequest {
    method: Method,
    target: String,
    /// `Name: value\r\n` lines.
    fields: Vec<u8>,
    has_host: bool,
    close: bool,
    body: Body,
    /// The declared length of a streamed body.
    length: Option<u64>,
    invalid: Option<String>,
}

impl ClientRequest {
    /// A request with no header fields and no body.
    ///
    /// ```
    /// use corering::http::client::ClientRequest;
    /// use corering::http::Method;
    /// let req = ClientRequest::new(Method::Delete, "/items/7");
    /// assert_eq!((req.method(), req.target()), (Method::Delete, "/items/7"));
    /// ```
    pub fn new(method: Method, target: impl Into<String>) -> ClientRequest {
        let target = target.into();
        let invalid = if target.is_empty() || !target.bytes().all(|b| b > 0x20 && b != 0x7f) {
            Some(format!("invalid request target {target:?}"))
        } else {
            None
        };
        ClientRequest {
            method,
            target,
            fields: Vec::new(),
            has_host: false,
            close: false,
            body: Body::Empty,
            length: None,
            invalid,
        }
    }

    /// `GET target`.
    ///
    /// ```
    /// use corering::http::client::ClientRequest;
    /// assert_eq!(ClientRequest::get("/health").target(), "/health");
    /// ```
    pub fn get(target: impl Into<String>) -> ClientRequest {
        ClientRequest::new(Method::Get, target)
    }

    /// `POST target` with `body`.
    ///
    /// ```
    /// use corering::http::client::ClientRequest;
    /// let req = ClientRequest::post("/echo", "hello");
    /// assert_eq!(req.body_bytes(), b"hello");
    /// ```
    pub fn post(target: impl Into<String>, body: impl Into<Body>) -> ClientRequest {
        ClientRequest::new(Method::Post, target).body(body)
    }

    /// Adds a header field. `Connection: close` also marks the connection
    /// as not reusable.
    ///
    /// ```
    /// use corering::http::client::ClientRequest;
    /// let req = ClientRequest::get("/").header("accept", "application/json");
    /// # let _ = req;
    /// ```
    pub fn header(mut self, name: &str, value: impl AsRef<[u8]>) -> ClientRequest {
        self.push_header(name, value.as_ref());
        self
    }

    /// Adds a header field through a `&mut` (for loops that copy fields).
    ///
    /// ```
    /// use corering::http::client::ClientRequest;
    /// let mut req = ClientRequest::get("/");
    /// for (name, value) in [("x-a", "1"), ("x-b", "2")] {
    ///     req.push_header(name, value.as_bytes());
    /// }
    /// ```
    pub fn push_header(&mut self, name: &str, value: &[u8]) {
        if !is_token(name.as_bytes()) {
            self.invalid = Some(format!("invalid header field name {name:?}"));
            return;
        }
        if !value
            .iter()
            .all(|&b| b == b'\t' || (b >= 0x20 && b != 0x7f))
        {
            self.invalid = Some(format!("invalid value for header field {name}"));
            return;
        }
        if name.eq_ignore_ascii_case("content-length")
            || name.eq_ignore_ascii_case("transfer-encoding")
        {
            return;
        }
        if name.eq_ignore_ascii_case("host") {
            self.has_host = true;
        }
        if name.eq_ignore_ascii_case("connection")
            && value
                .split(|&b| b == b',')
                .any(|o| o.trim_ascii().eq_ignore_ascii_case(b"close"))
        {
            self.close = true;
        }
        self.fields.extend_from_slice(name.as_bytes());
        self.fields.extend_from_slice(b": ");
        self.fields.extend_from_slice(value);
        self.fields.extend_from_slice(b"\r\n");
    }

    /// Sets the body (sent with a `Content-Length`).
    ///
    /// ```
    /// use corering::http::client::ClientRequest;
    /// use corering::http::Method;
    /// let req = ClientRequest::new(Method::Put, "/note").body("text");
    /// assert_eq!(req.body_bytes(), b"text");
    /// ```
    pub fn body(mut self, body: impl Into<Body>) -> ClientRequest {
        self.body = body.into();
        self
    }

    /// For a body streamed with [`Client::start`](super::Client::start):
    /// its exact length, sent as `Content-Length` instead of the chunked
    /// coding.
    ///
    /// ```
    /// use corering::http::client::ClientRequest;
    /// let req = ClientRequest::post("/upload", "").content_length(1 << 20);
    /// assert_eq!(req.declared_length(), Some(1 << 20));
    /// ```
    pub fn content_length(mut self, n: u64) -> ClientRequest {
        self.length = Some(n);
        self
    }

    /// Asks the server to close the connection after the response
    /// (`Connection: close`).
    ///
    /// ```
    /// use corering::http::client::ClientRequest;
    /// let req = ClientRequest::get("/").close();
    /// # let _ = req;
    /// ```
    pub fn close(self) -> ClientRequest {
        if self.close {
            return self;
        }
        self.header("Connection", "close")
    }

    /// The method.
    pub fn method(&self) -> Method {
        self.method
    }

    /// The request target.
    pub fn target(&self) -> &str {
        &self.target
    }

    /// The body's bytes.
    pub fn body_bytes(&self) -> &[u8] {
        self.body.as_bytes()
    }

    /// The declared length of a streamed body, if set.
    pub fn declared_length(&self) -> Option<u64> {
        self.length
    }

    pub(crate) fn wants_close(&self) -> bool {
        self.close
    }

    pub(crate) fn check(&self) -> Result<(), ClientError> {
        match &self.invalid {
            Some(m) => Err(ClientError::new(ClientErrorKind::InvalidRequest, m.clone())),
            None => Ok(()),
        }
    }

    /// Writes the request head into `out`; `framing` is the body's.
    pub(crate) fn write_head(&self, out: &mut Vec<u8>, host: &str, framing: ReqFraming) {
        out.extend_from_slice(self.method.as_str().as_bytes());
        out.push(b' ');
        out.extend_from_slice(self.target.as_bytes());
        out.extend_from_slice(b" HTTP/1.1\r\n");
        if !self.has_host {
            out.extend_from_slice(b"Host: ");
            out.extend_from_slice(host.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(&self.fields);
        match framing {
            ReqFraming::Length(n) => {
                out.extend_from_slice(b"Content-Length: ");
                push_u64(out, n);
                out.extend_from_slice(b"\r\n");
            }
            ReqFraming::Chunked => out.extend_from_slice(b"Transfer-Encoding: chunked\r\n"),
            ReqFraming::None => {}
        }
        out.extend_from_slice(b"\r\n");
    }

    /// How the body of a non-streamed request is framed.
    pub(crate) fn framing(&self) -> ReqFraming {
        let n = self.body.len() as u64;
        if n > 0 || matches!(self.method, Method::Post | Method::Put | Method::Patch) {
            ReqFraming::Length(n)
        } else {
            ReqFraming::None
        }
    }
}

/// How a request body is delimited.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ReqFraming {
    /// No body, no framing field.
    None,
    /// `Content-Length: n`.
    Length(u64),
    /// `Transfer-Encoding: chunked`.
    Chunked,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn head_has_host_fields_and_length() {
        let r = ClientRequest::post("/a?b", "xyz")
            .header("X-A", "1")
            .header("Content-Length", "99");
        let mut out = Vec::new();
        r.write_head(&mut out, "127.0.0.1:80", r.framing());
        assert_eq!(
            out,
            b"POST /a?b HTTP/1.1\r\nHost: 127.0.0.1:80\r\nX-A: 1\r\nContent-Length: 3\r\n\r\n"
        );
        assert!(r.check().is_ok());
    }

    #[test]
    fn invalid_fields_are_reported_not_sent() {
        let r = ClientRequest::get("/").header("X", "a\r\nEvil: 1");
        assert_eq!(
            r.check().unwrap_err().kind(),
            ClientErrorKind::InvalidRequest
        );
        let r = ClientRequest::get("/").header("Bad Name", "x");
        assert!(r.check().is_err());
        assert!(ClientRequest::get("/a b").check().is_err());
        let r = ClientRequest::get("/").header("connection", "keep-alive, close");
        assert!(r.wants_close());
    }
}
