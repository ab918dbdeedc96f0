//! `spawn_blocking` in a real server: blocking closures run off the worker,
//! so one worker keeps answering while 100 requests sleep on the pool; a
//! closure's panic is a `500` and the server goes on; a handler that gives
//! up on its closure (timeout) is fine; and a `Runtime::block_on` thread is
//! woken the same way. Run on both backends (`CORERING_BACKEND=epoll`).

mod common;

use std::io::Read;
use std::net::SocketAddr;
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use common::http::{start_http, ureq_agent};
use corering::http::route::Path;
use corering::http::{Http1Config, Status};
use corering::{get, routes, spawn_blocking};

/// How long each blocking closure sleeps.
const BLOCK: Duration = Duration::from_millis(500);

#[get("/ping")]
async fn ping() -> &'static str {
    "pong"
}

/// Sleeps on the pool, then answers with the id and the thread that ran it;
/// the worker thread must be the same before and after the await.
#[get("/block/{id}")]
async fn block(id: Path<u32>) -> String {
    let before = thread::current().id();
    let (n, pool_thread) = spawn_blocking(move || {
        thread::sleep(BLOCK);
        (id.0 * 2, thread::current().name().map(str::to_owned))
    })
    .await;
    assert_eq!(before, thread::current().id(), "woken on its own worker");
    format!("{} {}", n, pool_thread.unwrap_or_default())
}

#[get("/panic")]
async fn panics() -> &'static str {
    spawn_blocking(|| -> u32 { panic!("blocking closure panicking on purpose") }).await;
    "unreachable"
}

#[get("/try_panic")]
async fn try_panic() -> (Status, String) {
    match spawn_blocking(|| -> u32 { panic!("caught on purpose") })
        .try_wait()
        .await
    {
        Ok(n) => (Status::OK, n.to_string()),
        Err(e) => (Status::SERVICE_UNAVAILABLE, e.to_string()),
    }
}

/// Gives up on a slow closure: the future is dropped while it runs.
#[get("/give_up")]
async fn give_up() -> (Status, &'static str) {
    let slow = spawn_blocking(|| thread::sleep(Duration::from_millis(500)));
    match corering::time::timeout(Duration::from_millis(50), slow).await {
        Ok(()) => (Status::OK, "finished"),
        Err(_) => (Status::from_u16(504).unwrap(), "gave up"),
    }
}

/// A file read with blocking std::fs, the case the pool is for.
#[get("/file")]
async fn file() -> Result<String, (Status, String)> {
    spawn_blocking(|| std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml")))
        .await
        .map_err(|e| (Status::INTERNAL_SERVER_ERROR, e.to_string()))
}

/// Set when the closure of `/slow_start` begins.
static SLOW_STARTED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Like `/block/{id}`, and says when its closure has started.
#[get("/slow_start")]
async fn slow_start() -> &'static str {
    spawn_blocking(|| {
        SLOW_STARTED.store(true, std::sync::atomic::Ordering::SeqCst);
        thread::sleep(BLOCK);
        "slept"
    })
    .await
}

/// One worker, so a blocked worker would show in the ping times.
fn server() -> (corering::RunningServer, SocketAddr) {
    let b = common::builder().workers(1);
    start_http(
        b,
        Http1Config::new(),
        routes![ping, block, panics, try_panic, give_up, file, slow_start],
    )
}

/// The load tests of this file run one at a time: 200 client threads at
/// once on a small machine would time each other's pings, not the worker.
static LOAD: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn get_text(agent: &ureq::Agent, url: &str) -> (u16, String) {
    let mut r = agent.get(url).call().expect("a response");
    let status = r.status().as_u16();
    (status, r.body_mut().read_to_string().expect("body"))
}

#[test]
fn a_hundred_blocking_requests_leave_the_worker_responsive() {
    let _one_at_a_time = LOAD.lock().unwrap_or_else(|e| e.into_inner());
    let (server, addr) = server();
    let n = 100;
    let start = Arc::new(Barrier::new(n + 1));
    let clients: Vec<_> = (0..n as u32)
        .map(|i| {
            let start = start.clone();
            thread::spawn(move || {
                let agent = ureq_agent(Duration::from_secs(30));
                start.wait();
                get_text(&agent, &format!("http://{addr}/block/{i}"))
            })
        })
        .collect();
    let agent = ureq_agent(Duration::from_secs(10));
    // Warm the ping connection first, so its times are the worker's.
    assert_eq!(get_text(&agent, &format!("http://{addr}/ping")).1, "pong");
    let t0 = Instant::now();
    start.wait();
    // Ping while the blocking requests are in flight.
    thread::sleep(Duration::from_millis(50));
    let mut worst = Duration::ZERO;
    let mut pings = 0;
    while t0.elapsed() < BLOCK * 2 {
        let t = Instant::now();
        let (status, body) = get_text(&agent, &format!("http://{addr}/ping"));
        worst = worst.max(t.elapsed());
        assert_eq!((status, body.as_str()), (200, "pong"));
        pings += 1;
        thread::sleep(Duration::from_millis(10));
    }
    for (i, c) in clients.into_iter().enumerate() {
        let (status, body) = c.join().expect("client thread");
        assert_eq!(status, 200, "{body}");
        assert_eq!(body, format!("{} corering-blocking", i * 2));
    }
    let total = t0.elapsed();
    println!(
        "{:?}: {pings} pings, slowest {worst:?}; 100 blocking requests in {total:?}",
        server.backend()
    );
    assert!(
        worst < BLOCK / 2,
        "a ping took {worst:?} while closures slept {BLOCK:?} each"
    );
    // In parallel on the pool (64 threads by default): two rounds, not 100.
    assert!(total < BLOCK * 10, "100 requests took {total:?}");
    // The pool lives in the server's process (this test process): it grew
    // past one thread, to at most its limit, and nothing is left queued.
    let stats = corering::task::blocking_pool_stats();
    assert!((2..=64).contains(&stats.threads), "{stats:?}");
    assert_eq!(stats.queued, 0, "{stats:?}");
    server.shutdown().unwrap();
}

