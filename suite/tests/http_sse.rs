//! Server-Sent Events (`http::sse`) read by clients nobody here wrote:
//! curl (`-N`) for the framing and keep-alive comments, Python's
//! `urllib` for `Last-Event-ID` reaching the handler; and on a raw socket,
//! a client going away (the producer learns it) and a graceful shutdown
//! that ends an open stream cleanly instead of waiting on it.
//!
//! Prints `SKIP:` and passes where curl or python3 is missing (fails
//! instead with `CI` set).

mod common;

use std::cell::Cell;
use std::io::{Read, Write};
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use common::http::start_http;
use corering::http::sse::{self, channel, from_fn, Event, LastEventId, Sse};
use corering::http::{Http1Config, Request, Response};
use corering::{get, routes};

/// Three events (one with several lines, an id and a type), a silence long
/// enough for keep-alive comments, a last event, then the end.
#[get("/story")]
async fn story(req: &mut Request<'_>) -> Response {
    // The source must be cancel-safe (a keep-alive drops its future):
    // the step advances only when an event is given, and the pause is a
    // deadline set once.
    let step = Rc::new(Cell::new(1));
    let pause_until = Rc::new(Cell::new(None::<Instant>));
    let source = from_fn(move || {
        let (step, pause_until) = (step.clone(), pause_until.clone());
        async move {
            let e = match step.get() {
                1 => Event::new("first"),
                2 => Event::new("two\nlines").id("2").event("multi"),
                3 => Event::new("with retry").retry(Duration::from_millis(2500)),
                4 => {
                    let until = pause_until
                        .get()
                        .unwrap_or_else(|| Instant::now() + Duration::from_millis(350));
                    pause_until.set(Some(until));
                    corering::time::sleep_until(until).await;
                    Event::new("after the pause").id("4")
                }
                _ => return None,
            };
            step.set(step.get() + 1);
            Some(e)
        }
    });
    Sse::new(source)
        .keep_alive(Some(Duration::from_millis(100)))
        .respond(req)
        .await
}

/// Tells the client which `Last-Event-ID` it sent, then counts on from it.
#[get("/resume")]
async fn resume(LastEventId(last): LastEventId, req: &mut Request<'_>) -> Response {
    assert_eq!(last.as_deref(), sse::last_event_id(req));
    let from: u64 = last.as_deref().and_then(|v| v.parse().ok()).unwrap_or(0);
    let (tx, rx) = channel(8);
    tx.send(Event::new(format!(
        "last-event-id={}",
        last.as_deref().unwrap_or("none")
    )))
    .unwrap();
    for id in from + 1..=from + 3 {
        tx.send(Event::new(format!("event {id}")).id(id.to_string()))
            .unwrap();
    }
    drop(tx);
    Sse::new(rx).respond(req).await
}

/// Set once the producer of `/forever` finds its stream closed.
static PRODUCER_STOPPED: AtomicBool = AtomicBool::new(false);
static PRODUCED: AtomicU64 = AtomicU64::new(0);

/// An event every 100 ms from a local task until the client goes away,
/// keep-alives in between.
#[get("/forever")]
async fn forever(req: &mut Request<'_>) -> Response {
    let (tx, rx) = channel(16);
    corering::task::spawn_local(async move {
        loop {
            let n = PRODUCED.fetch_add(1, Ordering::Relaxed);
            match tx.send(Event::new(format!("n={n}"))) {
                Ok(()) | Err(sse::SendError::Full(_)) => {}
                Err(sse::SendError::Closed(_)) => break,
            }
            corering::time::sleep(Duration::from_millis(100)).await;
        }
        PRODUCER_STOPPED.store(true, Ordering::SeqCst);
    });
    Sse::new(rx)
        .keep_alive(Some(Duration::from_millis(30)))
        .respond(req)
        .await
}

/// A stream that never sends anything (its sender lives forever) and no
/// keep-alives: only shutdown can end it.
#[get("/silent")]
async fn silent(req: &mut Request<'_>) -> Response {
    let (tx, rx) = channel(1);
    std::mem::forget(tx);
    Sse::new(rx).keep_alive(None).respond(req).await
}

fn start() -> (corering::RunningServer, SocketAddr) {
    let b = common::builder().shutdown_timeout(Duration::from_secs(10));
    start_http(
        b,
        Http1Config::new(),
        routes![story, resume, forever, silent],
    )
}

/// True if `tool --version` runs; otherwise prints `SKIP:` (or fails
/// under CI).
fn have(tool: &str) -> bool {
    let ok = Command::new(tool)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        assert!(std::env::var_os("CI").is_none(), "{tool} is required in CI");
        eprintln!("SKIP: {tool} not found");
    }
    ok
}

#[test]
fn curl_reads_events_and_keep_alive_comments() {
    if !have("curl") {
        return;
    }
    let (server, addr) = start();
    let out = Command::new("curl")
        .args(["-sSN", "--max-time", "20", "-D", "/dev/stderr"])
        .arg(format!("http://{addr}/story"))
        .stdin(Stdio::null())
        .output()
        .expect("run curl");
    assert!(out.status.success(), "{out:?}");
    let head = String::from_utf8_lossy(&out.stderr).to_ascii_lowercase();
    assert!(head.starts_with("http/1.1 200 ok\r\n"), "{head}");
    assert!(
        head.contains("content-type: text/event-stream\r\n"),
        "{head}"
    );
    assert!(head.contains("cache-control: no-cache\r\n"), "{head}");
    assert!(head.contains("transfer-encoding: chunked\r\n"), "{head}");
    let body = String::from_utf8(out.stdout).unwrap();
    let events = "data: first\n\n\
                  id: 2\nevent: multi\ndata: two\ndata: lines\n\n\
                  retry: 2500\ndata: with retry\n\n";
    assert!(body.starts_with(events), "{body:?}");
    let rest = &body[events.len()..];
    // The 350 ms pause holds at least two 100 ms keep-alives.
    let comments = rest.matches(": keep-alive\n\n").count();
    assert!(comments >= 2, "{body:?}");
    assert_eq!(
        rest.replace(": keep-alive\n\n", ""),
        "id: 4\ndata: after the pause\n\n"
    );
    server.shutdown().unwrap();
}

