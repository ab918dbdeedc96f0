//! Byte-stream middleware on the client side: one layer-pushing
//! `Middleware` value is given to both a server and a `Connector`, so both
//! ends of a real loopback connection run the same layer stack (a toy
//! stream cipher whose keystream depends on the byte's position and the
//! direction, under a byte counter). A megabyte echoed through it must come
//! back exact: any byte a layer lost, duplicated, reordered or failed to
//! transform on either end would show.

mod common;

use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::{assert_bytes_eq, builder, echo, ping_pong, random_bytes, within};
use corering::pipeline::{Middleware, Refused, Side};
use corering::{Connection, Connector, Layer, LayerIo, Lease, Runtime};

/// The keystream byte at `pos` of the stream sent by `from`.
fn key(from: Side, pos: u64) -> u8 {
    let salt: u64 = match from {
        Side::Client => 0x9E37_79B9,
        Side::Server => 0x85EB_CA6B,
    };
    let x = (pos ^ salt).wrapping_mul(0x2545_F491_4F6C_DD1D);
    (x >> 56) as u8
}

/// A toy stream cipher: what `side` sends is XORed with its own keystream,
/// what it receives with the other side's; positions count from the
/// connection's first byte each way.
struct Cipher {
    side: Side,
    sent: u64,
    received: u64,
}

impl Cipher {
    fn new(side: Side) -> Cipher {
        Cipher {
            side,
            sent: 0,
            received: 0,
        }
    }

    fn peer(&self) -> Side {
        match self.side {
            Side::Client => Side::Server,
            Side::Server => Side::Client,
        }
    }
}

fn apply(data: &mut [u8], from: Side, pos: &mut u64) {
    for b in data {
        *b ^= key(from, *pos);
        *pos += 1;
    }
}

impl Layer for Cipher {
    fn name(&self) -> &'static str {
        "cipher"
    }

    fn received(&mut self, mut data: Lease, io: &mut LayerIo<'_>) -> io::Result<()> {
        let peer = self.peer();
        apply(data.as_mut_slice(), peer, &mut self.received);
        io.deliver(data);
        Ok(())
    }

    fn send(&mut self, data: &[u8], io: &mut LayerIo<'_>) -> io::Result<()> {
        let (side, pos) = (self.side, &mut self.sent);
        io.send_with(data.len(), |out| {
            out.copy_from_slice(data);
            apply(out, side, pos);
        })
    }
}

/// Counts the plaintext bytes a side reads and writes.
struct Count(Arc<Counts>, Side);

#[derive(Default)]
struct Counts {
    server_read: AtomicU64,
    client_read: AtomicU64,
    server_written: AtomicU64,
    client_written: AtomicU64,
}

impl Counts {
    fn read(&self, side: Side) -> &AtomicU64 {
        match side {
            Side::Server => &self.server_read,
            Side::Client => &self.client_read,
        }
    }

    fn written(&self, side: Side) -> &AtomicU64 {
        match side {
            Side::Server => &self.server_written,
            Side::Client => &self.client_written,
        }
    }
}

impl Layer for Count {
    fn name(&self) -> &'static str {
        "count"
    }

    fn received(&mut self, data: Lease, io: &mut LayerIo<'_>) -> io::Result<()> {
        self.0
            .read(self.1)
            .fetch_add(data.len() as u64, Ordering::Relaxed);
        io.deliver(data);
        Ok(())
    }

    fn send(&mut self, data: &[u8], io: &mut LayerIo<'_>) -> io::Result<()> {
        self.0
            .written(self.1)
            .fetch_add(data.len() as u64, Ordering::Relaxed);
        io.send(data)
    }
}

/// The one middleware value both ends get: a cipher for the side it runs
/// on, a counter above it.
struct Stack {
    counts: Arc<Counts>,
}

impl Middleware for Stack {
    fn on_open(&self, conn: &mut Connection, side: Side) -> Result<(), Refused> {
        conn.push_layer(Cipher::new(side));
        conn.push_layer(Count(self.counts.clone(), side));
        Ok(())
    }
}

const LEN: usize = 1 << 20;

#[test]
fn one_layer_middleware_serves_both_ends_and_a_mebibyte_echoes_exactly() {
    let stack = Arc::new(Stack {
        counts: Arc::new(Counts::default()),
    });
    let server = builder()
        .middleware(stack.clone())
        .build()
        .unwrap()
        .start(echo)
        .unwrap();
    let addr = server.tcp_addr().unwrap();
    let data = random_bytes(11, LEN);
    let client_mw = stack.clone();
    let sent = data.clone();
    let (got, names) = within(Duration::from_secs(60), "layered client", move || {
        Runtime::new().unwrap().block_on(async move {
            let mut conn = Connector::new()
                .middleware(client_mw)
                .connect(addr)
                .await
                .expect("connect");
            let names = conn.layer_names();
            let got = ping_pong(&mut conn, &sent, 64 << 10).await.expect("echo");
            conn.close().await.expect("close");
            (got, names)
        })
    });
    assert_eq!(names, ["cipher", "count"], "the client's stack");
    assert_bytes_eq(&got, &data, "echo through layers on both ends");
    let c = &stack.counts;
    assert_eq!(c.client_written.load(Ordering::Relaxed), LEN as u64);
    assert_eq!(c.client_read.load(Ordering::Relaxed), LEN as u64);
    assert!(
        common::wait_until(Duration::from_secs(10), || {
            c.server_read.load(Ordering::Relaxed) == LEN as u64
                && c.server_written.load(Ordering::Relaxed) == LEN as u64
        }),
        "the server's counter saw the megabyte both ways"
    );
    server.shutdown().unwrap();
}

#[test]
fn a_client_without_the_layer_gets_garbage_back() {
    // Guards the test above: the keystreams differ by direction, so an
    // unlayered client cannot get its bytes back through a layered server.
    let stack = Arc::new(Stack {
        counts: Arc::new(Counts::default()),
    });
    let server = builder()
        .middleware(stack)
        .build()
        .unwrap()
        .start(echo)
        .unwrap();
    let addr = server.tcp_addr().unwrap();
    let data = random_bytes(12, 64 << 10);
    let sent = data.clone();
    let got = within(Duration::from_secs(60), "plain client", move || {
        Runtime::new().unwrap().block_on(async move {
            let mut conn = Connector::new().connect(addr).await.expect("connect");
            ping_pong(&mut conn, &sent, 16 << 10).await.expect("echo")
        })
    });
    assert_eq!(got.len(), data.len());
    assert!(got != data, "an unlayered client must not see plaintext");
    server.shutdown().unwrap();
}
