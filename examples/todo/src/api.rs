//! The routes: the JSON CRUD API on `/todos` and the page on `/`.
//!
//! | request | answer |
//! |---|---|
//! | `GET /` | the page (`static/index.html`) |
//! | `GET /todos` | `200`, every todo, ordered by id |
//! | `POST /todos` `{"title": "..."}` | `201`, the todo, `Location: /todos/{id}` |
//! | `GET /todos/{id}` | `200`, the todo |
//! | `PATCH /todos/{id}` `{"title"?: "...", "done"?: bool}` | `200`, the todo as changed |
//! | `DELETE /todos/{id}` | `204` |
//!
//! Errors are JSON (`{"error": "...", "detail": "..."}`): `404` for an id
//! with no todo, `400` for an id that is not a positive integer, a blank or
//! too long title, or malformed JSON, `415` for a body that is not
//! `application/json`, `422` for JSON of the wrong shape.
//!
//! A path no route matches (`404`) or a method a path does not take
//! (`405`, with `Allow`) is answered by the router itself, in plain text.
// TODO(rejections): answer those as JSON too once the router takes a
// rejection handler or a layer can rewrite them.

use corering::http::route::{IntoResponse, Path, State};
use corering::http::{Handler, Response, Status};
use corering::{delete, get, patch, post, routes};

use crate::error::ApiError;
use crate::extract::JsonBody;
use crate::model::{check_title, parse_id, NewTodo, Todo, TodoPatch};
use crate::page;
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

#[get("/")]
async fn index() -> Response {
    page::index()
}

#[get("/todos")]
async fn list(State(store): State<Store>) -> ApiResult {
    let todos = store.list().await.map_err(ApiError::database)?;
    Ok(json(&todos))
}

#[post("/todos")]
async fn create(State(store): State<Store>, JsonBody(new): JsonBody<NewTodo>) -> ApiResult {
    check_title(&new.title)?;
    let todo: Todo = store.create(new.title).await.map_err(ApiError::database)?;
    let location = format!("/todos/{}", todo.id);
    Ok(json(&todo)
        .with_status(Status::CREATED)
        .header_owned("Location", location))
}

#[get("/todos/{id}")]
async fn read(id: Path<String>, State(store): State<Store>) -> ApiResult {
    // TODO(rejections): `Path<i64>` once its rejection can be answered as JSON.
    let id = parse_id(&id.0)?;
    match store.get(id).await.map_err(ApiError::database)? {
        Some(todo) => Ok(json(&todo)),
        None => Err(ApiError::not_found(id)),
    }
}

#[patch("/todos/{id}")]
async fn update(
    id: Path<String>,
    State(store): State<Store>,
    JsonBody(change): JsonBody<TodoPatch>,
) -> ApiResult {
    let id = parse_id(&id.0)?;
    if let Some(title) = &change.title {
        check_title(title)?;
    }
    match store.update(id, change).await.map_err(ApiError::database)? {
        Some(todo) => Ok(json(&todo)),
        None => Err(ApiError::not_found(id)),
    }
}

#[delete("/todos/{id}")]
async fn remove(id: Path<String>, State(store): State<Store>) -> ApiResult {
    let id = parse_id(&id.0)?;
    if store.delete(id).await.map_err(ApiError::database)? {
        Ok(Response::new(Status::NO_CONTENT))
    } else {
        Err(ApiError::not_found(id))
    }
}

/// The whole application on `store`: the routes above, ready for
/// `http::serve` (or `corering::test::TestServer`).
///
/// ```no_run
/// # fn main() -> std::io::Result<()> {
/// use corering::http::{self, Http1Config};
/// let store = corering::Runtime::new()?
///     .block_on(todo::store::Store::open("sqlite://todo.db"))
///     .expect("database");
/// let app = todo::app(store);
/// corering::Server::builder()
///     .bind("127.0.0.1:8080")
///     .build()?
///     .serve(move |conn| http::serve(conn, Http1Config::new(), app.clone()))
/// # }
/// ```
pub fn app(store: Store) -> impl for<'a> Handler<'a> + Clone + Send + Sync + 'static {
    routes![index, list, create, read, update, remove].with_state(store)
}
