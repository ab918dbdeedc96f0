//! The server creates and lists a todo on SQLite (a file in the temporary
//! directory, never the crate's own todo.db) and stops cleanly on SIGTERM.

mod support;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};

/// Sends one request and returns the whole response.
fn exchange(addr: SocketAddr, request: &str) -> String {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream
        .write_all(request.as_bytes())
        .expect("send the request");
    let mut answer = String::new();
    stream
        .read_to_string(&mut answer)
        .expect("read the response");
    answer
}

#[test]
fn creates_lists_and_stops() {
    let db = std::env::temp_dir().join(format!("todo-smoke-{}.db", std::process::id()));
    let url = format!("sqlite://{}", db.display());
    let server = support::Server::start_with(
        env!("CARGO_BIN_EXE_{{project-name}}"),
        &["--database", &url],
    );
    let body = r#"{"title":"smoke"}"#;
    let created = exchange(
        server.addr,
        &format!(
            "POST /todos HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        ),
    );
    assert!(created.starts_with("HTTP/1.1 201 "), "{created}");
    assert!(
        created.ends_with(r#"{"id":1,"title":"smoke","done":false}"#),
        "{created}"
    );
    let listed = exchange(
        server.addr,
        "GET /todos HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n",
    );
    assert!(
        listed.ends_with(r#"[{"id":1,"title":"smoke","done":false}]"#),
        "{listed}"
    );
    server.stop();
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
    }
}
