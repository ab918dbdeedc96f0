//! Helpers for the interop tests in `interop/tests/`: crates nobody here
//! wrote (hyper's HTTP/1 server, futures-util's and tokio's io helpers) run over
//! corering connections through [`corering::IoStream`], answered by real
//! clients on loopback sockets.
//!
//! This crate only holds what the tests share: a server builder, a toy
//! cipher layer to show that layers under the connection apply under the
//! adapter too, deterministic test data and the blocking clients' ways of
//! talking to a server.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::time::Duration;

use std::future::Future;

use corering::pipeline::Middleware;
use corering::{Connection, RunningServer, Server, ServerBuilder};

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

/// Builds `b` and starts it with `handler`; panics if either fails.
pub fn start<M, H, F>(b: ServerBuilder<M>, handler: H) -> RunningServer
where
    M: Middleware,
    H: Fn(Connection) -> F + Send + Sync + 'static,
    F: Future<Output = ()> + 'static,
{
    b.build()
        .expect("build the server")
        .start(handler)
        .expect("start the server")
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

// The toy cipher is the suite's tests' own (suite/tests/common/xor.rs): one copy.
#[path = "../../suite/tests/common/xor.rs"]
mod xor_cipher;
pub use xor_cipher::{xor, Xor, XorStack, XorStream, KEY};

/// Connects to `addr` with [`IO_TIMEOUT`] both ways.
pub fn connect(addr: std::net::SocketAddr) -> TcpStream {
    let s = TcpStream::connect(addr).unwrap_or_else(|e| panic!("connect {addr}: {e}"));
    s.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
    s.set_write_timeout(Some(IO_TIMEOUT)).unwrap();
    s.set_nodelay(true).unwrap();
    s
}

/// Sends `data` on `s` in 10,000-byte pieces from a writer thread, then
/// half-closes, while reading everything until the server closes; returns
/// what was read.
pub fn echo_plain(s: TcpStream, data: &[u8]) -> Vec<u8> {
    let (w, sh) = (s.try_clone().unwrap(), s.try_clone().unwrap());
    echo_through(s, w, move || sh.shutdown(Shutdown::Write).unwrap(), data)
}

/// [`echo_plain`] with [`XorStream`] both ways: the peer of a server with
/// [`XorStack`]; returns what was read, decoded.
pub fn echo_xor(s: TcpStream, data: &[u8]) -> Vec<u8> {
    let (w, sh) = (s.try_clone().unwrap(), s.try_clone().unwrap());
    echo_through(
        XorStream(s),
        XorStream(w),
        move || sh.shutdown(Shutdown::Write).unwrap(),
        data,
    )
}

/// Writes `data` through `w` from a writer thread, then calls `shut`, while
/// reading `s` to its end.
fn echo_through<S: Read + Write + Send + 'static>(
    mut s: S,
    mut w: impl Write + Send + 'static,
    shut: impl FnOnce() + Send + 'static,
    data: &[u8],
) -> Vec<u8> {
    let sent = data.to_vec();
    let writer = std::thread::spawn(move || {
        for c in sent.chunks(10_000) {
            w.write_all(c).unwrap();
        }
        shut();
    });
    let mut got = Vec::new();
    s.read_to_end(&mut got).unwrap();
    writer.join().unwrap();
    got
}

/// Writes `first`, waits 20 ms so that it most likely arrives alone, writes
/// `second`, half-closes, and returns everything the server sends until it
/// closes, as text.
pub fn send_in_two(mut s: TcpStream, first: &[u8], second: &[u8]) -> String {
    s.write_all(first).unwrap();
    s.flush().unwrap();
    std::thread::sleep(Duration::from_millis(20));
    s.write_all(second).unwrap();
    s.shutdown(Shutdown::Write).unwrap();
    let mut got = String::new();
    s.read_to_string(&mut got).unwrap();
    got
}
