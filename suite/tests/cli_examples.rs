//! Every example's command line, run as a child process: `--help` lists the
//! shared flags and the example's own, an unknown flag or a flag without
//! its value exits 2 naming it, and the examples' own flags still work.
//! Every example also runs on each backend (`CORERING_BACKEND=uring` and
//! `epoll`): its startup line names the backend, it serves one real client
//! and it exits 0 on SIGTERM.

mod common;

use std::net::SocketAddr;
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use common::http::ureq_agent;
use common::{
    check_echo_tcp, example_binary, random_bytes, start_command, start_example, stop_example,
};

/// Each example and the flags of its own that `--help` must list.
const EXAMPLES: &[(&str, &[&str])] = &[
    (
        "hello",
        &[
            "--tls-cert PATH",
            "--tls-key PATH",
            "--static DIR",
            "--layers",
            "--request-id-bytes",
        ],
    ),
    ("echo", &["--unix PATH", "--acceptor", "--copy"]),
    ("kv", &["--batch-wait EVENTS:MICROS|off"]),
    ("frames", &["--client"]),
    ("chat", &[]),
    (
        "proxy",
        &["--upstream URL", "--upstream-ca PATH", "--tls-cert PATH"],
    ),
];

/// Runs example `name` with `args` to completion (it must exit by itself).
fn run(name: &str, args: &[&str]) -> Output {
    Command::new(example_binary(name))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("run {name}: {e}"))
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn help_lists_shared_and_own_flags() {
    for &(name, own) in EXAMPLES {
        for help in ["--help", "-h"] {
            let out = run(name, &[help]);
            let stdout = text(&out.stdout);
            assert_eq!(out.status.code(), Some(0), "{name} {help}: {stdout}");
            for flag in ["--addr HOST:PORT", "--workers N", "--help"]
                .iter()
                .chain(own)
            {
                assert!(
                    stdout.contains(flag),
                    "{name} {help} does not list {flag}:\n{stdout}"
                );
            }
            assert!(stdout.contains("(default 127.0.0.1:"), "{name}: {stdout}");
        }
    }
}

#[test]
fn unknown_flag_is_an_error_naming_it() {
    for &(name, _) in EXAMPLES {
        let out = run(name, &["--bogus"]);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{name} --bogus: {stderr}");
        assert!(
            stderr.contains("error: unknown flag --bogus"),
            "{name}: {stderr}"
        );
        assert!(stderr.contains("usage:"), "{name}: {stderr}");
        assert!(out.stdout.is_empty(), "{name}: {}", text(&out.stdout));
    }
}

