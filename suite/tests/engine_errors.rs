//! Startup where io_uring is blocked, the way container runtimes block it:
//! the examples run under a real seccomp filter (built here, installed in
//! the child between fork and exec) that makes `io_uring_setup`,
//! `io_uring_enter` and `io_uring_register` fail with EPERM, or with
//! ENOSYS as on a kernel without io_uring.
//!
//! Under the default backend (`auto`) the echo and hello examples fall back
//! to epoll, say so and why on their startup line, serve real clients and
//! exit 0 on SIGTERM. With `CORERING_BACKEND=uring` forced they print one
//! clear message and exit non-zero; an unknown `CORERING_BACKEND` is a
//! clear startup error too.

#![cfg(target_arch = "x86_64")]

mod common;

use std::io::Write;
use std::net::SocketAddr;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::http::read_response;
use common::{check_echo_tcp, example_binary, random_bytes, start_command, stop_example};

/// The variable that chooses the backend; the tests set or clear it in the
/// child so the suite's own setting (CI runs it with `epoll`) does not leak in.
const BACKEND_ENV: &str = "CORERING_BACKEND";

/// How long an example may take to exit after SIGTERM (it has no
/// connections open by then; the grace period does not come into it).
const STOP_LIMIT: Duration = Duration::from_secs(10);

/// x86_64 syscall numbers of io_uring_setup, io_uring_enter and
/// io_uring_register.
const IO_URING_SYSCALLS: [u32; 3] = [425, 426, 427];

