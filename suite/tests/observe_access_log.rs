//! `hello --access-log`: one well-formed line per request on stderr, with
//! method, target, status, body bytes, duration and peer.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

mod common;

use common::http::ureq_agent;

/// The fields of one access-log line, in order.
const KEYS: [&str; 8] = [
    "time", "peer", "method", "target", "version", "status", "bytes", "duration",
];

/// Splits a line into its `key=value` fields, checking their order.
fn fields(line: &str) -> HashMap<String, String> {
    let parts: Vec<(&str, &str)> = line
        .split(' ')
        .map(|f| {
            f.split_once('=')
                .unwrap_or_else(|| panic!("not key=value: {f:?} in {line:?}"))
        })
        .collect();
    let keys: Vec<&str> = parts.iter().map(|(k, _)| *k).collect();
    assert_eq!(keys, KEYS, "{line}");
    parts
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// Starts hello with `extra` flags, stderr piped; returns the child, its
/// address and its stderr lines.
fn start_hello(extra: &[&str]) -> (Child, SocketAddr, mpsc::Receiver<String>) {
    let mut child = Command::new(common::example_binary("hello"))
        .args(["--addr", "127.0.0.1:0", "--workers", "2"])
        .args(extra)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start hello");
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    let addr: SocketAddr = loop {
        line.clear();
        assert!(out.read_line(&mut line).unwrap() > 0, "hello exited");
        if let Some(rest) = line.split("listening on ").nth(1) {
            break rest.split([' ', ',']).next().unwrap().parse().unwrap();
        }
    };
    std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
    let (tx, rx) = mpsc::channel();
    let err = BufReader::new(child.stderr.take().unwrap());
    std::thread::spawn(move || {
        for l in err.lines().map_while(Result::ok) {
            if tx.send(l).is_err() {
                break;
            }
        }
    });
    (child, addr, rx)
}

/// SIGTERM, and a clean exit.
fn stop(mut child: Child) {
    // SAFETY: signalling our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    assert!(child.wait().unwrap().success());
}

#[test]
fn hello_logs_nothing_without_the_flag() {
    let (child, addr, rx) = start_hello(&[]);
    let agent = ureq_agent(Duration::from_secs(20));
    let r = agent
        .get(format!("http://{addr}/plaintext"))
        .call()
        .unwrap();
    assert_eq!(r.status(), 200);
    drop(agent);
    stop(child);
    // stderr is at EOF once hello has exited.
    let lines: Vec<String> = rx.iter().collect();
    assert!(lines.iter().all(|l| !l.starts_with("time=")), "{lines:?}");
}

#[test]
fn hello_logs_one_line_per_request() {
    let (child, addr, rx) = start_hello(&["--access-log"]);

    let agent = ureq_agent(Duration::from_secs(20));
    let mut sent = Vec::new();
    for (method, target) in [
        ("GET", "/plaintext"),
        ("GET", "/users/7?x=1"),
        ("POST", "/echo"),
        ("GET", "/nope"),
    ] {
        let url = format!("http://{addr}{target}");
        let mut r = if method == "POST" {
            agent.post(url).send("abcde").unwrap()
        } else {
            agent.get(url).call().unwrap()
        };
        let len = r.body_mut().read_to_vec().unwrap().len();
        sent.push((
            method,
            target,
            r.status().as_u16().to_string(),
            len.to_string(),
        ));
    }
    drop(agent);

    let mut logged = Vec::new();
    while logged.len() < 4 {
        let l = rx
            .recv_timeout(Duration::from_secs(20))
            .expect("an access-log line per request");
        if l.starts_with("time=") {
            logged.push(fields(&l));
        } else {
            eprintln!("(hello stderr) {l}");
        }
    }
    // Workers flush their own lines: match by target, not by order.
    for (method, target, status, bytes) in sent {
        let f = logged
            .iter()
            .find(|f| f["target"] == target)
            .unwrap_or_else(|| panic!("no line for {target}: {logged:?}"));
        assert_eq!(f["method"], method);
        assert_eq!(f["target"], target);
        assert_eq!(f["status"], status);
        assert_eq!(f["bytes"], bytes, "{f:?}");
        assert_eq!(f["version"], "HTTP/1.1");
        let peer: SocketAddr = f["peer"].parse().unwrap();
        assert_eq!(peer.ip(), addr.ip());
        assert!(f["duration"].parse::<f64>().unwrap() >= 0.0);
        assert!(f["time"].parse::<f64>().unwrap() > 1.6e9);
    }
    stop(child);
    // Nothing else was logged per request.
    assert!(rx.iter().all(|l| !l.starts_with("time=")));
}
