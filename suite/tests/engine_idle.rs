//! An idle server sleeps: its workers use (almost) no CPU time while no
//! traffic arrives, with the default completion batching on, with an idle
//! keep-alive connection open, and with a timer armed — and that timer
//! still fires on time. A bare `Runtime` sleeping on a timer sleeps too.
//!
//! CPU time is read from `/proc/self/task/*/stat` (user + system ticks of
//! the worker threads), not wall time.

mod common;

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use common::*;
use corering::time::sleep;
use corering::{Runtime, Server};

/// Idle CPU allowed: 2% of one core over the window.
const MAX_SHARE: f64 = 0.02;
const WINDOW: Duration = Duration::from_secs(3);

fn clock_ticks() -> f64 {
    // SAFETY: sysconf has no preconditions.
    (unsafe { libc::sysconf(libc::_SC_CLK_TCK) }) as f64
}

/// User + system CPU ticks of each of this process's threads whose name
/// starts with `prefix` (the engine names its workers `corering-w<N>`), by
/// thread id.
fn cpu_ticks(prefix: &str) -> HashMap<String, u64> {
    let mut out = HashMap::new();
    for task in std::fs::read_dir("/proc/self/task").unwrap().flatten() {
        let path = task.path();
        let comm = std::fs::read_to_string(path.join("comm")).unwrap_or_default();
        if !comm.trim_end().starts_with(prefix) {
            continue;
        }
        if let Ok(stat) = std::fs::read_to_string(path.join("stat")) {
            out.insert(
                task.file_name().to_string_lossy().into_owned(),
                stat_ticks(&stat),
            );
        }
    }
    out
}

/// utime + stime of a `/proc/.../stat` line.
fn stat_ticks(stat: &str) -> u64 {
    // Fields after the command name (which may hold spaces) start at field
    // 3; utime and stime are fields 14 and 15.
    let after = &stat[stat.rfind(')').unwrap() + 2..];
    let f: Vec<&str> = after.split_whitespace().collect();
    f[11].parse::<u64>().unwrap() + f[12].parse::<u64>().unwrap()
}

/// CPU share of one core the threads named `prefix*` used during `f`
/// (threads alive at both ends of the window).
fn cpu_share_during(prefix: &str, f: impl FnOnce()) -> f64 {
    // Tests in this file run one at a time, so no other test's server
    // counts in the window.
    static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());
    let _guard = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let before = cpu_ticks(prefix);
    let start = Instant::now();
    f();
    let after = cpu_ticks(prefix);
    let ticks: u64 = after
        .iter()
        .filter_map(|(tid, t)| before.get(tid).map(|b| t.saturating_sub(*b)))
        .sum();
    ticks as f64 / clock_ticks() / start.elapsed().as_secs_f64()
}

fn echo_server() -> corering::RunningServer {
    Server::builder()
        .bind("127.0.0.1:0")
        .workers(2)
        .build()
        .unwrap()
        .start(|mut conn| async move {
            while let Ok(Some(buf)) = conn.read().await {
                if conn.write_owned(buf).await.is_err() {
                    break;
                }
            }
        })
        .unwrap()
}

#[test]
fn idle_server_sleeps_with_default_batching() {
    let server = echo_server();
    let addr = server.tcp_addr().unwrap();
    // Some traffic first, so the adaptive batch target has moved off 1.
    let mut c = TcpStream::connect(addr).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut buf = [0u8; 5];
    for _ in 0..200 {
        c.write_all(b"hello").unwrap();
        c.read_exact(&mut buf).unwrap();
    }
    // An idle keep-alive connection stays open through the window.
    std::thread::sleep(Duration::from_millis(200));
    let share = cpu_share_during("corering-w", || std::thread::sleep(WINDOW));
    assert!(
        share < MAX_SHARE,
        "idle server with an open connection used {:.1}% of a core",
        share * 100.0
    );
    // And it still answers at once.
    c.write_all(b"again").unwrap();
    c.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"again");
    drop(c);
    server.shutdown().unwrap();
}

#[test]
fn idle_server_with_a_timer_sleeps_and_the_timer_fires() {
    // A handler that sleeps 2 s before answering: its worker is idle with a
    // timer armed for the whole window.
    let server = Server::builder()
        .bind("127.0.0.1:0")
        .workers(1)
        .build()
        .unwrap()
        .start(|mut conn| async move {
            if let Ok(Some(_)) = conn.read().await {
                sleep(Duration::from_secs(2)).await;
                let _ = conn.write_all(b"woke").await;
            }
        })
        .unwrap();
    let mut c = TcpStream::connect(server.tcp_addr().unwrap()).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let sent = Instant::now();
    c.write_all(b"x").unwrap();
    let mut buf = [0u8; 4];
    let share = cpu_share_during("corering-w", || {
        c.read_exact(&mut buf).unwrap();
    });
    let took = sent.elapsed();
    assert_eq!(&buf, b"woke");
    assert!(
        took >= Duration::from_secs(2),
        "timer fired early: {took:?}"
    );
    assert!(took < Duration::from_secs(4), "timer fired late: {took:?}");
    assert!(
        share < MAX_SHARE,
        "worker waiting on a timer used {:.1}% of a core",
        share * 100.0
    );
    server.shutdown().unwrap();
}

#[test]
fn bare_runtime_sleeping_on_a_timer_sleeps() {
    let (took, share) = within(Duration::from_secs(20), "runtime", || {
        let t0 = cpu_self_ticks();
        let start = Instant::now();
        Runtime::new().unwrap().block_on(sleep(WINDOW));
        let took = start.elapsed();
        let ticks = cpu_self_ticks() - t0;
        (took, ticks as f64 / clock_ticks() / took.as_secs_f64())
    });
    assert!(took >= WINDOW, "sleep fired early: {took:?}");
    assert!(
        took < WINDOW + Duration::from_secs(1),
        "sleep fired late: {took:?}"
    );
    assert!(
        share < MAX_SHARE,
        "Runtime::block_on(sleep) used {:.1}% of a core",
        share * 100.0
    );
}

/// CPU ticks of the calling thread.
fn cpu_self_ticks() -> u64 {
    stat_ticks(&std::fs::read_to_string("/proc/thread-self/stat").unwrap())
}
