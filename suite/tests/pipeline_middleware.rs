//! Middleware on servers and clients: connection limits, idle timeouts, the
//! same middleware value on both sides, and engine counters.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use corering::pipeline::{Closed, ConnectionLimit, IdleTimeout, Middleware, Refused, Side};
use corering::{Connection, Connector, Runtime, Server};

async fn echo(mut conn: Connection) {
    while let Ok(Some(buf)) = conn.read().await {
        if conn.write_all(&buf).await.is_err() {
            return;
        }
    }
}

fn ping(s: &mut TcpStream) -> std::io::Result<()> {
    s.write_all(b"ping")?;
    let mut buf = [0u8; 4];
    s.read_exact(&mut buf)?;
    assert_eq!(&buf, b"ping");
    Ok(())
}

/// True once the server has closed `s` (read returns EOF or an error).
fn closed_by_server(s: &mut TcpStream) -> bool {
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut b = [0u8; 1];
    matches!(s.read(&mut b), Ok(0) | Err(_))
}

#[test]
fn connection_limit_refuses_and_counts_excess() {
    let limit = Arc::new(ConnectionLimit::new().per_worker(2));
    let server = Server::builder()
        .bind("127.0.0.1:0")
        .workers(1)
        .pin_workers(false)
        .middleware(limit.clone())
        .build()
        .unwrap()
        .start(echo)
        .unwrap();
    let addr = server.tcp_addr().unwrap();
    let mut a = TcpStream::connect(addr).unwrap();
    let mut b = TcpStream::connect(addr).unwrap();
    ping(&mut a).unwrap();
    ping(&mut b).unwrap();
    // The third is over the limit: closed at once.
    let mut c = TcpStream::connect(addr).unwrap();
    assert!(closed_by_server(&mut c));
    assert_eq!(limit.refused(), 1);
    assert_eq!(limit.open(), 2);
    // Closing one frees a place.
    drop(a);
    let t0 = Instant::now();
    while limit.open() != 1 {
        assert!(t0.elapsed() < Duration::from_secs(5), "close not counted");
        std::thread::sleep(Duration::from_millis(5));
    }
    let mut d = TcpStream::connect(addr).unwrap();
    ping(&mut d).unwrap();
    ping(&mut b).unwrap();
    drop((b, d));
    server.shutdown().unwrap();
    assert_eq!(limit.open(), 0);
}

