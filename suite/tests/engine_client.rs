//! Client connections: `Connector` on a `Runtime`, against corering
//! servers, plain std servers and Unix sockets; connect errors and
//! timeouts. Only loopback and Unix sockets are used.

mod common;

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::net::UnixListener;
use std::path::Path;
use std::time::{Duration, Instant};

use common::*;
use corering::time::timeout;
use corering::{Address, Connection, Connector, Runtime};

/// Runs `fut` on a fresh corering `Runtime` on its own thread, bounded.
fn block_on<T: Send + 'static, F: std::future::Future<Output = T> + 'static>(
    limit: Duration,
    make: impl FnOnce() -> F + Send + 'static,
) -> T {
    within(limit, "client runtime", move || {
        Runtime::new().expect("runtime").block_on(make())
    })
}

/// A std echo server on a thread; serves connections one after another.
fn std_echo_server() -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    std::thread::spawn(move || {
        for s in l.incoming() {
            let Ok(mut s) = s else { return };
            s.set_nodelay(true).unwrap();
            std::thread::spawn(move || {
                let mut r = s.try_clone().unwrap();
                let _ = io::copy(&mut r, &mut s);
            });
        }
    });
    addr
}

/// Removes a socket file when dropped (the std listener leaves it behind).
struct RemoveOnDrop(std::path::PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn std_unix_echo_server(path: &Path) {
    let l = UnixListener::bind(path).unwrap();
    std::thread::spawn(move || {
        for s in l.incoming() {
            let Ok(mut s) = s else { return };
            std::thread::spawn(move || {
                let mut r = s.try_clone().unwrap();
                let _ = io::copy(&mut r, &mut s);
            });
        }
    });
}

#[test]
fn client_round_trip_against_corering_server() {
    let server = start_echo(builder());
    let addr = tcp_addr(&server);
    let data = random_bytes(1, 4 << 20);
    let want = data.clone();
    let (got, peer, local) = block_on(Duration::from_secs(20), move || async move {
        let mut conn = Connector::new().connect(addr).await.expect("connect");
        let peer = conn.peer_addr().unwrap();
        let local = conn.local_addr().unwrap();
        let got = ping_pong(&mut conn, &data, 60 << 10).await.expect("echo");
        conn.shutdown_write().await.expect("shutdown_write");
        assert!(conn.read().await.unwrap().is_none(), "EOF after half-close");
        (got, peer, local)
    });
    assert_bytes_eq(&got, &want, "client echo");
    assert_eq!(peer, Address::Tcp(addr));
    match local {
        Address::Tcp(a) => assert!(a.ip().is_loopback() && a.port() != 0, "{a}"),
        other => panic!("local address {other:?}"),
    }
    server.shutdown().unwrap();
}

#[test]
fn client_round_trip_against_std_server() {
    let addr = std_echo_server();
    let data = random_bytes(2, 2 << 20);
    let want = data.clone();
    let got = block_on(Duration::from_secs(20), move || async move {
        let mut conn = Connector::new().connect(addr).await.expect("connect");
        let got = ping_pong(&mut conn, &data, 32 << 10).await.expect("echo");
        conn.close().await.expect("close");
        got
    });
    assert_bytes_eq(&got, &want, "client echo (std server)");
}

/// Many client connections on one runtime, each driven by its own task.
#[test]
fn many_client_connections_on_one_runtime() {
    let server = start_echo(builder());
    let addr = tcp_addr(&server);
    let results = block_on(Duration::from_secs(20), move || async move {
        let handles: Vec<_> = (0..50u64)
            .map(|i| {
                corering::spawn_local(async move {
                    let data = random_bytes(i, 128 << 10);
                    let mut conn = Connector::new().connect(addr).await?;
                    let got = ping_pong(&mut conn, &data, 16 << 10).await?;
                    conn.close().await?;
                    Ok::<bool, io::Error>(got == data)
                })
            })
            .collect();
        let mut out = Vec::new();
        for h in handles {
            out.push(h.await.map_err(|e| e.to_string()));
        }
        out
    });
    for (i, r) in results.into_iter().enumerate() {
        assert_eq!(r, Ok(true), "connection {i}");
    }
    server.shutdown().unwrap();
}

/// The client sees the server's bytes, then EOF when the server closes.
#[test]
fn client_sees_server_close() {
    let server = builder()
        .build()
        .unwrap()
        .start(|mut conn: Connection| async move {
            let _ = conn.write_all(b"bye").await;
            let _ = conn.close().await;
        })
        .unwrap();
    let addr = tcp_addr(&server);
    let (got, eof) = block_on(Duration::from_secs(10), move || async move {
        let mut conn = Connector::new().connect(addr).await.expect("connect");
        let mut got = Vec::new();
        while let Some(b) = conn.read().await.expect("read") {
            got.extend_from_slice(&b);
        }
        // Reading again after EOF keeps reporting EOF.
        (got, conn.read().await.expect("read after EOF").is_none())
    });
    assert_eq!(got, b"bye");
    assert!(eof);
    server.shutdown().unwrap();
}

#[test]
fn client_unix_socket_against_corering_server() {
    let path = unix_path("client");
    let server = start_echo(
        corering::Server::builder()
            .bind_unix(&path)
            .workers(1)
            .pin_workers(false)
            .zero_copy_threshold(None),
    );
    let p = path.clone();
    let data = random_bytes(3, 1 << 20);
    let want = data.clone();
    let (got, peer) = block_on(Duration::from_secs(20), move || async move {
        let mut conn = Connector::new().connect_unix(&p).await.expect("connect");
        let peer = conn.peer_addr().unwrap();
        // 16 KiB pieces stay under the client's zero-copy threshold; see
        // `client_unix_socket_large_write`.
        let got = ping_pong(&mut conn, &data, 16 << 10).await.expect("echo");
        conn.close().await.expect("close");
        (got, peer)
    });
    assert_bytes_eq(&got, &want, "unix client echo");
    assert_eq!(peer, Address::Unix(Some(path.clone())));
    server.shutdown().unwrap();
}

#[test]
fn client_unix_socket_against_std_server() {
    let path = unix_path("stdsrv");
    std_unix_echo_server(&path);
    let _cleanup = RemoveOnDrop(path.clone());
    let data = random_bytes(4, 512 << 10);
    let want = data.clone();
    let got = block_on(Duration::from_secs(20), move || async move {
        let mut conn = Connector::new().connect_unix(&path).await.expect("connect");
        let got = ping_pong(&mut conn, &data, 16 << 10).await.expect("echo");
        conn.close().await.expect("close");
        got
    });
    assert_bytes_eq(&got, &want, "unix client echo (std server)");
}

/// One large write on a Unix-socket client connection (large enough for the
/// zero-copy threshold, which AF_UNIX must not use). The write is queued and
/// the echo read back while it drains: flushing 1 MiB before reading would
/// deadlock against an echo peer, as with any socket API.
#[test]
fn client_unix_socket_large_write() {
    let path = unix_path("large");
    std_unix_echo_server(&path);
    let _cleanup = RemoveOnDrop(path.clone());
    let data = random_bytes(5, 1 << 20);
    let want = data.clone();
    let got = block_on(Duration::from_secs(20), move || async move {
        let mut conn = Connector::new().connect_unix(&path).await.expect("connect");
        conn.write_all(&data).await.expect("queue");
        let mut got = Vec::new();
        while got.len() < data.len() {
            match conn.read().await.expect("read") {
                Some(b) => got.extend_from_slice(&b),
                None => break,
            }
        }
        conn.flush().await.expect("flush 1 MiB to a unix socket");
        got
    });
    assert_bytes_eq(&got, &want, "unix client large write");
}

#[test]
fn connect_to_closed_port_is_refused_fast() {
    let addr = closed_port();
    let (res, took) = block_on(Duration::from_secs(10), move || async move {
        let t0 = Instant::now();
        let r = Connector::new().connect(addr).await.map(|_| ());
        (r, t0.elapsed())
    });
    let err = res.expect_err("nothing listens there");
    assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused, "{err}");
    assert!(
        err.to_string().contains(&addr.to_string()),
        "message should name {addr}: {err}"
    );
    assert!(took < Duration::from_secs(1), "refusal took {took:?}");
}

