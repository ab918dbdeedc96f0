//! `examples/chat` as its users meet it, through a WebSocket client nobody
//! here wrote (tungstenite) and plain HTTP (ureq): the page, the room
//! across workers, the echo endpoint, the limits, and a clean stop with
//! close 1001 to everyone still connected.

mod common;

use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use common::http::ureq_agent;
use common::{start_example, stop_example};
use tungstenite::protocol::frame::coding::CloseCode;
use tungstenite::stream::MaybeTlsStream;
use tungstenite::{Message, WebSocket};

type Client = WebSocket<MaybeTlsStream<TcpStream>>;

fn join(addr: SocketAddr, path: &str) -> Client {
    let (ws, resp) = tungstenite::connect(format!("ws://{addr}{path}")).expect("connect");
    assert_eq!(resp.status().as_u16(), 101);
    if let MaybeTlsStream::Plain(s) = ws.get_ref() {
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    }
    ws
}

/// The next data message (pings are answered by tungstenite itself).
fn next_text(ws: &mut Client) -> String {
    loop {
        match ws.read().expect("read") {
            Message::Text(t) => return t.to_string(),
            Message::Binary(b) => panic!("binary message: {} bytes", b.len()),
            _ => continue,
        }
    }
}

/// The close frame that ends the connection (its code).
fn close_code(ws: &mut Client) -> Option<CloseCode> {
    loop {
        match ws.read() {
            Ok(Message::Close(frame)) => return frame.map(|f| f.code),
            Ok(_) => continue,
            Err(e) => panic!("expected a close frame, got {e}"),
        }
    }
}

#[test]
fn the_page_is_served() {
    let (child, addr) = start_example("chat", &["--addr", "127.0.0.1:0", "--workers", "1"]);
    let mut resp = ureq_agent(Duration::from_secs(10))
        .get(&format!("http://{addr}/"))
        .call()
        .expect("GET /");
    assert_eq!(resp.status().as_u16(), 200);
    let ctype = resp.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(ctype.starts_with("text/html"), "{ctype}");
    let page = resp.body_mut().read_to_string().unwrap();
    assert!(
        page.contains("new WebSocket("),
        "the page opens a WebSocket"
    );
    assert_eq!(stop_example(child, Duration::from_secs(15)).code(), Some(0));
}

#[test]
fn every_client_on_every_worker_gets_every_message() {
    let (child, addr) = start_example("chat", &["--addr", "127.0.0.1:0", "--workers", "2"]);
    // Enough clients that both workers have some (SO_REUSEPORT spreads
    // connections by their addresses).
    let mut clients: Vec<Client> = (0..8).map(|_| join(addr, "/ws")).collect();
    // Give the last joins time to reach their rooms before talking.
    std::thread::sleep(Duration::from_millis(200));
    for (i, sender) in [0, 3, 7].into_iter().enumerate() {
        let text = format!(r#"{{"name":"c{sender}","text":"hello {i} ünïcødé"}}"#);
        clients[sender].send(Message::text(text.clone())).unwrap();
        for (j, c) in clients.iter_mut().enumerate() {
            assert_eq!(next_text(c), text, "client {j}, message {i}");
        }
    }
    // Binary is refused with 1003; the others carry on.
    clients[1].send(Message::binary(vec![1, 2, 3])).unwrap();
    assert_eq!(close_code(&mut clients[1]), Some(CloseCode::Unsupported));
    clients[2].send(Message::text("still here")).unwrap();
    for (j, c) in clients.iter_mut().enumerate().filter(|(j, _)| *j != 1) {
        assert_eq!(next_text(c), "still here", "client {j}");
    }
    // A message over the chat limit (16 KiB) is 1009 for its sender only.
    clients[4]
        .send(Message::text("x".repeat(20 * 1024)))
        .unwrap();
    assert_eq!(close_code(&mut clients[4]), Some(CloseCode::Size));
    clients[5].send(Message::text("after")).unwrap();
    for (j, c) in clients
        .iter_mut()
        .enumerate()
        .filter(|(j, _)| ![1, 4].contains(j))
    {
        assert_eq!(next_text(c), "after", "client {j}");
    }
    assert_eq!(stop_example(child, Duration::from_secs(15)).code(), Some(0));
}

#[test]
fn echo_sends_back_text_and_binary_unchanged() {
    let (child, addr) = start_example("chat", &["--addr", "127.0.0.1:0", "--workers", "1"]);
    let mut ws = join(addr, "/echo");
    let big: Vec<u8> = (0..1 << 20).map(|i| (i * 7 % 251) as u8).collect();
    for msg in [
        Message::text("héllo"),
        Message::binary(big),
        Message::text(""),
    ] {
        ws.send(msg.clone()).unwrap();
        let got = loop {
            match ws.read().unwrap() {
                m @ (Message::Text(_) | Message::Binary(_)) => break m,
                _ => continue,
            }
        };
        assert_eq!(got, msg);
    }
    ws.close(None).unwrap();
    assert_eq!(stop_example(child, Duration::from_secs(15)).code(), Some(0));
}

#[test]
fn sigterm_says_going_away_to_every_client_and_exits_0() {
    let (child, addr) = start_example("chat", &["--addr", "127.0.0.1:0", "--workers", "2"]);
    let mut clients: Vec<Client> = (0..4)
        .map(|i| join(addr, if i % 2 == 0 { "/ws" } else { "/echo" }))
        .collect();
    let began = Instant::now();
    let stopper = std::thread::spawn(move || stop_example(child, Duration::from_secs(15)));
    for c in &mut clients {
        assert_eq!(close_code(c), Some(CloseCode::Away));
        // Answer the close so the server need not wait out its timeout.
        let _ = c.flush();
    }
    let status = stopper.join().unwrap();
    assert_eq!(status.code(), Some(0), "{status}");
    assert!(
        began.elapsed() < Duration::from_secs(10),
        "{:?}",
        began.elapsed()
    );
}
