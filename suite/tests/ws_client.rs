//! corering's WebSocket client (`corering::ws::connect`, `ws::Client`)
//! against servers nobody here wrote: tungstenite's server in a thread
//! (over plain TCP, and over rustls for `wss://`), and raw sockets for
//! what no server library would send (a wrong `Sec-WebSocket-Accept`,
//! masked frames).

// tungstenite's handshake callback returns its `http::Response` as the
// error: the signature is theirs.
#![allow(clippy::result_large_err)]

mod tls_common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use corering::ws::{self, CloseCode, HandshakeErrorKind, Message, WsError};
use tungstenite::handshake::derive_accept_key;
use tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tungstenite::protocol::frame::coding::{CloseCode as TCode, Data, OpCode};
use tungstenite::protocol::frame::{CloseFrame, Frame};
use tungstenite::Message as TMessage;

type Server = tungstenite::WebSocket<TcpStream>;

/// Runs `f` on a corering runtime (the client must run on a worker).
fn run<T>(f: impl std::future::Future<Output = T>) -> T {
    corering::Runtime::new().expect("runtime").block_on(f)
}

/// A tungstenite server for one connection on an ephemeral port; `serve`
/// runs with the accepted socket (its panics reach the test on join).
fn tungstenite_server(serve: impl FnOnce(Server) + Send + 'static) -> (String, JoinHandle<()>) {
    tungstenite_server_with(|_, resp| Ok(resp), serve)
}

fn tungstenite_server_with(
    answer: impl FnOnce(&Request, Response) -> Result<Response, ErrorResponse> + Send + 'static,
    serve: impl FnOnce(Server) + Send + 'static,
) -> (String, JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("ws://{}/socket", listener.local_addr().unwrap());
    let t = std::thread::spawn(move || {
        let (s, _) = listener.accept().unwrap();
        s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        let ws = tungstenite::accept_hdr(s, answer).expect("tungstenite accepts the handshake");
        serve(ws)
    });
    (url, t)
}

/// Echoes every data message until the client closes.
fn echo(mut ws: Server) {
    loop {
        match ws.read() {
            Ok(m @ (TMessage::Text(_) | TMessage::Binary(_))) => ws.send(m).unwrap(),
            Ok(_) => {}
            Err(tungstenite::Error::ConnectionClosed) => return,
            Err(e) => panic!("server: {e}"),
        }
    }
}

#[test]
fn text_binary_and_one_mebibyte_messages_round_trip() {
    let (url, server) = tungstenite_server(echo);
    run(async {
        let mut ws = ws::connect(&url).await.expect("connect");
        assert_eq!(ws.protocol(), None);
        for text in ["hello", "", "κόσμε 𝄞 — ünïcödé"] {
            ws.send_text(text).await.unwrap();
            match ws.recv().await.unwrap() {
                Some(Message::Text(t)) => assert_eq!(t, text),
                other => panic!("{other:?}"),
            }
        }
        for len in [1usize, 125, 126, 65535, 65536, 100_000] {
            let data: Vec<u8> = (0..len).map(|i| (i * 13 % 256) as u8).collect();
            ws.send_binary(&data).await.unwrap();
            match ws.recv().await.unwrap() {
                Some(Message::Binary(b)) => assert_eq!(b, &data[..], "len {len}"),
                other => panic!("len {len}: {other:?}"),
            }
        }
        let big: String = (0..1 << 20)
            .map(|i| (b'a' + (i % 26) as u8) as char)
            .collect();
        ws.send_text(&big).await.unwrap();
        match ws.recv().await.unwrap() {
            Some(Message::Text(t)) => assert!(t == big, "1 MiB text differs"),
            other => panic!("{other:?}"),
        }
        let bin: Vec<u8> = (0..1 << 20).map(|i| (i % 251) as u8).collect();
        ws.send_binary(&bin).await.unwrap();
        match ws.recv().await.unwrap() {
            Some(Message::Binary(b)) => assert!(b == &bin[..], "1 MiB binary differs"),
            other => panic!("{other:?}"),
        }
        ws.close(CloseCode::NORMAL, "done").await.unwrap();
        assert_eq!(ws.peer_close().map(|(c, _)| c), Some(CloseCode::NORMAL));
    });
    server.join().unwrap();
}

