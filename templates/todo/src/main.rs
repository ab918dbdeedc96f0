//! The `todo` binary: the command line and the server (see the library's
//! docs, `src/lib.rs`, for the API and how to run it on each database).
//!
//! ```text
//! todo [--addr HOST:PORT] [--workers N] [--database URL] [--static DIR]
//! ```
//!
//! `--static` defaults to the `static/` directory of this crate's sources
//! (`CARGO_MANIFEST_DIR`), so `cargo run` works from the workspace root
//! and from the package's directory alike.

use std::path::PathBuf;

use corering::cli::{Cli, Flag};
use corering::http::{self, Http1Config};
use corering::{Runtime, Server};
use todo::store::{Store, DEFAULT_DATABASE};

/// The command line: `--addr`, `--workers`, `--database` and `--static`.
const CLI: Cli = Cli::new("todo", "JSON todo API on SQLite or PostgreSQL", 8080).flags(&[
    Flag::value(
        "--database",
        "URL",
        "sqlite://PATH or postgres://USER@HOST:PORT/DB",
    )
    .default(DEFAULT_DATABASE),
    Flag::value(
        "--static",
        "DIR",
        "the page and its files (default: the crate's static/)",
    ),
]);

fn main() {
    let args = CLI.parse();
    let url = args
        .value("--database")
        .unwrap_or(DEFAULT_DATABASE)
        .to_owned();
    // Open the database (and create the table) before listening, so a bad
    // URL or an unreachable server is reported at once. On a thread of its
    // own: a runtime's io_uring, torn down, sends its thread signal-like
    // task work that would interrupt this thread's blocking calls.
    let opener = url.clone();
    let opened = std::thread::spawn(move || {
        Runtime::new()
            .map_err(|e| e.to_string())
            .and_then(|rt| rt.block_on(Store::open(&opener)).map_err(|e| e.to_string()))
    })
    .join()
    .unwrap_or_else(|_| Err("the database opener panicked".into()));
    let store = match opened {
        Ok(store) => store,
        Err(e) => {
            eprintln!("todo: cannot open {url}: {e}");
            std::process::exit(1);
        }
    };
    eprintln!("todo: database {} ({url})", store.kind());
    let cfg = Http1Config::new().server_name(Some("corering"));
    let static_dir = match args.value("--static") {
        Some(dir) => PathBuf::from(dir),
        None => todo::page::default_static_dir(),
    };
    if !static_dir.is_dir() {
        eprintln!("todo: --static {}: not a directory", static_dir.display());
        std::process::exit(1);
    }
    let app = todo::app(store, static_dir);
    let result = Server::builder()
        .bind(args.addr.as_str())
        .workers(args.workers)
        .build()
        .and_then(|server| server.serve(move |conn| http::serve(conn, cfg, app.clone())));
    if let Err(e) = result {
        eprintln!("todo: {e}");
        std::process::exit(1);
    }
}
