//! permessage-deflate on the socket (RFC 7692), seen by a client nobody
//! here wrote: Python's `websockets` package, which speaks the extension.
//! Negotiation with and without context takeover and window bits,
//! compressed round trips of text, binary and 1 MiB messages, a zip bomb
//! (1009), and compression switched off by config. Raw sockets add what no
//! client library sends: RSV1 without the extension, RSV1 on a
//! continuation (1002), corrupt compressed data (1007).
//!
//! The Python client runs from the first of: `$CORERING_PYTHON_WS`,
//! `python3`, and the virtualenv `~/.cache/corering/py3-websockets`, that
//! imports `websockets`; with none, the Python tests print a `SKIP:` line,
//! unless `CORERING_REQUIRE_WEBSOCKETS` is set (CI), where they fail.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::Command;
use std::time::Duration;

use corering::http::{Http1Config, Response};
use corering::ws::{WebSocket, WebSocketUpgrade};
use corering::{get, routes, RunningServer};

mod ws_common;

use ws_common::{expect_close, frame, python, read_frame};

/// What the socket says was agreed: its first message on every route.
fn describe(ws: &WebSocket) -> String {
    match ws.compression() {
        None => "agreed none".to_owned(),
        Some(a) => format!(
            "agreed cb={} cn={} db={} dn={}",
            a.compress_window_bits(),
            a.compress_no_context_takeover(),
            a.decompress_window_bits(),
            a.decompress_no_context_takeover()
        ),
    }
}

/// Says what was agreed, then echoes every message.
async fn describe_and_echo(ws: WebSocket) {
    let said = describe(&ws);
    let (mut rx, tx) = ws.split();
    if tx.send_text(&said).await.is_err() {
        return;
    }
    while let Ok(Some(msg)) = rx.recv().await {
        if tx.send(msg).await.is_err() {
            break;
        }
    }
}

/// Default settings: permessage-deflate accepted.
#[get("/echo")]
async fn echo(ws: WebSocketUpgrade) -> Response {
    ws.on_upgrade(describe_and_echo)
}

/// Compression switched off by config.
#[get("/off")]
async fn off(ws: WebSocketUpgrade) -> Response {
    ws.compression(false).on_upgrade(describe_and_echo)
}

/// Messages up to 256 KiB (inflated).
#[get("/limited")]
async fn limited(ws: WebSocketUpgrade) -> Response {
    ws.max_message_size(256 << 10).on_upgrade(describe_and_echo)
}

fn start() -> (RunningServer, SocketAddr) {
    let router = routes![echo, off, limited];
    let s = corering::Server::builder()
        .bind("127.0.0.1:0")
        .workers(1)
        .pin_workers(false)
        .recv_buffers(64, 4096)
        .build()
        .expect("build")
        .start(move |conn| corering::http::serve(conn, Http1Config::new(), router.clone()))
        .expect("start");
    let a = s.tcp_addr().expect("tcp address");
    (s, a)
}

/// The client: connects to argv[1] with the extension as argv[2] says,
/// prints what the server said first, what the client agreed, and then one
/// line per message sent (echoed intact or not, and whether the echo came
/// compressed); `bomb` sends 2 MiB of zeros instead and prints the close.
const CLIENT: &str = r#"
import sys, random
from websockets.sync.client import connect
from websockets.exceptions import ConnectionClosed
from websockets.extensions import permessage_deflate as pmd

url, mode = sys.argv[1], sys.argv[2]
compressed = [0]
decode = pmd.PerMessageDeflate.decode
def counting(self, frame, **kw):
    if frame.rsv1:
        compressed[0] += 1
    return decode(self, frame, **kw)
pmd.PerMessageDeflate.decode = counting

if mode == "params":
    ext = [pmd.ClientPerMessageDeflateFactory(
        server_no_context_takeover=True, client_no_context_takeover=True,
        server_max_window_bits=10, client_max_window_bits=9)]
    ws = connect(url, extensions=ext, compression=None, max_size=None)
else:
    ws = connect(url, max_size=None)
print("server:", ws.recv(timeout=10), flush=True)
exts = [e for e in ws.protocol.extensions if isinstance(e, pmd.PerMessageDeflate)]
if exts:
    e = exts[0]
    print("client: rb=%d rn=%s lb=%d ln=%s" % (e.remote_max_window_bits,
        str(e.remote_no_context_takeover).lower(), e.local_max_window_bits,
        str(e.local_no_context_takeover).lower()), flush=True)
else:
    print("client: none", flush=True)

