//! Ending connections: peer resets, half-close in both directions, idle
//! timeouts, and closing with data still queued.

mod common;

use std::io::{self, Read, Write};
use std::net::Shutdown;
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;
use corering::time::timeout;
use corering::Connection;

type Report<T> = Arc<Mutex<mpsc::Sender<T>>>;

fn report<T>() -> (Report<T>, mpsc::Receiver<T>) {
    let (tx, rx) = mpsc::channel();
    (Arc::new(Mutex::new(tx)), rx)
}

/// Handler for the reset tests: the first byte selects the behaviour.
/// `W`: write 64 KiB chunks until a write fails (up to 4 GiB), then flush;
/// reports the first error. `R`: read until the stream ends; reports how.
/// `E`: echo.
async fn reset_handler(mut conn: Connection, tx: Report<(u8, io::Result<u64>)>) {
    let Ok(Some(first)) = conn.read().await else {
        return;
    };
    let mode = first[0];
    match mode {
        b'W' => {
            drop(first);
            let chunk = vec![0x5A; 64 << 10];
            let mut sent = 0u64;
            let mut res = Ok(());
            while sent < 4 << 30 {
                res = conn.write_all(&chunk).await;
                if res.is_err() {
                    break;
                }
                sent += chunk.len() as u64;
            }
            if res.is_ok() {
                res = conn.flush().await;
            }
            let _ = tx.lock().unwrap().send((mode, res.map(|()| sent)));
        }
        b'R' => {
            let mut got = first.len() as u64;
            drop(first);
            let res = loop {
                match conn.read().await {
                    Ok(Some(b)) => got += b.len() as u64,
                    Ok(None) => break Ok(got),
                    Err(e) => break Err(e),
                }
            };
            let _ = tx.lock().unwrap().send((mode, res));
        }
        _ => {
            if conn.write_owned(first).await.is_ok() {
                echo(conn).await;
            }
        }
    }
}

#[test]
fn peer_reset_mid_write_fails_the_write() {
    let (tx, rx) = report();
    let server = builder()
        .build()
        .unwrap()
        .start(move |conn| reset_handler(conn, tx.clone()))
        .unwrap();
    let addr = tcp_addr(&server);
    for round in 0..3 {
        within(
            Duration::from_secs(10),
            "reset while server writes",
            move || {
                let mut s = connect(addr);
                s.write_all(b"W").unwrap();
                // The server is writing: take some of it, then reset.
                read_n(&mut s, 256 << 10).unwrap();
                set_linger_zero(&s);
                drop(s);
            },
        );
        let (mode, res) = rx
            .recv_timeout(Duration::from_secs(10))
            .expect("the writing handler should end after the peer reset");
        assert_eq!(mode, b'W');
        let err = res.expect_err("writing to a reset peer must fail");
        assert!(
            matches!(
                err.kind(),
                io::ErrorKind::ConnectionReset | io::ErrorKind::BrokenPipe
            ),
            "round {round}: unexpected error {err:?}"
        );
        // The server keeps serving.
        within(Duration::from_secs(10), "echo after reset", move || {
            check_echo_tcp(addr, b"E still here")
        });
    }
    server.shutdown().unwrap();
}

#[test]
fn peer_reset_mid_read_ends_the_read() {
    let (tx, rx) = report();
    let server = builder()
        .build()
        .unwrap()
        .start(move |conn| reset_handler(conn, tx.clone()))
        .unwrap();
    let addr = tcp_addr(&server);
    within(
        Duration::from_secs(10),
        "reset while server reads",
        move || {
            let mut s = connect(addr);
            s.write_all(b"R").unwrap();
            s.write_all(&random_bytes(1, 1 << 20)).unwrap();
            set_linger_zero(&s);
            drop(s);
        },
    );
    let (mode, res) = rx
        .recv_timeout(Duration::from_secs(10))
        .expect("the reading handler should end after the peer reset");
    assert_eq!(mode, b'R');
    match res {
        // Either the reset is reported, or the stream just ends.
        Err(e) => assert_eq!(e.kind(), io::ErrorKind::ConnectionReset, "{e:?}"),
        Ok(n) => assert!(n <= 1 + (1 << 20), "read {n} bytes, more than sent"),
    }
    within(Duration::from_secs(10), "echo after reset", move || {
        check_echo_tcp(addr, b"E still here")
    });
    server.shutdown().unwrap();
}

/// Client half-closes after sending: the server reads everything, sees EOF,
/// replies, and closes; the client reads the reply, then EOF.
#[test]
fn client_half_close_then_server_replies() {
    let server = builder()
        .build()
        .unwrap()
        .start(|mut conn: Connection| async move {
            let mut n = 0u64;
            let mut sum = 0u64;
            loop {
                match conn.read().await {
                    Ok(Some(b)) => {
                        n += b.len() as u64;
                        sum = b
                            .iter()
                            .fold(sum, |s, &x| s.wrapping_mul(31).wrapping_add(x as u64));
                    }
                    Ok(None) => break,
                    Err(_) => return,
                }
            }
            let reply = format!("got {n} bytes, sum {sum:016x}\n");
            if conn.write_all(reply.as_bytes()).await.is_ok() {
                let _ = conn.close().await;
            }
        })
        .unwrap();
    let addr = tcp_addr(&server);
    within(Duration::from_secs(10), "half close", move || {
        for i in 0..4 {
            let data = random_bytes(i, 1 << 20);
            let sum = data
                .iter()
                .fold(0u64, |s, &x| s.wrapping_mul(31).wrapping_add(x as u64));
            let mut s = connect(addr);
            s.write_all(&data).unwrap();
            s.shutdown(Shutdown::Write).unwrap();
            let reply = String::from_utf8(read_all(&mut s).unwrap()).unwrap();
            assert_eq!(reply, format!("got {} bytes, sum {sum:016x}\n", data.len()));
        }
    });
    server.shutdown().unwrap();
}

