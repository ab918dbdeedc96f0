//! Futures dropped while their receive or send is in flight: timeouts that
//! expire around `read`, `write_all`, `write_owned` and `flush` leave the
//! connection usable, lose no bytes, and never crash the worker.

mod common;

use std::io::{Read, Write};
use std::net::SocketAddr;
use std::sync::OnceLock;
use std::time::Duration;

use common::*;
use corering::time::{sleep, timeout};
use corering::Connection;

/// Handler: one read that must time out (the client has sent nothing), then
/// reads `len` bytes with 1 ms timeouts around every read, then echoes what
/// it collected followed by how many reads it abandoned.
async fn read_with_timeouts(mut conn: Connection) {
    let first = timeout(Duration::from_millis(20), conn.read()).await;
    let tag: &[u8] = if first.is_err() { b"T" } else { b"X" };
    if conn.write_all(tag).await.is_err() {
        return;
    }
    let len = {
        let mut hdr = Vec::new();
        while hdr.len() < 4 {
            match conn.read().await {
                Ok(Some(b)) => hdr.extend_from_slice(&b),
                _ => return,
            }
        }
        let n = u32::from_le_bytes(hdr[..4].try_into().unwrap()) as usize;
        let mut got = hdr.split_off(4);
        got.reserve(n);
        (n, got)
    };
    let (n, mut got) = len;
    let mut abandoned = 0u32;
    while got.len() < n {
        match timeout(Duration::from_millis(1), conn.read()).await {
            Err(_) => abandoned += 1,
            Ok(Ok(Some(b))) => got.extend_from_slice(&b),
            Ok(Ok(None)) | Ok(Err(_)) => return,
        }
    }
    let trailer = abandoned.to_le_bytes();
    if conn.write_all_vectored(&[&got, &trailer]).await.is_ok() {
        let _ = conn.close().await;
    }
}

fn read_timeouts_client(addr: SocketAddr, seed: u64) {
    let mut s = connect(addr);
    let tag = read_n(&mut s, 1).unwrap();
    assert_eq!(tag, b"T", "a read with nothing to receive should time out");
    let mut rng = Rng::new(seed);
    let data = random_bytes(seed, 64 << 10);
    s.write_all(&(data.len() as u32).to_le_bytes()).unwrap();
    // Dribble the data in pieces with pauses longer than the server's read
    // timeout, so reads are abandoned both while idle and around arrivals.
    let mut off = 0;
    while off < data.len() {
        let n = (rng.range(1, 4000) as usize).min(data.len() - off);
        s.write_all(&data[off..off + n]).unwrap();
        off += n;
        std::thread::sleep(Duration::from_micros(rng.range(0, 3000)));
    }
    let reply = read_all(&mut s).unwrap();
    assert_eq!(reply.len(), data.len() + 4, "reply length");
    assert_bytes_eq(&reply[..data.len()], &data, "bytes read between timeouts");
    let abandoned = u32::from_le_bytes(reply[data.len()..].try_into().unwrap());
    assert!(
        abandoned > 0,
        "no read was ever abandoned; the test proves nothing"
    );
}

#[test]
fn read_dropped_by_timeout_then_connection_still_reads() {
    let server = builder()
        .build()
        .unwrap()
        .start(read_with_timeouts)
        .unwrap();
    let addr = tcp_addr(&server);
    within(Duration::from_secs(20), "read timeouts", move || {
        let clients: Vec<_> = (0..8)
            .map(|i| std::thread::spawn(move || read_timeouts_client(addr, i)))
            .collect();
        for c in clients {
            c.join().unwrap();
        }
        // The same server keeps serving new connections afterwards.
        read_timeouts_client(addr, 100);
    });
    server.shutdown().unwrap();
}

const BIG: usize = 16 << 20;
const SEED: u64 = 4242;

/// How long a client leaves the server's writes unread: long enough for
/// a handler on a loaded machine (a debug build, the whole suite running)
/// to queue its 16 MiB and race its writes before anything drains.
const NOT_READING: Duration = Duration::from_secs(2);

/// The 16 MiB the handler queues and the 1 MiB it races after them,
/// filled once before the server starts (filling them in every handler
/// took a debug build long enough for the client to start reading first).
fn payloads() -> &'static (Vec<u8>, Vec<u8>) {
    static PAYLOADS: OnceLock<(Vec<u8>, Vec<u8>)> = OnceLock::new();
    PAYLOADS.get_or_init(|| {
        let mut a = vec![0u8; BIG];
        pattern_fill(SEED, 0, &mut a);
        let mut b = vec![0u8; 1 << 20];
        pattern_fill(SEED, BIG as u64, &mut b);
        (a, b)
    })
}

/// Handler: queues 16 MiB (more than every socket buffer on the way can
/// hold, while the client is not reading yet), then races a second
/// `write_all`, a `write_owned` and a `flush` against short timeouts, then
/// writes a trailer saying which of them completed.
async fn writes_with_timeouts(mut conn: Connection) {
    let (a, b) = payloads();
    if conn.write_all(a).await.is_err() {
        return;
    }
    let b_done = matches!(
        timeout(Duration::from_millis(5), conn.write_all(b)).await,
        Ok(Ok(()))
    );
    let c = b"owned bytes that may never be sent".to_vec();
    let c_done = matches!(
        timeout(Duration::from_millis(5), conn.write_owned(c)).await,
        Ok(Ok(()))
    );
    let flushed = matches!(
        timeout(Duration::from_millis(5), conn.flush()).await,
        Ok(Ok(()))
    );
    let trailer = [b'E', b'N', b'D', b_done as u8, c_done as u8, flushed as u8];
    if conn.write_all(&trailer).await.is_err() {
        return;
    }
    let _ = conn.close().await;
}

