//! The access log's `duration`, read back from the process's real stderr:
//! with the turn clock (the default), a handler that waits is timed and
//! one that computes within its turn logs zero; with
//! `precise_duration`, both are timed to their response. A Unix-socket
//! peer is logged as `unix`.
//!
//! One test in its own binary: it points file descriptor 2 at a pipe
//! while the servers run, which would swallow other tests' output.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::os::fd::FromRawFd;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use corering::http::observe::AccessLog;
use corering::http::Http1Config;
use corering::{get, routes};

mod common;

use common::http::{start_http, ureq_agent};

/// Waits on a timer: the response comes in a later loop turn.
#[get("/wait")]
async fn wait() -> &'static str {
    corering::time::sleep(Duration::from_millis(60)).await;
    "waited"
}

/// Computes for 30 ms without yielding: the response comes in the turn
/// the handler was called in.
#[get("/spin")]
async fn spin() -> &'static str {
    let t = Instant::now();
    while t.elapsed() < Duration::from_millis(30) {
        std::hint::spin_loop();
    }
    "spun"
}

/// Fields of an access-log line.
fn fields(line: &str) -> HashMap<&str, &str> {
    line.split(' ').filter_map(|f| f.split_once('=')).collect()
}

#[test]
fn duration_follows_the_turn_clock_unless_asked_to_read_the_clock() {
    // SAFETY: plain libc calls on descriptors this test owns: a new pipe,
    // and a copy of fd 2 to put back.
    let (read_end, saved) = unsafe {
        let mut fds = [0; 2];
        assert_eq!(libc::pipe(fds.as_mut_ptr()), 0);
        let saved = libc::dup(2);
        assert!(saved >= 0);
        assert_eq!(libc::dup2(fds[1], 2), 2);
        libc::close(fds[1]);
        (fds[0], saved)
    };
    // SAFETY: `read_end` is the pipe's read end, owned from here on.
    let pipe = unsafe { std::fs::File::from_raw_fd(read_end) };
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(pipe).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });

    // Run with stderr in the pipe; any failure is reported once it is
    // back.
    let run = || -> Result<HashMap<(bool, &str), f64>, String> {
        let mut durations = HashMap::new();
        for precise in [false, true] {
            let log = if precise {
                AccessLog::layer().precise_duration()
            } else {
                AccessLog::layer()
            };
            let app = routes![wait, spin].layer(log);
            let (server, addr) = start_http(common::builder().workers(1), Http1Config::new(), app);
            let agent = ureq_agent(Duration::from_secs(10));
            for path in ["/wait", "/spin"] {
                let r = agent
                    .get(format!("http://{addr}{path}"))
                    .call()
                    .map_err(|e| format!("{path}: {e}"))?;
                if r.status().as_u16() != 200 {
                    return Err(format!("{path}: status {}", r.status()));
                }
                let line = loop {
                    let l = rx
                        .recv_timeout(Duration::from_secs(10))
                        .map_err(|e| format!("no log line for {path}: {e}"))?;
                    if l.starts_with("time=") {
                        break l;
                    }
                };
                let f = fields(&line);
                if f.get("target") != Some(&path) {
                    return Err(format!("a line for another target: {line}"));
                }
                let d: f64 = f["duration"].parse().map_err(|e| format!("{line}: {e}"))?;
                durations.insert((precise, path), d);
            }
            server.shutdown().map_err(|e| e.to_string())?;
        }
        // A Unix-socket peer (curl's, unnamed) is logged as `unix`, with no
        // lookup per request.
        if common::have_tool("curl") {
            let dir = std::env::temp_dir().join(format!("corering-log-{}", std::process::id()));
            std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
            let sock = dir.join("http.sock");
            let app = routes![wait, spin].layer(AccessLog::layer());
            let cfg = Http1Config::new();
            let server = corering::Server::builder()
                .bind_unix(&sock)
                .workers(1)
                .pin_workers(false)
                .build()
                .and_then(|s| s.start(move |conn| corering::http::serve(conn, cfg, app.clone())))
                .map_err(|e| e.to_string())?;
            for _ in 0..2 {
                let out = std::process::Command::new("curl")
                    .args(["-s", "--unix-socket"])
                    .arg(&sock)
                    .arg("http://localhost/spin")
                    .output()
                    .map_err(|e| e.to_string())?;
                if out.stdout != b"spun" {
                    return Err(format!("curl over the socket: {out:?}"));
                }
                let line = rx
                    .recv_timeout(Duration::from_secs(10))
                    .map_err(|e| format!("no log line over the socket: {e}"))?;
                if fields(&line).get("peer") != Some(&"unix") {
                    return Err(format!("a Unix peer logged as: {line}"));
                }
            }
            server.shutdown().map_err(|e| e.to_string())?;
            let _ = std::fs::remove_dir_all(&dir);
        }
        Ok(durations)
    };
    let durations = run();

    // SAFETY: puts the saved stderr back and closes the copy.
    unsafe {
        assert_eq!(libc::dup2(saved, 2), 2);
        libc::close(saved);
    }
    let durations = durations.unwrap();
    let d = |precise, path| durations[&(precise, path)];
    assert!(d(false, "/wait") >= 0.055, "{durations:?}");
    assert_eq!(d(false, "/spin"), 0.0, "{durations:?}");
    assert!(d(true, "/wait") >= 0.055, "{durations:?}");
    assert!(d(true, "/spin") >= 0.029, "{durations:?}");
}