if mode == "bomb":
    try:
        ws.send(b"\0" * (2 << 20))
        ws.recv(timeout=10)
        print("closed none", flush=True)
    except ConnectionClosed as e:
        print("closed", e.rcvd.code if e.rcvd else "none", flush=True)
    sys.exit(0)

rng = random.Random(7)
block = bytes(rng.getrandbits(8) for _ in range(2000))
words = ["chat", "room", "hello", "user", "message", "again", "the", "json"]
def text(n):
    s = " ".join(rng.choice(words) for _ in range(n // 4 + 1))
    return s[:n]
messages = [
    ("tiny", "hi"),
    ("json", '{"user":"ann","text":"%s"}' % text(1000)),
    ("json-again", '{"user":"ann","text":"%s"}' % text(1000)),
    ("unicode", "h\u00e9llo w\u00f6rld \u2603 \U0001F600 " * 50),
    ("far-repeats", block + block + block),
    ("binary", bytes(range(256)) * 16),
    ("text-1mib", text(1 << 20)),
    ("binary-1mib", bytes(rng.getrandbits(8) % 16 for _ in range(1 << 20))),
    ("empty", b""),
]
for name, msg in messages:
    for _ in range(3):
        before = compressed[0]
        ws.send(msg)
        back = ws.recv(timeout=30)
        ok = back == msg
        print("echo %s %s compressed=%d" % (name, "ok" if ok else "DIFFERENT",
            compressed[0] - before), flush=True)
ws.close()
print("done", flush=True)
"#;

/// Runs the client against `path` in `mode`; its output lines.
fn run_client(py: &str, addr: SocketAddr, path: &str, mode: &str) -> Vec<String> {
    let out = Command::new(py)
        .args(["-c", CLIENT, &format!("ws://{addr}{path}"), mode])
        .output()
        .expect("run python");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "client failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout.lines().map(str::to_owned).collect()
}

/// Checks every echo came back intact, compressed when at least 64 bytes
/// (the default `compress_min_size`) and compression was agreed.
fn check_echoes(lines: &[String], agreed: bool) {
    let echoes: Vec<&String> = lines.iter().filter(|l| l.starts_with("echo ")).collect();
    assert_eq!(echoes.len(), 27, "{lines:#?}");
    for l in echoes {
        let parts: Vec<&str> = l.split(' ').collect();
        assert_eq!(parts[2], "ok", "{l}");
        let small = matches!(parts[1], "tiny" | "empty");
        let want = if agreed && !small {
            "compressed=1"
        } else {
            "compressed=0"
        };
        assert_eq!(parts[3], want, "{l}");
    }
    assert_eq!(lines.last().map(String::as_str), Some("done"));
}

#[test]
fn default_offer_is_accepted_with_context_takeover() {
    let Some(py) = python() else { return };
    let (server, addr) = start();
    let lines = run_client(&py, addr, "/echo", "default");
    // websockets offers `client_max_window_bits` (no value): the server
    // keeps 15 bits and context takeover both ways.
    assert_eq!(lines[0], "server: agreed cb=15 cn=false db=15 dn=false");
    assert_eq!(lines[1], "client: rb=15 rn=false lb=15 ln=false");
    check_echoes(&lines, true);
    server.shutdown().unwrap();
}

#[test]
fn no_context_takeover_and_window_bits_are_kept() {
    let Some(py) = python() else { return };
    let (server, addr) = start();
    let lines = run_client(&py, addr, "/echo", "params");
    // The server compresses with 10 bits and forgets each message (the
    // client's inflater would fail on data from further back or earlier
    // messages), and inflates the client's 9-bit messages.
    assert_eq!(lines[0], "server: agreed cb=10 cn=true db=9 dn=true");
    assert_eq!(lines[1], "client: rb=10 rn=true lb=9 ln=true");
    check_echoes(&lines, true);
    server.shutdown().unwrap();
}

#[test]
fn compression_switched_off_declines_the_offer() {
    let Some(py) = python() else { return };
    let (server, addr) = start();
    let lines = run_client(&py, addr, "/off", "default");
    assert_eq!(lines[0], "server: agreed none");
    assert_eq!(lines[1], "client: none");
    check_echoes(&lines, false);
    server.shutdown().unwrap();
}

#[test]
fn zip_bomb_closes_with_1009() {
    let Some(py) = python() else { return };
    let (server, addr) = start();
    // 2 MiB of zeros compress to about 2 KiB; the route allows 256 KiB.
    let lines = run_client(&py, addr, "/limited", "bomb");
    assert!(lines[0].starts_with("server: agreed cb=15"), "{lines:?}");
    assert_eq!(lines[2], "closed 1009", "{lines:?}");
    // The worker goes on serving.
    let lines = run_client(&py, addr, "/limited", "bomb");
    assert_eq!(lines[2], "closed 1009", "{lines:?}");
    server.shutdown().unwrap();
}

/// A raw client after a handshake offering `permessage-deflate` (or not):
/// the socket, the bytes after the `101` head, and the head.
fn raw_offer(addr: SocketAddr, path: &str, offer: bool) -> (TcpStream, Vec<u8>, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let ext = if offer {
        "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"
    } else {
        ""
    };
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n{ext}\r\n"
    )
    .unwrap();
    let mut buf = Vec::new();
    let end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let mut tmp = [0; 1024];
        let n = s.read(&mut tmp).unwrap();
        assert!(n > 0, "closed during the handshake");
        buf.extend_from_slice(&tmp[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..end]).into_owned();
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    buf.drain(..end);
    // The route's first message says what it agreed.
    let (_, said) = read_frame(&mut s, &mut buf).expect("first message");
    let said = String::from_utf8(said).unwrap();
    assert_eq!(
        said.starts_with("agreed cb="),
        offer && path != "/off",
        "{said}"
    );
    (s, buf, head)
}

#[test]
fn rsv1_without_the_extension_is_a_protocol_error() {
    let (server, addr) = start();
    let (mut s, mut buf, head) = raw_offer(addr, "/echo", false);
    assert!(!head
        .to_ascii_lowercase()
        .contains("sec-websocket-extensions"));
    // FIN | RSV1 | text, "hello" (as if compressed).
    s.write_all(&frame(0xC1, b"hello", true)).unwrap();
    assert_eq!(expect_close(&mut s, &mut buf), Some(1002));

    // Declined by config: the same.
    let (mut s, mut buf, head) = raw_offer(addr, "/off", true);
    assert!(!head
        .to_ascii_lowercase()
        .contains("sec-websocket-extensions"));
    s.write_all(&frame(0xC1, b"hello", true)).unwrap();
    assert_eq!(expect_close(&mut s, &mut buf), Some(1002));
    server.shutdown().unwrap();
}

#[test]
fn rsv1_on_a_continuation_is_a_protocol_error() {
    let (server, addr) = start();
    let (mut s, mut buf, head) = raw_offer(addr, "/echo", true);
    assert!(head.contains("permessage-deflate"), "{head}");
    // An uncompressed first fragment, then RSV1 on the continuation.
    s.write_all(&frame(0x01, b"hel", true)).unwrap();
    s.write_all(&frame(0xC0, b"lo", true)).unwrap();
    assert_eq!(expect_close(&mut s, &mut buf), Some(1002));
    server.shutdown().unwrap();
}

#[test]
fn corrupt_compressed_data_closes_with_1007() {
    let (server, addr) = start();
    let (mut s, mut buf, _) = raw_offer(addr, "/echo", true);
    // Block type 3 (reserved) in the first byte: not DEFLATE.
    s.write_all(&frame(0xC2, &[0xff, 0xff, 0xff, 0xff], true))
        .unwrap();
    assert_eq!(expect_close(&mut s, &mut buf), Some(1007));

    // Uncompressed messages on a connection that agreed still pass, and
    // so do control frames between compressed fragments... then bad
    // UTF-8 inside compressed text is 1007 too: a stored block of FF.
    let (mut s, mut buf, _) = raw_offer(addr, "/echo", true);
    s.write_all(&frame(0x81, b"plain", true)).unwrap();
    let (first, back) = read_frame(&mut s, &mut buf).unwrap();
    assert_eq!((first, back.as_slice()), (0x81, &b"plain"[..]));
    // A stored (uncompressed) DEFLATE block holding one byte 0xFF.
    let stored = [0x00, 0x01, 0x00, 0xfe, 0xff, 0xff];
    s.write_all(&frame(0x41, &stored[..3], true)).unwrap();
    s.write_all(&frame(0x89, b"ping", true)).unwrap();
    s.write_all(&frame(0x80, &stored[3..], true)).unwrap();
    let (first, back) = read_frame(&mut s, &mut buf).unwrap();
    assert_eq!((first, back.as_slice()), (0x8A, &b"ping"[..]));
    assert_eq!(expect_close(&mut s, &mut buf), Some(1007));
    server.shutdown().unwrap();
}
