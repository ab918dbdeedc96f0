//! The server answers `GET /plaintext` and stops cleanly on SIGTERM.

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;

#[test]
fn serves_and_stops() {
    let server = support::Server::start(env!("CARGO_BIN_EXE_{{project-name}}"));
    let mut stream = TcpStream::connect(server.addr).expect("connect");
    stream
        .write_all(b"GET /plaintext HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")
        .expect("send the request");
    let mut answer = String::new();
    stream
        .read_to_string(&mut answer)
        .expect("read the response");
    assert!(answer.starts_with("HTTP/1.1 200 "), "{answer}");
    assert!(answer.ends_with("\r\n\r\nHello, World!"), "{answer}");
    server.stop();
}