#[test]
fn connect_to_missing_unix_path_fails() {
    let path = unix_path("missing");
    let p = path.clone();
    let res = block_on(Duration::from_secs(10), move || async move {
        Connector::new().connect_unix(&p).await.map(|_| ())
    });
    let err = res.expect_err("no such socket");
    assert_eq!(err.kind(), io::ErrorKind::NotFound, "{err}");
    assert!(err.to_string().contains(path.to_str().unwrap()), "{err}");
}

/// A loopback listener whose accept queue is full (backlog 0, never
/// accepts): further SYNs are dropped, so connects hang until timed out.
fn full_backlog_listener() -> Option<(OwnedFd, SocketAddr)> {
    if std::fs::read_to_string("/proc/sys/net/ipv4/tcp_abort_on_overflow")
        .is_ok_and(|v| v.trim() != "0")
    {
        return None;
    }
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    // SAFETY: listen(2) on a socket we own, shrinking its backlog.
    assert_eq!(unsafe { libc::listen(l.as_raw_fd(), 0) }, 0);
    // SAFETY: taking over the listener's descriptor.
    let fd = unsafe { OwnedFd::from_raw_fd(std::os::fd::IntoRawFd::into_raw_fd(l)) };
    Some((fd, addr))
}

#[test]
fn connect_times_out_against_full_backlog() {
    let Some((_listener, addr)) = full_backlog_listener() else {
        eprintln!("skipping: tcp_abort_on_overflow is set");
        return;
    };
    const T: Duration = Duration::from_millis(300);
    let outcome = block_on(Duration::from_secs(15), move || async move {
        let mut keep = Vec::new();
        for _ in 0..8 {
            let t0 = Instant::now();
            match Connector::new().timeout(T).connect(addr).await {
                Ok(c) => keep.push(c),
                Err(e) => return Some((e, t0.elapsed(), keep.len())),
            }
        }
        None
    });
    let (err, took, queued) = outcome.expect("a connect to a full backlog should time out");
    eprintln!("timed out after {took:?} with {queued} connection(s) queued");
    assert_eq!(err.kind(), io::ErrorKind::TimedOut, "{err}");
    let msg = err.to_string();
    assert!(
        msg.contains("timed out") && msg.contains(&addr.to_string()),
        "{msg}"
    );
    assert!(took >= T, "timed out early: {took:?}");
    assert!(
        took < Duration::from_secs(3),
        "timeout of {T:?} took {took:?}"
    );
}

