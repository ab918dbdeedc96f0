//! The PostgreSQL store: one `tokio-postgres` client on corering's shared
//! tokio runtime; each call crosses over with `compat::tokio::run`.
//!
//! One client is enough here: it pipelines the statements of concurrent
//! requests over its connection.

use std::sync::Arc;

use corering::compat::tokio::run;
use tokio_postgres::{Client, NoTls, Row};

use super::StoreError;
use crate::model::{Todo, TodoPatch};

/// The todo table on a PostgreSQL server; clones share the client.
#[derive(Clone)]
pub struct PgStore {
    client: Arc<Client>,
}

impl From<tokio_postgres::Error> for StoreError {
    fn from(e: tokio_postgres::Error) -> StoreError {
        StoreError(format!("postgres: {e}"))
    }
}

/// A row of `SELECT id, title, done` as a todo.
fn todo_from_row(row: &Row) -> Todo {
    Todo {
        id: row.get(0),
        title: row.get(1),
        done: row.get(2),
    }
}

const CREATE_TABLE: &str = "CREATE TABLE IF NOT EXISTS todos (
    id BIGSERIAL PRIMARY KEY,
    title TEXT NOT NULL,
    done BOOLEAN NOT NULL DEFAULT FALSE
)";

impl PgStore {
    /// Connects (without TLS) and creates the table if missing. The
    /// connection's task runs on the tokio runtime until the client is
    /// dropped.
    pub async fn connect(url: String) -> Result<PgStore, StoreError> {
        let client = run(async move {
            let (client, connection) = tokio_postgres::connect(&url, NoTls).await?;
            tokio::spawn(async move {
                if let Err(e) = connection.await {
                    eprintln!("todo: postgres connection closed: {e}");
                }
            });
            client.batch_execute(CREATE_TABLE).await?;
            Ok::<_, StoreError>(client)
        })
        .await?;
        Ok(PgStore {
            client: Arc::new(client),
        })
    }

    /// Every todo, ordered by id.
    pub async fn list(&self) -> Result<Vec<Todo>, StoreError> {
        let client = self.client.clone();
        run(async move {
            let rows = client
                .query("SELECT id, title, done FROM todos ORDER BY id", &[])
                .await?;
            Ok(rows.iter().map(todo_from_row).collect())
        })
        .await
    }

    /// One todo, or `None`.
    pub async fn get(&self, id: i64) -> Result<Option<Todo>, StoreError> {
        let client = self.client.clone();
        run(async move {
            let row = client
                .query_opt("SELECT id, title, done FROM todos WHERE id = $1", &[&id])
                .await?;
            Ok(row.as_ref().map(todo_from_row))
        })
        .await
    }

    /// Adds a todo and returns it with its id.
    pub async fn create(&self, title: String) -> Result<Todo, StoreError> {
        let client = self.client.clone();
        run(async move {
            let row = client
                .query_one(
                    "INSERT INTO todos (title) VALUES ($1) RETURNING id, title, done",
                    &[&title],
                )
                .await?;
            Ok(todo_from_row(&row))
        })
        .await
    }

    /// Changes the fields present in `patch`; `None` if there is no such todo.
    pub async fn update(&self, id: i64, patch: TodoPatch) -> Result<Option<Todo>, StoreError> {
        let client = self.client.clone();
        run(async move {
            let row = client
                .query_opt(
                    "UPDATE todos SET title = COALESCE($1, title), done = COALESCE($2, done)
                     WHERE id = $3 RETURNING id, title, done",
                    &[&patch.title, &patch.done, &id],
                )
                .await?;
            Ok(row.as_ref().map(todo_from_row))
        })
        .await
    }

    /// Removes a todo; `false` if there was none.
    pub async fn delete(&self, id: i64) -> Result<bool, StoreError> {
        let client = self.client.clone();
        run(async move {
            let n = client
                .execute("DELETE FROM todos WHERE id = $1", &[&id])
                .await?;
            Ok(n > 0)
        })
        .await
    }
}
