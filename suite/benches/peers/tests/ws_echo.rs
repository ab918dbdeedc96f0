//! The WebSocket echo peers of the `ws_load` bench (`tungstenite_echo`,
//! `fastwebsockets_echo`), seen from outside with tokio-tungstenite's client: text and
//! binary messages (up to 1 MiB) come back unchanged, a ping gets its pong, a close gets
//! its close back with the same code, and SIGTERM ends the server with status 0. Run with
//! `cargo test --release --manifest-path benches/peers/Cargo.toml --target-dir
//! benches/peers/target`.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};

use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::Message;

/// A running peer on a free loopback port, killed when dropped.
struct Peer {
    child: Child,
    addr: SocketAddr,
}

impl Peer {
    fn start(bin: &str) -> Peer {
        let mut child = Command::new(bin)
            .args(["--addr", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .spawn()
            .expect("starting the peer");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("piped stdout"))
            .read_line(&mut line)
            .expect("reading the listen line");
        let addr = line
            .trim()
            .strip_prefix("listening on ")
            .and_then(|a| a.parse().ok())
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"));
        Peer { child, addr }
    }

    /// SIGTERM, then the exit status.
    fn terminate(mut self) -> std::process::ExitStatus {
        // SAFETY: kill(2) on our own child, not yet reaped.
        unsafe { libc::kill(self.child.id() as libc::pid_t, libc::SIGTERM) };
        self.child.wait().expect("waiting for the peer")
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn check_echo(bin: &str) {
    let peer = Peer::start(bin);
    let url = format!("ws://{}/echo", peer.addr);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let tcp = tokio::net::TcpStream::connect(peer.addr).await.unwrap();
        let (mut ws, answer) = tokio_tungstenite::client_async(&url, tcp).await.unwrap();
        assert_eq!(answer.status(), 101);

        let big: Vec<u8> = (0..1 << 20).map(|i: u32| (i * 7 + i / 251) as u8).collect();
        let messages = [
            Message::text("héllo, wörld"),
            Message::binary(vec![0u8, 1, 2, 255]),
            Message::text(""),
            Message::binary(big),
        ];
        for msg in messages {
            ws.send(msg.clone()).await.unwrap();
            let echo = ws.next().await.expect("an echo").unwrap();
            assert!(
                echo == msg,
                "{bin}: echo of a {}-byte message differs",
                msg.len()
            );
        }

        ws.send(Message::Ping(b"are you there".to_vec().into()))
            .await
            .unwrap();
        let pong = ws.next().await.expect("a pong").unwrap();
        assert_eq!(
            pong,
            Message::Pong(b"are you there".to_vec().into()),
            "{bin}"
        );

        ws.close(Some(CloseFrame {
            code: CloseCode::Away,
            reason: "bye".into(),
        }))
        .await
        .unwrap();
        match ws.next().await {
            Some(Ok(Message::Close(Some(frame)))) => {
                assert_eq!(frame.code, CloseCode::Away, "{bin}")
            }
            other => panic!("{bin}: no close frame back: {other:?}"),
        }
    });
    assert!(peer.terminate().success(), "{bin} exits 0 on SIGTERM");
}

#[test]
fn tungstenite_echo_echoes_pongs_and_closes() {
    check_echo(env!("CARGO_BIN_EXE_tungstenite_echo"));
}

#[test]
fn fastwebsockets_echo_echoes_pongs_and_closes() {
    check_echo(env!("CARGO_BIN_EXE_fastwebsockets_echo"));
}
