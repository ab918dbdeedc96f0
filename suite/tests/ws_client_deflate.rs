//! permessage-deflate (RFC 7692) on corering's WebSocket client, against
//! servers nobody here wrote: Python's `websockets` server (context
//! takeover, no context takeover asked for by the client, a server that
//! limits both windows, a server without compression, a client with
//! compression off, a zip bomb), corering's own server, and raw sockets
//! for what no server library sends (invalid `Sec-WebSocket-Extensions`
//! answers, a bomb in one frame, checks that compressed client frames are
//! masked).
//!
//! The Python server runs from the interpreter `ws_common::python` finds;
//! with none, those tests print a `SKIP:` line (unless
//! `CORERING_REQUIRE_WEBSOCKETS` is set, as in CI).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::thread::JoinHandle;
use std::time::Duration;

use corering::ws::deflate::{DeflateConfig, Role};
use corering::ws::{self, CloseCode, HandshakeErrorKind, Message, WebSocket, WsConfig, WsError};
use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress};
use tungstenite::handshake::derive_accept_key;

mod ws_common;

/// Runs `f` on a corering runtime (the client must run on a worker).
fn run<T>(f: impl std::future::Future<Output = T>) -> T {
    corering::Runtime::new().expect("runtime").block_on(f)
}

/// The Python server: argv[1] is the mode (`default`, `limited`: windows
/// of 10 bits for itself and 8 for the client, `off`: no compression).
/// It prints its port, then for each connection: says what it agreed as
/// its first message, echoes every message, answers `count` with how many
/// compressed frames it received, sends a 2 MiB message of zeros for
/// `bomb`, and prints `closed CODE` when the connection ends.
const SERVER: &str = r#"
import sys
from websockets.sync.server import serve
from websockets.exceptions import ConnectionClosed
from websockets.extensions import permessage_deflate as pmd

mode = sys.argv[1]
compressed = [0]
decode = pmd.PerMessageDeflate.decode
def counting(self, frame, **kw):
    if frame.rsv1:
        compressed[0] += 1
    return decode(self, frame, **kw)
pmd.PerMessageDeflate.decode = counting

def handler(ws):
    compressed[0] = 0
    exts = [e for e in ws.protocol.extensions if isinstance(e, pmd.PerMessageDeflate)]
    if exts:
        e = exts[0]
        said = "server: rb=%d rn=%s lb=%d ln=%s" % (e.remote_max_window_bits,
            str(e.remote_no_context_takeover).lower(), e.local_max_window_bits,
            str(e.local_no_context_takeover).lower())
    else:
        said = "server: none"
    try:
        ws.send(said)
        for msg in ws:
            if msg == "count":
                ws.send("compressed %d" % compressed[0])
            elif msg == "bomb":
                ws.send(b"\0" * (2 << 20))
            else:
                ws.send(msg)
    except ConnectionClosed:
        pass
    print("closed", ws.close_code, flush=True)

if mode == "limited":
    kw = dict(extensions=[pmd.ServerPerMessageDeflateFactory(
        server_max_window_bits=10, client_max_window_bits=8)], compression=None)
elif mode == "off":
    kw = dict(compression=None)
else:
    kw = {}
with serve(handler, "127.0.0.1", 0, max_size=None, ping_interval=None, **kw) as server:
    print(server.socket.getsockname()[1], flush=True)
    server.serve_forever()
"#;

/// A running Python server; killed when dropped.
struct PyServer {
    child: Child,
    out: BufReader<ChildStdout>,
    url: String,
}

impl PyServer {
    fn start(py: &str, mode: &str) -> PyServer {
        let mut child = Command::new(py)
            .args(["-c", SERVER, mode])
            .stdout(Stdio::piped())
            .spawn()
            .expect("run python");
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let mut port = String::new();
        out.read_line(&mut port).expect("the server's port");
        let port: u16 = port.trim().parse().expect("a port number");
        PyServer {
            child,
            out,
            url: format!("ws://127.0.0.1:{port}/"),
        }
    }

