//! The routes: the JSON CRUD API on `/todos` and the page on `/`.
//!
//! | request | answer |
//! |---|---|
//! | `GET /`, `GET /FILE` | the page (`static/index.html`), a file under `static/` |
//! | `GET /todos` | `200`, every todo, ordered by id |
//! | `POST /todos` `{"title": "..."}` | `201`, the todo, `Location: /todos/{id}` |
//! | `GET /todos/{id}` | `200`, the todo |
//! | `PATCH /todos/{id}` `{"title"?: "...", "done"?: bool}` | `200`, the todo as changed |
//! | `DELETE /todos/{id}` | `204` |
//!
//! Errors are JSON (`{"error": "...", "detail": "..."}`): `404` for an id
//! with no todo, `400` for an id that is not a positive integer, a blank or
//! too long title, or malformed JSON, `415` for a body that is not
//! `application/json`, `422` for JSON of the wrong shape. The extractors'
//! refusals come through the router's rejection hook
//! ([`error::on_rejection`](crate::error::on_rejection)).
//!
//! A path that is no route and no static file is a JSON `404` (the
//! fallback, [`StaticFiles`]); a method a path does not take a JSON `405`
//! with `Allow` (the rejection hook again: the router hands it its `405`).

use std::path::PathBuf;

use corering::http::route::{IntoResponse, Json, Path, State};
use corering::http::{Handler, Response, Status};
use corering::{delete, get, patch, post, routes};

use crate::error::{on_rejection, ApiError};
use crate::model::{check_id, check_title, NewTodo, Todo, TodoPatch};
use crate::page::StaticFiles;
use crate::store::Store;

/// What a route answers: a response, or a JSON error.
type ApiResult = Result<Response, ApiError>;

/// A todo (or a list) as a `200` JSON response.
fn json<T: serde::Serialize>(value: &T) -> Response {
    match serde_json::to_vec(value) {
        Ok(body) => Response::json(body),
        Err(e) => ApiError::new(
            Status::INTERNAL_SERVER_ERROR,
            "internal error",
            e.to_string(),
        )
        .into_response(),
    }
}

#[get("/todos")]
async fn list(State(store): State<Store>) -> ApiResult {
    let todos = store.list().await.map_err(ApiError::database)?;
    Ok(json(&todos))
}

#[post("/todos")]
async fn create(State(store): State<Store>, Json(new): Json<NewTodo>) -> ApiResult {
    check_title(&new.title)?;
    let todo: Todo = store.create(new.title).await.map_err(ApiError::database)?;
    let location = format!("/todos/{}", todo.id);
    Ok(json(&todo)
        .with_status(Status::CREATED)
        .header_owned("Location", location))
}

#[get("/todos/{id}")]
async fn read(Path(id): Path<i64>, State(store): State<Store>) -> ApiResult {
    let id = check_id(id)?;
    match store.get(id).await.map_err(ApiError::database)? {
        Some(todo) => Ok(json(&todo)),
        None => Err(ApiError::not_found(id)),
    }
}

#[patch("/todos/{id}")]
async fn update(
    Path(id): Path<i64>,
    State(store): State<Store>,
    Json(change): Json<TodoPatch>,
) -> ApiResult {
    let id = check_id(id)?;
    if let Some(title) = &change.title {
        check_title(title)?;
    }
    match store.update(id, change).await.map_err(ApiError::database)? {
        Some(todo) => Ok(json(&todo)),
        None => Err(ApiError::not_found(id)),
    }
}

#[delete("/todos/{id}")]
async fn remove(Path(id): Path<i64>, State(store): State<Store>) -> ApiResult {
    let id = check_id(id)?;
    if store.delete(id).await.map_err(ApiError::database)? {
        Ok(Response::new(Status::NO_CONTENT))
    } else {
        Err(ApiError::not_found(id))
    }
}

/// The whole application on `store`: the routes above, the files under
/// `static_dir` for what no route takes, every error as JSON; ready for
/// `http::serve` (or `corering::test::TestServer`).
///
/// ```no_run
/// # fn main() -> std::io::Result<()> {
/// use corering::http::{self, Http1Config};
/// let store = corering::Runtime::new()?
///     .block_on(todo::store::Store::open("sqlite://todo.db"))
///     .expect("database");
/// let app = todo::app(store, todo::page::default_static_dir());
/// corering::Server::builder()
///     .bind("127.0.0.1:8080")
///     .build()?
///     .serve(move |conn| http::serve(conn, Http1Config::new(), app.clone()))
/// # }
/// ```
pub fn app(
    store: Store,
    static_dir: impl Into<PathBuf>,
) -> impl for<'a> Handler<'a> + Clone + Send + Sync + 'static {
    let app = routes![list, create, read, update, remove]
        .with_state(store)
        .on_rejection(on_rejection)
        .fallback(StaticFiles::new(static_dir));
    // Every state the routes take is given (a bug here fails at startup).
    if let Err(e) = app.check() {
        panic!("{e}");
    }
    app
}
