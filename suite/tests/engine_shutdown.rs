//! Shutdown: graceful drain with connections in flight, the grace period,
//! forced shutdown, handlers that watch for shutdown, and the echo example
//! binary's signal handling, restart and address-in-use behaviour.

mod common;

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use common::*;
use corering::{AcceptMode, Connection};

/// Waits until connecting to `addr` is refused (listeners closed).
fn wait_refused(addr: SocketAddr, limit: Duration) -> bool {
    wait_until(limit, || {
        matches!(
            TcpStream::connect_timeout(&addr, Duration::from_secs(1)),
            Err(e) if e.kind() == io::ErrorKind::ConnectionRefused
        )
    })
}

/// An echo client that sends `total` bytes of stream `seed` slowly (64 KiB
/// chunks, 4 ms apart) while reading the echo; `progress` counts bytes
/// received back.
fn slow_echo_client(
    addr: SocketAddr,
    seed: u64,
    total: usize,
    progress: Arc<AtomicUsize>,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let mut s = connect(addr);
        let mut w = s.try_clone().unwrap();
        let writer = std::thread::spawn(move || {
            let mut buf = vec![0u8; 64 << 10];
            let mut off = 0;
            while off < total {
                let n = buf.len().min(total - off);
                pattern_fill(seed, off as u64, &mut buf[..n]);
                w.write_all(&buf[..n]).unwrap();
                off += n;
                std::thread::sleep(Duration::from_millis(4));
            }
            w.shutdown(std::net::Shutdown::Write).unwrap();
        });
        let mut buf = vec![0u8; 64 << 10];
        let mut scratch = Vec::new();
        let mut got = 0;
        loop {
            let n = s
                .read(&mut buf)
                .unwrap_or_else(|e| panic!("stream {seed}: {e}"));
            if n == 0 {
                break;
            }
            pattern_check(seed, got as u64, &buf[..n], &mut scratch)
                .unwrap_or_else(|at| panic!("stream {seed}: wrong byte at {at}"));
            got += n;
            progress.fetch_add(n, Ordering::SeqCst);
        }
        assert_eq!(
            got, total,
            "stream {seed}: EOF after {got} of {total} bytes"
        );
        writer.join().unwrap();
    })
}

fn graceful_shutdown_with_connections_in_flight(mode: AcceptMode) {
    const CLIENTS: usize = 8;
    const TOTAL: usize = 4 << 20;
    let server = start_echo(builder().accept_mode(mode));
    let addr = tcp_addr(&server);

    // An idle connection keeps the server draining until we close it.
    let mut idle = connect(addr);
    idle.write_all(b"hi").unwrap();
    assert_eq!(read_n(&mut idle, 2).unwrap(), b"hi");

    let progress: Vec<_> = (0..CLIENTS)
        .map(|_| Arc::new(AtomicUsize::new(0)))
        .collect();
    let clients: Vec<_> = progress
        .iter()
        .enumerate()
        .map(|(i, p)| slow_echo_client(addr, 900 + i as u64, TOTAL, p.clone()))
        .collect();
    // Shut down once every client is well under way but none is done.
    assert!(
        wait_until(Duration::from_secs(10), || progress
            .iter()
            .all(|p| p.load(Ordering::SeqCst) >= 256 << 10)),
        "clients never got going"
    );
    let handle = server.shutdown_handle();
    handle.shutdown();
    let unfinished = progress
        .iter()
        .filter(|p| p.load(Ordering::SeqCst) < TOTAL)
        .count();

    // New connections are refused while the old ones drain.
    assert!(
        wait_refused(addr, Duration::from_secs(3)),
        "new connections still accepted after shutdown began"
    );
    for _ in 0..3 {
        match TcpStream::connect_timeout(&addr, Duration::from_secs(1)) {
            Err(e) => assert_eq!(e.kind(), io::ErrorKind::ConnectionRefused, "{e}"),
            Ok(_) => panic!("connection accepted after shutdown began"),
        }
    }

    // Every echo that started completes byte for byte.
    within(Duration::from_secs(20), "in-flight echoes", move || {
        for c in clients {
            c.join().unwrap();
        }
    });
    assert!(
        unfinished > 0,
        "every echo finished before shutdown: proves nothing"
    );

    // The idle connection is still served during the drain.
    idle.write_all(b"still open").unwrap();
    assert_eq!(read_n(&mut idle, 10).unwrap(), b"still open");
    idle.shutdown(std::net::Shutdown::Write).unwrap();
    assert_eq!(read_all(&mut idle).unwrap(), b"");

    let t0 = Instant::now();
    within(Duration::from_secs(10), "wait", move || server.wait()).expect("shutdown result");
    assert!(
        t0.elapsed() < Duration::from_secs(5),
        "workers took {:?} to exit after the last connection closed",
        t0.elapsed()
    );
}

