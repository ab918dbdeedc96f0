//! Close frames (RFC 6455 §5.5.1, §7.4): a status code and a UTF-8
//! reason, and which codes may travel on the wire.

use std::fmt;

/// A close status code (RFC 6455 §7.4.1; the IANA registry adds 1012-1014).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CloseCode(pub u16);

impl CloseCode {
    /// 1000: the purpose of the connection is fulfilled.
    pub const NORMAL: CloseCode = CloseCode(1000);
    /// 1001: going away (server shutdown, page left).
    pub const GOING_AWAY: CloseCode = CloseCode(1001);
    /// 1002: protocol error.
    pub const PROTOCOL: CloseCode = CloseCode(1002);
    /// 1003: a kind of data the endpoint cannot take.
    pub const UNSUPPORTED: CloseCode = CloseCode(1003);
    /// 1005: no code was received (never sent on the wire).
    pub const NO_STATUS: CloseCode = CloseCode(1005);
    /// 1006: the connection ended without a close frame (never sent).
    pub const ABNORMAL: CloseCode = CloseCode(1006);
    /// 1007: a text message that is not UTF-8.
    pub const INVALID_DATA: CloseCode = CloseCode(1007);
    /// 1008: a message that violates the endpoint's policy.
    pub const POLICY: CloseCode = CloseCode(1008);
    /// 1009: a message too big to process.
    pub const TOO_BIG: CloseCode = CloseCode(1009);
    /// 1010: the client expected an extension the server did not agree to.
    pub const EXTENSION: CloseCode = CloseCode(1010);
    /// 1011: the server met an unexpected condition.
    pub const INTERNAL: CloseCode = CloseCode(1011);
    /// 1015: the TLS handshake failed (never sent).
    pub const TLS: CloseCode = CloseCode(1015);

    /// True if the code may be sent in a close frame: 1000-1003, 1007-1014
    /// (registered), and 3000-4999 (libraries, frameworks, applications).
    /// 1004 is reserved, 1005, 1006 and 1015 only report a condition
    /// locally, the rest of 1000-2999 is unassigned.
    ///
    /// ```
    /// use corering::ws::CloseCode;
    /// assert!(CloseCode(1000).is_sendable() && CloseCode(4999).is_sendable());
    /// assert!(!CloseCode(1005).is_sendable() && !CloseCode(2000).is_sendable());
    /// ```
    pub fn is_sendable(self) -> bool {
        matches!(self.0, 1000..=1003 | 1007..=1014 | 3000..=4999)
    }
}

impl fmt::Display for CloseCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Why a received close frame's payload is malformed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BadClose {
    /// One byte, or a code that may not be sent: 1002.
    Protocol,
    /// A reason that is not UTF-8: 1007.
    Utf8,
}

/// The code and reason of a received close payload (`None` for an empty
/// payload, which means "no status": 1005).
pub(crate) fn parse_close(payload: &[u8]) -> Result<Option<(CloseCode, &str)>, BadClose> {
    match payload {
        [] => Ok(None),
        [_] => Err(BadClose::Protocol),
        [hi, lo, reason @ ..] => {
            let code = CloseCode(u16::from_be_bytes([*hi, *lo]));
            if !code.is_sendable() {
                return Err(BadClose::Protocol);
            }
            let reason = std::str::from_utf8(reason).map_err(|_| BadClose::Utf8)?;
            Ok(Some((code, reason)))
        }
    }
}

/// A close payload for `code` and `reason` into `out`; returns its
/// length. The reason is cut (at a character boundary) to fit in a
/// control frame's 125 bytes.
pub(crate) fn close_payload(out: &mut [u8; 125], code: CloseCode, reason: &str) -> usize {
    out[..2].copy_from_slice(&code.0.to_be_bytes());
    let mut end = reason.len().min(123);
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    out[2..2 + end].copy_from_slice(&reason.as_bytes()[..end]);
    2 + end
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn received_payloads() {
        assert_eq!(parse_close(b""), Ok(None));
        assert_eq!(parse_close(b"\x03"), Err(BadClose::Protocol));
        assert_eq!(
            parse_close(b"\x03\xe8bye"),
            Ok(Some((CloseCode::NORMAL, "bye")))
        );
        for bad in [
            0u16, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535,
        ] {
            assert_eq!(
                parse_close(&bad.to_be_bytes()),
                Err(BadClose::Protocol),
                "{bad}"
            );
        }
        for good in [
            1000u16, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999,
        ] {
            assert!(parse_close(&good.to_be_bytes()).is_ok(), "{good}");
        }
        assert_eq!(parse_close(b"\x03\xe8\xff"), Err(BadClose::Utf8));
    }

    #[test]
    fn reasons_are_cut_at_a_character() {
        let mut out = [0; 125];
        let long = "é".repeat(100);
        let n = close_payload(&mut out, CloseCode::NORMAL, &long);
        assert_eq!(n, 2 + 122);
        assert!(std::str::from_utf8(&out[2..n]).is_ok());
    }
}
