//! Backpressure: a connection whose peer never reads, or whose handler
//! hoards received buffers, is paused without stalling its neighbours on the
//! same worker; the write-buffer limit holds.

mod common;

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicU16, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use common::*;
use corering::Connection;

const OTHERS: usize = 100;
const OTHER_BYTES: usize = 256 << 10;

/// A client that writes `total` bytes of stream `seed` and does not read.
struct Stalled {
    stream: TcpStream,
    written: Arc<AtomicUsize>,
    writer: JoinHandle<io::Result<()>>,
    total: usize,
    seed: u64,
}

fn start_stalled_writer(addr: SocketAddr, seed: u64, total: usize) -> Stalled {
    let stream = connect(addr);
    let mut w = stream.try_clone().unwrap();
    let written = Arc::new(AtomicUsize::new(0));
    let written2 = written.clone();
    let writer = std::thread::spawn(move || {
        let mut buf = vec![0u8; 64 << 10];
        let mut off = 0;
        while off < total {
            let n = buf.len().min(total - off);
            pattern_fill(seed, off as u64, &mut buf[..n]);
            w.write_all(&buf[..n])?;
            off += n;
            written2.store(off, Ordering::SeqCst);
        }
        w.shutdown(std::net::Shutdown::Write)
    });
    Stalled {
        stream,
        written,
        writer,
        total,
        seed,
    }
}

/// Waits until `counter` has not moved for 300 ms (and is non-zero).
fn wait_stable(counter: &AtomicUsize, limit: Duration) -> usize {
    let end = Instant::now() + limit;
    let mut last = counter.load(Ordering::SeqCst);
    let mut since = Instant::now();
    loop {
        std::thread::sleep(Duration::from_millis(25));
        let now = counter.load(Ordering::SeqCst);
        if now != last || now == 0 {
            last = now;
            since = Instant::now();
        } else if since.elapsed() >= Duration::from_millis(300) {
            return now;
        }
        assert!(Instant::now() < end, "counter never settled (at {now})");
    }
}

fn non_reading_peer_does_not_block_others(handler_copies: bool) {
    // One worker: the stalled connection and the others share it.
    let b = builder().workers(1).build().unwrap();
    let server = if handler_copies {
        b.start(echo_copy).unwrap()
    } else {
        b.start(echo).unwrap()
    };
    let addr = tcp_addr(&server);

    // 128 MiB is far more than all the socket buffers on the path can hold,
    // so the writer must stall once the server stops reading.
    let stalled = start_stalled_writer(addr, 0xBAD, 128 << 20);
    let stuck_at = wait_stable(&stalled.written, Duration::from_secs(15));
    assert!(
        stuck_at < stalled.total,
        "the non-reading client was never stalled ({stuck_at} bytes written)"
    );
    eprintln!("non-reading client stalled after {} KiB", stuck_at >> 10);

    let errors = within(Duration::from_secs(20), "100 echo clients", move || {
        tokio_echo_many(addr, 1, OTHERS, OTHER_BYTES)
    });
    assert_no_errors(&errors, OTHERS);
    assert!(
        stalled.written.load(Ordering::SeqCst) < stalled.total,
        "the non-reading client should still be stalled"
    );

    // Now read: everything comes back, in order, and the writer finishes.
    let Stalled {
        mut stream,
        writer,
        total,
        seed,
        ..
    } = stalled;
    within(
        Duration::from_secs(30),
        "drain the stalled connection",
        move || {
            let mut buf = vec![0u8; 256 << 10];
            let mut scratch = Vec::new();
            let mut got = 0usize;
            loop {
                let n = stream.read(&mut buf).unwrap();
                if n == 0 {
                    break;
                }
                assert!(got + n <= total, "more bytes echoed than sent");
                if let Err(at) = pattern_check(seed, got as u64, &buf[..n], &mut scratch) {
                    panic!("stalled connection: wrong byte at offset {at}");
                }
                got += n;
            }
            assert_eq!(got, total, "stalled connection: EOF too early");
            writer.join().unwrap().unwrap();
        },
    );
    server.shutdown().unwrap();
}

#[test]
fn non_reading_peer_does_not_block_others_zero_copy_echo() {
    if common::io_uring_only("zero-copy send (sendmsg_zc)") {
        return;
    }
    non_reading_peer_does_not_block_others(false);
}

#[test]
fn non_reading_peer_does_not_block_others_copy_echo() {
    non_reading_peer_does_not_block_others(true);
}

