//! Shared by the `ws_*` tests: a WebSocket server with a few routes, and a
//! raw WebSocket client on a blocking `TcpStream` for what no client
//! library would send.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::Command;
use std::time::Duration;

use corering::http::{Http1Config, Response};
use corering::ws::{CloseCode, Message, WebSocketUpgrade, WsConfig};
use corering::{get, routes, RunningServer};

/// Echoes every message.
#[get("/echo")]
async fn echo(ws: WebSocketUpgrade) -> Response {
    ws.on_upgrade(|ws| async move {
        let (mut rx, tx) = ws.split();
        while let Ok(Some(msg)) = rx.recv().await {
            if tx.send(msg).await.is_err() {
                break;
            }
        }
    })
}

/// Picks `superchat` over `chat`, says which as its first message, then
/// echoes.
#[get("/proto")]
async fn proto(ws: WebSocketUpgrade) -> Response {
    ws.protocols(["superchat", "chat"])
        .on_upgrade(|ws| async move {
            let said = format!("protocol {}", ws.protocol().unwrap_or("none"));
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

/// `close CODE REASON` makes the server close with that code; any other
/// message is echoed. When the client closes, the server reports the
/// client's code and reason as a last message... which it cannot send
/// after the close, so it logs nothing and just ends.
#[get("/closer")]
async fn closer(ws: WebSocketUpgrade) -> Response {
    ws.on_upgrade(|mut ws| async move {
        loop {
            let cmd = match ws.recv().await {
                Ok(Some(Message::Text(t))) => t.to_owned(),
                Ok(Some(Message::Binary(_))) => continue,
                _ => return,
            };
            if let Some(rest) = cmd.strip_prefix("close ") {
                let (code, reason) = rest.split_once(' ').unwrap_or((rest, ""));
                let code = CloseCode(code.parse().unwrap());
                let _ = ws.close(code, reason).await;
                return;
            }
            if ws.send_text(&cmd).await.is_err() {
                return;
            }
        }
    })
}

/// Small limits: messages up to 1 KiB, 300 ms idle timeout.
#[get("/small")]
async fn small(ws: WebSocketUpgrade) -> Response {
    ws.max_message_size(1024)
        .idle_timeout(Some(Duration::from_millis(300)))
        .on_upgrade(|ws| async move {
            let (mut rx, tx) = ws.split();
            while let Ok(Some(msg)) = rx.recv().await {
                if tx.send(msg).await.is_err() {
                    break;
                }
            }
        })
}

/// Keep-alive pings every 100 ms.
#[get("/pinger")]
async fn pinger(ws: WebSocketUpgrade) -> Response {
    ws.ping_interval(Some(Duration::from_millis(100)))
        .on_upgrade(|ws| async move {
            let (mut rx, tx) = ws.split();
            while let Ok(Some(msg)) = rx.recv().await {
                if tx.send(msg).await.is_err() {
                    break;
                }
            }
        })
}

/// Closes at once (1000, "bye") and reads on; its peer has 300 ms to
/// answer the close.
#[get("/bye")]
async fn bye(ws: WebSocketUpgrade) -> Response {
    let cfg = WsConfig::new().close_timeout(Duration::from_millis(300));
    ws.config(cfg).on_upgrade(|ws| async move {
        let (mut rx, tx) = ws.split();
        if tx.close(CloseCode::NORMAL, "bye").await.is_err() {
            return;
        }
        while let Ok(Some(_)) = rx.recv().await {}
    })
}

/// A server with the routes above, one worker, small receive buffers (so
/// frames span buffers).
pub fn start() -> (RunningServer, SocketAddr) {
    let router = routes![echo, proto, closer, small, pinger, bye];
    let b = corering::Server::builder()
        .bind("127.0.0.1:0")
        .workers(1)
        .pin_workers(false)
        .recv_buffers(64, 4096);
    let s = b
        .build()
        .expect("build")
        .start(move |conn| corering::http::serve(conn, Http1Config::new(), router.clone()))
        .expect("start");
    let a = s.tcp_addr().expect("tcp address");
    (s, a)
}

/// A tungstenite client on `path`.
pub fn client(
    addr: SocketAddr,
    path: &str,
) -> tungstenite::WebSocket<tungstenite::stream::MaybeTlsStream<TcpStream>> {
    let (ws, _) = tungstenite::connect(format!("ws://{addr}{path}")).expect("handshake");
    if let tungstenite::stream::MaybeTlsStream::Plain(s) = ws.get_ref() {
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    }
    ws
}

/// Sends a text message on `ws` and expects it back.
pub fn assert_echoes(
    ws: &mut tungstenite::WebSocket<tungstenite::stream::MaybeTlsStream<TcpStream>>,
    text: &str,
) {
    ws.send(tungstenite::Message::text(text)).expect("send");
    match ws.read().expect("read") {
        tungstenite::Message::Text(t) => assert_eq!(t.as_str(), text),
        other => panic!("expected the text back, got {other:?}"),
    }
}

/// A raw client after a handshake on `path`: the socket and any bytes that
/// came after the `101` head.
pub fn raw(addr: SocketAddr, path: &str) -> (TcpStream, Vec<u8>) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.set_nodelay(true).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
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
    assert!(head.contains("s3pPLMBiTxaQ9kYGzzhZRbK+xOo="), "{head}");
    buf.drain(..end);
    (s, buf)
}

/// A frame as a client sends it: masked (with a fixed key) unless
/// `masked` is false; `first` is the first byte (FIN, RSV, opcode).
pub fn frame(first: u8, payload: &[u8], masked: bool) -> Vec<u8> {
    let mut out = vec![first];
    let m = if masked { 0x80 } else { 0 };
    match payload.len() {
        n if n < 126 => out.push(m | n as u8),
        n if n <= 0xFFFF => {
            out.push(m | 126);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            out.push(m | 127);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    if masked {
        let key = [0xA1, 0xB2, 0xC3, 0xD4];
        out.extend_from_slice(&key);
        out.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
    } else {
        out.extend_from_slice(payload);
    }
    out
}

/// A frame read from the server: (first byte, payload).
pub fn read_frame(s: &mut TcpStream, buf: &mut Vec<u8>) -> Option<(u8, Vec<u8>)> {
    loop {
        if buf.len() >= 2 {
            assert_eq!(buf[1] & 0x80, 0, "server frames are never masked");
            let (len, at) = match buf[1] & 0x7F {
                126 if buf.len() >= 4 => (u16::from_be_bytes([buf[2], buf[3]]) as usize, 4),
                127 if buf.len() >= 10 => (
                    u64::from_be_bytes(buf[2..10].try_into().unwrap()) as usize,
                    10,
                ),
                126 | 127 => (usize::MAX, 0),
                n => (n as usize, 2),
            };
            if len != usize::MAX && buf.len() >= at + len {
                let f = (buf[0], buf[at..at + len].to_vec());
                buf.drain(..at + len);
                return Some(f);
            }
        }
        let mut tmp = [0; 65536];
        match s.read(&mut tmp) {
            Ok(0) => return None,
            Ok(n) => buf.extend_from_slice(&tmp[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return None,
            Err(e) => panic!("read: {e}"),
        }
    }
}

/// Reads frames until a close frame; its code (`None` for an empty one).
/// Then expects the server to end the connection.
#[track_caller]
pub fn expect_close(s: &mut TcpStream, buf: &mut Vec<u8>) -> Option<u16> {
    loop {
        let (first, payload) = read_frame(s, buf).expect("a close frame before the end");
        if first & 0x0F == 0x8 {
            assert_eq!(first, 0x88, "close frames are final, no RSV bits");
            let code = (payload.len() >= 2).then(|| u16::from_be_bytes([payload[0], payload[1]]));
            assert!(std::str::from_utf8(payload.get(2..).unwrap_or_default()).is_ok());
            // Then the end of the connection.
            assert!(read_frame(s, buf).is_none(), "frames after the close frame");
            return code;
        }
    }
}

/// A Python 3 that imports `websockets` (its sync client and server), or
/// `None` after a `SKIP:` notice: the first of `$CORERING_PYTHON_WS`,
/// `python3`, and the virtualenv `~/.cache/corering/py3-websockets`; with
/// `CORERING_REQUIRE_WEBSOCKETS` set (CI) a missing package fails instead.
pub fn python() -> Option<String> {
    let home = std::env::var("HOME").unwrap_or_default();
    let candidates = [
        std::env::var("CORERING_PYTHON_WS").unwrap_or_default(),
        "python3".to_owned(),
        format!("{home}/.cache/corering/py3-websockets/bin/python"),
    ];
    for p in candidates.iter().filter(|p| !p.is_empty()) {
        let ok = Command::new(p)
            .args([
                "-c",
                "import websockets.sync.client, websockets.sync.server",
            ])
            .output()
            .is_ok_and(|o| o.status.success());
        if ok {
            return Some(p.clone());
        }
    }
    if std::env::var_os("CORERING_REQUIRE_WEBSOCKETS").is_some() {
        panic!("Python websockets is required (pip install websockets)");
    }
    eprintln!("SKIP: Python websockets not installed (pip install websockets)");
    None
}
