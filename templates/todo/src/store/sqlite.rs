//! The SQLite store: one connection (WAL mode) behind a mutex, used from
//! the blocking pool so that no worker waits on the file system.

use std::sync::{Arc, Mutex};

use corering::spawn_blocking;
use rusqlite::{params, Connection, OptionalExtension, Row};

use super::StoreError;
use crate::model::{Todo, TodoPatch};

/// The todo table in an SQLite file; clones share the connection.
#[derive(Clone)]
pub struct SqliteStore {
    conn: Arc<Mutex<Connection>>,
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> StoreError {
        StoreError(format!("sqlite: {e}"))
    }
}

/// A row of `SELECT id, title, done` as a todo.
fn todo_from_row(row: &Row<'_>) -> rusqlite::Result<Todo> {
    Ok(Todo {
        id: row.get(0)?,
        title: row.get(1)?,
        done: row.get(2)?,
    })
}

impl SqliteStore {
    /// Opens (or creates) the file at `path` (`:memory:` for none), turns
    /// on WAL mode and creates the table if missing.
    pub async fn open(path: String) -> Result<SqliteStore, StoreError> {
        let conn = spawn_blocking(move || -> Result<Connection, StoreError> {
            let conn = Connection::open(&path)?;
            // WAL: readers (another process, a backup) do not block the
            // writer. An in-memory database answers "memory" instead.
            let _mode: String = conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))?;
            conn.busy_timeout(std::time::Duration::from_secs(5))?;
            conn.execute_batch(
                "CREATE TABLE IF NOT EXISTS todos (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    title TEXT NOT NULL,
                    done INTEGER NOT NULL DEFAULT 0
                )",
            )?;
            Ok(conn)
        })
        .await?;
        Ok(SqliteStore {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    /// Runs `f` on the connection, on the blocking pool.
    async fn with<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        F: FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
        T: Send + 'static,
    {
        let conn = self.conn.clone();
        spawn_blocking(move || {
            // A panic while holding the lock leaves the connection usable:
            // every statement is a transaction of its own.
            let conn = conn.lock().unwrap_or_else(|p| p.into_inner());
            f(&conn).map_err(StoreError::from)
        })
        .await
    }

    /// Every todo, ordered by id.
    pub async fn list(&self) -> Result<Vec<Todo>, StoreError> {
        self.with(|c| {
            let mut stmt = c.prepare_cached("SELECT id, title, done FROM todos ORDER BY id")?;
            let rows = stmt.query_map([], todo_from_row)?;
            rows.collect()
        })
        .await
    }

    /// One todo, or `None`.
    pub async fn get(&self, id: i64) -> Result<Option<Todo>, StoreError> {
        self.with(move |c| {
            c.prepare_cached("SELECT id, title, done FROM todos WHERE id = ?1")?
                .query_row([id], todo_from_row)
                .optional()
        })
        .await
    }

    /// Adds a todo and returns it with its id.
    pub async fn create(&self, title: String) -> Result<Todo, StoreError> {
        self.with(move |c| {
            c.prepare_cached("INSERT INTO todos (title) VALUES (?1) RETURNING id, title, done")?
                .query_row([title], todo_from_row)
        })
        .await
    }

    /// Changes the fields present in `patch`; `None` if there is no such todo.
    pub async fn update(&self, id: i64, patch: TodoPatch) -> Result<Option<Todo>, StoreError> {
        self.with(move |c| {
            c.prepare_cached(
                "UPDATE todos SET title = COALESCE(?1, title), done = COALESCE(?2, done)
                 WHERE id = ?3 RETURNING id, title, done",
            )?
            .query_row(params![patch.title, patch.done, id], todo_from_row)
            .optional()
        })
        .await
    }

    /// Removes a todo; `false` if there was none.
    pub async fn delete(&self, id: i64) -> Result<bool, StoreError> {
        self.with(move |c| {
            let n = c
                .prepare_cached("DELETE FROM todos WHERE id = ?1")?
                .execute([id])?;
            Ok(n > 0)
        })
        .await
    }
}
