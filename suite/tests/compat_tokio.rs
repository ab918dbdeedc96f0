//! `compat::tokio::run` in a real server: handlers use tokio's own timers
//! and `tokio::net::TcpStream` through the bridge; 100 at once on one
//! worker while `/ping` stays quick; a panic on the tokio side is a `500`;
//! a dropped bridge future cancels its tokio task; and a `Runtime::block_on`
//! thread is woken the same way. Run on both backends
//! (`CORERING_BACKEND=epoll`).

mod common;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

use common::http::{start_http, ureq_agent};
use corering::compat::tokio::{handle, run};
use corering::http::route::Path;
use corering::http::{Http1Config, Status};
use corering::{get, routes};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// How long each tokio timer sleeps.
const WAIT: Duration = Duration::from_millis(500);

/// The address of the server under test, for handlers that call it back.
static SELF_ADDR: OnceLock<SocketAddr> = OnceLock::new();

#[get("/ping")]
async fn ping() -> &'static str {
    "pong"
}

#[get("/echo/{n}")]
async fn echo(n: Path<u32>) -> String {
    format!("echo {}", n.0)
}

/// A tokio timer through the bridge.
#[get("/sleep/{n}")]
async fn tokio_sleep(n: Path<u32>) -> String {
    let before = thread::current().id();
    let (v, on) = run(async move {
        tokio::time::sleep(WAIT).await;
        (n.0 + 1, thread::current().name().map(str::to_owned))
    })
    .await;
    assert_eq!(before, thread::current().id(), "woken on its own worker");
    format!("{v} {}", on.unwrap_or_default())
}

/// A tokio TCP client, through the bridge, calling this same server's
/// `/echo/{n}` (so the worker must keep serving while the handler waits).
#[get("/fetch/{n}")]
async fn fetch(n: Path<u32>) -> Result<String, (Status, String)> {
    let addr = *SELF_ADDR.get().expect("address set");
    let got = run(async move {
        let mut s = tokio::net::TcpStream::connect(addr).await?;
        let req = format!(
            "GET /echo/{} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
            n.0
        );
        s.write_all(req.as_bytes()).await?;
        let mut out = Vec::new();
        s.read_to_end(&mut out).await?;
        Ok::<_, std::io::Error>(out)
    })
    .await
    .map_err(|e| (Status::BAD_GATEWAY, e.to_string()))?;
    let text = String::from_utf8_lossy(&got);
    let body = text.split("\r\n\r\n").nth(1).unwrap_or_default();
    Ok(body.to_owned())
}

/// A tokio timer polled directly on the worker: tokio panics ("no
/// reactor"), which is what the bridge is for.
#[get("/no_bridge")]
async fn no_bridge() -> &'static str {
    tokio::time::sleep(Duration::from_millis(1)).await;
    "slept"
}

#[get("/panic")]
async fn panics() -> &'static str {
    run(async {
        tokio::task::yield_now().await;
        panic!("tokio task panicking on purpose")
    })
    .await
}

/// Counts tokio tasks dropped before their timer fired.
static CANCELLED: AtomicUsize = AtomicUsize::new(0);

struct CountDrop(bool);
impl Drop for CountDrop {
    fn drop(&mut self) {
        if self.0 {
            CANCELLED.fetch_add(1, Ordering::SeqCst);
        }
    }
}

/// Gives up on a long tokio timer: the bridge future is dropped.
#[get("/give_up")]
async fn give_up() -> (Status, &'static str) {
    let slow = run(async {
        let mut guard = CountDrop(true);
        tokio::time::sleep(Duration::from_secs(5)).await;
        guard.0 = false;
    });
    match corering::time::timeout(Duration::from_millis(50), slow).await {
        Ok(()) => (Status::OK, "finished"),
        Err(_) => (Status::from_u16(504).unwrap(), "gave up"),
    }
}

/// One worker, so a blocked worker would show in the ping times.
fn server() -> (corering::RunningServer, SocketAddr) {
    let (s, addr) = start_http(
        common::builder().workers(1),
        Http1Config::new(),
        routes![ping, echo, tokio_sleep, fetch, no_bridge, panics, give_up],
    );
    (s, addr)
}

/// The load tests of this file run one at a time: 200 client threads at
/// once on a small machine would time each other's pings, not the worker.
static LOAD: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn get_text(agent: &ureq::Agent, url: &str) -> (u16, String) {
    let mut r = agent.get(url).call().expect("a response");
    let status = r.status().as_u16();
    (status, r.body_mut().read_to_string().expect("body"))
}

/// Fires `n` requests to `path(i)` at once and pings meanwhile; returns the
/// answers and the slowest ping.
fn load(addr: SocketAddr, n: u32, path: fn(u32) -> String) -> (Vec<(u16, String)>, Duration) {
    let start = Arc::new(Barrier::new(n as usize + 1));
    let clients: Vec<_> = (0..n)
        .map(|i| {
            let start = start.clone();
            thread::spawn(move || {
                let agent = ureq_agent(Duration::from_secs(30));
                start.wait();
                get_text(&agent, &format!("http://{addr}{}", path(i)))
            })
        })
        .collect();
    let agent = ureq_agent(Duration::from_secs(10));
    assert_eq!(get_text(&agent, &format!("http://{addr}/ping")).1, "pong");
    let t0 = Instant::now();
    start.wait();
    thread::sleep(Duration::from_millis(50));
    let mut worst = Duration::ZERO;
    while t0.elapsed() < WAIT {
        let t = Instant::now();
        assert_eq!(get_text(&agent, &format!("http://{addr}/ping")).1, "pong");
        worst = worst.max(t.elapsed());
        thread::sleep(Duration::from_millis(10));
    }
    let answers = clients.into_iter().map(|c| c.join().unwrap()).collect();
    (answers, worst)
}

