//! Write timeout: a peer that sends but never reads is cut off once the
//! server's queued output has made no progress for the write timeout, while
//! other connections (busy or idle) are unaffected and an idle server with
//! the timeout on stays asleep.

mod common;

use std::io::{self, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;
use corering::{Connection, RunningServer};

/// A list the handlers append to and the test reads.
type Shared<T> = Arc<Mutex<Vec<T>>>;

/// An echo handler that records the error kind that ended each connection
/// (a failed read or write), and the worker thread's id.
fn start_recording_echo(
    b: corering::ServerBuilder,
) -> (RunningServer, Shared<io::ErrorKind>, Shared<i32>) {
    let errors = Arc::new(Mutex::new(Vec::new()));
    let tids = Arc::new(Mutex::new(Vec::new()));
    let (e2, t2) = (errors.clone(), tids.clone());
    let server = b
        .build()
        .unwrap()
        .start(move |mut conn: Connection| {
            let errors = e2.clone();
            // SAFETY: gettid has no preconditions.
            t2.lock().unwrap().push(unsafe { libc::gettid() });
            async move {
                loop {
                    let buf = match conn.read().await {
                        Ok(Some(b)) => b,
                        Ok(None) => return,
                        Err(e) => {
                            errors.lock().unwrap().push(e.kind());
                            return;
                        }
                    };
                    if let Err(e) = conn.write_owned(buf).await {
                        errors.lock().unwrap().push(e.kind());
                        return;
                    }
                }
            }
        })
        .unwrap();
    (server, errors, tids)
}

/// A client that writes without ever reading is closed after the write
/// timeout: the handler's write fails with `TimedOut`, the client's writes
/// fail, `write_timeouts` counts it, and a second connection on the same
/// worker keeps working throughout (and, idle with nothing queued for
/// longer than the timeout, is not closed).
#[test]
fn non_reading_client_is_closed_after_the_write_timeout() {
    let (server, errors, _) = start_recording_echo(
        builder()
            .workers(1)
            .write_timeout(Duration::from_secs(1))
            .write_buffer_limit(256 << 10),
    );
    let addr = tcp_addr(&server);

    let mut normal = connect(addr);
    normal.write_all(b"before").unwrap();
    assert_eq!(read_n(&mut normal, 6).unwrap(), b"before");

    // Writes until the server cuts the connection off; never reads.
    let hog = connect(addr);
    let writer = std::thread::spawn(move || -> (usize, io::Error) {
        let mut hog = hog;
        let chunk = vec![7u8; 64 << 10];
        let mut sent = 0;
        loop {
            match hog.write(&chunk) {
                Ok(n) => sent += n,
                Err(e) => return (sent, e),
            }
            if sent > 2 << 30 {
                panic!("the server took 2 GiB from a client that never reads");
            }
        }
    });

    // The normal connection is served while the hog is stuck.
    std::thread::sleep(Duration::from_millis(300));
    normal.write_all(b"during").unwrap();
    assert_eq!(read_n(&mut normal, 6).unwrap(), b"during");

    for _ in 0..6 {
        std::thread::sleep(Duration::from_secs(1));
        eprintln!(
            "DEBUG {:?} {:?}",
            server.total_stats(),
            errors.lock().unwrap()
        );
    }
    let (sent, err) = within(Duration::from_secs(30), "hog cut off", move || {
        writer.join().unwrap()
    });
    assert!(sent > 0, "the hog never got going");
    assert!(
        matches!(
            err.kind(),
            io::ErrorKind::ConnectionReset | io::ErrorKind::BrokenPipe
        ),
        "hog's write failed with {err}"
    );
    assert!(
        wait_until(Duration::from_secs(5), || {
            server.total_stats().write_timeouts == 1
        }),
        "write_timeouts = {}",
        server.total_stats().write_timeouts
    );
    assert!(
        wait_until(Duration::from_secs(5), || server.total_stats().closed == 1),
        "the timed-out connection's slot was not closed: {:?}",
        server.total_stats()
    );
    assert_eq!(*errors.lock().unwrap(), [io::ErrorKind::TimedOut]);

    // Idle with nothing queued for longer than the timeout: still open.
    std::thread::sleep(Duration::from_millis(1500));
    normal.write_all(b"after").unwrap();
    assert_eq!(read_n(&mut normal, 5).unwrap(), b"after");
    let st = server.total_stats();
    assert_eq!(st.write_timeouts, 1, "{st:?}");
    assert_eq!(st.open(), 1, "{st:?}");
    server.shutdown().unwrap();
}

/// `write_timeout(None)` lets a stuck peer's output wait (the connection
/// stays open well past what would have been the timeout).
#[test]
fn write_timeout_none_keeps_a_stuck_connection() {
    let (server, errors, _) = start_recording_echo(
        builder()
            .workers(1)
            .write_timeout(None)
            .write_buffer_limit(64 << 10),
    );
    let addr = tcp_addr(&server);
    let mut hog = connect(addr);
    hog.set_write_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    let chunk = vec![1u8; 64 << 10];
    // Fill every buffer on the way until the client's write blocks.
    let t0 = Instant::now();
    while hog.write(&chunk).is_ok() {
        assert!(t0.elapsed() < Duration::from_secs(20), "never filled up");
    }
    std::thread::sleep(Duration::from_millis(1500));
    let st = server.total_stats();
    assert_eq!(st.write_timeouts, 0, "{st:?}");
    assert_eq!(st.open(), 1, "{st:?}");
    assert!(errors.lock().unwrap().is_empty());
    drop(hog);
    server.shutdown().unwrap();
}

/// CPU time (user + system, in clock ticks) of thread `tid` of this process.
fn thread_cpu_ticks(tid: i32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/self/task/{tid}/stat")).unwrap();
    // Fields after the command (which may hold spaces) start after ')'.
    let rest = &stat[stat.rfind(')').unwrap() + 2..];
    let f: Vec<&str> = rest.split(' ').collect();
    // utime and stime are fields 14 and 15 of the line (11 and 12 here).
    f[11].parse::<u64>().unwrap() + f[12].parse::<u64>().unwrap()
}

/// With the write timeout on (short, so its sweep would run often), an idle
/// worker whose connection had output queued earlier goes back to sleep:
/// it neither burns CPU nor keeps entering the kernel.
#[test]
fn idle_worker_with_write_timeout_sleeps() {
    let (server, _, tids) = start_recording_echo(
        builder()
            .workers(1)
            .write_timeout(Duration::from_millis(200)),
    );
    let addr = tcp_addr(&server);
    let mut s = connect(addr);
    s.write_all(b"ping").unwrap();
    assert_eq!(read_n(&mut s, 4).unwrap(), b"ping");
    let tid = tids.lock().unwrap()[0];
    // Let the sweep find the queue empty and stop.
    std::thread::sleep(Duration::from_millis(500));
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    let before = server.total_stats();
    let cpu0 = thread_cpu_ticks(tid);
    let t0 = Instant::now();
    std::thread::sleep(Duration::from_secs(3));
    let cpu = (thread_cpu_ticks(tid) - cpu0) as f64 / hz;
    let wall = t0.elapsed().as_secs_f64();
    let after = server.total_stats();
    assert!(
        cpu < 0.02 * wall,
        "idle worker used {:.1}% of a core",
        100.0 * cpu / wall
    );
    // Stats are published before each wait, so a sleeping worker's count
    // stands still; a sweep every 50 ms would add ~60 enters.
    assert!(
        after.enters - before.enters <= 2,
        "idle worker entered the kernel {} times in 3 s",
        after.enters - before.enters
    );
    // Idle time counts the sleep while it lasts.
    let slept = after.idle_ns - before.idle_ns;
    assert!(
        slept as f64 > 0.9e9 * wall,
        "idle_ns grew by {slept} over {wall:.2} s asleep"
    );
    assert!(after.busy_ns - before.busy_ns < 100_000_000, "{after:?}");
    // The connection still works after the long sleep.
    s.write_all(b"pong").unwrap();
    assert_eq!(read_n(&mut s, 4).unwrap(), b"pong");
    let st = server.total_stats();
    assert!(
        st.idle_ns > 2_500_000_000,
        "idle_ns {} after 3 s asleep",
        st.idle_ns
    );
    assert!(st.enters > 0 && st.submitted > 0, "{st:?}");
    server.shutdown().unwrap();
}

/// Writes to a std server that accepts and never reads, through a
/// connection from `connector` on `rt`, until a write fails; returns the
/// error and how long the writing took.
fn stuck_client_write(
    rt: corering::Runtime,
    connector: corering::Connector,
    want: Option<Duration>,
) -> (io::Error, Duration) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let keep = std::thread::spawn(move || {
        let (s, _) = listener.accept().unwrap();
        std::thread::sleep(Duration::from_secs(8));
        drop(s);
    });
    let r = rt.block_on(async move {
        let mut conn = connector.connect(addr).await.unwrap();
        assert_eq!(conn.write_timeout(), want);
        let chunk = vec![3u8; 256 << 10];
        let t0 = Instant::now();
        loop {
            if let Err(e) = conn.write_all(&chunk).await {
                return (e, t0.elapsed());
            }
            assert!(t0.elapsed() < Duration::from_secs(20), "never timed out");
        }
    });
    keep.join().unwrap();
    r
}

