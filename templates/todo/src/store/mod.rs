//! Where the todos live: [`Store`] is SQLite (a file, the default) or
//! PostgreSQL (a server), chosen by the `--database` URL.
//!
//! Both keep one table, created when missing:
//! `todos (id, title, done)`, ids assigned by the database from 1 up.

mod postgres;
mod sqlite;

use std::fmt;

pub use self::postgres::PgStore;
pub use self::sqlite::SqliteStore;

use crate::model::{Todo, TodoPatch};

/// The URL used when `--database` is not given: a file in the current
/// directory.
pub const DEFAULT_DATABASE: &str = "sqlite://todo.db";

/// A database failure, with the driver's message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreError(pub String);

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for StoreError {}

/// The todo table on one of the two databases; cheap to clone (shared).
///
/// Every method is async and never blocks a worker: SQLite calls run on
/// the blocking pool (`corering::spawn_blocking`), PostgreSQL calls on the
/// shared tokio runtime (`corering::compat::tokio::run`).
#[derive(Clone)]
pub enum Store {
    /// An SQLite file (`sqlite://PATH`).
    Sqlite(SqliteStore),
    /// A PostgreSQL server (`postgres://...`).
    Postgres(PgStore),
}

impl fmt::Debug for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.kind())
    }
}

impl Store {
    /// Opens the database a URL names, creating the table if missing:
    /// `sqlite://PATH` (relative or, with a third `/`, absolute;
    /// `sqlite://:memory:` for a database that lives as long as the
    /// process) or `postgres://USER@HOST:PORT/DB` (also `postgresql://`).
    ///
    /// ```no_run
    /// # async fn f() -> Result<(), todo::store::StoreError> {
    /// let store = todo::store::Store::open("sqlite:///tmp/todo.db").await?;
    /// let item = store.create("buy milk".into()).await?;
    /// assert_eq!(store.get(item.id).await?, Some(item));
    /// # Ok(()) }
    /// ```
    pub async fn open(url: &str) -> Result<Store, StoreError> {
        if let Some(path) = url.strip_prefix("sqlite://") {
            if path.is_empty() {
                return Err(StoreError("sqlite:// needs a file path".into()));
            }
            return Ok(Store::Sqlite(SqliteStore::open(path.to_owned()).await?));
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(Store::Postgres(PgStore::connect(url.to_owned()).await?));
        }
        Err(StoreError(format!(
            "unsupported database URL {url:?}: use sqlite://PATH or postgres://..."
        )))
    }

    /// `"sqlite"` or `"postgres"`.
    pub fn kind(&self) -> &'static str {
        match self {
            Store::Sqlite(_) => "sqlite",
            Store::Postgres(_) => "postgres",
        }
    }

    /// Every todo, ordered by id.
    pub async fn list(&self) -> Result<Vec<Todo>, StoreError> {
        match self {
            Store::Sqlite(s) => s.list().await,
            Store::Postgres(s) => s.list().await,
        }
    }

    /// One todo, or `None`.
    pub async fn get(&self, id: i64) -> Result<Option<Todo>, StoreError> {
        match self {
            Store::Sqlite(s) => s.get(id).await,
            Store::Postgres(s) => s.get(id).await,
        }
    }

    /// Adds a todo (not done) and returns it with its id.
    pub async fn create(&self, title: String) -> Result<Todo, StoreError> {
        match self {
            Store::Sqlite(s) => s.create(title).await,
            Store::Postgres(s) => s.create(title).await,
        }
    }

    /// Changes the fields present in `patch`; `None` if there is no such todo.
    pub async fn update(&self, id: i64, patch: TodoPatch) -> Result<Option<Todo>, StoreError> {
        match self {
            Store::Sqlite(s) => s.update(id, patch).await,
            Store::Postgres(s) => s.update(id, patch).await,
        }
    }

    /// Removes a todo; `false` if there was none.
    pub async fn delete(&self, id: i64) -> Result<bool, StoreError> {
        match self {
            Store::Sqlite(s) => s.delete(id).await,
            Store::Postgres(s) => s.delete(id).await,
        }
    }
}