/// A handler that keeps every buffer it reads: its receive is paused at
/// `max_leases`, so it cannot drain the worker's buffer ring and the other
/// connections keep going.
#[test]
fn hoarding_handler_does_not_starve_others() {
    const RING: u16 = 128;
    const MAX_LEASES: usize = 8;
    let hoarder_port = Arc::new(AtomicU16::new(0));
    let held = Arc::new(AtomicUsize::new(0));
    let (hp, h2) = (hoarder_port.clone(), held.clone());
    let server = builder()
        .workers(1)
        .recv_buffers(RING, 4096)
        .max_leases(MAX_LEASES as u32)
        .shutdown_timeout(Duration::from_millis(300))
        .build()
        .unwrap()
        .start(move |mut conn: Connection| {
            let (hp, held) = (hp.clone(), h2.clone());
            async move {
                let Ok(Some(first)) = conn.read().await else {
                    return;
                };
                let port = match conn.peer_addr() {
                    Ok(corering::Address::Tcp(a)) => a.port(),
                    _ => 0,
                };
                if port == hp.load(Ordering::SeqCst) {
                    let mut keep = vec![first];
                    held.store(keep.len(), Ordering::SeqCst);
                    while let Ok(Some(l)) = conn.read().await {
                        keep.push(l);
                        held.store(keep.len(), Ordering::SeqCst);
                    }
                    return;
                }
                if conn.write_owned(first).await.is_err() {
                    return;
                }
                echo(conn).await
            }
        })
        .unwrap();
    let addr = tcp_addr(&server);

    // The hoarder's port is published before it sends its first byte.
    let stream = connect(addr);
    hoarder_port.store(stream.local_addr().unwrap().port(), Ordering::SeqCst);
    let mut w = stream.try_clone().unwrap();
    let writer = std::thread::spawn(move || {
        let chunk = vec![b'h'; 64 << 10];
        for _ in 0..256 {
            if w.write_all(&chunk).is_err() {
                break;
            }
        }
    });
    let n = wait_stable(&held, Duration::from_secs(15));
    eprintln!("hoarding handler holds {n} leases (max_leases {MAX_LEASES}, ring {RING})");
    assert!(n >= MAX_LEASES, "receive paused before max_leases ({n})");
    assert!(n < RING as usize, "the hoarder took the whole ring ({n})");

    let errors = within(Duration::from_secs(20), "100 echo clients", move || {
        tokio_echo_many(addr, 500, OTHERS, OTHER_BYTES)
    });
    assert_no_errors(&errors, OTHERS);
    assert_eq!(held.load(Ordering::SeqCst), n, "the hoarder stayed paused");

    // The hoarder never returns by itself: shutdown must still finish after
    // its grace period.
    let t0 = Instant::now();
    within(Duration::from_secs(10), "shutdown", move || {
        server.shutdown().unwrap()
    });
    assert!(
        t0.elapsed() < Duration::from_secs(5),
        "shutdown took {:?}",
        t0.elapsed()
    );
    // The peer learns the connection is gone (EOF or reset) promptly.
    let mut stream = stream;
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut byte = [0u8; 1];
    match stream.read(&mut byte) {
        Ok(0) => {}
        Ok(_) => panic!("the hoarding handler never writes"),
        Err(e) => assert!(
            matches!(
                e.kind(),
                io::ErrorKind::ConnectionReset | io::ErrorKind::BrokenPipe
            ),
            "after shutdown the hoarder's peer should see EOF or a reset, got {e}"
        ),
    }
    // Unblock our own writer (it may sit on a zero window).
    let _ = stream.shutdown(std::net::Shutdown::Both);
    writer.join().unwrap();
}

/// Writes wait once `write_buffer_limit` bytes are queued; the queue never
/// grows past the limit plus one write, and everything queued arrives.
#[test]
fn write_buffer_limit_bounds_queued_bytes() {
    const LIMIT: usize = 256 << 10;
    const CHUNK: usize = 64 << 10;
    const TOTAL: usize = 16 << 20;
    const SEED: u64 = 77;
    let (tx, rx) = mpsc::channel::<(usize, Duration)>();
    let tx = Arc::new(Mutex::new(tx));
    let server = builder()
        .write_buffer_limit(LIMIT)
        .build()
        .unwrap()
        .start(move |mut conn: Connection| {
            let tx = tx.clone();
            async move {
                let mut buf = vec![0u8; CHUNK];
                let mut max_buffered = 0;
                let mut longest_wait = Duration::ZERO;
                let mut off = 0;
                while off < TOTAL {
                    pattern_fill(SEED, off as u64, &mut buf);
                    let t0 = Instant::now();
                    if conn.write_all(&buf).await.is_err() {
                        return;
                    }
                    longest_wait = longest_wait.max(t0.elapsed());
                    max_buffered = max_buffered.max(conn.buffered());
                    off += CHUNK;
                }
                let _ = conn.close().await;
                let _ = tx.lock().unwrap().send((max_buffered, longest_wait));
            }
        })
        .unwrap();
    let addr = tcp_addr(&server);
    within(Duration::from_secs(20), "slow reader", move || {
        let mut s = connect(addr);
        // Let the server fill every buffer on the way before reading.
        std::thread::sleep(Duration::from_millis(1000));
        let mut buf = vec![0u8; 256 << 10];
        let mut scratch = Vec::new();
        let mut got = 0usize;
        loop {
            let n = s.read(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            pattern_check(SEED, got as u64, &buf[..n], &mut scratch)
                .unwrap_or_else(|at| panic!("wrong byte at offset {at}"));
            got += n;
        }
        assert_eq!(got, TOTAL);
    });
    let (max_buffered, longest_wait) = rx.recv_timeout(Duration::from_secs(5)).unwrap();
    eprintln!("max buffered {max_buffered}, longest write wait {longest_wait:?}");
    assert!(
        max_buffered <= LIMIT + CHUNK,
        "{max_buffered} bytes queued with a {LIMIT}-byte limit"
    );
    assert!(
        longest_wait >= Duration::from_millis(200),
        "writes never waited for the slow reader (longest {longest_wait:?})"
    );
    server.shutdown().unwrap();
}