#[test]
fn graceful_shutdown_with_connections_in_flight_reuseport() {
    graceful_shutdown_with_connections_in_flight(AcceptMode::ReusePort);
}

#[test]
fn graceful_shutdown_with_connections_in_flight_acceptor() {
    graceful_shutdown_with_connections_in_flight(AcceptMode::Acceptor);
}

/// Connections still open when the grace period ends are closed: the peer
/// sees EOF and `shutdown()` returns.
#[test]
fn shutdown_timeout_closes_idle_connections() {
    let server = start_echo(builder().shutdown_timeout(Duration::from_millis(300)));
    let addr = tcp_addr(&server);
    let mut idle: Vec<TcpStream> = (0..10).map(|_| connect(addr)).collect();
    for s in &mut idle {
        s.write_all(b"x").unwrap();
        assert_eq!(read_n(s, 1).unwrap(), b"x");
    }
    let t0 = Instant::now();
    within(Duration::from_secs(10), "shutdown", move || {
        server.shutdown()
    })
    .unwrap();
    let took = t0.elapsed();
    assert!(
        took >= Duration::from_millis(300),
        "grace period skipped ({took:?})"
    );
    assert!(took < Duration::from_secs(4), "shutdown took {took:?}");
    for s in &mut idle {
        let mut b = [0u8; 1];
        match s.read(&mut b) {
            Ok(0) => {}
            Ok(_) => panic!("unexpected data"),
            Err(e) => assert_eq!(e.kind(), io::ErrorKind::ConnectionReset, "{e}"),
        }
    }
}

/// `force()` ends the grace period early.
#[test]
fn force_skips_the_grace_period() {
    let server = start_echo(builder().shutdown_timeout(Duration::from_secs(60)));
    let addr = tcp_addr(&server);
    let mut idle = connect(addr);
    idle.write_all(b"x").unwrap();
    assert_eq!(read_n(&mut idle, 1).unwrap(), b"x");
    let handle = server.shutdown_handle();
    handle.shutdown();
    std::thread::sleep(Duration::from_millis(200));
    let t0 = Instant::now();
    handle.force();
    within(Duration::from_secs(10), "forced shutdown", move || {
        server.wait()
    })
    .unwrap();
    assert!(
        t0.elapsed() < Duration::from_secs(3),
        "took {:?}",
        t0.elapsed()
    );
    assert_eq!(read_all(&mut idle).unwrap_or_default(), b"");
}

/// Handlers can watch for shutdown and finish on their own, well before
/// the grace period ends.
#[test]
fn handlers_see_shutdown_requested() {
    let server = builder()
        .shutdown_timeout(Duration::from_secs(30))
        .build()
        .unwrap()
        .start(|mut conn: Connection| async move {
            let before = corering::is_shutting_down();
            let r = race(corering::shutdown_requested(), conn.read()).await;
            if let Either::Left(()) = r {
                let msg = format!("bye {} {}", before, corering::is_shutting_down());
                let _ = conn.write_all(msg.as_bytes()).await;
                let _ = conn.close().await;
            }
        })
        .unwrap();
    let addr = tcp_addr(&server);
    let mut conns: Vec<TcpStream> = (0..6).map(|_| connect(addr)).collect();
    // Let every handler start waiting.
    std::thread::sleep(Duration::from_millis(100));
    let t0 = Instant::now();
    let h = std::thread::spawn(move || server.shutdown());
    for s in &mut conns {
        assert_eq!(read_all(s).unwrap(), b"bye false true");
    }
    within(Duration::from_secs(10), "shutdown", move || {
        h.join().unwrap()
    })
    .unwrap();
    assert!(
        t0.elapsed() < Duration::from_secs(3),
        "took {:?}",
        t0.elapsed()
    );
}