    /// The next line the server printed (`closed CODE`).
    fn line(&mut self) -> String {
        let mut l = String::new();
        self.out.read_line(&mut l).unwrap();
        l.trim().to_owned()
    }
}

impl Drop for PyServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What the client's socket says it agreed, in the Python server's words
/// (`rb`/`rn`: the peer's window and context takeover; `lb`/`ln`: ours).
fn describe(ws: &WebSocket) -> String {
    match ws.compression() {
        None => "client: none".to_owned(),
        Some(a) => {
            assert_eq!(a.role(), Role::Client);
            format!(
                "client: rb={} rn={} lb={} ln={}",
                a.decompress_window_bits(),
                a.decompress_no_context_takeover(),
                a.compress_window_bits(),
                a.compress_no_context_takeover()
            )
        }
    }
}

async fn recv_text(ws: &mut WebSocket) -> String {
    match ws.recv().await {
        Ok(Some(Message::Text(t))) => t.to_owned(),
        other => panic!("expected a text message, got {other:?}"),
    }
}

/// A deterministic pseudo-random generator (xorshift) for test data.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// The messages sent, each three times (the repeats exercise context
/// takeover): (name, text or binary, payload, compressed when agreed).
fn messages() -> Vec<(&'static str, bool, Vec<u8>, bool)> {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let words = ["chat", "room", "hello", "user", "message", "again", "the"];
    let mut text = |n: usize| {
        let mut s = String::new();
        while s.len() < n {
            s.push_str(words[(rng.next() % words.len() as u64) as usize]);
            s.push(' ');
        }
        s.truncate(n);
        s.into_bytes()
    };
    let json = format!(
        "{{\"user\":\"ann\",\"text\":\"{}\"}}",
        String::from_utf8(text(1000)).unwrap()
    );
    let mut rng = Rng(7);
    let block: Vec<u8> = (0..2000).map(|_| rng.next() as u8).collect();
    let far = [block.as_slice(); 3].concat();
    let noisy: Vec<u8> = (0..1 << 20).map(|_| (rng.next() % 16) as u8).collect();
    vec![
        ("tiny", true, b"hi".to_vec(), false),
        ("json", true, json.into_bytes(), true),
        (
            "unicode",
            true,
            "h\u{e9}llo w\u{f6}rld \u{2603} \u{1F600} "
                .repeat(50)
                .into_bytes(),
            true,
        ),
        ("far-repeats", false, far, true),
        (
            "binary",
            false,
            (0..=255u8).cycle().take(4096).collect(),
            true,
        ),
        ("text-1mib", true, text(1 << 20), true),
        ("binary-1mib", false, noisy, true),
        ("empty", false, Vec::new(), false),
    ]
}

/// Sends every message three times, expects each echoed intact, then
/// asks the server how many compressed frames it got.
async fn echo_all(ws: &mut WebSocket, agreed: bool) {
    let mut want_compressed = 0;
    for (name, is_text, payload, compressible) in messages() {
        for _ in 0..3 {
            if is_text {
                ws.send_text(std::str::from_utf8(&payload).unwrap())
                    .await
                    .unwrap();
            } else {
                ws.send_binary(&payload).await.unwrap();
            }
            match ws.recv().await.unwrap() {
                Some(Message::Text(t)) if is_text => {
                    assert!(t.as_bytes() == payload, "{name}: text echoed differently")
                }
                Some(Message::Binary(b)) if !is_text => {
                    assert!(b == payload, "{name}: binary echoed differently")
                }
                other => panic!("{name}: unexpected {:?}", other.map(|m| m.len())),
            }
            if agreed && compressible {
                want_compressed += 1;
            }
        }
    }
    ws.send_text("count").await.unwrap();
    assert_eq!(
        recv_text(ws).await,
        format!("compressed {want_compressed}"),
        "the server received compressed frames exactly for the messages of 64 bytes or more"
    );
}

