//! The opening handshake, client side (RFC 6455 §4.1): the request with
//! a fresh key, and the checks on the server's answer.
//!
//! ```text
//!  GET /chat HTTP/1.1                         HTTP/1.1 101 Switching Protocols
//!  Host: server.example.com                   Upgrade: websocket            (case-insensitive)
//!  Upgrade: websocket                ──►      Connection: Upgrade           (a token of it)
//!  Connection: Upgrade                        Sec-WebSocket-Accept: base64(sha1(key + GUID))
//!  Sec-WebSocket-Key: <16 random bytes, b64>  Sec-WebSocket-Protocol: <one we offered, or none>
//!  Sec-WebSocket-Version: 13                  Sec-WebSocket-Extensions: <only ones we offered>
//!  Sec-WebSocket-Protocol: chat, superchat
//!  Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits
//! ```
//!
//! permessage-deflate (RFC 7692) is offered when the socket's
//! [`DeflateConfig`] is enabled: the offer and the check of the answer are
//! [`client_offer`] and [`client_accept`], the same negotiation code the
//! server's side lives with. An answer that does not fit the offer (an
//! extension not offered, unknown or repeated parameters, a window outside
//! 8..=15 or above what was asked for, a no-context-takeover asked for and
//! not granted) fails the handshake with [`HandshakeErrorKind::Extension`].

use super::error::{HandshakeError, HandshakeErrorKind};
use crate::http::client::{ClientRequest, ClientResponse};
use crate::http::Status;
use crate::ws::base64;
use crate::ws::deflate::{self, client_accept, client_offer, DeflateConfig};
use crate::ws::handshake::{accept_bytes, ACCEPT_LEN};

/// Length of a `Sec-WebSocket-Key` (base64 of 16 bytes).
const KEY_LEN: usize = base64::encoded_len(16);

/// What the client offered, to check the answer against.
#[derive(Debug)]
pub(crate) struct Offer {
    key: [u8; KEY_LEN],
    protocols: Vec<String>,
    /// The permessage-deflate settings the offer was made from.
    deflate: DeflateConfig,
    /// The `Sec-WebSocket-Extensions` value sent (`None`: nothing offered).
    extensions: Option<String>,
}

/// What the handshake agreed on.
#[derive(Debug)]
pub(crate) struct Agreed {
    /// The subprotocol the server chose among those offered.
    pub(crate) protocol: Option<String>,
    /// permessage-deflate as the server accepted it (`None`: not offered,
    /// or declined).
    pub(crate) deflate: Option<deflate::Agreed>,
}

impl Offer {
    /// A fresh key, the subprotocols to offer (in preference order), and
    /// permessage-deflate if `deflate` is enabled.
    pub(crate) fn new(protocols: Vec<String>, deflate: DeflateConfig) -> Offer {
        let mut key = [0; KEY_LEN];
        base64::encode(&crate::ws::rand::nonce(), &mut key);
        Offer {
            key,
            protocols,
            extensions: client_offer(&deflate),
            deflate,
        }
    }

    /// The `Sec-WebSocket-Key` sent.
    pub(crate) fn key(&self) -> &[u8] {
        &self.key
    }

    /// The opening request for `target`, with the caller's `extra` header
    /// fields after the handshake's own.
    pub(crate) fn request(&self, target: &str, extra: &[(String, Vec<u8>)]) -> ClientRequest {
        let mut req = ClientRequest::get(target)
            .header("Upgrade", "websocket")
            .header("Connection", "Upgrade")
            .header("Sec-WebSocket-Key", self.key)
            .header("Sec-WebSocket-Version", "13");
        if !self.protocols.is_empty() {
            req = req.header("Sec-WebSocket-Protocol", self.protocols.join(", "));
        }
        if let Some(ext) = &self.extensions {
            req = req.header("Sec-WebSocket-Extensions", ext.as_str());
        }
        for (name, value) in extra {
            req.push_header(name, value);
        }
        req
    }