fn writes_client(addr: SocketAddr) {
    let mut s = connect(addr);
    // Not reading yet: the server's writes back up.
    std::thread::sleep(NOT_READING);
    let got = read_all(&mut s).unwrap();
    assert!(got.len() >= BIG + 6, "short reply: {} bytes", got.len());
    let (body, trailer) = got.split_at(got.len() - 6);
    assert_eq!(&trailer[..3], b"END", "trailer");
    let (b_done, c_done, flushed) = (trailer[3] == 1, trailer[4] == 1, trailer[5] == 1);
    assert!(
        !b_done && !c_done && !flushed,
        "with 16 MiB queued and no reader, every raced write should time out \
         (write_all {b_done}, write_owned {c_done}, flush {flushed})"
    );
    // A write dropped before it could queue sends nothing: the body is
    // exactly the first 16 MiB.
    let mut scratch = Vec::new();
    assert_eq!(body.len(), BIG, "bytes before the trailer");
    pattern_check(SEED, 0, body, &mut scratch)
        .unwrap_or_else(|at| panic!("wrong byte at offset {at}"));
}

#[test]
fn writes_dropped_by_timeout_leave_stream_consistent() {
    payloads();
    let server = builder()
        .build()
        .unwrap()
        .start(writes_with_timeouts)
        .unwrap();
    let addr = tcp_addr(&server);
    within(Duration::from_secs(20), "raced writes", move || {
        let clients: Vec<_> = (0..3)
            .map(|_| std::thread::spawn(move || writes_client(addr)))
            .collect();
        for c in clients {
            c.join().unwrap();
        }
        writes_client(addr);
    });
    server.shutdown().unwrap();
}

/// Handler that reads one buffer and returns, dropping the connection while
/// its multishot receive is armed and the peer is still sending.
#[test]
fn connection_dropped_while_receiving() {
    let server = builder()
        .build()
        .unwrap()
        .start(|mut conn: Connection| async move {
            let _ = conn.read().await;
        })
        .unwrap();
    let addr = tcp_addr(&server);
    within(Duration::from_secs(20), "drop while receiving", move || {
        let clients: Vec<_> = (0..50)
            .map(|i| {
                std::thread::spawn(move || {
                    let mut s = connect(addr);
                    let chunk = random_bytes(i, 64 << 10);
                    // The server stops reading after its first buffer and
                    // closes: writing fails sooner or later, reading sees
                    // EOF or a reset. Neither may hang.
                    for _ in 0..256 {
                        if s.write_all(&chunk).is_err() {
                            break;
                        }
                    }
                    let mut buf = [0u8; 16];
                    match s.read(&mut buf) {
                        Ok(0) | Err(_) => {}
                        Ok(n) => panic!("server sent {n} bytes it never wrote"),
                    }
                })
            })
            .collect();
        for c in clients {
            c.join().unwrap();
        }
    });
    // Nothing leaked into the server's state that breaks later connections.
    let echo_server = start_echo(builder());
    let echo_addr = tcp_addr(&echo_server);
    within(Duration::from_secs(10), "echo after", move || {
        check_echo_tcp(echo_addr, &random_bytes(9, 1 << 20));
    });
    server.shutdown().unwrap();
    echo_server.shutdown().unwrap();
}

/// A read future dropped while the buffer it would return is already
/// queued: the buffer is not lost, the next read returns it.
#[test]
fn read_future_dropped_after_data_arrived_loses_nothing() {
    let server = builder()
        .build()
        .unwrap()
        .start(|mut conn: Connection| async move {
            // Let the client's bytes arrive before polling any read.
            sleep(Duration::from_millis(100)).await;
            // A read future created and dropped unpolled takes nothing.
            drop(conn.read());
            let mut got = Vec::new();
            loop {
                match timeout(Duration::from_millis(300), conn.read()).await {
                    Ok(Ok(Some(b))) => got.extend_from_slice(&b),
                    Ok(Ok(None)) => break,
                    Ok(Err(_)) => return,
                    Err(_) => {}
                }
            }
            let _ = conn.write_all(&got).await;
            let _ = conn.close().await;
        })
        .unwrap();
    let addr = tcp_addr(&server);
    within(Duration::from_secs(10), "queued data", move || {
        let data = random_bytes(3, 200_000);
        let got = echo_through(connect(addr), data.clone(), 50_000).unwrap();
        assert_bytes_eq(&got, &data, "echo after dropped reads");
    });
    server.shutdown().unwrap();
}

/// A connection moved into a `spawn_local` task that is still reading when
/// its handler returns keeps working; the task finishes the exchange.
#[test]
fn connection_served_from_spawned_task() {
    let server = builder()
        .build()
        .unwrap()
        .start(|conn: Connection| async move {
            corering::spawn_local(echo(conn));
        })
        .unwrap();
    let addr = tcp_addr(&server);
    within(Duration::from_secs(10), "spawned echo", move || {
        for i in 0..4 {
            check_echo_tcp(addr, &random_bytes(i, 500_000));
        }
    });
    server.shutdown().unwrap();
}