#[test]
fn total_limit_spans_workers() {
    let limit = Arc::new(ConnectionLimit::new().total(3));
    let server = Server::builder()
        .bind("127.0.0.1:0")
        .workers(2)
        .pin_workers(false)
        .middleware(limit.clone())
        .build()
        .unwrap()
        .start(echo)
        .unwrap();
    let addr = server.tcp_addr().unwrap();
    let mut kept = Vec::new();
    let mut refused = 0;
    for _ in 0..6 {
        let mut s = TcpStream::connect(addr).unwrap();
        match ping(&mut s) {
            Ok(()) => kept.push(s),
            Err(_) => refused += 1,
        }
    }
    assert_eq!(kept.len(), 3);
    assert_eq!(refused, 3);
    assert_eq!(limit.refused(), 3);
    // The engine counts them too (published once per loop turn).
    let t0 = Instant::now();
    while server.total_stats().refused != 3 {
        assert!(
            t0.elapsed() < Duration::from_secs(5),
            "engine counted {} refused",
            server.total_stats().refused
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    drop(kept);
    server.shutdown().unwrap();
}

#[test]
fn idle_timeout_closes_quiet_connections_only() {
    let server = Server::builder()
        .bind("127.0.0.1:0")
        .workers(1)
        .pin_workers(false)
        .middleware(IdleTimeout(Duration::from_millis(200)))
        .build()
        .unwrap()
        .start(echo)
        .unwrap();
    let addr = server.tcp_addr().unwrap();
    let mut quiet = TcpStream::connect(addr).unwrap();
    let mut busy = TcpStream::connect(addr).unwrap();
    let t0 = Instant::now();
    // Keep `busy` talking for longer than the timeout.
    while t0.elapsed() < Duration::from_millis(600) {
        ping(&mut busy).unwrap();
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(closed_by_server(&mut quiet), "quiet connection still open");
    assert!(t0.elapsed() >= Duration::from_millis(200));
    ping(&mut busy).unwrap();
    drop(busy);
    server.shutdown().unwrap();
}

/// Counts opens and closes per side; used on a server and a client at once.
#[derive(Default)]
struct Census {
    server_open: AtomicUsize,
    server_closed: AtomicUsize,
    client_open: AtomicUsize,
    client_closed: AtomicUsize,
    client_bytes_out: AtomicUsize,
}

impl Middleware for Census {
    fn on_open(&self, _conn: &mut Connection, side: Side) -> Result<(), Refused> {
        match side {
            Side::Server => &self.server_open,
            Side::Client => &self.client_open,
        }
        .fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
    fn on_close(&self, c: &Closed) {
        match c.side {
            Side::Server => &self.server_closed,
            Side::Client => {
                self.client_bytes_out
                    .fetch_add(c.bytes_out as usize, Ordering::SeqCst);
                &self.client_closed
            }
        }
        .fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn one_middleware_value_serves_server_and_client() {
    let census = Arc::new(Census::default());
    let server = Server::builder()
        .bind("127.0.0.1:0")
        .workers(1)
        .pin_workers(false)
        .middleware(census.clone())
        .build()
        .unwrap()
        .start(echo)
        .unwrap();
    let addr = server.tcp_addr().unwrap();
    let c2 = census.clone();
    Runtime::new().unwrap().block_on(async move {
        let connector = Connector::new().middleware(c2);
        for _ in 0..3 {
            let mut conn = connector.connect(addr).await.unwrap();
            conn.write_all(b"hello").await.unwrap();
            let got = conn.read().await.unwrap().unwrap();
            assert_eq!(&*got, b"hello");
            drop(got);
            conn.flush().await.unwrap();
        }
    });
    assert_eq!(census.client_open.load(Ordering::SeqCst), 3);
    assert_eq!(census.client_closed.load(Ordering::SeqCst), 3);
    assert_eq!(census.client_bytes_out.load(Ordering::SeqCst), 15);
    server.shutdown().unwrap();
    assert_eq!(census.server_open.load(Ordering::SeqCst), 3);
    assert_eq!(census.server_closed.load(Ordering::SeqCst), 3);
}

#[test]
fn client_middleware_can_refuse() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let err = Runtime::new().unwrap().block_on(async move {
        Connector::new()
            .middleware(ConnectionLimit::new().total(0))
            .connect(addr)
            .await
            .map(|_| ())
            .unwrap_err()
    });
    assert_eq!(err.kind(), std::io::ErrorKind::ConnectionRefused);
    assert!(err.to_string().contains("connection limit"), "{err}");
}

#[test]
fn stats_count_connections_bytes_and_pauses() {
    let server = Server::builder()
        .bind("127.0.0.1:0")
        .workers(1)
        .pin_workers(false)
        .max_leases(4)
        .build()
        .unwrap()
        .start(|mut conn: Connection| async move {
            // Hoard leases until the peer stops, so the receive pauses.
            let mut held = Vec::new();
            // The read is bounded so a receive that never resumes fails
            // the test instead of hanging it.
            while let Ok(Ok(Some(l))) =
                corering::time::timeout(Duration::from_secs(5), conn.read()).await
            {
                let n = l.len();
                held.push(l);
                if held.len() >= 4 {
                    corering::time::sleep(Duration::from_millis(20)).await;
                    held.clear();
                }
                if conn.write_all(&vec![b'x'; n]).await.is_err() {
                    return;
                }
            }
        })
        .unwrap();
    let addr = server.tcp_addr().unwrap();
    let mut s = TcpStream::connect(addr).unwrap();
    let data = vec![7u8; 1 << 20];
    let mut r = s.try_clone().unwrap();
    let reader = std::thread::spawn(move || {
        let mut got = 0;
        let mut buf = vec![0u8; 65536];
        while got < (1 << 20) {
            let n = r.read(&mut buf).unwrap();
            assert!(n > 0);
            got += n;
        }
        got
    });
    s.write_all(&data).unwrap();
    assert_eq!(reader.join().unwrap(), 1 << 20);
    drop(s);
    let t0 = Instant::now();
    loop {
        let st = server.total_stats();
        if st.closed == 1 {
            assert_eq!(st.accepted, 1);
            assert_eq!(st.open(), 0);
            assert_eq!(st.bytes_in, 1 << 20);
            assert_eq!(st.bytes_out, 1 << 20);
            assert!(st.recv_pauses > 0, "{st:?}");
            break;
        }
        assert!(t0.elapsed() < Duration::from_secs(5), "{st:?}");
        std::thread::sleep(Duration::from_millis(10));
    }
    server.shutdown().unwrap();
}
