//! The package's example binaries for tests that run them as child processes:
//! built on demand, started as servers that say where they listen, and
//! stopped with SIGTERM.
//!
//! Self-contained, so a test helper module other than `common` can include it
//! with `#[path = "../common/example.rs"] mod example;`.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, ExitStatus, Stdio};
use std::sync::{mpsc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// How long a started example may take to print where it listens.
const LISTEN_LIMIT: Duration = Duration::from_secs(30);

/// Path of the `name` example binary next to this test binary
/// (`target/<profile>/examples/<name>`). `cargo build --example NAME`, in
/// the profile of this test binary, runs once per test process and name
/// first, so the binary is never missing or stale (`cargo test --test X`
/// does not build examples).
pub fn example_binary(name: &str) -> PathBuf {
    static BUILT: Mutex<Option<HashMap<String, PathBuf>>> = Mutex::new(None);
    // A build that panicked left nothing behind, so the next caller tries again.
    let mut built = BUILT.lock().unwrap_or_else(PoisonError::into_inner);
    let built = built.get_or_insert_with(HashMap::new);
    if let Some(path) = built.get(name) {
        return path.clone();
    }
    let exe = std::env::current_exe().expect("current_exe");
    // target/<profile>/deps/<test binary>
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("test binary lives in target/<profile>/deps");
    let path = profile_dir.join("examples").join(name);
    let mut cmd = Command::new(env!("CARGO"));
    cmd.args(["build", "--quiet", "--example", name, "--manifest-path"])
        // The workspace manifest: the examples are a package of their own.
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/../Cargo.toml"));
    if profile_dir.file_name().is_some_and(|n| n == "release") {
        cmd.arg("--release");
    }
    match cmd.status() {
        Ok(st) => assert!(st.success(), "cargo build --example {name} failed"),
        Err(e) => eprintln!("cannot run cargo ({e}); using the {name} binary as built"),
    }
    assert!(
        path.exists(),
        "{name} example not found at {}",
        path.display()
    );
    built.insert(name.to_string(), path.clone());
    path
}

/// Starts the `name` example with `args` (stdin closed, stdout read here,
/// stderr inherited) and waits for the line saying where it listens
/// ("... listening on HOST:PORT ..."); returns the child and that address.
/// Later stdout is read and dropped so the child never blocks on it. Panics,
/// after killing the child, if no such line comes within 30 s.
pub fn start_example(name: &str, args: &[&str]) -> (Child, SocketAddr) {
    let mut cmd = Command::new(example_binary(name));
    cmd.args(args);
    let (child, addr, _line) = start_command(name, &mut cmd);
    (child, addr)
}

/// [`start_example`] for a command the caller prepared (arguments,
/// environment, a `pre_exec` hook); stdin, stdout and stderr are set here.
/// Also returns the whole startup line (it names the backend).
pub fn start_command(name: &str, cmd: &mut Command) -> (Child, SocketAddr, String) {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| panic!("start {name}: {e}"));
    let stdout = child.stdout.take().expect("piped stdout");
    match listening_line(stdout, name) {
        Ok((addr, line)) => (child, addr, line),
        Err(msg) => {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{msg}");
        }
    }
}

/// Sends SIGTERM to `child` and waits at most `limit` for its exit status;
/// panics, after killing it, if it is still running then.
pub fn stop_example(mut child: Child, limit: Duration) -> ExitStatus {
    // SAFETY: kill(2) on our own child, not yet reaped.
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) };
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().expect("wait for the example") {
            return status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the example did not exit within {limit:?} of SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Reads `stdout` on a helper thread until the "listening on" line and
/// returns its address and the line.
fn listening_line(stdout: ChildStdout, name: &str) -> Result<(SocketAddr, String), String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            let _ = tx.send(line);
        }
    });
    let deadline = Instant::now() + LISTEN_LIMIT;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let line = rx
            .recv_timeout(left)
            .map_err(|e| format!("{name} did not say where it listens: {e}"))?;
        // "corering: listening on 127.0.0.1:PORT with 2 workers ..."
        if let Some(rest) = line.split("listening on ").nth(1) {
            let addr = rest.split([' ', ',']).next().unwrap_or_default();
            return match addr.parse() {
                Ok(addr) => Ok((addr, line)),
                Err(e) => Err(format!("address in {line:?}: {e}")),
            };
        }
    }
}
