//! Proves the echo path allocates nothing per read/write once warm.
//!
//! A counting global allocator counts allocations made on threads that have
//! switched counting on. The handler turns counting on for its worker thread
//! after a warm-up of request/response rounds, then the client runs many more
//! rounds; every allocation the worker makes in that window (loop, executor,
//! ring driver, connection slot, handler) is counted.

use std::future::Future;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::Poll;

mod counting_alloc;

const WARMUP: usize = 2_000;
const MEASURED: usize = 20_000;
const MSG: usize = 64;

/// Runs an echo server whose handler counts allocations after warm-up and
/// returns the number seen during the measured rounds. With `race_shutdown`
/// every read races `shutdown_requested()`, as a keep-alive loop would.
fn measure(zero_copy: bool, msg: usize, extra: bool, race_shutdown: bool) -> usize {
    let result = Arc::new(AtomicUsize::new(usize::MAX));
    let r2 = result.clone();
    let server = corering::Server::builder()
        .bind("127.0.0.1:0")
        .workers(1)
        .pin_workers(false)
        .build()
        .expect("build")
        .start(move |mut conn| {
            let r2 = r2.clone();
            async move {
                let total = (WARMUP + MEASURED) * msg;
                let warm = WARMUP * msg;
                let mut seen = 0usize;
                let mut counting = false;
                loop {
                    let next = if race_shutdown {
                        let mut stop = std::pin::pin!(corering::shutdown_requested());
                        let mut read = std::pin::pin!(conn.read());
                        std::future::poll_fn(|cx| {
                            if stop.as_mut().poll(cx).is_ready() {
                                return Poll::Ready(None);
                            }
                            read.as_mut().poll(cx).map(Some)
                        })
                        .await
                    } else {
                        Some(conn.read().await)
                    };
                    let Some(Ok(Some(buf))) = next else { break };
                    seen += buf.len();
                    let res = if zero_copy {
                        conn.write_owned(buf).await
                    } else {
                        let r = conn.write_all(&buf).await;
                        drop(buf);
                        r
                    };
                    if res.is_err() {
                        break;
                    }
                    if extra {
                        // Control: one allocation per message.
                        std::hint::black_box(Box::new(seen));
                    }
                    if !counting && seen >= warm {
                        counting = true;
                        counting_alloc::reset();
                        counting_alloc::set_counting(true);
                    }
                    if seen >= total {
                        break;
                    }
                }
                conn.flush().await.ok();
                counting_alloc::set_counting(false);
                r2.store(counting_alloc::count(), Ordering::SeqCst);
            }
        })
        .expect("start");
    let addr = server.tcp_addr().unwrap();
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_nodelay(true).unwrap();
    let req: Vec<u8> = (0..msg).map(|i| i as u8).collect();
    let mut resp = vec![0u8; req.len()];
    for _ in 0..WARMUP + MEASURED {
        s.write_all(&req).unwrap();
        s.read_exact(&mut resp).unwrap();
        assert_eq!(resp, req);
    }
    let published = counting_alloc::wait_published(&result, std::time::Duration::from_secs(10));
    drop(s);
    server.shutdown().unwrap();
    published
}

#[test]
fn echo_copy_path_allocates_nothing_when_warm() {
    let n = measure(false, MSG, false, false);
    assert_eq!(
        n, 0,
        "{n} allocations in {MEASURED} request/response rounds"
    );
}

#[test]
fn echo_zero_copy_path_allocates_nothing_when_warm() {
    // Zero-copy sends are an io_uring feature; the suite's io_uring run
    // covers this test, the epoll run has no such path.
    if corering::Runtime::new().map(|r| r.backend()).ok() != Some(corering::Backend::IoUring) {
        eprintln!("not applicable on epoll: zero-copy send (sendmsg_zc) is an io_uring feature");
        return;
    }
    let n = measure(true, MSG, false, false);
    assert_eq!(
        n, 0,
        "{n} allocations in {MEASURED} request/response rounds"
    );
}

#[test]
fn larger_messages_allocate_nothing_when_warm() {
    // 4 KiB messages, copied through the write-buffer chunks.
    let n = measure(false, 4096, false, false);
    assert_eq!(n, 0, "{n} allocations in {MEASURED} rounds of 4 KiB");
}

#[test]
fn the_counter_sees_allocations() {
    // Guards the other tests: a handler that allocates once per message must
    // show at least one allocation per measured round.
    let n = measure(false, MSG, true, false);
    assert!(n >= MEASURED, "counter saw only {n} allocations");
}

#[test]
fn racing_reads_against_shutdown_allocates_nothing_when_warm() {
    // Each poll of a pending `shutdown_requested()` keeps one registration,
    // so watching for shutdown on every read neither allocates nor grows.
    let n = measure(false, MSG, false, true);
    assert_eq!(
        n, 0,
        "{n} allocations in {MEASURED} rounds racing shutdown_requested()"
    );
}
