//! The load client of `ws_load`: a minimal WebSocket client written here, one
//! [`EchoConn`] per connection, driven by readiness (non-blocking sockets; the bench runs
//! them on one epoll thread). Each connection has one message in flight: it sends a masked
//! binary frame, reads the echo (one frame or fragments, control frames refused), checks
//! it byte for byte against what it sent, and sends the next. The opening handshake
//! ([`handshake`]) is done blocking before the load starts.
//!
//! With [`Framing::Raw`] the client sends the same frames but skips the handshake and
//! expects its own bytes back unchanged (still masked): what a byte echo server such as
//! `echo_floor` returns, the least any WebSocket server can do with a message.

pub mod frame;
pub mod handshake;

use std::io::{self, Read, Write};
use std::net::TcpStream;

use frame::{masked_binary, parse_server_head, OP_BINARY, OP_CONTINUATION};

/// How the server frames its echo.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Framing {
    /// A WebSocket server: handshake, then unmasked server frames.
    WebSocket,
    /// A byte echo: no handshake, the client's masked frames come back as sent.
    Raw,
}

/// What one readiness event brought.
pub struct Progress {
    /// Echoes completed and verified.
    pub msgs: u64,
    /// The frame is not all written: wait for the socket to be writable.
    pub want_write: bool,
}

/// One connection's message in flight and the echo coming back.
pub struct EchoConn {
    framing: Framing,
    id: u32,
    seq: u64,
    /// xorshift state for the mask keys.
    rng: u32,
    /// The current message, unmasked.
    payload: Vec<u8>,
    /// The current message as a masked frame, and how much of it is written.
    frame: Vec<u8>,
    written: usize,
    /// Received bytes not yet consumed.
    reply: Vec<u8>,
    filled: usize,
    /// Payload bytes of the echo verified so far, and whether its first frame came.
    matched: usize,
    started: bool,
}

impl EchoConn {
    /// Connection `id` sending messages of `size` bytes (at least 12: id and sequence
    /// number lead each message).
    pub fn new(id: u32, size: usize, framing: Framing) -> EchoConn {
        assert!(
            size >= 12,
            "messages carry a 12-byte id and sequence number"
        );
        let payload = (0..size)
            .map(|i| (i as u32).wrapping_mul(31).wrapping_add(id) as u8)
            .collect();
        let mut conn = EchoConn {
            framing,
            id,
            seq: 0,
            rng: id.wrapping_mul(0x9e37_79b9) | 1,
            payload,
            frame: Vec::with_capacity(size + 14),
            written: 0,
            // Room for the whole echo in one frame (head up to 10 bytes), or as sent.
            reply: vec![0; size + 14],
            filled: 0,
            matched: 0,
            started: false,
        };
        conn.next_message();
        conn
    }

    /// Writes what is pending and reads what arrived, as long as the socket allows;
    /// every complete, verified echo is counted and followed by the next message. An
    /// error on EOF, a wrong echo or a frame the client does not expect.
    pub fn on_ready(&mut self, stream: &TcpStream) -> io::Result<Progress> {
        let mut msgs = 0;
        loop {
            if self.written < self.frame.len() {
                self.written += write_nonblocking(stream, &self.frame[self.written..])?;
            }
            let want_write = self.written < self.frame.len();
            match read_nonblocking(stream, &mut self.reply[self.filled..])? {
                None => return Ok(Progress { msgs, want_write }),
                Some(n) => self.filled += n,
            }
            if self.echo_complete().map_err(invalid)? {
                msgs += 1;
                self.next_message();
            }
        }
    }

    /// Consumes the complete frames received; true once the whole echo has come and
    /// matched.
    fn echo_complete(&mut self) -> Result<bool, String> {
        if self.framing == Framing::Raw {
            if self.filled < self.frame.len() {
                return Ok(false);
            }
            if self.reply[..self.filled] != self.frame[..] {
                return Err(format!(
                    "connection {}: echo differs from the frame sent",
                    self.id
                ));
            }
            return Ok(true);
        }
        let mut at = 0;
        while let Some(head) = parse_server_head(&self.reply[at..self.filled])? {
            if head.opcode & 0x8 == 0 && head.payload_len > self.payload.len() - self.matched {
                return Err(format!(
                    "connection {}: a {}-byte frame where {} bytes of echo were due",
                    self.id,
                    head.payload_len,
                    self.payload.len() - self.matched
                ));
            }
            let end = at + head.len + head.payload_len;
            if end > self.filled {
                break;
            }
            let want = if self.started {
                OP_CONTINUATION
            } else {
                OP_BINARY
            };
            if head.opcode != want {
                let close = (head.opcode == 0x8 && head.payload_len >= 2).then(|| {
                    u16::from_be_bytes([self.reply[at + head.len], self.reply[at + head.len + 1]])
                });
                return Err(format!(
                    "connection {}: opcode {:#x} where {want:#x} was due (close code {close:?})",
                    self.id, head.opcode
                ));
            }
            let got = &self.reply[at + head.len..end];
            let expected = self.payload.get(self.matched..self.matched + got.len());
            if expected != Some(got) {
                return Err(format!(
                    "connection {}: echo differs from the message sent",
                    self.id
                ));
            }
            self.started = true;
            self.matched += got.len();
            at = end;
            if head.fin {
                if self.matched != self.payload.len() || at != self.filled {
                    return Err(format!(
                        "connection {}: echo of {} bytes, {} more received, for a {}-byte message",
                        self.id,
                        self.matched,
                        self.filled - at,
                        self.payload.len()
                    ));
                }
                return Ok(true);
            }
        }
        self.reply.copy_within(at..self.filled, 0);
        self.filled -= at;
        Ok(false)
    }

    /// Frames the next message: new sequence number, new mask key.
    fn next_message(&mut self) {
        self.seq += 1;
        self.payload[..4].copy_from_slice(&self.id.to_le_bytes());
        self.payload[4..12].copy_from_slice(&self.seq.to_le_bytes());
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 17;
        self.rng ^= self.rng << 5;
        masked_binary(&mut self.frame, &self.payload, self.rng.to_ne_bytes());
        self.written = 0;
        self.filled = 0;
        self.matched = 0;
        self.started = false;
    }
}

fn invalid(what: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what)
}

/// One read; `None` if it would block, an error on EOF.
fn read_nonblocking(mut stream: &TcpStream, buf: &mut [u8]) -> io::Result<Option<usize>> {
    match stream.read(buf) {
        Ok(0) => Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "server closed the connection",
        )),
        Ok(n) => Ok(Some(n)),
        Err(e)
            if matches!(
                e.kind(),
                io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
            ) =>
        {
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

/// One write; 0 if it would block.
fn write_nonblocking(mut stream: &TcpStream, buf: &[u8]) -> io::Result<usize> {
    match stream.write(buf) {
        Ok(n) => Ok(n),
        Err(e)
            if matches!(
                e.kind(),
                io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
            ) =>
        {
            Ok(0)
        }
        Err(e) => Err(e),
    }
}