#[test]
fn a_hundred_tokio_timers_leave_the_worker_responsive() {
    let _one_at_a_time = LOAD.lock().unwrap_or_else(|e| e.into_inner());
    let (server, addr) = server();
    let t0 = Instant::now();
    let (answers, worst) = load(addr, 100, |i| format!("/sleep/{i}"));
    let total = t0.elapsed();
    for (i, (status, body)) in answers.into_iter().enumerate() {
        assert_eq!(status, 200, "{body}");
        assert_eq!(body, format!("{} corering-tokio", i + 1));
    }
    println!(
        "{:?}: slowest ping {worst:?}; 100 tokio sleeps in {total:?}",
        server.backend()
    );
    assert!(worst < WAIT / 2, "a ping took {worst:?}");
    // All timers run at once on tokio: about one WAIT, not 100.
    assert!(total < WAIT * 10, "100 requests took {total:?}");
    server.shutdown().unwrap();
}

#[test]
fn a_hundred_tokio_tcp_clients_call_the_same_worker_back() {
    let _one_at_a_time = LOAD.lock().unwrap_or_else(|e| e.into_inner());
    let (server, addr) = server();
    SELF_ADDR.set(addr).expect("only this test sets it");
    let (answers, worst) = load(addr, 100, |i| format!("/fetch/{i}"));
    for (i, (status, body)) in answers.into_iter().enumerate() {
        assert_eq!((status, body), (200, format!("echo {i}")));
    }
    println!("{:?}: slowest ping {worst:?}", server.backend());
    assert!(worst < WAIT / 2, "a ping took {worst:?}");
    server.shutdown().unwrap();
}

#[test]
fn tokio_without_the_bridge_panics_and_with_it_panics_are_500s() {
    let (server, addr) = server();
    let agent = ureq_agent(Duration::from_secs(10));
    // Polling a tokio timer on the worker: tokio's own panic, caught as 500.
    assert_eq!(get_text(&agent, &format!("http://{addr}/no_bridge")).0, 500);
    for _ in 0..3 {
        assert_eq!(get_text(&agent, &format!("http://{addr}/panic")).0, 500);
        assert_eq!(get_text(&agent, &format!("http://{addr}/ping")).1, "pong");
    }
    // The tokio runtime survived its task's panics.
    let (status, body) = get_text(&agent, &format!("http://{addr}/sleep/1"));
    assert_eq!((status, body.as_str()), (200, "2 corering-tokio"));
    server.shutdown().unwrap();
}

#[test]
fn dropping_the_bridge_future_cancels_the_tokio_task() {
    let (server, addr) = server();
    let agent = ureq_agent(Duration::from_secs(10));
    let before = CANCELLED.load(Ordering::SeqCst);
    for _ in 0..3 {
        let (status, body) = get_text(&agent, &format!("http://{addr}/give_up"));
        assert_eq!((status, body.as_str()), (504, "gave up"));
    }
    // Aborted tasks drop their futures (well before the 5 s timer).
    let ok = common::wait_until(Duration::from_secs(3), || {
        CANCELLED.load(Ordering::SeqCst) >= before + 3
    });
    assert!(
        ok,
        "cancelled: {}",
        CANCELLED.load(Ordering::SeqCst) - before
    );
    server.shutdown().unwrap();
}

#[test]
fn block_on_and_handle() {
    let rt = corering::Runtime::new().expect("runtime");
    let got = rt.block_on(async {
        let a = run(async {
            tokio::time::sleep(Duration::from_millis(50)).await;
            20
        });
        // A plain tokio JoinHandle from `handle()` is awaitable too.
        let b = handle().spawn(async { 22 });
        a.await + b.await.unwrap()
    });
    assert_eq!(got, 42);
    // The cost of a round trip (worker → tokio thread → worker), printed
    // for the record: 1000 in a row, each checked.
    let n = 1000u64;
    let t = Instant::now();
    let sum = rt.block_on(async {
        let mut sum = 0;
        for i in 0..n {
            sum += run(async move { i }).await;
        }
        sum
    });
    assert_eq!(sum, n * (n - 1) / 2);
    println!(
        "compat::tokio::run round trip: {:?} each",
        t.elapsed() / n as u32
    );
    // With the handle entered, tokio resources can be made on this thread
    // (the listener's reactor is the shared runtime's).
    let listener = {
        let _g = handle().enter();
        let std = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        std.set_nonblocking(true).unwrap();
        tokio::net::TcpListener::from_std(std).unwrap()
    };
    let addr = listener.local_addr().unwrap();
    let got = rt.block_on(async move {
        let server = run(async move {
            let (mut s, _) = listener.accept().await?;
            s.write_all(b"hi").await?;
            Ok::<_, std::io::Error>(())
        });
        let mut c = std::net::TcpStream::connect(addr).unwrap();
        server.await.unwrap();
        let mut buf = String::new();
        std::io::Read::read_to_string(&mut c, &mut buf).unwrap();
        buf
    });
    assert_eq!(got, "hi");
}
