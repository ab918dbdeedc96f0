//! `IoStream` reads and writes allocate nothing once warm: a futures-io
//! echo (read into a fixed buffer, `write_all`, `flush`) counts the
//! allocations its worker thread makes over many request/response rounds,
//! on a plain connection and under a layer.

#[path = "../../suite/tests/counting_alloc/mod.rs"]
mod counting_alloc;

use std::io::{Read, Write};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use corering::pipeline::Middleware;
use corering::{Connection, IoStream};
use corering_interop::{builder, connect, start, xor, XorStack};
use futures_util::io::{AsyncReadExt, AsyncWriteExt};

const WARMUP: usize = 2_000;
const MEASURED: usize = 10_000;
const MSG: usize = 64;

/// Allocations the server's worker made in the measured rounds; `extra`
/// allocates once per message on purpose (the counter's control).
fn measure<M: Middleware>(mw: M, layered: bool, extra: bool) -> usize {
    let result = Arc::new(AtomicUsize::new(usize::MAX));
    let r2 = result.clone();
    let server = start(builder().middleware(mw), move |conn: Connection| {
        let r2 = r2.clone();
        async move {
            let mut io = IoStream::new(conn);
            let mut buf = [0u8; 4096];
            let (warm, total) = (WARMUP * MSG, (WARMUP + MEASURED) * MSG);
            let mut seen = 0;
            while seen < total {
                let n = match io.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => n,
                };
                if io.write_all(&buf[..n]).await.is_err() || io.flush().await.is_err() {
                    break;
                }
                if extra {
                    std::hint::black_box(Box::new(seen));
                }
                let before = seen;
                seen += n;
                if before < warm && seen >= warm {
                    counting_alloc::reset();
                    counting_alloc::set_counting(true);
                }
            }
            counting_alloc::set_counting(false);
            r2.store(counting_alloc::count(), Ordering::SeqCst);
        }
    });
    let mut s = connect(server.tcp_addr().unwrap());
    let req: Vec<u8> = (0..MSG).map(|i| i as u8).collect();
    let mut wire = req.clone();
    if layered {
        xor(&mut wire);
    }
    let mut resp = vec![0u8; MSG];
    for _ in 0..WARMUP + MEASURED {
        s.write_all(&wire).unwrap();
        s.read_exact(&mut resp).unwrap();
        assert_eq!(resp, wire);
    }
    let published = counting_alloc::wait_published(&result, std::time::Duration::from_secs(20));
    drop(s);
    server.shutdown().unwrap();
    published
}

#[test]
fn futures_io_echo_allocates_nothing_when_warm() {
    let n = measure((), false, false);
    assert_eq!(n, 0, "{n} allocations in {MEASURED} rounds");
}

#[test]
fn futures_io_echo_under_a_layer_allocates_nothing_when_warm() {
    let n = measure(XorStack, true, false);
    assert_eq!(n, 0, "{n} allocations in {MEASURED} rounds");
}

#[test]
fn the_counter_sees_allocations() {
    let n = measure((), false, true);
    assert!(n >= MEASURED, "counter saw only {n} allocations");
}
