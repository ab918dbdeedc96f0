//! Tasks: local tasks on the current worker, and blocking work on a shared
//! thread pool.
//!
//! - [`spawn_local`]: a future on this worker (need not be `Send`).
//! - [`spawn_blocking`]: a closure on the blocking pool, for file system
//!   calls, CPU-heavy work and synchronous libraries; the awaiting task is
//!   woken on its own worker when it is done. [`BlockingConfig`] sizes the
//!   pool, [`blocking_pool_stats`] shows it.
//!
//! Both are also at the crate root.
//!
//! ```no_run
//! use corering::task::{spawn_blocking, spawn_local};
//! # async fn f() {
//! let n = spawn_local(async { 1 }).await;
//! let m = spawn_blocking(move || n + 1).await;
//! assert_eq!(m, 2);
//! # }
//! ```

pub use crate::runtime::{
    blocking_pool_stats, spawn_blocking, spawn_local, Blocking, BlockingConfig, BlockingPanic,
    BlockingPoolStats, JoinHandle, TryBlocking,
};
