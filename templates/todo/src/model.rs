//! The todo item and the request bodies that create and change one, with
//! their validation.

use serde::{Deserialize, Serialize};

use crate::error::ApiError;

/// Longest title accepted, in characters.
pub const MAX_TITLE_CHARS: usize = 500;

/// A todo as stored and answered: `{"id": 1, "title": "milk", "done": false}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Todo {
    /// Assigned by the database, from 1 up.
    pub id: i64,
    /// What to do; non-empty, at most [`MAX_TITLE_CHARS`] characters.
    pub title: String,
    /// Whether it is done.
    pub done: bool,
}

/// The body of `POST /todos`: `{"title": "..."}`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewTodo {
    /// The new todo's title.
    pub title: String,
}

/// The body of `PATCH /todos/{id}`: each field present is changed.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TodoPatch {
    /// A new title.
    pub title: Option<String>,
    /// Done or not.
    pub done: Option<bool>,
}

/// Checks a title: not blank, at most [`MAX_TITLE_CHARS`] characters.
///
/// ```
/// assert!(todo::model::check_title("milk").is_ok());
/// assert!(todo::model::check_title("  ").is_err());
/// ```
pub fn check_title(title: &str) -> Result<(), ApiError> {
    if title.trim().is_empty() {
        return Err(ApiError::bad_request(
            "invalid title",
            "title must not be empty",
        ));
    }
    let n = title.chars().count();
    if n > MAX_TITLE_CHARS {
        return Err(ApiError::bad_request(
            "invalid title",
            format!("title is {n} characters long, at most {MAX_TITLE_CHARS} are allowed"),
        ));
    }
    Ok(())
}

/// Checks a todo id from its path segment (already an `i64`: the router's
/// rejection hook answers one that is not): it must be positive.
///
/// ```
/// assert_eq!(todo::model::check_id(12).unwrap(), 12);
/// assert!(todo::model::check_id(0).is_err());
/// assert!(todo::model::check_id(-1).is_err());
/// ```
pub fn check_id(id: i64) -> Result<i64, ApiError> {
    if id > 0 {
        Ok(id)
    } else {
        Err(ApiError::bad_request(
            "invalid id",
            format!("{id} is not a todo id (a positive integer)"),
        ))
    }
}
