//! WebSocket conversations with tungstenite, a client nobody here wrote:
//! text, binary, large and fragmented messages, pings both ways, close
//! codes and subprotocols.

mod ws_common;

use std::time::Duration;

use tungstenite::client::IntoClientRequest;
use tungstenite::protocol::frame::coding::{CloseCode, Data, OpCode};
use tungstenite::protocol::frame::{CloseFrame, Frame};
use tungstenite::Message;
use ws_common::{assert_echoes, client, start};

#[test]
fn text_and_binary_echo() {
    let (_s, addr) = start();
    let mut ws = client(addr, "/echo");
    assert_echoes(&mut ws, "hello");
    assert_echoes(&mut ws, "");
    assert_echoes(&mut ws, "κόσμε 𝄞 — ünïcödé");
    for len in [
        0usize, 1, 125, 126, 127, 1000, 4095, 4096, 4097, 65535, 65536, 100_000,
    ] {
        let data: Vec<u8> = (0..len).map(|i| (i * 13 % 256) as u8).collect();
        ws.send(Message::binary(data.clone())).unwrap();
        match ws.read().unwrap() {
            Message::Binary(b) => assert_eq!(&b[..], &data[..], "len {len}"),
            other => panic!("len {len}: {other:?}"),
        }
    }
    ws.close(None).unwrap();
}