/// Connects `client` to a Python server in `mode`, checks what the server
/// says it agreed (its first message) and what our socket says
/// (`describe`), echoes every message (compressed or not as agreed), and
/// closes with 1000, which the server must see.
fn python_echo(py: &str, mode: &str, client: ws::Client, server_said: &str, client_said: &str) {
    let mut server = PyServer::start(py, mode);
    run(async {
        let mut ws = client.connect(&server.url).await.expect("connect");
        assert_eq!(recv_text(&mut ws).await, server_said);
        assert_eq!(describe(&ws), client_said);
        let agreed = ws.compression().is_some();
        echo_all(&mut ws, agreed).await;
        ws.close(CloseCode::NORMAL, "").await.unwrap();
    });
    assert_eq!(server.line(), "closed 1000");
}

#[test]
fn python_server_with_context_takeover() {
    let Some(py) = ws_common::python() else {
        return;
    };
    // websockets' default server answers our offer
    // (`client_max_window_bits`) with 12-bit windows both ways.
    python_echo(
        &py,
        "default",
        ws::Client::new(),
        "server: rb=12 rn=false lb=12 ln=false",
        "client: rb=12 rn=false lb=12 ln=false",
    );
}

#[test]
fn python_server_with_no_context_takeover_asked_for() {
    let Some(py) = ws_common::python() else {
        return;
    };
    let cfg = WsConfig::new().deflate(
        DeflateConfig::new()
            .server_no_context_takeover(true)
            .client_no_context_takeover(true),
    );
    python_echo(
        &py,
        "default",
        ws::Client::new().config(cfg),
        "server: rb=12 rn=true lb=12 ln=true",
        "client: rb=12 rn=true lb=12 ln=true",
    );
}

#[test]
fn python_server_limiting_both_windows() {
    let Some(py) = ws_common::python() else {
        return;
    };
    // The server answers server_max_window_bits=10 unasked and
    // client_max_window_bits=8: we compress with zlib's 9-bit window (it
    // has no raw 8-bit one), never referring back more than 250 bytes, so
    // the server's 256-byte window holds it (a larger window would make
    // its inflater fail).
    python_echo(
        &py,
        "limited",
        ws::Client::new(),
        "server: rb=8 rn=false lb=10 ln=false",
        "client: rb=10 rn=false lb=8 ln=false",
    );
}

#[test]
fn compression_off_on_either_side() {
    let Some(py) = ws_common::python() else {
        return;
    };
    // The server declines our offer.
    python_echo(
        &py,
        "off",
        ws::Client::new(),
        "server: none",
        "client: none",
    );
    // We offer nothing.
    let client = ws::Client::new().compression(false);
    python_echo(&py, "default", client, "server: none", "client: none");
}

#[test]
fn zip_bomb_from_the_python_server_closes_with_1009() {
    let Some(py) = ws_common::python() else {
        return;
    };
    let mut server = PyServer::start(&py, "default");
    // 2 MiB of zeros compress to about 2 KiB; we take 256 KiB.
    for cfg in [
        WsConfig::new().max_message_size(256 << 10),
        WsConfig::new().deflate(DeflateConfig::new().max_message_size(256 << 10)),
    ] {
        run(async {
            let mut ws = ws::Client::new()
                .config(cfg)
                .connect(&server.url)
                .await
                .expect("connect");
            assert!(recv_text(&mut ws).await.starts_with("server: rb=12"));
            ws.send_text("bomb").await.unwrap();
            match ws.recv().await {
                Err(e @ WsError::TooBig) => {
                    assert_eq!(e.close_code(), Some(CloseCode::TOO_BIG))
                }
                other => panic!(
                    "expected TooBig, got {:?}",
                    other.map(|m| m.map(|m| m.len()))
                ),
            }
        });
        assert_eq!(server.line(), "closed 1009");
    }
}

