//! The HTTP client's response reader stays bounded by the head limit plus
//! one receive buffer, however much a server sends before its final
//! response: a raw `std::net::TcpListener` "server" streams 32 MB of
//! `103 Early Hints` interim responses of 4 KB, written in pieces of uneven
//! sizes so that heads straddle the client's receive buffers, then a `200`.
//!
//! Memory is measured as the peak of live heap bytes in this test process
//! (a global allocator that tracks them), over the exchange only.

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::thread;
use std::time::Duration;

use corering::http::client::{self, Client, ClientConfig};
use corering::http::Status;
use corering::Runtime;

/// Bytes of interim responses sent before the final one.
const INTERIM: usize = 32 << 20;

/// The system allocator, tracking live and peak heap bytes.
struct Tracking;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

fn grew(n: usize) {
    let now = LIVE.fetch_add(n, Relaxed) + n;
    PEAK.fetch_max(now, Relaxed);
}

// SAFETY: forwards to the system allocator; the bookkeeping only touches
// atomics (no allocation, no reentrancy).
unsafe impl GlobalAlloc for Tracking {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        // SAFETY: same contract as ours.
        let p = unsafe { System.alloc(l) };
        if !p.is_null() {
            grew(l.size());
        }
        p
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        LIVE.fetch_sub(l.size(), Relaxed);
        // SAFETY: same contract as ours.
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, n: usize) -> *mut u8 {
        // SAFETY: same contract as ours.
        let q = unsafe { System.realloc(p, l, n) };
        if !q.is_null() {
            LIVE.fetch_sub(l.size(), Relaxed);
            grew(n);
        }
        q
    }
}

#[global_allocator]
static GLOBAL: Tracking = Tracking;

#[test]
fn a_stream_of_interim_responses_keeps_the_reader_bounded() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        // The request head (a GET: no body).
        let mut req = Vec::new();
        let mut b = [0u8; 1024];
        while !req.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = s.read(&mut b).unwrap();
            assert!(n > 0, "client closed before its request");
            req.extend_from_slice(&b[..n]);
        }
        // 4093 bytes (a prime): the end of a head rarely falls on the end of
        // a receive buffer, so heads keep straddling buffers.
        let mut hint = b"HTTP/1.1 103 Early Hints\r\nLink: </".to_vec();
        hint.resize(4093 - b">; rel=preload\r\n\r\n".len(), b'a');
        hint.extend_from_slice(b">; rel=preload\r\n\r\n");
        let chunk: Vec<u8> = hint.iter().copied().cycle().take(hint.len() * 16).collect();
        let (mut sent, mut piece) = (0, 1usize);
        while sent < INTERIM {
            let mut off = 0;
            while off < chunk.len() {
                let end = (off + piece).min(chunk.len());
                s.write_all(&chunk[off..end]).unwrap();
                off = end;
                piece = (piece * 7 + 13) % 9000 + 1;
            }
            sent += chunk.len();
        }
        s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello")
            .unwrap();
        // Wait for the client to close.
        let _ = s.read(&mut b);
    });

    let cfg = ClientConfig::new()
        .connect_timeout(Duration::from_secs(5))
        .head_timeout(Duration::from_secs(60))
        .request_timeout(Duration::from_secs(60));
    let max_head = cfg.max_head;
    let (peak, base) = Runtime::new().expect("runtime").block_on(async move {
        let c = Client::with_config(cfg);
        let base = LIVE.load(Relaxed);
        PEAK.store(base, Relaxed);
        let mut r = c.get(addr, "/").await.expect("final response");
        assert_eq!(r.status(), Status::OK);
        assert_eq!(r.body().await.expect("body"), b"hello");
        let peak = PEAK.load(Relaxed);
        drop(r);
        client::close_idle();
        (peak, base)
    });
    server.join().unwrap();
    let grown = peak - base;
    eprintln!("heap grew by at most {grown} bytes during the exchange");
    // The head buffer (at most max_head plus one receive buffer) and small
    // change; the server's own 64 KB chunk is counted too.
    assert!(
        grown < 4 * max_head + (1 << 20),
        "heap grew by {grown} bytes for {INTERIM} bytes of interim responses"
    );
}
