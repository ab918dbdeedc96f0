//! The load client of `ws_load`: a minimal WebSocket client written here, one
//! [`EchoConn`] per connection, driven by readiness (non-blocking sockets; the bench runs
//! them on one epoll thread). Each connection has one message in flight: it sends a masked
//! binary frame, reads the echo (one frame or fragments, control frames refused), checks
//! it byte for byte against what it sent, and sends the next. The opening handshake
//! ([`handshake`]) is done blocking before the load starts.
//!
//! With permessage-deflate negotiated ([`deflate`]) every message goes out compressed
//! and a compressed echo is inflated before the check. Messages are text-like (words of
//! a small vocabulary, see [`text_pool`]) and each is a different slice of a shared pool,
//! so that compression sees data like a chat's rather than one message repeated.
//!
//! With [`Framing::Raw`] the client sends the same frames but skips the handshake and
//! expects its own bytes back unchanged (still masked): what a byte echo server such as
//! `echo_floor` returns, the least any WebSocket server can do with a message.

pub mod deflate;
pub mod frame;
pub mod handshake;

use std::io::{self, Read, Write};
use std::net::TcpStream;

use deflate::Deflate;
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

/// Bytes of the text every message is a slice of.
const POOL: usize = 1 << 20;

/// [`POOL`] bytes of text: words from a small vocabulary, picked by a fixed xorshift
/// sequence (made once, shared by all connections).
pub fn text_pool() -> &'static [u8] {
    const WORDS: [&str; 16] = [
        "the ", "chat ", "message ", "hello ", "world ", "socket ", "frame ", "of ", "a ", "and ",
        "server ", "client ", "to ", "is ", "ping ", "room ",
    ];
    let mut text = Vec::with_capacity(POOL + 16);
    let mut x = 0x2545_f491_u32;
    while text.len() < POOL {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        text.extend_from_slice(WORDS[(x >> 7) as usize % WORDS.len()].as_bytes());
    }
    text.truncate(POOL);
    Box::leak(text.into_boxed_slice())
}

/// One connection's message in flight and the echo coming back.
pub struct EchoConn {
    framing: Framing,
    id: u32,
    seq: u64,
    /// xorshift state for the mask keys.
    rng: u32,
    /// Where messages come from, and where the next one starts in it.
    pool: &'static [u8],
    offset: usize,
    /// The current message, unmasked and uncompressed.
    payload: Vec<u8>,
    /// permessage-deflate, if negotiated; the message compressed; the echo's compressed
    /// payload gathered over its frames, and inflated.
    deflate: Option<Deflate>,
    compressed: Vec<u8>,
    echo_compressed: Vec<u8>,
    inflated: Vec<u8>,
    /// The current message as a masked frame, and how much of it is written.
    frame: Vec<u8>,
    written: usize,
    /// Received bytes not yet consumed.
    reply: Vec<u8>,
    filled: usize,
    /// Payload bytes of the echo verified (or gathered) so far, whether its first frame
    /// came, and whether that frame said the echo is compressed.
    matched: usize,
    started: bool,
    echo_is_compressed: bool,
}

