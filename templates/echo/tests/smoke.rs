//! The server sends every byte back and stops cleanly on SIGTERM.

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;

#[test]
fn serves_and_stops() {
    let server = support::Server::start(env!("CARGO_BIN_EXE_{{project-name}}"));
    let mut stream = TcpStream::connect(server.addr).expect("connect");
    let sent: Vec<u8> = (0..4096u32).map(|i| (i * 7 + 3) as u8).collect();
    stream.write_all(&sent).expect("send");
    let mut echoed = vec![0; sent.len()];
    stream.read_exact(&mut echoed).expect("read the echo");
    assert_eq!(echoed, sent);
    drop(stream);
    server.stop();
}
