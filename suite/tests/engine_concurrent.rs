//! Many connections at once: 1,000 concurrent connections each echoing
//! 1 MiB of pseudo-random bytes, checked byte for byte.

mod common;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use corering::{AcceptMode, Connection};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const CONNS: usize = 1000;
const BYTES: usize = 1 << 20;
/// Client threads, each running a current-thread tokio runtime.
const CLIENT_THREADS: usize = 2;
/// Each connection sends a different window of one shared random pool, so
/// bytes crossing connections would be noticed too.
const STRIDE: usize = 4099;

struct Stats {
    open: AtomicUsize,
    max_open: AtomicUsize,
}

/// Echo handler that also tracks how many connections are open at once.
fn counting_echo(
    stats: Arc<Stats>,
) -> impl Fn(Connection) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()>>>
       + Send
       + Sync
       + 'static {
    move |conn| {
        let stats = stats.clone();
        Box::pin(async move {
            let n = stats.open.fetch_add(1, Ordering::SeqCst) + 1;
            stats.max_open.fetch_max(n, Ordering::SeqCst);
            echo(conn).await;
            stats.open.fetch_sub(1, Ordering::SeqCst);
        })
    }
}

async fn one_connection(
    addr: SocketAddr,
    pool: Arc<Vec<u8>>,
    id: usize,
    connected: Arc<tokio::sync::Barrier>,
    stats: Arc<Stats>,
) -> Result<(), String> {
    let stream = tokio::net::TcpStream::connect(addr)
        .await
        .map_err(|e| format!("conn {id}: connect: {e}"))?;
    stream.set_nodelay(true).ok();
    // Every connection is open before any data moves: connected here, and
    // accepted by the server (the kernel completes a handshake before the
    // server accepts it, so the barrier alone is not enough).
    connected.wait().await;
    let t0 = Instant::now();
    while stats.max_open.load(Ordering::SeqCst) < CONNS {
        if t0.elapsed() > Duration::from_secs(10) {
            return Err(format!(
                "conn {id}: the server accepted only {} of {CONNS} connections",
                stats.max_open.load(Ordering::SeqCst)
            ));
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let (mut rd, mut wr) = stream.into_split();
    let start = id * STRIDE;
    let pool_w = pool.clone();
    let writer = tokio::task::spawn_local(async move {
        let data = &pool_w[start..start + BYTES];
        // Uneven chunk sizes, so writes and receive buffers do not align.
        let mut off = 0;
        let mut step = 7_919 + id % 13_000;
        while off < data.len() {
            let end = (off + step).min(data.len());
            wr.write_all(&data[off..end]).await?;
            off = end;
            step = 1 + (step * 31 + 17) % 40_000;
        }
        wr.shutdown().await
    });
    let want = &pool[start..start + BYTES];
    let mut got = 0usize;
    let mut buf = vec![0u8; 64 << 10];
    loop {
        let n = rd
            .read(&mut buf)
            .await
            .map_err(|e| format!("conn {id}: read after {got} bytes: {e}"))?;
        if n == 0 {
            break;
        }
        if got + n > BYTES {
            return Err(format!(
                "conn {id}: received more than sent ({} > {BYTES})",
                got + n
            ));
        }
        if let Some(i) = first_diff(&buf[..n], &want[got..got + n]) {
            return Err(format!("conn {id}: wrong byte at offset {}", got + i));
        }
        got += n;
    }
    writer
        .await
        .map_err(|e| format!("conn {id}: writer task: {e}"))?
        .map_err(|e| format!("conn {id}: write: {e}"))?;
    if got != BYTES {
        return Err(format!("conn {id}: EOF after {got} of {BYTES} bytes"));
    }
    Ok(())
}

fn run_clients(addr: SocketAddr, pool: Arc<Vec<u8>>, stats: Arc<Stats>) -> Vec<String> {
    let barrier = Arc::new(tokio::sync::Barrier::new(CONNS));
    let threads: Vec<_> = (0..CLIENT_THREADS)
        .map(|t| {
            let pool = pool.clone();
            let barrier = barrier.clone();
            let stats = stats.clone();
            std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                let local = tokio::task::LocalSet::new();
                local.block_on(&rt, async move {
                    let handles: Vec<_> = (t..CONNS)
                        .step_by(CLIENT_THREADS)
                        .map(|id| {
                            tokio::task::spawn_local(one_connection(
                                addr,
                                pool.clone(),
                                id,
                                barrier.clone(),
                                stats.clone(),
                            ))
                        })
                        .collect();
                    let mut errors = Vec::new();
                    for h in handles {
                        match h.await {
                            Ok(Ok(())) => {}
                            Ok(Err(e)) => errors.push(e),
                            Err(e) => errors.push(format!("client task panicked: {e}")),
                        }
                    }
                    errors
                })
            })
        })
        .collect();
    threads
        .into_iter()
        .flat_map(|t| t.join().expect("client thread"))
        .collect()
}

fn thousand_connections(mode: AcceptMode) {
    let limit = raise_nofile(4 * CONNS as u64 + 256);
    assert!(
        limit >= 2 * CONNS as u64 + 256,
        "RLIMIT_NOFILE is {limit}; this test needs about {}",
        2 * CONNS + 256
    );
    let stats = Arc::new(Stats {
        open: AtomicUsize::new(0),
        max_open: AtomicUsize::new(0),
    });
    let server = builder()
        .accept_mode(mode)
        .build()
        .unwrap()
        .start(counting_echo(stats.clone()))
        .unwrap();
    let addr = tcp_addr(&server);
    let pool = Arc::new(random_bytes(0xC0FFEE, CONNS * STRIDE + BYTES));
    let t0 = Instant::now();
    let client_stats = stats.clone();
    let errors = within(
        Duration::from_secs(30),
        "1000 echo connections",
        move || run_clients(addr, pool, client_stats),
    );
    let took = t0.elapsed();
    eprintln!("{mode:?}: {CONNS} x {} KiB echoed in {took:?}", BYTES >> 10);
    assert!(
        errors.is_empty(),
        "{} of {CONNS} connections failed; first: {:?}",
        errors.len(),
        &errors[..errors.len().min(5)]
    );
    assert_eq!(
        stats.max_open.load(Ordering::SeqCst),
        CONNS,
        "the server should have had every connection open at once"
    );
    let shutdown_start = Instant::now();
    server.shutdown().unwrap();
    assert!(shutdown_start.elapsed() < Duration::from_secs(5));
    assert_eq!(
        stats.open.load(Ordering::SeqCst),
        0,
        "every handler finished"
    );
}

#[test]
fn thousand_connections_echo_1mib_each() {
    thousand_connections(AcceptMode::ReusePort);
}

#[test]
fn thousand_connections_echo_1mib_each_acceptor() {
    thousand_connections(AcceptMode::Acceptor);
}
