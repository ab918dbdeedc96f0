//! The server serves its page and stops cleanly on SIGTERM.

mod support;

#[test]
fn serves_and_stops() {
    let server = support::Server::start(env!("CARGO_BIN_EXE_{{project-name}}"));
    let answer = support::http_get(server.addr, "/");
    assert!(answer.starts_with("HTTP/1.1 200 "), "{answer}");
    assert!(answer.contains("new WebSocket("), "the page opens no WebSocket");
    server.stop();
}