/// A corering server route that says what it agreed, then echoes.
#[corering::get("/describe")]
async fn describe_route(ws: ws::WebSocketUpgrade) -> corering::http::Response {
    ws.on_upgrade(|ws| async move {
        let said = match ws.compression() {
            None => "server: none".to_owned(),
            Some(a) => format!(
                "server: role={:?} cb={} db={}",
                a.role(),
                a.compress_window_bits(),
                a.decompress_window_bits()
            ),
        };
        let (mut rx, tx) = ws.split();
        if tx.send_text(&said).await.is_err() {
            return;
        }
        while let Ok(Some(msg)) = rx.recv().await {
            if tx.send(msg).await.is_err() {
                break;
            }
        }
    })
}

#[test]
fn corering_client_and_server_both_compressing() {
    let router = corering::routes![describe_route];
    let server = corering::Server::builder()
        .bind("127.0.0.1:0")
        .workers(1)
        .pin_workers(false)
        .recv_buffers(64, 4096)
        .build()
        .expect("build")
        .start(move |conn| {
            corering::http::serve(conn, corering::http::Http1Config::new(), router.clone())
        })
        .expect("start");
    let addr = server.tcp_addr().unwrap();
    run(async {
        let url = format!("ws://{addr}/describe");
        let cfg = WsConfig::new().deflate(DeflateConfig::new().client_max_window_bits(11));
        let mut ws = ws::Client::new().config(cfg).connect(&url).await.unwrap();
        assert_eq!(recv_text(&mut ws).await, "server: role=Server cb=15 db=11");
        let a = ws.compression().expect("agreed");
        assert_eq!(a.role(), Role::Client);
        assert_eq!(
            (a.compress_window_bits(), a.decompress_window_bits()),
            (11, 15)
        );
        for (name, is_text, payload, _) in messages() {
            for _ in 0..3 {
                if is_text {
                    ws.send_text(std::str::from_utf8(&payload).unwrap())
                        .await
                        .unwrap();
                } else {
                    ws.send_binary(&payload).await.unwrap();
                }
                let back = ws.recv().await.unwrap().expect("an echo");
                assert!(back.as_bytes() == payload, "{name}");
            }
        }
        ws.close(CloseCode::NORMAL, "").await.unwrap();
        // Off on the client: the server sends uncompressed.
        let mut ws = ws::Client::new()
            .compression(false)
            .connect(&url)
            .await
            .unwrap();
        assert_eq!(recv_text(&mut ws).await, "server: none");
        ws.close(CloseCode::NORMAL, "").await.unwrap();
    });
    server.shutdown().unwrap();
}

/// A raw server: reads the request head, answers `101` with `ext` as
/// `Sec-WebSocket-Extensions` (none if empty), then runs `then` on the
/// socket with the request head.
fn raw_server(
    ext: &'static str,
    then: impl FnOnce(TcpStream, String) + Send + 'static,
) -> (String, JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("ws://{}/raw", listener.local_addr().unwrap());
    let t = std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        let mut head = Vec::new();
        let mut b = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            if s.read(&mut b).unwrap() == 0 {
                return;
            }
            head.push(b[0]);
        }
        let head = String::from_utf8(head).unwrap();
        let key = header(&head, "sec-websocket-key").expect("a Sec-WebSocket-Key");
        let ext = if ext.is_empty() {
            String::new()
        } else {
            format!("Sec-WebSocket-Extensions: {ext}\r\n")
        };
        write!(
            s,
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Accept: {}\r\n{ext}\r\n",
            derive_accept_key(key.as_bytes())
        )
        .unwrap();
        then(s, head)
    });
    (url, t)
}

/// A header field's value in a request head.
fn header(head: &str, name: &str) -> Option<String> {
    head.lines().find_map(|l| {
        let (n, v) = l.split_once(':')?;
        n.eq_ignore_ascii_case(name).then(|| v.trim().to_owned())
    })
}