#[test]
fn a_panicking_closure_is_a_500_and_the_server_goes_on() {
    let (server, addr) = server();
    let agent = ureq_agent(Duration::from_secs(10));
    for _ in 0..3 {
        let (status, _) = get_text(&agent, &format!("http://{addr}/panic"));
        assert_eq!(status, 500);
        assert_eq!(get_text(&agent, &format!("http://{addr}/ping")).1, "pong");
    }
    let (status, body) = get_text(&agent, &format!("http://{addr}/try_panic"));
    assert_eq!(status, 503);
    assert_eq!(body, "blocking closure panicked: caught on purpose");
    // The pool survived its panics.
    let (status, body) = get_text(&agent, &format!("http://{addr}/block/21"));
    assert_eq!((status, body.as_str()), (200, "42 corering-blocking"));
    server.shutdown().unwrap();
}

#[test]
fn a_handler_may_drop_its_blocking_future() {
    let (server, addr) = server();
    let agent = ureq_agent(Duration::from_secs(10));
    for _ in 0..5 {
        let t = Instant::now();
        let (status, body) = get_text(&agent, &format!("http://{addr}/give_up"));
        assert_eq!((status, body.as_str()), (504, "gave up"));
        assert!(
            t.elapsed() < Duration::from_millis(450),
            "{:?}",
            t.elapsed()
        );
    }
    assert_eq!(get_text(&agent, &format!("http://{addr}/ping")).1, "pong");
    server.shutdown().unwrap();
}

#[test]
fn a_blocking_file_read_serves_the_file() {
    let (server, addr) = server();
    let want = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml")).unwrap();
    let agent = ureq_agent(Duration::from_secs(10));
    let (status, body) = get_text(&agent, &format!("http://{addr}/file"));
    assert_eq!(status, 200);
    assert_eq!(body, want);
    server.shutdown().unwrap();
}

#[test]
fn block_on_thread_is_woken_by_the_pool() {
    let rt = corering::Runtime::new().expect("runtime");
    let t = Instant::now();
    let got = rt.block_on(async {
        // Several at once: all wake the same block_on worker.
        let a = spawn_blocking(|| {
            thread::sleep(Duration::from_millis(100));
            1
        });
        let b = spawn_blocking(|| {
            thread::sleep(Duration::from_millis(100));
            2
        });
        a.await + b.await
    });
    assert_eq!(got, 3);
    assert!(t.elapsed() < Duration::from_secs(5));
    // The cost of a round trip (worker → pool thread → worker), printed
    // for the record: 1000 in a row, each checked.
    let n = 1000u64;
    let t = Instant::now();
    let sum = rt.block_on(async {
        let mut sum = 0;
        for i in 0..n {
            sum += spawn_blocking(move || i).await;
        }
        sum
    });
    assert_eq!(sum, n * (n - 1) / 2);
    println!(
        "spawn_blocking round trip: {:?} each",
        t.elapsed() / n as u32
    );
    // And the panic comes out of block_on with its payload.
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        rt.block_on(spawn_blocking(|| -> u8 {
            panic!("from the pool on purpose")
        }))
    }));
    let payload = r.expect_err("the panic is resumed");
    assert_eq!(
        payload.downcast_ref::<&str>(),
        Some(&"from the pool on purpose")
    );
}

#[test]
fn bad_requests_to_a_blocking_route_are_rejected() {
    let (server, addr) = server();
    let agent = ureq_agent(Duration::from_secs(10));
    let (status, _) = get_text(&agent, &format!("http://{addr}/block/not-a-number"));
    assert_eq!(status, 400);
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    use std::io::Write;
    s.write_all(b"GET /block/1 HTTP/1.1\r\nHost: x\r\nContent-Length: nope\r\n\r\n")
        .unwrap();
    let mut got = Vec::new();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let _ = s.read_to_end(&mut got);
    assert!(
        got.starts_with(b"HTTP/1.1 400"),
        "{}",
        String::from_utf8_lossy(&got)
    );
    server.shutdown().unwrap();
}

#[test]
fn graceful_shutdown_waits_for_a_blocking_handler() {
    let (server, addr) = server();
    let client = thread::spawn(move || {
        let agent = ureq_agent(Duration::from_secs(10));
        get_text(&agent, &format!("http://{addr}/slow_start"))
    });
    // Shut down while the closure sleeps.
    assert!(common::wait_until(Duration::from_secs(10), || {
        SLOW_STARTED.load(std::sync::atomic::Ordering::SeqCst)
    }));
    let t = Instant::now();
    server.shutdown().unwrap();
    let (status, body) = client.join().unwrap();
    assert_eq!((status, body.as_str()), (200, "slept"));
    assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
}
