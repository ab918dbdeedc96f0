//! The `todo` binary as a child process: started on a free port, stopped
//! with SIGTERM (and killed if a test panics first).

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// The binary cargo built for these tests.
pub const BIN: &str = env!("CARGO_BIN_EXE_todo");

/// The binary, running.
pub struct Running {
    child: Option<Child>,
    /// Where it listens.
    pub addr: SocketAddr,
}

impl Running {
    /// Runs `todo --addr 127.0.0.1:0 --workers 1 ARGS...` and waits (30 s
    /// at most) for its `listening on` line.
    pub fn start(args: &[&str]) -> Running {
        Running::start_in(Path::new("."), args)
    }

    /// [`start`](Running::start) with `dir` as the working directory.
    pub fn start_in(dir: &Path, args: &[&str]) -> Running {
        let mut child = Command::new(BIN)
            .current_dir(dir)
            .args(["--addr", "127.0.0.1:0", "--workers", "1"])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start todo");
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut running = Running {
            child: Some(child),
            addr: "0.0.0.0:0".parse().unwrap(),
        };
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = rx
                .recv_timeout(left)
                .expect("todo printed no `listening on` line");
            let Some((_, rest)) = line.split_once("listening on ") else {
                continue;
            };
            let word = rest.split_whitespace().next().unwrap_or_default();
            running.addr = word.parse().expect("an address after `listening on`");
            return running;
        }
    }

    /// SIGTERM; checks it exits 0 within ten seconds.
    pub fn stop(mut self) {
        let mut child = self.child.take().expect("running");
        // SAFETY: kill(2) on our own child, not yet reaped.
        unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) };
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Some(status) = child.try_wait().expect("wait for todo") {
                assert!(status.success(), "todo exited with {status} after SIGTERM");
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!("todo did not exit within 10 s of SIGTERM");
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Runs the binary with `args` to completion (for flags that exit).
pub fn run(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run todo")
}