#[test]
fn fragmented_messages_and_pings_from_the_server() {
    let (url, server) = tungstenite_server(|mut ws| {
        // "héllo wörld" in three fragments, the ö cut between two of them,
        // and a ping between the fragments.
        let text = "héllo wörld".as_bytes();
        let cut = text.len() - 4;
        ws.write(TMessage::Frame(Frame::message(
            &text[..3],
            OpCode::Data(Data::Text),
            false,
        )))
        .unwrap();
        ws.write(TMessage::Ping(b"between".to_vec().into()))
            .unwrap();
        ws.write(TMessage::Frame(Frame::message(
            &text[3..cut],
            OpCode::Data(Data::Continue),
            false,
        )))
        .unwrap();
        ws.write(TMessage::Frame(Frame::message(
            &text[cut..],
            OpCode::Data(Data::Continue),
            true,
        )))
        .unwrap();
        // A binary message of 300 KB in 100 KB fragments.
        let bin: Vec<u8> = (0..300_000u32).map(|i| (i % 253) as u8).collect();
        for (i, piece) in bin.chunks(100_000).enumerate() {
            let op = if i == 0 { Data::Binary } else { Data::Continue };
            ws.write(TMessage::Frame(Frame::message(
                piece.to_vec(),
                OpCode::Data(op),
                i == 2,
            )))
            .unwrap();
        }
        ws.flush().unwrap();
        // The client answers the ping with its payload, and its own ping
        // is answered by tungstenite as it reads.
        let mut pong = None;
        let mut reply = None;
        while pong.is_none() || reply.is_none() {
            match ws.read().unwrap() {
                TMessage::Pong(p) => pong = Some(p.to_vec()),
                TMessage::Text(t) => reply = Some(t.to_string()),
                TMessage::Ping(_) => {}
                other => panic!("server got {other:?}"),
            }
        }
        assert_eq!(pong.as_deref(), Some(&b"between"[..]));
        assert_eq!(reply.as_deref(), Some("got both"));
        ws.close(None).unwrap();
        while ws.read().is_ok() {}
    });
    run(async {
        let mut ws = ws::connect(&url).await.expect("connect");
        ws.ping(b"client ping").await.unwrap();
        match ws.recv().await.unwrap() {
            Some(Message::Text(t)) => assert_eq!(t, "héllo wörld"),
            other => panic!("{other:?}"),
        }
        match ws.recv().await.unwrap() {
            Some(Message::Binary(b)) => {
                assert_eq!(b.len(), 300_000);
                assert!(b.iter().enumerate().all(|(i, &x)| x == (i % 253) as u8));
            }
            other => panic!("{other:?}"),
        }
        ws.send_text("got both").await.unwrap();
        // The server closes without a status: the handshake completes.
        assert!(ws.recv().await.unwrap().is_none());
        assert_eq!(ws.peer_close().map(|(c, _)| c), Some(CloseCode::NO_STATUS));
    });
    server.join().unwrap();
}