/// The `name` example with `args` and `CORERING_BACKEND` set to `backend`
/// (`None`: unset, the default), under a seccomp filter that makes the
/// io_uring syscalls fail with `errno`.
fn io_uring_denied(name: &str, args: &[&str], backend: Option<&str>, errno: u32) -> Command {
    let mut cmd = Command::new(example_binary(name));
    cmd.args(args);
    match backend {
        Some(b) => cmd.env(BACKEND_ENV, b),
        None => cmd.env_remove(BACKEND_ENV),
    };
    let [setup, enter, register] = IO_URING_SYSCALLS;
    // SAFETY: the closure runs between fork and exec and only makes
    // async-signal-safe syscalls (prctl) on data prepared on its stack.
    unsafe {
        cmd.pre_exec(move || {
            let load = |k| libc::sock_filter {
                code: (libc::BPF_LD | libc::BPF_W | libc::BPF_ABS) as u16,
                jt: 0,
                jf: 0,
                k,
            };
            let jump_if = |k, jt, jf| libc::sock_filter {
                code: (libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K) as u16,
                jt,
                jf,
                k,
            };
            let ret = |k| libc::sock_filter {
                code: (libc::BPF_RET | libc::BPF_K) as u16,
                jt: 0,
                jf: 0,
                k,
            };
            // Jump offsets count from the next instruction.
            let filter = [
                load(0), // A = seccomp_data.nr
                jump_if(setup, 2, 0),
                jump_if(enter, 1, 0),
                jump_if(register, 0, 1),
                ret(libc::SECCOMP_RET_ERRNO | errno),
                ret(libc::SECCOMP_RET_ALLOW),
            ];
            let prog = libc::sock_fprog {
                len: filter.len() as u16,
                filter: filter.as_ptr() as *mut libc::sock_filter,
            };
            if libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0
                || libc::prctl(
                    libc::PR_SET_SECCOMP,
                    libc::SECCOMP_MODE_FILTER as libc::c_ulong,
                    &prog as *const libc::sock_fprog,
                ) != 0
            {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    cmd
}

/// Runs `cmd` to its end (it must exit by itself): exit code and stderr.
fn run_to_end(mut cmd: Command) -> (Option<i32>, String) {
    let out = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .expect("run the example");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Starts the `name` example under the filter with the default backend;
/// returns it, its address and its startup line.
fn start_denied(name: &str, errno: u32) -> (Child, SocketAddr, String) {
    let args = ["--addr", "127.0.0.1:0", "--workers", "2"];
    start_command(name, &mut io_uring_denied(name, &args, None, errno))
}

/// Sends SIGTERM and asserts a clean exit.
fn assert_stops_cleanly(name: &str, child: Child) {
    let status = stop_example(child, STOP_LIMIT);
    assert_eq!(status.code(), Some(0), "{name} after SIGTERM: {status}");
}

#[test]
fn echo_falls_back_to_epoll_when_seccomp_denies_io_uring() {
    let (child, addr, line) = start_denied("echo", libc::EPERM as u32);
    assert!(
        line.ends_with("epoll: io_uring_setup denied by seccomp"),
        "startup line: {line}"
    );
    // Several receive buffers' worth each way, on a few connections.
    for seed in 0..4 {
        check_echo_tcp(addr, &random_bytes(seed, 96 << 10));
    }
    assert_stops_cleanly("echo", child);
}

#[test]
fn echo_falls_back_to_epoll_when_io_uring_is_missing() {
    let (child, addr, line) = start_denied("echo", libc::ENOSYS as u32);
    assert!(
        line.contains("epoll: io_uring_setup"),
        "startup line: {line}"
    );
    assert!(line.contains("ENOSYS"), "startup line: {line}");
    check_echo_tcp(addr, &random_bytes(7, 64 << 10));
    assert_stops_cleanly("echo", child);
}

#[test]
fn hello_falls_back_to_epoll_when_seccomp_denies_io_uring() {
    let (child, addr, line) = start_denied("hello", libc::EPERM as u32);
    assert!(
        line.ends_with("epoll: io_uring_setup denied by seccomp"),
        "startup line: {line}"
    );
    let body = random_bytes(11, 48 << 10);
    if curl_installed() {
        let url = format!("http://{addr}");
        let get = curl(&[&format!("{url}/plaintext")], None);
        assert_eq!(get, b"Hello, World!");
        let echoed = curl(&[&format!("{url}/echo")], Some(&body));
        assert!(echoed == body, "POST /echo through curl: body differs");
    } else {
        raw_http_checks(addr, &body);
    }
    assert_stops_cleanly("hello", child);
}

#[test]
fn forced_io_uring_under_seccomp_is_a_clear_error() {
    let args = ["--addr", "127.0.0.1:0", "--workers", "1"];
    let cmd = io_uring_denied("echo", &args, Some("uring"), libc::EPERM as u32);
    let (code, stderr) = run_to_end(cmd);
    assert_eq!(code, Some(1), "stderr: {stderr}");
    assert!(stderr.contains("seccomp"), "stderr: {stderr}");
    assert!(stderr.contains("io_uring_setup"), "stderr: {stderr}");
    assert_eq!(
        stderr.lines().count(),
        1,
        "one message, not a backtrace: {stderr}"
    );
}

#[test]
fn forced_io_uring_without_io_uring_is_a_clear_error() {
    let args = ["--addr", "127.0.0.1:0", "--workers", "1"];
    let cmd = io_uring_denied("echo", &args, Some("uring"), libc::ENOSYS as u32);
    let (code, stderr) = run_to_end(cmd);
    assert_eq!(code, Some(1), "stderr: {stderr}");
    assert!(stderr.contains("not available"), "stderr: {stderr}");
    assert!(stderr.contains("Linux 6.1"), "stderr: {stderr}");
    assert_eq!(stderr.lines().count(), 1, "one message: {stderr}");
}

#[test]
fn unknown_backend_is_a_clear_error() {
    let mut cmd = Command::new(example_binary("echo"));
    cmd.args(["--addr", "127.0.0.1:0", "--workers", "1"])
        .env(BACKEND_ENV, "kqueue");
    let (code, stderr) = run_to_end(cmd);
    assert_eq!(code, Some(1), "stderr: {stderr}");
    assert!(stderr.contains("CORERING_BACKEND"), "stderr: {stderr}");
    assert!(stderr.contains("kqueue"), "stderr: {stderr}");
    for choice in ["uring", "epoll", "auto"] {
        assert!(stderr.contains(choice), "names {choice}: {stderr}");
    }
    assert_eq!(stderr.lines().count(), 1, "one message: {stderr}");
}

/// Whether curl can be run; in CI (`CI` set) a missing curl fails the test
/// instead of sending the fallback raw requests, as in the TLS tests.
fn curl_installed() -> bool {
    let ok = Command::new("curl").arg("--version").output().is_ok();
    if !ok {
        assert!(
            std::env::var_os("CI").is_none(),
            "curl is not installed (CI must run this test with it)"
        );
        println!("curl is not installed: checking hello with raw requests");
    }
    ok
}

/// curl with `args`, posting `body` if given; its stdout (it must succeed).
fn curl(args: &[&str], body: Option<&[u8]>) -> Vec<u8> {
    let mut cmd = Command::new("curl");
    cmd.args(["-sS", "--fail", "--max-time", "20"]).args(args);
    if body.is_some() {
        cmd.args(["--data-binary", "@-"]);
    }
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run curl");
    let mut stdin = child.stdin.take().expect("piped stdin");
    if let Some(b) = body {
        stdin.write_all(b).expect("body to curl");
    }
    drop(stdin);
    let out = child.wait_with_output().expect("curl output");
    assert!(
        out.status.success(),
        "curl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// The same checks as the curl path, written by hand on one keep-alive
/// connection.
fn raw_http_checks(addr: SocketAddr, body: &[u8]) {
    let mut s = common::http::connect(addr);
    let mut buf = Vec::new();
    s.write_all(b"GET /plaintext HTTP/1.1\r\nHost: t\r\n\r\n")
        .unwrap();
    let r = read_response(&mut s, &mut buf, false);
    assert_eq!((r.status, &r.body[..]), (200, &b"Hello, World!"[..]));
    let head = format!(
        "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).unwrap();
    s.write_all(body).unwrap();
    let r = read_response(&mut s, &mut buf, false);
    assert_eq!(r.status, 200, "{}", r.head);
    assert!(r.body == body, "POST /echo: body differs");
}
