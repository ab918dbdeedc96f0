//! The opening handshake, server side (RFC 6455 §4.2): checking the
//! client's request, computing `Sec-WebSocket-Accept`, choosing a
//! subprotocol.
//!
//! ```text
//!  GET /chat HTTP/1.1                        HTTP/1.1 101 Switching Protocols
//!  Upgrade: websocket                        Upgrade: websocket
//!  Connection: Upgrade              ──►      Connection: upgrade
//!  Sec-WebSocket-Version: 13                 Sec-WebSocket-Accept: base64(sha1(key + GUID))
//!  Sec-WebSocket-Key: <16 bytes, base64>     Sec-WebSocket-Protocol: <one the client offered>
//!  Sec-WebSocket-Protocol: chat, superchat
//! ```

use super::base64;
use super::sha1::Sha1;
use crate::http::{Method, Request, Response, Status, Version};

/// RFC 6455 §1.3: appended to the key before hashing.
const GUID: &[u8] = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// Length of a `Sec-WebSocket-Accept` value (base64 of 20 bytes).
pub(crate) const ACCEPT_LEN: usize = base64::encoded_len(20);

/// `Sec-WebSocket-Accept` for a `Sec-WebSocket-Key` (as sent, without
/// surrounding whitespace).
///
/// ```
/// // RFC 6455 §1.3's example.
/// assert_eq!(
///     corering::ws::accept_key(b"dGhlIHNhbXBsZSBub25jZQ=="),
///     "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
/// );
/// ```
pub fn accept_key(key: &[u8]) -> String {
    let raw = accept_bytes(key);
    // Base64 is ASCII.
    String::from_utf8_lossy(&raw).into_owned()
}

/// [`accept_key`] without allocating.
pub(crate) fn accept_bytes(key: &[u8]) -> [u8; ACCEPT_LEN] {
    let mut h = Sha1::new();
    h.update(key);
    h.update(GUID);
    let mut out = [0; ACCEPT_LEN];
    base64::encode(&h.finish(), &mut out);
    out
}

/// What the server keeps from a valid opening request.
#[derive(Debug, Clone)]
pub(crate) struct ClientHello {
    /// The `Sec-WebSocket-Accept` value to answer with.
    pub(crate) accept: [u8; ACCEPT_LEN],
    /// The subprotocols offered, in the client's order (empty: none).
    pub(crate) protocols: Vec<String>,
    /// `Sec-WebSocket-Extensions` as sent (all fields, joined by `, `),
    /// for an extension's negotiation (permessage-deflate).
    pub(crate) extensions: Option<String>,
}

fn refuse(status: Status, why: &str) -> Response {
    Response::new(status)
        .content_type("text/plain; charset=utf-8")
        .body(format!("WebSocket handshake refused: {why}\n"))
}

/// `426 Upgrade Required`, naming what the server speaks.
fn upgrade_required(why: &str) -> Response {
    refuse(Status::UPGRADE_REQUIRED, why)
        .header("Upgrade", "websocket")
        .header("Sec-WebSocket-Version", "13")
}

/// Checks an opening request (RFC 6455 §4.2.1); the response to send
/// instead of switching if it is not one: `400` for a malformed request,
/// `426` (with `Upgrade: websocket` and `Sec-WebSocket-Version: 13`) for
/// one that does not ask for WebSocket version 13.
pub(crate) fn check_request(req: &Request<'_>) -> Result<ClientHello, Response> {
    if req.method() != Method::Get {
        return Err(refuse(Status::BAD_REQUEST, "the method must be GET"));
    }
    if req.version() != Version::Http11 {
        return Err(upgrade_required("HTTP/1.1 is required"));
    }
    if !req.offers_upgrade("websocket") {
        return Err(upgrade_required(
            "expected `Upgrade: websocket` and `Connection: upgrade`",
        ));
    }
    let mut versions = req.header_all("sec-websocket-version");
    if versions.next() != Some(b"13") || versions.next().is_some() {
        return Err(upgrade_required("`Sec-WebSocket-Version: 13` is required"));
    }
    let mut keys = req.header_all("sec-websocket-key");
    let key = match (keys.next(), keys.next()) {
        (Some(k), None) => k,
        _ => {
            return Err(refuse(
                Status::BAD_REQUEST,
                "exactly one `Sec-WebSocket-Key` is required",
            ))
        }
    };
    let mut nonce = [0; 18];
    if base64::decode(key, &mut nonce) != Some(16) {
        return Err(refuse(
            Status::BAD_REQUEST,
            "`Sec-WebSocket-Key` must be 16 bytes in base64",
        ));
    }
    let mut protocols = Vec::new();
    for field in req.header_all("sec-websocket-protocol") {
        let Ok(field) = std::str::from_utf8(field) else {
            return Err(refuse(
                Status::BAD_REQUEST,
                "`Sec-WebSocket-Protocol` is not text",
            ));
        };
        for p in field.split(',').map(|p| p.trim_matches([' ', '\t'])) {
            if !p.is_empty() {
                protocols.push(p.to_owned());
            }
        }
    }
    let mut extensions: Option<String> = None;
    for field in req.header_all("sec-websocket-extensions") {
        let field = String::from_utf8_lossy(field);
        match &mut extensions {
            Some(e) => {
                e.push_str(", ");
                e.push_str(&field);
            }
            None => extensions = Some(field.into_owned()),
        }
    }
    Ok(ClientHello {
        accept: accept_bytes(key),
        protocols,
        extensions,
    })
}

/// The first of the server's `preferred` subprotocols that the client
/// offered (exact match: subprotocol names are case-sensitive).
pub(crate) fn choose_protocol<'p>(offered: &[String], preferred: &[&'p str]) -> Option<&'p str> {
    preferred
        .iter()
        .copied()
        .find(|p| offered.iter().any(|o| o == p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc6455_accept_example() {
        assert_eq!(
            &accept_bytes(b"dGhlIHNhbXBsZSBub25jZQ=="),
            b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
    }

    #[test]
    fn the_server_order_wins() {
        let offered = vec!["chat".to_owned(), "superchat".to_owned()];
        assert_eq!(
            choose_protocol(&offered, &["superchat", "chat"]),
            Some("superchat")
        );
        assert_eq!(choose_protocol(&offered, &["Chat", "mqtt"]), None);
        assert_eq!(choose_protocol(&[], &["chat"]), None);
    }
}
