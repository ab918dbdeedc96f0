//! The server keeps a key (spoken to in RESP, Redis' protocol) and stops
//! cleanly on SIGTERM.

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;

/// Sends one command and reads an answer of `want.len()` bytes.
fn command(stream: &mut TcpStream, args: &[&str], want: &str) {
    let mut req = format!("*{}\r\n", args.len());
    for a in args {
        req += &format!("${}\r\n{a}\r\n", a.len());
    }
    stream.write_all(req.as_bytes()).expect("send");
    let mut got = vec![0; want.len()];
    stream.read_exact(&mut got).expect("read the answer");
    assert_eq!(String::from_utf8_lossy(&got), want, "{args:?}");
}

#[test]
fn serves_and_stops() {
    let server = support::Server::start(env!("CARGO_BIN_EXE_{{project-name}}"));
    let mut stream = TcpStream::connect(server.addr).expect("connect");
    command(&mut stream, &["SET", "greeting", "hi"], "+OK\r\n");
    command(&mut stream, &["GET", "greeting"], "$2\r\nhi\r\n");
    drop(stream);
    server.stop();
}
