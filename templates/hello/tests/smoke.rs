//! The server answers `GET /plaintext` and stops cleanly on SIGTERM.

mod support;

#[test]
fn serves_and_stops() {
    let server = support::Server::start(env!("CARGO_BIN_EXE_{{project-name}}"));
    let answer = support::http_get(server.addr, "/plaintext");
    assert!(answer.starts_with("HTTP/1.1 200 "), "{answer}");
    assert!(answer.ends_with("\r\n\r\nHello, World!"), "{answer}");
    server.stop();
}
