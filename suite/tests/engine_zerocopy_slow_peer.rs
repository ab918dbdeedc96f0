//! A peer with a small receive buffer that reads steadily is fed at the
//! speed it reads, with zero-copy sends on (the default) as with them off:
//! a server that writes 4 MiB to a client with a 16 KiB `SO_RCVBUF`
//! finishes in well under 5 s (about 0.1-0.5 s here).
//!
//! With full-size zero-copy sends on loopback this took 20-30 s: the kernel
//! copies zero-copy data delivered locally, charges the copied pages to the
//! small receive buffer, drops a segment, and the connection then moves one
//! segment per persist-timer probe. The engine now probes with a 4 KiB
//! zero-copy send and copies where the kernel reports it copied
//! (`conn/zerocopy.rs`).

mod common;

use std::io::Read;
use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

use common::*;
use corering::{Connection, ServerBuilder};

const TOTAL: usize = 4 << 20;
const SEED: u64 = 0x5_10E;
/// The generous bound: the transfer takes about 0.1 s when it works and
/// 20 s when every send waits for the peer to acknowledge all of it.
const BOUND: Duration = Duration::from_secs(5);

/// Writes TOTAL pattern bytes in `piece`-sized `write_all` calls, then
/// ends the stream.
async fn write_pattern(mut conn: Connection, piece: usize) {
    let mut buf = vec![0u8; piece];
    let mut off = 0;
    while off < TOTAL {
        let n = piece.min(TOTAL - off);
        pattern_fill(SEED, off as u64, &mut buf[..n]);
        if conn.write_all(&buf[..n]).await.is_err() {
            return;
        }
        off += n;
    }
    let _ = conn.shutdown_write().await;
}

/// A client with a 16 KiB receive buffer that reads 16 KiB at a time
/// until EOF, checking every byte; returns how long the transfer took.
fn read_with_small_buffer(addr: SocketAddr) -> Duration {
    let mut stream = connect(addr);
    let small: libc::c_int = 16 << 10;
    // SAFETY: a valid socket and a c_int option value of the right size.
    let rc = unsafe {
        libc::setsockopt(
            stream.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_RCVBUF,
            (&small as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    assert_eq!(rc, 0, "SO_RCVBUF");
    let start = Instant::now();
    let mut buf = vec![0u8; 16 << 10];
    let mut scratch = Vec::new();
    let mut got = 0usize;
    loop {
        let n = stream.read(&mut buf).expect("read");
        if n == 0 {
            break;
        }
        assert!(got + n <= TOTAL, "more bytes than the server wrote");
        if let Err(at) = pattern_check(SEED, got as u64, &buf[..n], &mut scratch) {
            panic!("wrong byte at offset {at}");
        }
        got += n;
    }
    assert_eq!(got, TOTAL, "EOF before all bytes arrived");
    start.elapsed()
}

fn transfer(b: ServerBuilder, piece: usize, what: &str) {
    let server = b
        .workers(1)
        .build()
        .unwrap()
        .start(move |conn| write_pattern(conn, piece))
        .unwrap();
    let addr = tcp_addr(&server);
    // The bound is checked by the reader itself; `within` only keeps a
    // hang from stalling the suite.
    let took = within(Duration::from_secs(60), what, move || {
        read_with_small_buffer(addr)
    });
    eprintln!("{what}: 4 MiB to a 16 KiB-buffer reader in {took:?}");
    assert!(
        took < BOUND,
        "{what}: 4 MiB to a 16 KiB-buffer reader took {took:?} (bound {BOUND:?})"
    );
    server.shutdown().unwrap();
}

/// The default settings: writes of 256 KiB reach the 64 KiB zero-copy
/// threshold, so on io_uring the sends are `sendmsg_zc`.
#[test]
fn zero_copy_sends_keep_up_with_a_slow_reader() {
    if common::io_uring_only("zero-copy send (sendmsg_zc)") {
        return;
    }
    transfer(builder(), 256 << 10, "zero-copy, 256 KiB writes");
}

/// One 4 MiB `write_all`: the whole transfer is queued at once and sent
/// in as many zero-copy sends as the socket takes.
#[test]
fn zero_copy_one_big_write_keeps_up_with_a_slow_reader() {
    if common::io_uring_only("zero-copy send (sendmsg_zc)") {
        return;
    }
    transfer(
        builder().write_buffer_limit(TOTAL),
        TOTAL,
        "zero-copy, one 4 MiB write",
    );
}

/// The same transfer with copying sends, on both backends: the reference
/// the zero-copy runs are held to.
#[test]
fn copying_sends_keep_up_with_a_slow_reader() {
    transfer(
        builder().zero_copy_threshold(None),
        256 << 10,
        "copying, 256 KiB writes",
    );
}