/// A client connection made with `Connector` and a write timeout of its
/// own fails with `TimedOut` when the server never reads.
#[test]
fn connector_write_timeout_cuts_off_a_server_that_never_reads() {
    let t = Duration::from_millis(500);
    let (err, took) = stuck_client_write(
        corering::Runtime::new().unwrap(),
        corering::Connector::new().write_timeout(t),
        Some(t),
    );
    assert_eq!(err.kind(), io::ErrorKind::TimedOut, "{err}");
    assert!(err.to_string().contains("write timeout"), "{err}");
    assert!(took < Duration::from_secs(6), "took {took:?}");
}

/// Without a setting of its own a client connection takes the runtime's
/// write timeout.
#[test]
fn runtime_write_timeout_applies_to_client_connections() {
    let t = Duration::from_millis(400);
    let (err, took) = stuck_client_write(
        corering::Runtime::new().unwrap().write_timeout(t),
        corering::Connector::new(),
        Some(t),
    );
    assert_eq!(err.kind(), io::ErrorKind::TimedOut, "{err}");
    assert!(took < Duration::from_secs(6), "took {took:?}");
}

/// Shutdown does not hang on a peer that never reads, even with the write
/// timeout off: when the grace period ends its connection is closed (and
/// the memory its stuck sends use is freed once the kernel lets go).
#[test]
fn shutdown_does_not_wait_for_a_peer_that_never_reads() {
    let (server, _, _) = start_recording_echo(
        builder()
            .workers(1)
            .write_timeout(None)
            .shutdown_timeout(Duration::from_millis(300)),
    );
    let addr = tcp_addr(&server);
    let mut hog = connect(addr);
    hog.set_write_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    let chunk = vec![1u8; 64 << 10];
    let t0 = Instant::now();
    while hog.write(&chunk).is_ok() {
        assert!(t0.elapsed() < Duration::from_secs(20), "never filled up");
    }
    let t0 = Instant::now();
    within(Duration::from_secs(20), "shutdown", move || {
        server.shutdown()
    })
    .unwrap();
    assert!(
        t0.elapsed() < Duration::from_secs(5),
        "shutdown took {:?}",
        t0.elapsed()
    );
}