/// Dropping the `RunningServer` shuts it down and closes the listeners.
#[test]
fn dropping_running_server_stops_it() {
    let server = start_echo(builder());
    let addr = tcp_addr(&server);
    check_echo_tcp(addr, b"before drop");
    within(Duration::from_secs(10), "drop", move || drop(server));
    assert!(wait_refused(addr, Duration::from_secs(2)));
}

/// Two servers in one process cannot share an address.
#[test]
fn second_server_on_same_address_fails() {
    for mode in [AcceptMode::ReusePort, AcceptMode::Acceptor] {
        let first = start_echo(builder().accept_mode(mode));
        let addr = tcp_addr(&first);
        let err = match corering::Server::builder()
            .bind(addr)
            .workers(2)
            .pin_workers(false)
            .accept_mode(mode)
            .build()
        {
            Ok(_) => panic!("{mode:?}: a second server bound {addr}"),
            Err(e) => e,
        };
        assert_eq!(err.kind(), io::ErrorKind::AddrInUse, "{err}");
        assert!(err.to_string().contains("address in use"), "{err}");
        assert!(err.to_string().contains(&addr.to_string()), "{err}");
        check_echo_tcp(addr, b"the first server is unaffected");
        first.shutdown().unwrap();
    }
}

// ---- the echo example binary ---------------------------------------------------

struct EchoProc {
    child: Child,
    lines: mpsc::Receiver<String>,
    /// stderr, line by line, as it comes.
    errs: mpsc::Receiver<String>,
    err_reader: Option<std::thread::JoinHandle<()>>,
}