impl EchoConn {
    /// Connection `id` sending messages of `size` bytes (at least 12: id and sequence
    /// number lead each message) taken from `pool` (see [`text_pool`]), compressed if
    /// `deflate` holds the negotiated permessage-deflate parameters.
    pub fn new(
        id: u32,
        size: usize,
        framing: Framing,
        pool: &'static [u8],
        deflate: Option<deflate::Params>,
    ) -> EchoConn {
        assert!(
            size >= 12,
            "messages carry a 12-byte id and sequence number"
        );
        assert!(size <= pool.len() / 2, "messages are slices of the pool");
        let mut conn = EchoConn {
            framing,
            id,
            seq: 0,
            rng: id.wrapping_mul(0x9e37_79b9) | 1,
            pool,
            offset: (id as usize).wrapping_mul(7919) % (pool.len() - size),
            payload: vec![0; size],
            deflate: deflate.map(Deflate::new),
            compressed: Vec::new(),
            echo_compressed: Vec::new(),
            inflated: Vec::new(),
            frame: Vec::with_capacity(size + 80),
            written: 0,
            // Room for the whole echo in one frame (head up to 10 bytes, deflate's worst
            // case a few bytes over the message), or the frame as sent.
            reply: vec![0; size + 80],
            filled: 0,
            matched: 0,
            started: false,
            echo_is_compressed: false,
        };
        conn.next_message()
            .expect("compressing a message into a growable buffer");
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
                self.next_message().map_err(invalid)?;
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
        loop {
            // RSV1 (compressed) may only mark the first frame of the echo.
            let rsv1_allowed = self.deflate.is_some() && !self.started;
            let Some(head) = parse_server_head(&self.reply[at..self.filled], rsv1_allowed)? else {
                break;
            };
            let want = if self.started {
                OP_CONTINUATION
            } else {
                OP_BINARY
            };
            let due = self.payload.len() - self.matched;
            if head.opcode == want
                && !head.rsv1
                && !self.echo_is_compressed
                && head.payload_len > due
            {
                return Err(format!(
                    "connection {}: a {}-byte frame where {due} bytes of echo were due",
                    self.id, head.payload_len
                ));
            }
            let end = at + head.len + head.payload_len;
            if end > self.filled {
                break;
            }
            if head.opcode != want {
                let close = (head.opcode == 0x8 && head.payload_len >= 2).then(|| {
                    u16::from_be_bytes([self.reply[at + head.len], self.reply[at + head.len + 1]])
                });
                return Err(format!(
                    "connection {}: opcode {:#x} where {want:#x} was due (close code {close:?})",
                    self.id, head.opcode
                ));
            }
            if !self.started {
                self.echo_is_compressed = head.rsv1;
                self.echo_compressed.clear();
            }
            self.started = true;
            let got = &self.reply[at + head.len..end];
            if self.echo_is_compressed {
                self.echo_compressed.extend_from_slice(got);
            } else {
                let expected = self.payload.get(self.matched..self.matched + got.len());
                if expected != Some(got) {
                    return Err(format!(
                        "connection {}: echo differs from the message sent",
                        self.id
                    ));
                }
                self.matched += got.len();
            }
            at = end;
            if head.fin {
                if at != self.filled {
                    return Err(format!(
                        "connection {}: {} bytes received after the echo",
                        self.id,
                        self.filled - at
                    ));
                }
                if self.echo_is_compressed {
                    let deflate = self.deflate.as_mut().expect("RSV1 only with deflate");
                    deflate.decompress(
                        &self.echo_compressed,
                        &mut self.inflated,
                        self.payload.len(),
                    )?;
                    if self.inflated != self.payload {
                        return Err(format!(
                            "connection {}: inflated echo differs from the message sent",
                            self.id
                        ));
                    }
                } else if self.matched != self.payload.len() {
                    return Err(format!(
                        "connection {}: echo of {} bytes for a {}-byte message",
                        self.id,
                        self.matched,
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

    /// Frames the next message: the next slice of the pool, a new sequence number, a new
    /// mask key; compressed if permessage-deflate was negotiated.
    fn next_message(&mut self) -> Result<(), String> {
        let size = self.payload.len();
        self.offset = (self.offset + size + 4099) % (self.pool.len() - size);
        self.payload
            .copy_from_slice(&self.pool[self.offset..self.offset + size]);
        self.seq += 1;
        self.payload[..4].copy_from_slice(&self.id.to_le_bytes());
        self.payload[4..12].copy_from_slice(&self.seq.to_le_bytes());
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 17;
        self.rng ^= self.rng << 5;
        let mask = self.rng.to_ne_bytes();
        match &mut self.deflate {
            Some(deflate) => {
                deflate.compress(&self.payload, &mut self.compressed)?;
                masked_binary(&mut self.frame, &self.compressed, mask, true);
            }
            None => masked_binary(&mut self.frame, &self.payload, mask, false),
        }
        if self.framing == Framing::Raw && self.reply.len() < self.frame.len() {
            self.reply.resize(self.frame.len(), 0);
        }
        self.written = 0;
        self.filled = 0;
        self.matched = 0;
        self.started = false;
        self.echo_is_compressed = false;
        Ok(())
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
