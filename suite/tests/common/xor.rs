//! A toy cipher for the layer tests: XOR with one key, as a layer under the
//! connection ([`Xor`]), as a middleware that pushes it ([`XorStack`]) and as
//! the blocking client's side of the wire ([`XorStream`]).
//!
//! One file for two crates: the root package's tests reach it through
//! `tests/common`, and the interop crate (`interop/src/lib.rs`) includes it
//! with `#[path]`.

use std::io::{Read, Write};
use std::net::TcpStream;

use corering::pipeline::{Middleware, Refused, Side};
use corering::{Connection, Layer, LayerIo, Lease};

/// The toy cipher's key.
pub const KEY: u8 = 0xa5;

/// XORs every byte with [`KEY`].
pub fn xor(data: &mut [u8]) {
    data.iter_mut().for_each(|b| *b ^= KEY);
}

/// A toy cipher layer: decodes in place in the received lease (no copy) and
/// encodes straight into the socket's send buffers.
pub struct Xor {
    end: &'static [u8],
}

impl Xor {
    /// The cipher alone: nothing marks the end of the stream.
    pub const fn new() -> Self {
        Xor { end: b"" }
    }

    /// The cipher, sending `end` (encoded) when the protocol shuts down its
    /// sending side, as TLS sends `close_notify`.
    pub const fn with_end_marker(end: &'static [u8]) -> Self {
        Xor { end }
    }
}

impl Default for Xor {
    fn default() -> Self {
        Xor::new()
    }
}

impl Layer for Xor {
    fn name(&self) -> &'static str {
        "xor"
    }

    fn received(&mut self, mut data: Lease, io: &mut LayerIo<'_>) -> std::io::Result<()> {
        xor(data.as_mut_slice());
        io.deliver(data);
        Ok(())
    }

    fn send(&mut self, data: &[u8], io: &mut LayerIo<'_>) -> std::io::Result<()> {
        io.send_with(data.len(), |out| {
            out.copy_from_slice(data);
            xor(out);
        })
    }

    fn shutdown(&mut self, io: &mut LayerIo<'_>) -> std::io::Result<()> {
        if self.end.is_empty() {
            return Ok(());
        }
        io.send_with(self.end.len(), |out| {
            out.copy_from_slice(self.end);
            xor(out);
        })
    }
}

/// Pushes [`Xor::new`] on every connection it opens.
pub struct XorStack;

impl Middleware for XorStack {
    fn on_open(&self, conn: &mut Connection, _: Side) -> Result<(), Refused> {
        conn.push_layer(Xor::new());
        Ok(())
    }
}

/// A blocking TCP stream that applies [`xor`] both ways: the peer of a
/// server with [`XorStack`].
pub struct XorStream(pub TcpStream);

impl Read for XorStream {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.0.read(buf)?;
        xor(&mut buf[..n]);
        Ok(n)
    }
}

impl Write for XorStream {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let mut v = buf.to_vec();
        xor(&mut v);
        self.0.write_all(&v)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}
