//! `Message`: a whole data message, borrowed from the socket's buffers.

/// A data message. Received ones borrow the socket's buffers (valid until
/// the next `recv`): in place in the receive buffer for a message that
/// came as one frame in one buffer, else from the socket's reassembly
/// buffer.
///
/// Control frames are not messages here: pings are answered with pongs
/// by the socket itself, pongs only count as traffic for the idle
/// timeout, and the peer's close frame ends `recv` with `Ok(None)` (its
/// code in [`WebSocket::peer_close`](super::WebSocket::peer_close)).
/// Send those with [`WsWriter::ping`](super::WsWriter::ping) and
/// [`WsWriter::close`](super::WsWriter::close).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Message<'a> {
    /// A text message (valid UTF-8, checked).
    Text(&'a str),
    /// A binary message.
    Binary(&'a [u8]),
}

impl<'a> Message<'a> {
    /// The payload's bytes.
    pub fn as_bytes(&self) -> &'a [u8] {
        match *self {
            Message::Text(t) => t.as_bytes(),
            Message::Binary(b) => b,
        }
    }

    /// The text, for a text message.
    pub fn as_text(&self) -> Option<&'a str> {
        match *self {
            Message::Text(t) => Some(t),
            Message::Binary(_) => None,
        }
    }

    /// The payload's length in bytes.
    pub fn len(&self) -> usize {
        self.as_bytes().len()
    }

    /// True for an empty payload.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