#[test]
fn close_codes_both_ways() {
    // The server closes with 4000 and a reason.
    let (url, server) = tungstenite_server(|mut ws| {
        ws.close(Some(CloseFrame {
            code: TCode::from(4000),
            reason: "server says bye".into(),
        }))
        .unwrap();
        loop {
            match ws.read() {
                Ok(TMessage::Close(f)) => {
                    assert_eq!(f.map(|f| u16::from(f.code)), Some(4000), "code echoed");
                }
                Ok(_) => {}
                Err(_) => return,
            }
        }
    });
    run(async {
        let mut ws = ws::connect(&url).await.unwrap();
        assert!(ws.recv().await.unwrap().is_none());
        assert_eq!(ws.peer_close(), Some((CloseCode(4000), "server says bye")));
        assert!(matches!(ws.send_text("late").await, Err(WsError::Closed)));
    });
    server.join().unwrap();

    // The client closes with 1001 and a reason; tungstenite sees both.
    let (tx, rx) = std::sync::mpsc::channel();
    let (url, server) = tungstenite_server(move |mut ws| loop {
        match ws.read() {
            Ok(TMessage::Close(Some(f))) => {
                tx.send((u16::from(f.code), f.reason.to_string())).unwrap();
            }
            Ok(_) => {}
            Err(_) => return,
        }
    });
    run(async {
        let mut ws = ws::connect(&url).await.unwrap();
        ws.close(CloseCode::GOING_AWAY, "client leaving")
            .await
            .unwrap();
        assert_eq!(ws.peer_close().map(|(c, _)| c), Some(CloseCode::GOING_AWAY));
    });
    server.join().unwrap();
    assert_eq!(rx.recv().unwrap(), (1001, "client leaving".to_owned()));
}

#[test]
fn subprotocols_offered_chosen_and_refused() {
    let (url, server) = tungstenite_server_with(
        |req, mut resp| {
            let offered = req.headers()["sec-websocket-protocol"].to_str().unwrap();
            assert_eq!(offered, "chat, superchat");
            resp.headers_mut()
                .insert("Sec-WebSocket-Protocol", "superchat".parse().unwrap());
            Ok(resp)
        },
        echo,
    );
    run(async {
        let mut ws = ws::Client::new()
            .protocols(["chat", "superchat"])
            .header("Origin", "http://example.test")
            .connect(&url)
            .await
            .unwrap();
        assert_eq!(ws.protocol(), Some("superchat"));
        ws.send_text("hi").await.unwrap();
        assert!(matches!(
            ws.recv().await.unwrap(),
            Some(Message::Text("hi"))
        ));
        ws.close(CloseCode::NORMAL, "").await.unwrap();
    });
    server.join().unwrap();

    // A server choosing one that was not offered fails the handshake.
    let (url, server) = tungstenite_server_with(
        |_, mut resp| {
            resp.headers_mut()
                .insert("Sec-WebSocket-Protocol", "mqtt".parse().unwrap());
            Ok(resp)
        },
        |mut ws| while ws.read().is_ok() {},
    );
    let err = run(ws::Client::new().protocols(["chat"]).connect(&url)).unwrap_err();
    let WsError::Handshake(e) = &err else {
        panic!("{err}")
    };
    assert_eq!(e.kind(), HandshakeErrorKind::Protocol);
    assert!(err.to_string().contains("mqtt"), "{err}");
    server.join().unwrap();
}

/// A raw server: reads the request head, answers with `answer(key)`, then
/// runs `then` on the socket.
fn raw_server(
    answer: impl FnOnce(&str) -> String + Send + 'static,
    then: impl FnOnce(TcpStream) + Send + 'static,
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
        let key = head
            .lines()
            .find_map(|l| {
                let (n, v) = l.split_once(':')?;
                n.eq_ignore_ascii_case("sec-websocket-key")
                    .then(|| v.trim().to_owned())
            })
            .expect("a Sec-WebSocket-Key");
        s.write_all(answer(&key).as_bytes()).unwrap();
        then(s)
    });
    (url, t)
}

fn switching(accept: &str) -> String {
    format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: {accept}\r\n\r\n"
    )
}

/// Reads one frame a client sent: (opcode, masking key, unmasked payload).
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
    (h[0] & 0x0f, key, p)
}

