//! The API on SQLite (a file in a temporary directory), served in-process
//! by a real server on a loopback port and driven with ureq.

mod common;

use common::api::{self, Client};
use common::open_store;
use common::tempdir::TempDir;
use serde_json::json;

/// A server on a fresh SQLite file in `dir`.
fn serve(dir: &TempDir) -> common::Served {
    let url = format!("sqlite://{}", dir.path().join("todo.db").display());
    common::serve(open_store(&url).expect("open SQLite"))
}

#[test]
fn crud_on_sqlite() {
    let dir = TempDir::new("sqlite-crud");
    let app = serve(&dir);
    api::crud_round(&Client::new(app.addr));
}

#[test]
fn bad_requests_on_sqlite_are_json_errors() {
    let dir = TempDir::new("sqlite-bad");
    let app = serve(&dir);
    let c = Client::new(app.addr);
    api::create(&c, "keep me");
    api::bad_requests(&c);
}

#[test]
fn concurrent_clients_on_sqlite() {
    let dir = TempDir::new("sqlite-concurrent");
    let app = serve(&dir);
    api::concurrent_creates(app.addr);
}

#[test]
fn todos_outlive_the_server() {
    let dir = TempDir::new("sqlite-persist");
    let id = {
        let app = serve(&dir);
        let c = Client::new(app.addr);
        let id = api::create(&c, "survive a restart");
        c.json("PATCH", &format!("/todos/{id}"), &json!({ "done": true }));
        id
    };
    // The same file, a new server: the todo is still there, and SQLite
    // wrote it through its WAL (the -wal file sits next to the database).
    let app = serve(&dir);
    let got = Client::new(app.addr).get(&format!("/todos/{id}"));
    assert_eq!(
        got.body,
        json!({ "id": id, "title": "survive a restart", "done": true })
    );
    let wal = dir.path().join("todo.db-wal");
    let mode = rusqlite_journal_mode(&dir);
    assert!(mode == "wal" || wal.exists(), "journal mode {mode:?}");
}

/// The journal mode SQLite reports for the file (read with the sqlite3
/// program when installed; else the -wal file's presence is the check).
fn rusqlite_journal_mode(dir: &TempDir) -> String {
    std::process::Command::new("sqlite3")
        .arg(dir.path().join("todo.db"))
        .arg("PRAGMA journal_mode;")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default()
}

#[test]
fn the_page_is_served_at_the_root() {
    let dir = TempDir::new("sqlite-page");
    let app = serve(&dir);
    let page = Client::new(app.addr).get("/");
    assert_eq!(page.status, 200);
    assert!(page.content_type.unwrap().starts_with("text/html"));
    let html = page.body.as_str().expect("HTML text");
    assert!(html.contains("<title>corering todo</title>"), "{html}");
    // The page uses the API it is served with.
    assert!(html.contains("\"/todos\""), "{html}");
}

#[test]
fn database_urls_are_checked() {
    for bad in ["mysql://x", "todo.db", "sqlite://", ""] {
        let e = open_store(bad)
            .err()
            .unwrap_or_else(|| panic!("{bad:?} opened"));
        assert!(!e.0.is_empty(), "{bad:?}");
    }
    // A directory that does not exist: SQLite's own error, not a panic.
    let e = open_store("sqlite:///nonexistent-dir/sub/todo.db").expect_err("no such dir");
    assert!(e.0.contains("sqlite"), "{e}");
    // An in-memory database works (and is empty).
    let store = open_store("sqlite://:memory:").expect("in memory");
    assert_eq!(store.kind(), "sqlite");
    let app = common::serve(store);
    assert_eq!(Client::new(app.addr).get("/todos").body, json!([]));
}
