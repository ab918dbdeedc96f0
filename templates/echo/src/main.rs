//! Echo server: every byte received is sent back.
//!
//! ```text
//! cargo run --release --example echo -- --addr 127.0.0.1:7000 --workers 2
//! printf 'hello\n' | nc -q1 127.0.0.1 7000
//! ```
//!
//! Options: `--unix PATH` also listens on a Unix socket; `--acceptor` uses
//! one accepting thread instead of SO_REUSEPORT listeners; `--copy` echoes by
//! copying into the write buffer instead of sending the received buffer back
//! as is.

use corering::cli::{Cli, Flag};
use corering::{AcceptMode, Connection, Server};

/// The command line: `--addr`, `--workers` and these.
const CLI: Cli = Cli::new(
    "echo",
    "echo server: every byte received is sent back",
    7000,
)
.flags(&[
    Flag::value("--unix", "PATH", "also listen on this Unix socket"),
    Flag::switch(
        "--acceptor",
        "accept on one thread instead of SO_REUSEPORT listeners",
    ),
    Flag::switch(
        "--copy",
        "copy into the write buffer instead of sending the received buffer back",
    ),
]);

async fn echo(mut conn: Connection, copy: bool) {
    loop {
        let buf = match conn.read().await {
            Ok(Some(buf)) => buf,
            // Peer closed or reset: we are done.
            Ok(None) | Err(_) => return,
        };
        let sent = if copy {
            conn.write_all(&buf).await
        } else {
            // Zero-copy echo: the received buffer itself is queued for sending
            // and returns to the buffer ring once sent.
            conn.write_owned(buf).await
        };
        if sent.is_err() {
            return;
        }
    }
}

fn main() {
    let args = CLI.parse();
    let mut builder = Server::builder()
        .bind(args.addr.as_str())
        .workers(args.workers);
    if let Some(path) = args.value("--unix") {
        builder = builder.bind_unix(path);
    }
    if args.flag("--acceptor") {
        builder = builder.accept_mode(AcceptMode::Acceptor);
    }
    let copy = args.flag("--copy");
    let result = builder
        .build()
        .and_then(|server| server.serve(move |conn| echo(conn, copy)));
    if let Err(e) = result {
        eprintln!("echo: {e}");
        std::process::exit(1);
    }
}