#[test]
fn a_flag_without_its_value_is_an_error() {
    for &(name, _) in EXAMPLES {
        for args in [&["--workers"][..], &["--workers", "--addr", "127.0.0.1:0"]] {
            let out = run(name, args);
            let stderr = text(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{name} {args:?}: {stderr}");
            assert!(stderr.contains("--workers"), "{name}: {stderr}");
        }
        let out = run(name, &["--workers", "many"]);
        assert_eq!(out.status.code(), Some(2), "{name}: {}", text(&out.stderr));
    }
}

#[test]
fn own_flags_with_values_still_work() {
    // Values are checked: a malformed one exits 2 before anything starts.
    let out = run("kv", &["--batch-wait", "soon"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("--batch-wait"));
    // A switch takes no value; words need --client.
    let out = run("echo", &["--acceptor=yes"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let out = run("frames", &["get", "hits"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));

    // Well-formed values start the servers.
    for (name, args) in [
        ("kv", &["--batch-wait", "off"][..]),
        ("kv", &["--batch-wait=16:50"][..]),
        ("echo", &["--acceptor", "--copy"][..]),
        ("proxy", &["--upstream", "127.0.0.1:9"][..]),
    ] {
        let mut all = vec!["--addr", "127.0.0.1:0", "--workers", "1"];
        all.extend_from_slice(args);
        let (mut child, addr) = start_example(name, &all);
        assert_eq!(addr.ip().to_string(), "127.0.0.1", "{name} {args:?}");
        child.kill().expect("kill");
        child.wait().expect("wait");
    }
}

/// The backends every example must run on: the `CORERING_BACKEND` value and
/// what the startup line then says. io_uring is left out, with a notice,
/// where this kernel or sandbox does not allow it (never in CI).
fn backends() -> Vec<(&'static str, &'static str)> {
    let mut all = vec![("epoll", "epoll: CORERING_BACKEND=epoll")];
    match corering::Runtime::with_backend(corering::BackendChoice::IoUring) {
        Ok(_) => all.push(("uring", "io_uring ")),
        Err(e) => {
            assert!(
                std::env::var_os("CI").is_none(),
                "io_uring is not usable here (CI must run on a machine where it is): {e}"
            );
            println!("skip: the examples on io_uring: {e}");
        }
    }
    all
}

/// Starts example `name` on `backend` (two workers, an ephemeral port,
/// `extra` flags); returns it, its address and its startup line.
fn start_on(backend: &str, name: &str, extra: &[&str]) -> (Child, SocketAddr, String) {
    let mut cmd = Command::new(example_binary(name));
    cmd.args(["--addr", "127.0.0.1:0", "--workers", "2"])
        .args(extra)
        .env("CORERING_BACKEND", backend);
    start_command(name, &mut cmd)
}

/// `GET url` with a real HTTP client (ureq): status and body.
fn http_get(url: &str) -> (u16, String) {
    let agent = ureq_agent(Duration::from_secs(20));
    let mut r = agent
        .get(url)
        .call()
        .unwrap_or_else(|e| panic!("GET {url}: {e}"));
    let body = r.body_mut().read_to_string().expect("body");
    (r.status().as_u16(), body)
}

/// One real exchange with the running example `name` at `addr`.
fn serve_once(backend: &str, name: &str, addr: SocketAddr) {
    match name {
        "echo" => check_echo_tcp(addr, &random_bytes(5, 64 << 10)),
        "hello" => {
            let got = http_get(&format!("http://{addr}/plaintext"));
            assert_eq!(
                got,
                (200, "Hello, World!".to_string()),
                "hello on {backend}"
            );
        }
        "kv" => {
            let client = redis::Client::open(format!("redis://{addr}/")).expect("client");
            let mut c = client
                .get_connection_with_timeout(Duration::from_secs(20))
                .expect("connect to kv");
            let set: String = redis::cmd("SET").arg("k").arg("v").query(&mut c).unwrap();
            let get: String = redis::cmd("GET").arg("k").query(&mut c).unwrap();
            assert_eq!((set.as_str(), get.as_str()), ("OK", "v"), "kv on {backend}");
        }
        "frames" => {
            // The client is the same binary, on a corering runtime of its own.
            let a = addr.to_string();
            for (args, want) in [
                (&["incr", "hits", "3"][..], "hits = 3"),
                (&["get", "hits"][..], "hits = 3"),
            ] {
                let out = Command::new(example_binary("frames"))
                    .args(["--client", "--addr", &a])
                    .args(args)
                    .env("CORERING_BACKEND", backend)
                    .stdin(Stdio::null())
                    .output()
                    .expect("run the frames client");
                assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
                assert_eq!(text(&out.stdout).trim(), want, "frames on {backend}");
            }
        }
        "chat" => {
            let (mut ws, _) =
                tungstenite::connect(format!("ws://{addr}/echo")).expect("connect to chat");
            ws.send(tungstenite::Message::text("ping from the test"))
                .unwrap();
            let got = ws.read().expect("echo");
            assert_eq!(
                got.to_text().unwrap(),
                "ping from the test",
                "chat on {backend}"
            );
            ws.close(None).unwrap();
            // Read the server's answer to the close, so it need not wait.
            while ws.read().is_ok() {}
        }
        "proxy" => unreachable!("the proxy needs an upstream: see proxy_on"),
        _ => panic!("no exchange written for example {name}"),
    }
}

/// The proxy on `backend` in front of hello on the same backend: a request
/// through it reaches hello (the proxy's client connects on `backend` too).
fn proxy_on(backend: &str, want_line: &str) {
    let (hello, hello_addr, _) = start_on(backend, "hello", &[]);
    let upstream = hello_addr.to_string();
    let (proxy, addr, line) = start_on(backend, "proxy", &["--upstream", &upstream]);
    assert!(line.contains(want_line), "proxy on {backend}: {line}");
    let got = http_get(&format!("http://{addr}/plaintext"));
    assert_eq!(
        got,
        (200, "Hello, World!".to_string()),
        "proxy on {backend}"
    );
    assert_eq!(stop_example(proxy, STOP_LIMIT).code(), Some(0), "proxy");
    assert_eq!(stop_example(hello, STOP_LIMIT).code(), Some(0), "hello");
}

/// How long an example may take to exit after SIGTERM.
const STOP_LIMIT: Duration = Duration::from_secs(15);

#[test]
fn every_example_serves_on_each_backend_and_stops_on_sigterm() {
    for (backend, want_line) in backends() {
        for &(name, _) in EXAMPLES {
            if name == "proxy" {
                proxy_on(backend, want_line);
                continue;
            }
            let (child, addr, line) = start_on(backend, name, &[]);
            assert!(line.contains(want_line), "{name} on {backend}: {line}");
            serve_once(backend, name, addr);
            let status = stop_example(child, STOP_LIMIT);
            assert_eq!(status.code(), Some(0), "{name} on {backend}: {status}");
        }
    }
}