#[test]
fn a_wrong_accept_key_fails_the_handshake_clearly() {
    let (url, server) = raw_server(|_| switching("dGhpcyBpcyBub3QgdGhlIGtleQ=="), |_| {});
    let err = run(ws::connect(&url)).unwrap_err();
    let WsError::Handshake(e) = &err else {
        panic!("{err}")
    };
    assert_eq!(e.kind(), HandshakeErrorKind::Accept);
    assert!(
        err.to_string().contains("Sec-WebSocket-Accept"),
        "the message names the field: {err}"
    );
    server.join().unwrap();

    // A 101 without `Upgrade: websocket`.
    let (url, server) = raw_server(
        |key| {
            format!(
                "HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n\
                 Sec-WebSocket-Accept: {}\r\n\r\n",
                derive_accept_key(key.as_bytes())
            )
        },
        |_| {},
    );
    let err = run(ws::connect(&url)).unwrap_err();
    assert!(
        matches!(&err, WsError::Handshake(e) if e.kind() == HandshakeErrorKind::Upgrade),
        "{err}"
    );
    server.join().unwrap();

    // An extension nobody offered: permessage-deflate to a client with
    // compression off, and another extension to one that offered
    // permessage-deflate.
    for (compression, ext) in [
        (false, "permessage-deflate"),
        (true, "x-webkit-deflate-frame"),
    ] {
        let (url, server) = raw_server(
            move |key| {
                format!(
                    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
                     Sec-WebSocket-Accept: {}\r\nSec-WebSocket-Extensions: {ext}\r\n\r\n",
                    derive_accept_key(key.as_bytes())
                )
            },
            |_| {},
        );
        let client = ws::Client::new().compression(compression);
        let err = run(client.connect(&url)).unwrap_err();
        assert!(
            matches!(&err, WsError::Handshake(e) if e.kind() == HandshakeErrorKind::Extension),
            "{err}"
        );
        assert!(err.to_string().contains(ext), "the answer is quoted: {err}");
        server.join().unwrap();
    }
}

#[test]
fn a_refusing_server_gives_its_status() {
    let (url, server) = raw_server(
        |_| "HTTP/1.1 403 Forbidden\r\nContent-Length: 3\r\n\r\nno\n".to_owned(),
        |_| {},
    );
    let err = run(ws::connect(&url)).unwrap_err();
    let WsError::Handshake(e) = &err else {
        panic!("{err}")
    };
    assert_eq!(
        (e.kind(), e.status()),
        (HandshakeErrorKind::Rejected, Some(403))
    );
    assert!(err.to_string().contains("403"), "{err}");
    server.join().unwrap();

    let err = run(ws::connect("http://127.0.0.1:1/")).unwrap_err();
    assert!(
        matches!(&err, WsError::Handshake(e) if e.kind() == HandshakeErrorKind::Url),
        "{err}"
    );
}

