//! The API on a real PostgreSQL server that the test starts itself
//! (`initdb` in a temporary directory, `pg_ctl start`; see
//! `common/postgres.rs`), through tokio-postgres on the shared tokio
//! runtime. Prints `SKIP:` without PostgreSQL installed, unless
//! `CORERING_REQUIRE_POSTGRES` is set.

mod common;

use std::process::Command;

use common::api::{self, Client};
use common::open_store;
use common::postgres::PgServer;
use serde_json::json;

/// Empties the table between runs on the same server.
fn reset(pg: &PgServer) {
    let store = open_store(&pg.url).expect("connect to PostgreSQL");
    let app = common::serve(store);
    let c = Client::new(app.addr);
    for t in c.get("/todos").body.as_array().cloned().unwrap_or_default() {
        assert_eq!(c.delete(&format!("/todos/{}", t["id"])).status, 204);
    }
}

#[test]
fn crud_on_postgres() {
    let Some(pg) = PgServer::start() else { return };
    let store = open_store(&pg.url).expect("connect to PostgreSQL");
    assert_eq!(store.kind(), "postgres");
    let app = common::serve(store);
    let c = Client::new(app.addr);
    api::crud_round(&c);
    reset(&pg);
    api::bad_requests(&c);
    api::concurrent_creates(app.addr);

    // What the API stored is what PostgreSQL holds, seen by psql (a client
    // nobody here wrote) when it is installed.
    let id = api::create(&c, "seen by psql");
    c.json("PATCH", &format!("/todos/{id}"), &json!({ "done": true }));
    let psql = Command::new("psql")
        .args([&pg.url, "-At", "-c"])
        .arg(format!("SELECT title, done FROM todos WHERE id = {id}"))
        .output();
    match psql {
        Ok(out) if out.status.success() => {
            assert_eq!(
                String::from_utf8_lossy(&out.stdout).trim(),
                "seen by psql|t"
            );
        }
        _ => eprintln!("psql not usable; skipped the cross-check"),
    }
}

#[test]
fn the_binary_serves_postgres() {
    let Some(pg) = PgServer::start() else { return };
    let server = common::binary::Running::start(&["--database", &pg.url]);
    let c = Client::new(server.addr);
    let id = api::create(&c, "from the binary");
    assert_eq!(
        c.get(&format!("/todos/{id}")).body["title"],
        "from the binary"
    );
    server.stop();
    // A second run finds the table and the todo where they were.
    let server = common::binary::Running::start(&["--database", &pg.url]);
    let c = Client::new(server.addr);
    assert_eq!(c.get(&format!("/todos/{id}")).status, 200);
    server.stop();
}

#[test]
fn an_unreachable_server_is_reported() {
    let Some(pg) = PgServer::start() else { return };
    // The right server, a database that does not exist.
    let url = pg.url.replace("/postgres", "/no_such_db");
    let e = open_store(&url).expect_err("no such database");
    assert!(e.0.contains("postgres"), "{e}");
    drop(pg);
}