/// The write timeout covers HTTP too: a client that pipelines requests for
/// a large response and never reads is closed, and its handler's task ends.
#[test]
fn http_client_that_never_reads_is_closed() {
    use corering::http::{self, Http1Config, Request, Response};
    static BIG: [u8; 64 << 10] = [b'z'; 64 << 10];
    async fn big(_req: Request<'_>) -> Response {
        Response::text(&BIG[..])
    }
    let cfg = Http1Config::new();
    let server = builder()
        .workers(1)
        .write_timeout(Duration::from_secs(1))
        .build()
        .unwrap()
        .start(move |conn| http::serve(conn, cfg, big))
        .unwrap();
    let addr = tcp_addr(&server);
    let hog = connect(addr);
    let writer = std::thread::spawn(move || -> io::Error {
        let mut hog = hog;
        let req = b"GET /big HTTP/1.1\r\nHost: x\r\n\r\n".repeat(64);
        loop {
            if let Err(e) = hog.write_all(&req) {
                return e;
            }
        }
    });
    let err = within(Duration::from_secs(30), "HTTP hog cut off", move || {
        writer.join().unwrap()
    });
    assert!(
        matches!(
            err.kind(),
            io::ErrorKind::ConnectionReset | io::ErrorKind::BrokenPipe
        ),
        "{err}"
    );
    assert!(
        wait_until(Duration::from_secs(5), || {
            let st = server.total_stats();
            st.write_timeouts == 1 && st.open() == 0
        }),
        "{:?}",
        server.total_stats()
    );
    // The server still answers a well-behaved client.
    let mut ok = connect(addr);
    ok.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    let reply = read_all(&mut ok).unwrap();
    assert!(
        reply.starts_with(b"HTTP/1.1 200 OK\r\n"),
        "{:?}",
        &reply[..40]
    );
    assert_eq!(
        reply.len() - reply.windows(4).position(|w| w == b"\r\n\r\n").unwrap() - 4,
        64 << 10
    );
    server.shutdown().unwrap();
}