/// Reads one frame the client sent: (first byte, masking key, unmasked
/// payload).
fn read_client_frame(s: &mut TcpStream) -> (u8, Option<[u8; 4]>, Vec<u8>) {
    let mut h = [0u8; 2];
    s.read_exact(&mut h).unwrap();
    let mut len = u64::from(h[1] & 0x7f);
    if len == 126 {
        let mut b = [0u8; 2];
        s.read_exact(&mut b).unwrap();
        len = u64::from(u16::from_be_bytes(b));
    } else if len == 127 {
        let mut b = [0u8; 8];
        s.read_exact(&mut b).unwrap();
        len = u64::from_be_bytes(b);
    }
    let key = (h[1] & 0x80 != 0).then(|| {
        let mut k = [0u8; 4];
        s.read_exact(&mut k).unwrap();
        k
    });
    let mut p = vec![0u8; len as usize];
    s.read_exact(&mut p).unwrap();
    if let Some(k) = key {
        for (i, b) in p.iter_mut().enumerate() {
            *b ^= k[i % 4];
        }
    }
    (h[0], key, p)
}

/// Raw DEFLATE of `data` as a permessage-deflate sender frames it (sync
/// flush, the trailing `00 00 ff ff` dropped), by flate2.
fn deflate_message(data: &[u8]) -> Vec<u8> {
    let mut c = Compress::new(Compression::default(), false);
    let mut out = Vec::with_capacity(data.len() / 100 + 64);
    loop {
        let consumed = c.total_in() as usize;
        out.reserve(4096);
        c.compress_vec(&data[consumed..], &mut out, FlushCompress::Sync)
            .unwrap();
        if c.total_in() as usize == data.len() && out.len() < out.capacity() {
            break;
        }
    }
    assert!(out.ends_with(&[0, 0, 0xff, 0xff]));
    out.truncate(out.len() - 4);
    out
}

/// Inflates a message a client compressed (its tail put back), by flate2.
fn inflate_message(data: &[u8]) -> Vec<u8> {
    let mut d = Decompress::new(false);
    let input = [data, &[0, 0, 0xff, 0xff]].concat();
    let mut out = Vec::with_capacity(data.len() * 4 + 64);
    loop {
        let consumed = d.total_in() as usize;
        out.reserve(4096);
        d.decompress_vec(&input[consumed..], &mut out, FlushDecompress::Sync)
            .unwrap();
        if d.total_in() as usize == input.len() && out.len() < out.capacity() {
            return out;
        }
    }
}