#[test]
fn one_mebibyte_messages_both_kinds() {
    let (_s, addr) = start();
    let mut ws = client(addr, "/echo");
    let text: String = (0..(1 << 20))
        .map(|i| (b'a' + (i % 26) as u8) as char)
        .collect();
    ws.send(Message::text(text.clone())).unwrap();
    match ws.read().unwrap() {
        Message::Text(t) => assert!(t.as_str() == text, "text differs"),
        other => panic!("{other:?}"),
    }
    let bin: Vec<u8> = (0..(1 << 20)).map(|i| (i % 251) as u8).collect();
    ws.send(Message::binary(bin.clone())).unwrap();
    match ws.read().unwrap() {
        Message::Binary(b) => assert!(b[..] == bin[..], "binary differs"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn fragmented_messages_with_pings_between_fragments() {
    let (_s, addr) = start();
    let mut ws = client(addr, "/echo");
    // "héllo wörld" in three fragments, the ö cut between the second and
    // third, and a ping between the fragments.
    let text = "héllo wörld".as_bytes();
    let cut = text.iter().position(|&b| b == 0xC3).unwrap() + 1;
    let cut = text[cut..].iter().position(|&b| b == 0xC3).unwrap() + cut + 1;
    ws.write(Message::Frame(Frame::message(
        &text[..3],
        OpCode::Data(Data::Text),
        false,
    )))
    .unwrap();
    ws.write(Message::Ping(b"between".to_vec().into())).unwrap();
    ws.write(Message::Frame(Frame::message(
        &text[3..cut],
        OpCode::Data(Data::Continue),
        false,
    )))
    .unwrap();
    ws.write(Message::Frame(Frame::message(
        &text[cut..],
        OpCode::Data(Data::Continue),
        true,
    )))
    .unwrap();
    ws.flush().unwrap();
    // The pong comes first (answered at once), then the whole message.
    match ws.read().unwrap() {
        Message::Pong(p) => assert_eq!(&p[..], b"between"),
        other => panic!("expected the pong, got {other:?}"),
    }
    match ws.read().unwrap() {
        Message::Text(t) => assert_eq!(t.as_str(), "héllo wörld"),
        other => panic!("{other:?}"),
    }
    // A binary message of many fragments, then a plain one.
    let data: Vec<u8> = (0..50_000u32).map(|i| (i % 253) as u8).collect();
    let pieces: Vec<&[u8]> = data.chunks(7000).collect();
    for (i, p) in pieces.iter().enumerate() {
        let op = if i == 0 { Data::Binary } else { Data::Continue };
        ws.write(Message::Frame(Frame::message(
            p.to_vec(),
            OpCode::Data(op),
            i + 1 == pieces.len(),
        )))
        .unwrap();
    }
    ws.flush().unwrap();
    match ws.read().unwrap() {
        Message::Binary(b) => assert!(b[..] == data[..]),
        other => panic!("{other:?}"),
    }
    assert_echoes(&mut ws, "after");
}

#[test]
fn pings_are_answered_and_keepalive_pings_arrive() {
    let (_s, addr) = start();
    let mut ws = client(addr, "/echo");
    ws.send(Message::Ping(b"are you there".to_vec().into()))
        .unwrap();
    match ws.read().unwrap() {
        Message::Pong(p) => assert_eq!(&p[..], b"are you there"),
        other => panic!("{other:?}"),
    }
    // A route with keep-alive pings every 100 ms: one arrives unasked.
    let mut ws = client(addr, "/pinger");
    match ws.read().unwrap() {
        Message::Ping(_) => {}
        other => panic!("expected a keep-alive ping, got {other:?}"),
    }
    assert_echoes(&mut ws, "still here");
}

/// The client closes: the server answers with the same code.
#[test]
fn client_close_is_answered_with_its_code() {
    let (_s, addr) = start();
    for code in [1000u16, 1001, 3000, 4999] {
        let mut ws = client(addr, "/echo");
        assert_echoes(&mut ws, "x");
        ws.close(Some(CloseFrame {
            code: CloseCode::from(code),
            reason: "bye".into(),
        }))
        .unwrap();
        loop {
            match ws.read() {
                Ok(Message::Close(Some(f))) => {
                    assert_eq!(u16::from(f.code), code);
                }
                Ok(Message::Close(None)) => panic!("code {code}: close without a code"),
                Ok(other) => panic!("code {code}: {other:?}"),
                // The handshake is complete and the server ended the
                // connection: a clean close.
                Err(tungstenite::Error::ConnectionClosed) => break,
                Err(e) => panic!("code {code}: {e}"),
            }
        }
    }
}

/// The server closes: the client sees its code and reason, answers, and
/// the connection ends.
#[test]
fn server_close_carries_code_and_reason() {
    let (_s, addr) = start();
    for (code, reason) in [(1000u16, "done"), (1008, "policy"), (4001, "app says no")] {
        let mut ws = client(addr, "/closer");
        assert_echoes(&mut ws, "first");
        ws.send(Message::text(format!("close {code} {reason}")))
            .unwrap();
        match ws.read().unwrap() {
            Message::Close(Some(f)) => {
                assert_eq!(u16::from(f.code), code);
                assert_eq!(f.reason.as_str(), reason);
            }
            other => panic!("{other:?}"),
        }
        // tungstenite has queued its answer; reading on flushes it, and
        // the server then ends the connection.
        match ws.read() {
            Err(tungstenite::Error::ConnectionClosed | tungstenite::Error::AlreadyClosed) => {}
            Err(e) => panic!("{e}"),
            Ok(m) => panic!("after close: {m:?}"),
        }
    }
}

#[test]
fn subprotocol_by_server_preference() {
    let (_s, addr) = start();
    let mut req = format!("ws://{addr}/proto").into_client_request().unwrap();
    req.headers_mut()
        .insert("Sec-WebSocket-Protocol", "chat, superchat".parse().unwrap());
    let (mut ws, resp) = tungstenite::connect(req).unwrap();
    assert_eq!(
        resp.headers()
            .get("Sec-WebSocket-Protocol")
            .and_then(|v| v.to_str().ok()),
        Some("superchat")
    );
    match ws.read().unwrap() {
        Message::Text(t) => assert_eq!(t.as_str(), "protocol superchat"),
        other => panic!("{other:?}"),
    }
    // Offering only one the server knows.
    let mut req = format!("ws://{addr}/proto").into_client_request().unwrap();
    req.headers_mut()
        .insert("Sec-WebSocket-Protocol", "mqtt, chat".parse().unwrap());
    let (mut ws, _) = tungstenite::connect(req).unwrap();
    match ws.read().unwrap() {
        Message::Text(t) => assert_eq!(t.as_str(), "protocol chat"),
        other => panic!("{other:?}"),
    }
    // Offering none: no protocol header, and none agreed.
    let (mut ws, resp) = tungstenite::connect(format!("ws://{addr}/proto")).unwrap();
    assert!(resp.headers().get("Sec-WebSocket-Protocol").is_none());
    match ws.read().unwrap() {
        Message::Text(t) => assert_eq!(t.as_str(), "protocol none"),
        other => panic!("{other:?}"),
    }
}

/// Requests that are not WebSocket handshakes get 426 or 400, with a body
/// that says why (ureq: an HTTP client nobody here wrote).
#[test]
fn bad_handshakes_are_refused() {
    let (_s, addr) = start();
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(10)))
        .build()
        .into();
    let url = format!("http://{addr}/echo");
    let mut plain = agent.get(&url).call().unwrap();
    assert_eq!(plain.status().as_u16(), 426);
    assert_eq!(
        plain.headers().get("upgrade").and_then(|v| v.to_str().ok()),
        Some("websocket")
    );
    let body = plain.body_mut().read_to_string().unwrap();
    assert!(body.contains("Upgrade: websocket"), "{body}");

    // The rest on a raw socket: ureq will not send `Connection: upgrade`.
    use std::io::{Read, Write};
    let ask = |extra: &str| -> String {
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        write!(
            s,
            "GET /echo HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n{extra}Connection: close\r\n\r\n"
        )
        .unwrap();
        let mut out = String::new();
        let _ = s.read_to_string(&mut out);
        out
    };
    let no_version = ask("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n");
    assert!(no_version.starts_with("HTTP/1.1 426"), "{no_version}");
    assert!(
        no_version.contains("Sec-WebSocket-Version: 13"),
        "{no_version}"
    );
    let old_version =
        ask("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n");
    assert!(old_version.starts_with("HTTP/1.1 426"), "{old_version}");
    let short_key = ask("Sec-WebSocket-Key: c2hvcnQ=\r\nSec-WebSocket-Version: 13\r\n");
    assert!(short_key.starts_with("HTTP/1.1 400"), "{short_key}");
    assert!(short_key.contains("16 bytes"), "{short_key}");
    let no_key = ask("Sec-WebSocket-Version: 13\r\n");
    assert!(no_key.starts_with("HTTP/1.1 400"), "{no_key}");
}

/// A server shutting down sends 1001 to its WebSocket clients and exits
/// once they answer.
#[test]
fn server_shutdown_says_going_away() {
    let (server, addr) = start();
    let mut ws = client(addr, "/echo");
    assert_echoes(&mut ws, "hi");
    let stopper = std::thread::spawn(move || server.shutdown());
    match ws.read().unwrap() {
        Message::Close(Some(f)) => assert_eq!(u16::from(f.code), 1001),
        other => panic!("expected a close frame, got {other:?}"),
    }
    match ws.read() {
        Err(tungstenite::Error::ConnectionClosed | tungstenite::Error::AlreadyClosed) => {}
        other => panic!("after close: {other:?}"),
    }
    stopper.join().unwrap().unwrap();
}