/// The server half-closes: the client sees EOF while it can still send;
/// the server keeps reading, and writing after `shutdown_write` fails.
#[test]
fn server_half_close_keeps_reading() {
    let (tx, rx) = report::<(Vec<u8>, io::ErrorKind)>();
    let server = builder()
        .build()
        .unwrap()
        .start(move |mut conn: Connection| {
            let tx = tx.clone();
            async move {
                if conn.write_all(b"hello, then EOF").await.is_err() {
                    return;
                }
                if conn.shutdown_write().await.is_err() {
                    return;
                }
                let after = match conn.write_all(b"too late").await {
                    Ok(()) => io::ErrorKind::Other,
                    Err(e) => e.kind(),
                };
                let mut got = Vec::new();
                while let Ok(Some(b)) = conn.read().await {
                    got.extend_from_slice(&b);
                }
                let _ = tx.lock().unwrap().send((got, after));
            }
        })
        .unwrap();
    let addr = tcp_addr(&server);
    let data = random_bytes(5, 300_000);
    let d2 = data.clone();
    within(Duration::from_secs(10), "server half close", move || {
        let mut s = connect(addr);
        let first = read_all(&mut s).unwrap();
        assert_eq!(first, b"hello, then EOF");
        s.write_all(&d2).unwrap();
        s.shutdown(Shutdown::Write).unwrap();
    });
    let (got, after) = rx.recv_timeout(Duration::from_secs(10)).unwrap();
    assert_eq!(
        after,
        io::ErrorKind::BrokenPipe,
        "write after shutdown_write"
    );
    assert_bytes_eq(&got, &data, "bytes read after shutdown_write");
    server.shutdown().unwrap();
}

/// A handler with an idle timeout around each read closes idle connections.
#[test]
fn idle_timeout_closes_connection() {
    const IDLE: Duration = Duration::from_millis(200);
    let server = builder()
        .build()
        .unwrap()
        .start(|mut conn: Connection| async move {
            loop {
                match timeout(IDLE, conn.read()).await {
                    Err(_elapsed) => return,
                    Ok(Ok(Some(b))) => {
                        if conn.write_owned(b).await.is_err() {
                            return;
                        }
                    }
                    Ok(Ok(None)) | Ok(Err(_)) => return,
                }
            }
        })
        .unwrap();
    let addr = tcp_addr(&server);
    within(Duration::from_secs(10), "idle timeout", move || {
        let mut s = connect(addr);
        // Activity keeps it open: several exchanges spaced below the limit.
        for i in 0..5 {
            let msg = format!("ping {i}");
            s.write_all(msg.as_bytes()).unwrap();
            assert_eq!(read_n(&mut s, msg.len()).unwrap(), msg.as_bytes());
            std::thread::sleep(Duration::from_millis(50));
        }
        let t0 = Instant::now();
        s.write_all(b"last").unwrap();
        assert_eq!(read_n(&mut s, 4).unwrap(), b"last");
        let mut buf = [0u8; 8];
        let n = s.read(&mut buf).expect("idle close is a clean EOF");
        let idle = t0.elapsed();
        assert_eq!(n, 0, "expected EOF");
        assert!(idle >= IDLE, "closed after {idle:?}, before the idle limit");
        assert!(idle < Duration::from_secs(2), "closed only after {idle:?}");
    });
    server.shutdown().unwrap();
}

/// Returning from the handler with data still queued sends all of it
/// before the socket closes.
#[test]
fn dropped_connection_sends_queued_data() {
    const TOTAL: usize = 16 << 20;
    let server = builder()
        .build()
        .unwrap()
        .start(|mut conn: Connection| async move {
            let mut buf = vec![0u8; TOTAL];
            pattern_fill(11, 0, &mut buf);
            let _ = conn.write_all(&buf).await;
            // Returns at once: most of the 16 MiB is still queued.
        })
        .unwrap();
    let addr = tcp_addr(&server);
    within(Duration::from_secs(15), "drain after drop", move || {
        let mut s = connect(addr);
        std::thread::sleep(Duration::from_millis(300));
        let got = read_all(&mut s).unwrap();
        assert_eq!(got.len(), TOTAL, "bytes before EOF");
        let mut scratch = Vec::new();
        pattern_check(11, 0, &got, &mut scratch).unwrap_or_else(|at| panic!("wrong byte at {at}"));
    });
    server.shutdown().unwrap();
}

/// `close()` flushes and reports success; the client gets every byte.
#[test]
fn close_flushes_and_reports() {
    let (tx, rx) = report::<io::Result<()>>();
    let server = builder()
        .build()
        .unwrap()
        .start(move |mut conn: Connection| {
            let tx = tx.clone();
            async move {
                let data = vec![7u8; 4 << 20];
                let _ = conn.write_owned(data).await;
                let r = conn.close().await;
                let _ = tx.lock().unwrap().send(r);
            }
        })
        .unwrap();
    let addr = tcp_addr(&server);
    within(Duration::from_secs(10), "close", move || {
        let mut s = connect(addr);
        let got = read_all(&mut s).unwrap();
        assert_eq!(got.len(), 4 << 20);
        assert!(got.iter().all(|&b| b == 7));
    });
    rx.recv_timeout(Duration::from_secs(5))
        .unwrap()
        .expect("close after a complete send");
    server.shutdown().unwrap();
}