#[test]
fn frames_are_masked_with_a_fresh_key_each_and_masked_server_frames_get_1002() {
    let (url, server) = raw_server(
        |key| switching(&derive_accept_key(key.as_bytes())),
        |mut s| {
            let (op1, k1, p1) = read_client_frame(&mut s);
            let (op2, k2, p2) = read_client_frame(&mut s);
            assert_eq!((op1, p1.as_slice()), (1, &b"same payload"[..]));
            assert_eq!((op2, p2.as_slice()), (1, &b"same payload"[..]));
            let (k1, k2) = (k1.expect("masked"), k2.expect("masked"));
            assert_ne!(k1, k2, "a fresh masking key per frame");
            // A masked frame from the server: forbidden (RFC 6455 §5.1).
            let key = [1, 2, 3, 4];
            let mut frame = vec![0x81, 0x80 | 2];
            frame.extend_from_slice(&key);
            frame.extend(b"hi".iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
            s.write_all(&frame).unwrap();
            let (op, key, p) = read_client_frame(&mut s);
            assert_eq!(op, 8, "a close frame");
            assert!(key.is_some(), "the close frame is masked too");
            assert_eq!(u16::from_be_bytes([p[0], p[1]]), 1002);
        },
    );
    run(async {
        let mut ws = ws::connect(&url).await.unwrap();
        ws.send_text("same payload").await.unwrap();
        ws.send_text("same payload").await.unwrap();
        match ws.recv().await {
            Err(e @ WsError::Protocol(_)) => {
                assert_eq!(e.close_code(), Some(CloseCode::PROTOCOL));
                assert!(e.to_string().contains("masked server frame"), "{e}");
            }
            other => panic!("expected a protocol error, got {other:?}"),
        }
    });
    server.join().unwrap();
}

#[test]
fn the_connect_timeout_bounds_a_silent_server() {
    // Accepts, reads, never answers.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("ws://{}/", listener.local_addr().unwrap());
    let t = std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        let mut b = [0u8; 1024];
        while s.read(&mut b).is_ok_and(|n| n > 0) {}
    });
    let started = Instant::now();
    let err = run(ws::Client::new()
        .connect_timeout(Duration::from_millis(300))
        .connect(&url))
    .unwrap_err();
    assert!(
        matches!(&err, WsError::Handshake(e) if e.kind() == HandshakeErrorKind::Timeout),
        "{err}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    t.join().unwrap();
}

#[test]
fn wss_through_a_rustls_server() {
    let p = tls_common::pki("ws client CA");
    let config = std::sync::Arc::new(tls_common::server_config(&p));
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    let server = std::thread::spawn(move || {
        let (s, _) = listener.accept().unwrap();
        s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        let conn = rustls::ServerConnection::new(config.clone()).unwrap();
        let tls = rustls::StreamOwned::new(conn, s);
        let mut ws = tungstenite::accept(tls).expect("handshake over TLS");
        loop {
            match ws.read() {
                Ok(m @ (TMessage::Text(_) | TMessage::Binary(_))) => ws.send(m).unwrap(),
                Ok(_) => {}
                Err(_) => break,
            }
        }
        // The second client does not trust this CA: no handshake.
        let (s, _) = listener.accept().unwrap();
        let conn = rustls::ServerConnection::new(config).unwrap();
        assert!(tungstenite::accept(rustls::StreamOwned::new(conn, s)).is_err());
    });
    run(async {
        let client = ws::Client::new().tls(tls_common::trusting(&p));
        let url = format!("wss://localhost:{}/secure", addr.port());
        let mut ws = client.connect(&url).await.expect("wss connect");
        ws.send_text("over tls").await.unwrap();
        assert!(matches!(
            ws.recv().await.unwrap(),
            Some(Message::Text("over tls"))
        ));
        let big = vec![7u8; 200_000];
        ws.send_binary(&big).await.unwrap();
        match ws.recv().await.unwrap() {
            Some(Message::Binary(b)) => assert!(b == &big[..]),
            other => panic!("{other:?}"),
        }
        ws.close(CloseCode::NORMAL, "").await.unwrap();
        // A client that trusts other roots refuses the certificate.
        let err = ws::connect(&url).await.unwrap_err();
        assert!(
            matches!(&err, WsError::Handshake(e) if e.kind() == HandshakeErrorKind::Http),
            "{err}"
        );
        assert!(err.to_string().contains("certificate"), "{err}");
    });
    server.join().unwrap();
}

/// A socket returned out of `Runtime::block_on` outlives its worker:
/// dropping it there does nothing (no goodbye frame to queue, no panic),
/// and the server sees the connection end.
#[test]
fn a_socket_dropped_after_its_runtime_is_gone() {
    let (url, server) = tungstenite_server(|mut ws| loop {
        match ws.read() {
            Ok(_) => {}
            Err(_) => return,
        }
    });
    let ws = run(async { ws::connect(&url).await.expect("connect") });
    drop(ws);
    server.join().expect("the server saw the connection end");
}