impl EchoProc {
    fn spawn(args: &[&str]) -> EchoProc {
        let mut child = Command::new(echo_example())
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn the echo example");
        let out = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let err = child.stderr.take().unwrap();
        let (etx, errs) = mpsc::channel();
        let err_reader = std::thread::spawn(move || {
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                let _ = etx.send(line);
            }
        });
        EchoProc {
            child,
            lines,
            errs,
            err_reader: Some(err_reader),
        }
    }

    /// Waits up to `limit` for a stderr line containing `what`.
    fn stderr_line(&self, what: &str, limit: Duration) -> Option<String> {
        let end = Instant::now() + limit;
        loop {
            let left = end.saturating_duration_since(Instant::now());
            match self.errs.recv_timeout(left) {
                Ok(l) if l.contains(what) => return Some(l),
                Ok(_) => {}
                Err(_) => return None,
            }
        }
    }

    /// The rest of stderr, once the process has exited.
    fn rest_of_stderr(&mut self) -> String {
        if let Some(t) = self.err_reader.take() {
            let _ = t.join();
        }
        self.errs.try_iter().collect::<Vec<_>>().join("\n")
    }

    /// Waits for the "listening on" line and returns the TCP address.
    fn listening(&mut self) -> SocketAddr {
        let end = Instant::now() + Duration::from_secs(10);
        loop {
            let left = end.saturating_duration_since(Instant::now());
            let line = match self.lines.recv_timeout(left) {
                Ok(l) => l,
                Err(_) => {
                    let status = self.child.try_wait().ok().flatten();
                    let mut err = String::new();
                    if status.is_some() {
                        err = self.rest_of_stderr();
                    }
                    panic!("echo never said where it listens (exit {status:?}, stderr {err:?})");
                }
            };
            if let Some(rest) = line.split("listening on ").nth(1) {
                return rest
                    .split([' ', ','])
                    .find_map(|w| w.parse().ok())
                    .unwrap_or_else(|| panic!("no address in {line:?}"));
            }
        }
    }

    fn signal(&self, sig: i32) {
        // SAFETY: kill(2) on our own child.
        let r = unsafe { libc::kill(self.child.id() as libc::pid_t, sig) };
        assert_eq!(r, 0, "kill: {}", io::Error::last_os_error());
    }

    /// Waits (at most `limit`) for the process to exit, asserts that it
    /// exited with status 0, and returns its stderr.
    fn exits_zero(self, limit: Duration) -> String {
        let (status, stderr) = self.wait(limit);
        assert_eq!(
            status.code(),
            Some(0),
            "exit status {status}; stderr {stderr:?}"
        );
        stderr
    }

    /// Waits for the process to exit; returns its status and stderr.
    fn wait(mut self, limit: Duration) -> (std::process::ExitStatus, String) {
        let end = Instant::now() + limit;
        loop {
            if let Some(st) = self.child.try_wait().unwrap() {
                return (st, self.rest_of_stderr());
            }
            if Instant::now() >= end {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!("the echo example did not exit within {limit:?}");
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for EchoProc {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

#[test]
fn echo_binary_exits_zero_on_sigterm_and_restarts_on_same_port() {
    let mut a = EchoProc::spawn(&["--addr", "127.0.0.1:0", "--workers", "2"]);
    let addr = a.listening();
    within(Duration::from_secs(10), "echo via binary", move || {
        check_echo_tcp(addr, &random_bytes(1, 1 << 20))
    });
    // A connection left open when the signal arrives: the server drains,
    // and a second signal skips the rest of the grace period. The server
    // closes first, so its side of the connection lingers on the port.
    let mut open = connect(addr);
    open.write_all(b"x").unwrap();
    assert_eq!(read_n(&mut open, 1).unwrap(), b"x");
    a.signal(libc::SIGTERM);
    std::thread::sleep(Duration::from_millis(300));
    // Draining: the open connection is still served.
    open.write_all(b"draining").unwrap();
    assert_eq!(read_n(&mut open, 8).unwrap(), b"draining");
    a.signal(libc::SIGTERM);
    a.exits_zero(Duration::from_secs(5));
    assert_eq!(read_all(&mut open).unwrap_or_default(), b"");

    // Restart immediately on the same port.
    let port = addr.port().to_string();
    let mut b = EchoProc::spawn(&["--addr", &format!("127.0.0.1:{port}"), "--workers", "2"]);
    assert_eq!(b.listening(), addr);
    within(
        Duration::from_secs(10),
        "echo via restarted binary",
        move || check_echo_tcp(addr, &random_bytes(2, 1 << 20)),
    );
    drop(open);
    b.signal(libc::SIGTERM);
    let t0 = Instant::now();
    b.exits_zero(Duration::from_secs(5));
    assert!(
        t0.elapsed() < Duration::from_secs(3),
        "idle server took {:?} to exit",
        t0.elapsed()
    );
}

#[test]
fn echo_binary_exits_zero_on_sigint() {
    let mut a = EchoProc::spawn(&["--addr", "127.0.0.1:0", "--workers", "1", "--acceptor"]);
    let addr = a.listening();
    check_echo_tcp(addr, b"hello");
    a.signal(libc::SIGINT);
    a.exits_zero(Duration::from_secs(5));
    assert!(wait_refused(addr, Duration::from_secs(1)));
}

#[test]
fn echo_binary_second_instance_fails_with_address_in_use() {
    for extra in [&[][..], &["--acceptor"][..]] {
        let mut args = vec!["--addr", "127.0.0.1:0", "--workers", "2"];
        args.extend_from_slice(extra);
        let mut a = EchoProc::spawn(&args);
        let addr = a.listening();
        let taken = addr.to_string();
        let mut args = vec!["--addr", taken.as_str(), "--workers", "2"];
        args.extend_from_slice(extra);
        let (status, stderr) = EchoProc::spawn(&args).wait(Duration::from_secs(10));
        assert!(
            !status.success(),
            "second instance ({extra:?}) exited with {status}"
        );
        assert!(
            stderr.contains("address in use"),
            "second instance ({extra:?}) stderr: {stderr:?}"
        );
        // The first instance is unaffected.
        check_echo_tcp(addr, b"first instance still serving");
        a.signal(libc::SIGTERM);
        let (status, _) = a.wait(Duration::from_secs(5));
        assert_eq!(status.code(), Some(0));
    }
}

#[test]
fn echo_binary_second_instance_on_same_unix_path_fails() {
    let path = unix_path("bin");
    let p = path.to_str().unwrap();
    let mut a = EchoProc::spawn(&["--addr", "127.0.0.1:0", "--workers", "1", "--unix", p]);
    a.listening();
    let (status, stderr) =
        EchoProc::spawn(&["--addr", "127.0.0.1:0", "--workers", "1", "--unix", p])
            .wait(Duration::from_secs(10));
    assert!(!status.success(), "second instance exited with {status}");
    assert!(stderr.contains("address in use"), "stderr: {stderr:?}");
    // The first instance's socket file survived and still works.
    check_echo_unix(&path, b"first instance still serving");
    a.signal(libc::SIGTERM);
    let (status, _) = a.wait(Duration::from_secs(5));
    assert_eq!(status.code(), Some(0));
    assert!(!path.exists(), "socket file removed on exit");
}

/// Once the last connection of a draining server closes, the workers exit
/// without further delay.
#[test]
fn workers_exit_promptly_after_last_connection_closes() {
    let server = start_echo(builder().workers(1));
    let addr = tcp_addr(&server);
    let mut s = connect(addr);
    s.write_all(b"x").unwrap();
    assert_eq!(read_n(&mut s, 1).unwrap(), b"x");
    let handle = server.shutdown_handle();
    handle.shutdown();
    assert!(wait_refused(addr, Duration::from_secs(3)));
    let t0 = Instant::now();
    // The handler sees EOF and returns; its connection is still closing
    // when the worker's shutdown check finds no live tasks.
    drop(s);
    within(Duration::from_secs(10), "wait", move || server.wait()).unwrap();
    let took = t0.elapsed();
    assert!(
        took < Duration::from_millis(400),
        "workers took {took:?} to exit"
    );
}

/// SIGTERM with an idle connection open: the server says it is shutting
/// down, how many connections are open and how long it will wait; a second
/// SIGTERM closes the connection at once and the process exits 0.
#[test]
fn echo_binary_logs_shutdown_and_a_second_signal_forces() {
    let mut a = EchoProc::spawn(&["--addr", "127.0.0.1:0", "--workers", "2"]);
    let addr = a.listening();
    let mut open = connect(addr);
    open.write_all(b"x").unwrap();
    assert_eq!(read_n(&mut open, 1).unwrap(), b"x");
    a.signal(libc::SIGTERM);
    let line = a
        .stderr_line("shutting down", Duration::from_secs(5))
        .expect("no shutdown line on stderr");
    assert_eq!(
        line,
        "corering: shutting down: 1 connection open, grace 10 s; signal again to stop now"
    );
    // Still draining: the open connection is served.
    open.write_all(b"y").unwrap();
    assert_eq!(read_n(&mut open, 1).unwrap(), b"y");
    a.signal(libc::SIGTERM);
    let t0 = Instant::now();
    let stderr = a.exits_zero(Duration::from_secs(5));
    assert!(
        t0.elapsed() < Duration::from_secs(2),
        "forced shutdown took {:?}",
        t0.elapsed()
    );
    assert!(
        stderr.contains("second signal: closing 1 connection now"),
        "{stderr:?}"
    );
    assert_eq!(read_all(&mut open).unwrap_or_default(), b"");
}

/// SIGTERM, then the last connection closes: the process exits right away,
/// without waiting out the grace period or any poll interval.
#[test]
fn echo_binary_exits_as_soon_as_the_last_connection_closes() {
    let mut a = EchoProc::spawn(&["--addr", "127.0.0.1:0", "--workers", "2"]);
    let addr = a.listening();
    let mut open = connect(addr);
    open.write_all(b"x").unwrap();
    assert_eq!(read_n(&mut open, 1).unwrap(), b"x");
    a.signal(libc::SIGTERM);
    a.stderr_line("shutting down", Duration::from_secs(5))
        .expect("no shutdown line on stderr");
    let t0 = Instant::now();
    drop(open);
    a.exits_zero(Duration::from_secs(5));
    assert!(
        t0.elapsed() < Duration::from_secs(1),
        "exit took {:?} after the last connection closed",
        t0.elapsed()
    );
}