/// An unmasked server frame.
fn server_frame(first: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = vec![first];
    match payload.len() {
        n if n < 126 => out.push(n as u8),
        n if n <= 0xFFFF => {
            out.push(126);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            out.push(127);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    out.extend_from_slice(payload);
    out
}

#[test]
fn invalid_extension_answers_fail_the_handshake() {
    let asked_nct = DeflateConfig::new().server_no_context_takeover(true);
    let asked_10 = DeflateConfig::new().server_max_window_bits(10);
    let cases: [(&'static str, DeflateConfig, &str); 11] = [
        (
            "permessage-deflate; foo=1",
            DeflateConfig::new(),
            "unknown parameter",
        ),
        (
            "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
            DeflateConfig::new(),
            "repeated parameter",
        ),
        (
            "permessage-deflate; server_max_window_bits=16",
            DeflateConfig::new(),
            "not 8..15",
        ),
        (
            "permessage-deflate; server_max_window_bits=7",
            DeflateConfig::new(),
            "not 8..15",
        ),
        (
            "permessage-deflate; server_max_window_bits=12",
            asked_10,
            "above the offer",
        ),
        ("permessage-deflate", asked_10, "not accepted"),
        ("permessage-deflate", asked_nct, "not accepted"),
        (
            "permessage-deflate; client_max_window_bits",
            DeflateConfig::new(),
            "without a value",
        ),
        (
            "permessage-deflate, permessage-deflate",
            DeflateConfig::new(),
            "not exactly one",
        ),
        (
            "permessage-deflate; server_max_window_bits=\"10",
            DeflateConfig::new(),
            "malformed",
        ),
        ("x-foo", DeflateConfig::new(), "not offered"),
    ];
    for (answer, cfg, why) in cases {
        let (url, server) = raw_server(answer, |_, head| {
            assert!(
                header(&head, "sec-websocket-extensions")
                    .is_some_and(|v| v.starts_with("permessage-deflate")),
                "{head}"
            );
        });
        let client = ws::Client::new().config(WsConfig::new().deflate(cfg));
        let err = run(client.connect(&url)).unwrap_err();
        let WsError::Handshake(e) = &err else {
            panic!("{answer}: {err}")
        };
        assert_eq!(e.kind(), HandshakeErrorKind::Extension, "{answer}: {err}");
        let msg = err.to_string();
        assert!(msg.contains(why), "{answer}: {msg}");
        assert!(msg.contains(answer), "the answer is quoted: {msg}");
        server.join().unwrap();
    }
    // Two answers in two header fields are read as one list: still not
    // exactly one.
    let (url, server) = raw_server(
        "permessage-deflate\r\nSec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=9",
        |_, _| {},
    );
    let err = run(ws::connect(&url)).unwrap_err();
    assert!(
        matches!(&err, WsError::Handshake(e) if e.kind() == HandshakeErrorKind::Extension),
        "{err}"
    );
    let msg = err.to_string();
    assert!(msg.contains("not exactly one"), "{msg}");
    assert!(
        msg.contains("permessage-deflate, permessage-deflate; server_max_window_bits=9"),
        "{msg}"
    );
    server.join().unwrap();
}

#[test]
fn the_offer_follows_the_config() {
    for (cfg, want) in [
        (
            WsConfig::new(),
            Some("permessage-deflate; client_max_window_bits"),
        ),
        (
            WsConfig::new().deflate(
                DeflateConfig::new()
                    .client_no_context_takeover(true)
                    .server_no_context_takeover(true)
                    .server_max_window_bits(9)
                    .client_max_window_bits(10),
            ),
            Some(
                "permessage-deflate; server_no_context_takeover; client_no_context_takeover; \
                 server_max_window_bits=9; client_max_window_bits=10",
            ),
        ),
        (WsConfig::new().compression(false), None),
    ] {
        let (tx, rx) = std::sync::mpsc::channel();
        let (url, server) = raw_server("", move |_, head| {
            tx.send(header(&head, "sec-websocket-extensions")).unwrap();
        });
        run(async {
            let ws = ws::Client::new().config(cfg).connect(&url).await.unwrap();
            assert!(
                ws.compression().is_none(),
                "nothing answered, nothing agreed"
            );
        });
        assert_eq!(rx.recv().unwrap().as_deref(), want);
        server.join().unwrap();
    }
}

#[test]
fn compressed_client_frames_are_masked_and_inflate_with_flate2() {
    let text = "compress me please, compress me please, compress me please! ".repeat(20);
    let expect = text.clone();
    let (url, server) = raw_server(
        "permessage-deflate; client_no_context_takeover; client_max_window_bits=10",
        move |mut s, _| {
            let mut keys = Vec::new();
            for _ in 0..2 {
                let (first, key, payload) = read_client_frame(&mut s);
                assert_eq!(first, 0xC1, "FIN | RSV1 | text");
                keys.push(key.expect("client frames are masked"));
                assert!(payload.len() < expect.len() / 4, "{}", payload.len());
                // No context takeover: each message inflates on its own.
                assert_eq!(inflate_message(&payload), expect.as_bytes());
            }
            assert_ne!(keys[0], keys[1], "a fresh key per frame");
            // Short messages and control frames go uncompressed.
            let (first, key, payload) = read_client_frame(&mut s);
            assert_eq!((first, payload.as_slice()), (0x81, &b"short"[..]));
            assert!(key.is_some());
            let (first, key, _) = read_client_frame(&mut s);
            assert_eq!(first, 0x89, "an uncompressed ping");
            assert!(key.is_some());
            // A compressed message from the server (flate2), in two
            // fragments with a ping between.
            let data = deflate_message(b"from the server, compressed by flate2");
            let (a, b) = data.split_at(data.len() / 2);
            s.write_all(&server_frame(0x41, a)).unwrap();
            s.write_all(&server_frame(0x89, b"p")).unwrap();
            s.write_all(&server_frame(0x80, b)).unwrap();
            let (first, _, payload) = read_client_frame(&mut s);
            assert_eq!((first, payload.as_slice()), (0x8A, &b"p"[..]), "the pong");
            let (first, _, payload) = read_client_frame(&mut s);
            assert_eq!(first, 0x88);
            assert_eq!(u16::from_be_bytes([payload[0], payload[1]]), 1000);
            s.write_all(&server_frame(0x88, &1000u16.to_be_bytes()))
                .unwrap();
        },
    );
    run(async {
        let mut ws = ws::connect(&url).await.unwrap();
        let a = ws.compression().expect("agreed");
        assert_eq!(
            (a.compress_window_bits(), a.decompress_window_bits()),
            (10, 15)
        );
        assert!(a.compress_no_context_takeover() && !a.decompress_no_context_takeover());
        ws.send_text(&text).await.unwrap();
        ws.writer().send_text(&text).await.unwrap();
        ws.send_text("short").await.unwrap();
        ws.ping(b"").await.unwrap();
        match ws.recv().await.unwrap() {
            Some(Message::Text(t)) => assert_eq!(t, "from the server, compressed by flate2"),
            other => panic!("{other:?}"),
        }
        ws.close(CloseCode::NORMAL, "").await.unwrap();
    });
    server.join().unwrap();
}

#[test]
fn a_deflate_bomb_in_one_frame_fails_with_1009() {
    // 64 MiB of zeros: about 64 KiB compressed; the client takes 1 MiB.
    let bomb = deflate_message(&vec![0u8; 64 << 20]);
    assert!(bomb.len() < 128 << 10, "{}", bomb.len());
    let (url, server) = raw_server("permessage-deflate", move |mut s, _| {
        s.write_all(&server_frame(0xC2, &bomb)).unwrap();
        let (first, key, payload) = read_client_frame(&mut s);
        assert_eq!(first, 0x88, "a close frame");
        assert!(key.is_some(), "masked");
        assert_eq!(u16::from_be_bytes([payload[0], payload[1]]), 1009);
    });
    let cfg = WsConfig::new().max_message_size(1 << 20);
    run(async {
        let mut ws = ws::Client::new().config(cfg).connect(&url).await.unwrap();
        match ws.recv().await {
            Err(WsError::TooBig) => {}
            other => panic!(
                "expected TooBig, got {:?}",
                other.map(|m| m.map(|m| m.len()))
            ),
        }
    });
    server.join().unwrap();
}

#[test]
fn rsv1_or_corrupt_data_from_the_server_fail_the_connection() {
    // RSV1 when nothing was agreed: 1002.
    let (url, server) = raw_server("", |mut s, _| {
        s.write_all(&server_frame(0xC1, b"hello")).unwrap();
        let (first, _, payload) = read_client_frame(&mut s);
        assert_eq!(first, 0x88);
        assert_eq!(u16::from_be_bytes([payload[0], payload[1]]), 1002);
    });
    run(async {
        let mut ws = ws::connect(&url).await.unwrap();
        assert!(matches!(ws.recv().await, Err(WsError::Protocol(_))));
    });
    server.join().unwrap();
    // Not DEFLATE (block type 3): 1007.
    let (url, server) = raw_server("permessage-deflate", |mut s, _| {
        s.write_all(&server_frame(0xC2, &[0xff, 0xff, 0xff, 0xff]))
            .unwrap();
        let (first, _, payload) = read_client_frame(&mut s);
        assert_eq!(first, 0x88);
        assert_eq!(u16::from_be_bytes([payload[0], payload[1]]), 1007);
    });
    run(async {
        let mut ws = ws::connect(&url).await.unwrap();
        match ws.recv().await {
            Err(e @ WsError::Compression(_)) => {
                assert_eq!(e.close_code(), Some(CloseCode(1007)))
            }
            other => panic!("{:?}", other.map(|m| m.map(|m| m.len()))),
        }
    });
    server.join().unwrap();
}
