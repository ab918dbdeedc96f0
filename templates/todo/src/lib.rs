//! todo: a JSON CRUD API on SQLite (default) or PostgreSQL, with a small
//! page to use it from a browser.
//!
//! ```text
//! cargo run --release -p todo -- --addr 127.0.0.1:8080                    # SQLite, ./todo.db
//! cargo run --release -p todo -- --database sqlite:///tmp/todos.db         # another file
//! cargo run --release -p todo -- --database postgres://postgres@127.0.0.1:5432/postgres
//! open http://127.0.0.1:8080/                                            # the page
//! curl -i -H 'content-type: application/json' -d '{"title":"milk"}' http://127.0.0.1:8080/todos
//! curl -i http://127.0.0.1:8080/todos
//! curl -i -X PATCH -H 'content-type: application/json' -d '{"done":true}' http://127.0.0.1:8080/todos/1
//! curl -i -X DELETE http://127.0.0.1:8080/todos/1
//! ```
//!
//! The routes are in [`api`]; errors are JSON bodies ([`error`]). The
//! database is a [`store::Store`]: SQLite through `rusqlite` (bundled, so
//! nothing to install) on corering's blocking pool, or PostgreSQL through
//! `tokio-postgres` on the shared tokio runtime (`compat::tokio`). Either
//! way the table is created when missing. The binary (`src/main.rs`) adds
//! the command line; the library lets tests build the same application
//! in-process.

pub mod api;
pub mod error;
pub mod model;
pub mod page;
pub mod store;

pub use api::app;