/// A small SSE client on Python's standard library: the events it
/// parsed, one JSON object per line.
const PY_CLIENT: &str = r#"
import json, sys, urllib.request
req = urllib.request.Request(sys.argv[1])
if len(sys.argv) > 2:
    req.add_header("Last-Event-ID", sys.argv[2])
with urllib.request.urlopen(req, timeout=20) as r:
    assert r.headers["Content-Type"] == "text/event-stream", r.headers
    ev = {"data": []}
    for raw in r:
        line = raw.decode("utf-8").rstrip("\n")
        if line == "":
            if ev["data"]:
                print(json.dumps({"id": ev.get("id"), "data": "\n".join(ev["data"])}))
            ev = {"data": []}
        elif line.startswith(":"):
            continue
        else:
            name, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if name == "data":
                ev["data"].append(value)
            else:
                ev[name] = value
"#;

fn python_events(addr: SocketAddr, last_id: Option<&str>) -> Vec<serde_json::Value> {
    let mut cmd = Command::new("python3");
    cmd.args(["-c", PY_CLIENT, &format!("http://{addr}/resume")]);
    if let Some(id) = last_id {
        cmd.arg(id);
    }
    let out = cmd.output().expect("run python3");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn last_event_id_reaches_the_handler() {
    if !have("python3") {
        return;
    }
    let (server, addr) = start();
    let fresh = python_events(addr, None);
    let data: Vec<_> = fresh.iter().map(|e| e["data"].as_str().unwrap()).collect();
    assert_eq!(
        data,
        ["last-event-id=none", "event 1", "event 2", "event 3"]
    );
    assert_eq!(fresh[3]["id"], "3");
    let resumed = python_events(addr, Some("41"));
    let data: Vec<_> = resumed
        .iter()
        .map(|e| e["data"].as_str().unwrap())
        .collect();
    assert_eq!(
        data,
        ["last-event-id=41", "event 42", "event 43", "event 44"]
    );
    assert_eq!(resumed[1]["id"], "42");
    server.shutdown().unwrap();
}

/// Sends `GET path` on a new connection.
fn open(addr: SocketAddr, path: &str) -> std::net::TcpStream {
    let mut s = common::http::connect(addr);
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n"
    )
    .unwrap();
    s
}

/// Reads until `needle` has arrived; everything read.
fn read_until(s: &mut std::net::TcpStream, needle: &[u8]) -> Vec<u8> {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while !got.windows(needle.len()).any(|w| w == needle) {
        let n = s.read(&mut buf).expect("read");
        assert!(
            n > 0,
            "closed before {:?}: {:?}",
            String::from_utf8_lossy(needle),
            String::from_utf8_lossy(&got)
        );
        got.extend_from_slice(&buf[..n]);
    }
    got
}

#[test]
fn a_client_going_away_ends_the_stream_and_stops_the_producer() {
    let (server, addr) = start();
    let mut s = open(addr, "/forever");
    let got = read_until(&mut s, b"data: n=");
    assert!(got.starts_with(b"HTTP/1.1 200 OK\r\n"));
    read_until(&mut s, b": keep-alive\n\n");
    assert!(!PRODUCER_STOPPED.load(Ordering::SeqCst));
    drop(s);
    eprintln!("client gone");
    let t0 = Instant::now();
    while !PRODUCER_STOPPED.load(Ordering::SeqCst) {
        assert!(
            t0.elapsed() < Duration::from_secs(10),
            "the producer never learned"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    eprintln!("producer stopped {:?} after the client left", t0.elapsed());
    // The server goes on serving.
    let mut again = open(addr, "/forever");
    read_until(&mut again, b"data: n=");
    drop(again);
    server.shutdown().unwrap();
}

#[test]
fn shutdown_ends_an_open_stream_cleanly_and_at_once() {
    let (server, addr) = start();
    let mut s = open(addr, "/silent");
    let head = read_until(&mut s, b"\r\n\r\n");
    let head = String::from_utf8_lossy(&head).to_ascii_lowercase();
    assert!(head.contains("content-type: text/event-stream"), "{head}");
    let t0 = Instant::now();
    let stopper = std::thread::spawn(move || server.shutdown());
    // The stream ends with the last chunk, and then the connection closes.
    let mut rest = Vec::new();
    s.read_to_end(&mut rest).expect("read to close");
    assert_eq!(rest, b"0\r\n\r\n");
    stopper.join().unwrap().unwrap();
    let took = t0.elapsed();
    assert!(
        took < Duration::from_secs(3),
        "shutdown took {took:?} (grace is 10 s)"
    );
}

#[test]
fn head_gets_the_fields_and_no_stream() {
    let (server, addr) = start();
    let mut s = common::http::connect(addr);
    s.write_all(b"HEAD /silent HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let r = common::http::read_response(&mut s, &mut Vec::new(), true);
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("text/event-stream"));
    assert!(r.body.is_empty());
    server.shutdown().unwrap();
}