    /// Checks the server's answer (RFC 6455 §4.1, the client's steps 1-6):
    /// `101`, `Upgrade: websocket`, `Connection: upgrade`, the right
    /// `Sec-WebSocket-Accept`, no subprotocol that was not offered, and
    /// no extension but a valid answer to our permessage-deflate offer.
    pub(crate) fn check(&self, resp: &ClientResponse) -> Result<Agreed, HandshakeError> {
        if resp.status() != Status::SWITCHING_PROTOCOLS {
            return Err(HandshakeError::status_code(
                resp.status().as_u16(),
                resp.reason(),
            ));
        }
        let upgrade = resp.header("upgrade").unwrap_or_default();
        if !upgrade.trim_ascii().eq_ignore_ascii_case(b"websocket") {
            return Err(HandshakeError::new(
                HandshakeErrorKind::Upgrade,
                format!(
                    "the 101 answer has `Upgrade: {}`, not `websocket`",
                    String::from_utf8_lossy(upgrade)
                ),
            ));
        }
        let connection_upgrade = resp.header_all("connection").any(|v| {
            v.split(|&b| b == b',')
                .any(|t| t.trim_ascii().eq_ignore_ascii_case(b"upgrade"))
        });
        if !connection_upgrade {
            return Err(HandshakeError::new(
                HandshakeErrorKind::Upgrade,
                "the 101 answer lacks `Connection: upgrade`",
            ));
        }
        let want: [u8; ACCEPT_LEN] = accept_bytes(&self.key);
        let mut accepts = resp.header_all("sec-websocket-accept");
        match (accepts.next(), accepts.next()) {
            (Some(got), None) if got.trim_ascii() == want => {}
            (None, _) => {
                return Err(HandshakeError::new(
                    HandshakeErrorKind::Accept,
                    "the 101 answer has no `Sec-WebSocket-Accept`",
                ))
            }
            (Some(got), _) => {
                return Err(HandshakeError::new(
                    HandshakeErrorKind::Accept,
                    format!(
                        "`Sec-WebSocket-Accept: {}` does not match the key sent (expected {})",
                        String::from_utf8_lossy(got),
                        String::from_utf8_lossy(&want)
                    ),
                ))
            }
        }
        let protocol = self.chosen_protocol(resp)?;
        let deflate = self.accepted_extensions(resp)?;
        Ok(Agreed { protocol, deflate })
    }

    /// The server's `Sec-WebSocket-Extensions` (several fields joined with
    /// `,`): none, or a valid answer to our permessage-deflate offer
    /// (RFC 7692 §5.1, §7.1).
    fn accepted_extensions(
        &self,
        resp: &ClientResponse,
    ) -> Result<Option<deflate::Agreed>, HandshakeError> {
        let mut answer = String::new();
        for field in resp.header_all("sec-websocket-extensions") {
            let field = field.trim_ascii();
            if field.is_empty() {
                continue;
            }
            if !answer.is_empty() {
                answer.push_str(", ");
            }
            answer.push_str(&String::from_utf8_lossy(field));
        }
        if answer.is_empty() {
            return Ok(None);
        }
        if self.extensions.is_none() {
            return Err(HandshakeError::new(
                HandshakeErrorKind::Extension,
                format!("the server answered with extensions that were not offered: {answer}"),
            ));
        }
        client_accept(&answer, &self.deflate)
            .map(Some)
            .map_err(|e| {
                HandshakeError::new(
                    HandshakeErrorKind::Extension,
                    format!("invalid `Sec-WebSocket-Extensions: {answer}` answer ({e})"),
                )
            })
    }

    /// The server's `Sec-WebSocket-Protocol`: none, or exactly one of
    /// those offered.
    fn chosen_protocol(&self, resp: &ClientResponse) -> Result<Option<String>, HandshakeError> {
        let mut chosen: Option<&[u8]> = None;
        for field in resp.header_all("sec-websocket-protocol") {
            for p in field.split(|&b| b == b',').map(<[u8]>::trim_ascii) {
                if p.is_empty() {
                    continue;
                }
                if chosen.is_some() {
                    return Err(HandshakeError::new(
                        HandshakeErrorKind::Protocol,
                        "the server chose more than one subprotocol",
                    ));
                }
                chosen = Some(p);
            }
        }
        let Some(p) = chosen else {
            return Ok(None);
        };
        match self.protocols.iter().find(|o| o.as_bytes() == p) {
            Some(o) => Ok(Some(o.clone())),
            None => Err(HandshakeError::new(
                HandshakeErrorKind::Protocol,
                format!(
                    "the server chose subprotocol {:?}, which was not offered ({:?})",
                    String::from_utf8_lossy(p),
                    self.protocols
                ),
            )),
        }
    }
}
