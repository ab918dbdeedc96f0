//! `Method`: the request methods this server knows (RFC 9110 §9, RFC 5789).

use std::fmt;

/// A request method. Any other (syntactically valid) method is answered
/// with `501 Not Implemented`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Method {
    /// `GET`
    Get,
    /// `HEAD`: as `GET`, but the response body is not sent.
    Head,
    /// `POST`
    Post,
    /// `PUT`
    Put,
    /// `DELETE`
    Delete,
    /// `CONNECT` (its target is in authority-form).
    Connect,
    /// `OPTIONS` (may use the asterisk-form target `*`).
    Options,
    /// `TRACE`
    Trace,
    /// `PATCH`
    Patch,
}

impl Method {
    /// Parses a method token (case-sensitive, RFC 9110 §9.1).
    pub fn from_bytes(b: &[u8]) -> Option<Method> {
        // The usual method first, as one three-byte compare.
        if b == b"GET" {
            return Some(Method::Get);
        }
        Some(match b {
            b"GET" => Method::Get,
            b"HEAD" => Method::Head,
            b"POST" => Method::Post,
            b"PUT" => Method::Put,
            b"DELETE" => Method::Delete,
            b"CONNECT" => Method::Connect,
            b"OPTIONS" => Method::Options,
            b"TRACE" => Method::Trace,
            b"PATCH" => Method::Patch,
            _ => return None,
        })
    }

    /// True for the idempotent methods of RFC 9110 §9.2.2 (`GET`, `HEAD`,
    /// `OPTIONS`, `TRACE`, `PUT`, `DELETE`): sending such a request twice
    /// has the effect of sending it once, so a client may resend it after a
    /// connection failure.
    ///
    /// ```
    /// use corering::http::Method;
    /// assert!(Method::Put.is_idempotent());
    /// assert!(!Method::Post.is_idempotent());
    /// ```
    pub fn is_idempotent(self) -> bool {
        matches!(
            self,
            Method::Get
                | Method::Head
                | Method::Options
                | Method::Trace
                | Method::Put
                | Method::Delete
        )
    }

    /// The method token.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Head => "HEAD",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Delete => "DELETE",
            Method::Connect => "CONNECT",
            Method::Options => "OPTIONS",
            Method::Trace => "TRACE",
            Method::Patch => "PATCH",
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
