//! Bridges to other async runtimes, for libraries written for them.
//!
//! - `tokio` (feature `tokio-compat`): run a future on a small shared
//!   tokio runtime and await its output on the worker, so tokio-based
//!   clients (database drivers, HTTP clients) work inside handlers.

#[cfg(feature = "tokio-compat")]
pub mod tokio;