/// A connect future dropped while the connect is in flight: the runtime
/// cancels it and keeps working.
#[test]
fn connect_future_dropped_in_flight() {
    let Some((_listener, full)) = full_backlog_listener() else {
        eprintln!("skipping: tcp_abort_on_overflow is set");
        return;
    };
    let server = start_echo(builder());
    let addr = tcp_addr(&server);
    let t0 = Instant::now();
    let (elapsed_count, echoed) = block_on(Duration::from_secs(15), move || async move {
        let mut keep = Vec::new();
        let mut elapsed = 0;
        for _ in 0..6 {
            match timeout(
                Duration::from_millis(50),
                Connector::new().timeout(None).connect(full),
            )
            .await
            {
                Ok(Ok(c)) => keep.push(c),
                Ok(Err(e)) => panic!("unexpected connect error {e}"),
                Err(_) => elapsed += 1,
            }
        }
        let mut conn = Connector::new().connect(addr).await.expect("connect");
        let got = ping_pong(&mut conn, b"still working", 64)
            .await
            .expect("echo");
        (elapsed, got)
    });
    assert!(elapsed_count > 0, "no connect was ever pending");
    assert_eq!(echoed, b"still working");
    // block_on returned: the cancelled connects did not keep the worker.
    assert!(
        t0.elapsed() < Duration::from_secs(5),
        "took {:?}",
        t0.elapsed()
    );
    server.shutdown().unwrap();
}

/// A std client and a corering client talk to the same corering server.
#[test]
fn std_and_corering_clients_share_a_server() {
    let server = start_echo(builder());
    let addr = tcp_addr(&server);
    let std_client = std::thread::spawn(move || check_echo_tcp(addr, &random_bytes(8, 1 << 20)));
    let got = block_on(Duration::from_secs(20), move || async move {
        let mut conn = Connector::new().connect(addr).await.expect("connect");
        ping_pong(&mut conn, b"corering client", 4)
            .await
            .expect("echo")
    });
    assert_eq!(got, b"corering client");
    std_client.join().unwrap();
    let mut s = connect(addr);
    s.write_all(b"z").unwrap();
    let mut b = [0u8; 1];
    s.read_exact(&mut b).unwrap();
    assert_eq!(&b, b"z");
    drop(s);
    server.shutdown().unwrap();
}

/// `block_on` returns as soon as its future is done, even when that future
/// drops an open connection on the way out (the worker closes it first).
#[test]
fn block_on_returns_promptly_after_dropping_a_connection() {
    let server = start_echo(builder());
    let addr = tcp_addr(&server);
    let took = block_on(Duration::from_secs(10), move || async move {
        let mut conn = Connector::new().connect(addr).await.expect("connect");
        ping_pong(&mut conn, b"abc", 3).await.expect("echo");
        // `conn` is dropped when this future completes.
        Instant::now()
    })
    .elapsed();
    assert!(
        took < Duration::from_millis(400),
        "block_on took {took:?} to return"
    );
    server.shutdown().unwrap();
}
