//! Helpers for the interop tests in `interop/tests/`: crates nobody here
//! wrote (hyper's HTTP/1 server, futures-util's and tokio's io helpers) run over
//! corering connections through [`corering::IoStream`], answered by real
//! clients on loopback sockets.
//!
//! This crate only holds what the tests share: a server builder, a toy
//! cipher layer to show that layers under the connection apply under the
//! adapter too, and deterministic test data.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use corering::pipeline::{Middleware, Refused, Side};
use corering::{Connection, Layer, LayerIo, Lease, Server, ServerBuilder};

/// Socket timeout for blocking test clients: a hang fails the test, a slow
/// machine does not.
pub const IO_TIMEOUT: Duration = Duration::from_secs(20);

/// A TCP server builder on 127.0.0.1, ephemeral port, one unpinned worker.
pub fn builder() -> ServerBuilder {
    Server::builder()
        .bind("127.0.0.1:0")
        .workers(1)
        .pin_workers(false)
}

/// `len` pseudo-random bytes from `seed` (xorshift64*).
pub fn random_bytes(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            (x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 56) as u8
        })
        .collect()
}

/// The toy cipher's key.
pub const KEY: u8 = 0xa5;

/// XORs every byte with [`KEY`].
pub fn xor(data: &mut [u8]) {
    data.iter_mut().for_each(|b| *b ^= KEY);
}

/// A toy cipher layer: decodes in place in the received lease and encodes
/// into the socket's send buffers.
pub struct Xor;

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
}

/// Pushes [`Xor`] on every connection it opens.
pub struct XorStack;

impl Middleware for XorStack {
    fn on_open(&self, conn: &mut Connection, _: Side) -> Result<(), Refused> {
        conn.push_layer(Xor);
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

/// Connects to `addr` with [`IO_TIMEOUT`] both ways.
pub fn connect(addr: std::net::SocketAddr) -> TcpStream {
    let s = TcpStream::connect(addr).unwrap_or_else(|e| panic!("connect {addr}: {e}"));
    s.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
    s.set_write_timeout(Some(IO_TIMEOUT)).unwrap();
    s.set_nodelay(true).unwrap();
    s
}
