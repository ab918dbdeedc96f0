//! The `todo` binary as a child process: started on a free port, stopped
//! with SIGTERM (and killed if a test panics first).

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

// Starting a server binary and reading where it listens, and stopping it
// with SIGTERM: the workspace's test helpers for its examples.
#[path = "../../../../suite/tests/common/example.rs"]
#[allow(dead_code)]
mod example;

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
        let mut cmd = Command::new(BIN);
        cmd.current_dir(dir)
            .args(["--addr", "127.0.0.1:0", "--workers", "1"])
            .args(args);
        let (child, addr, _line) = example::start_command("todo", &mut cmd);
        Running {
            child: Some(child),
            addr,
        }
    }

    /// SIGTERM; checks it exits 0 within ten seconds.
    pub fn stop(mut self) {
        let child = self.child.take().expect("running");
        let status = example::stop_example(child, Duration::from_secs(10));
        assert!(status.success(), "todo exited with {status} after SIGTERM");
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
