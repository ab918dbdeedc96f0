#![doc = include_str!("../README.md")]
//!
//! # How it is built
//!
//! ```text
//!  kernel     socket ── io_uring (one per worker) ── provided-buffer ring
//!  engine     Worker: executor + ring driver + timer wheel + connection slots
//!  transport  Server (listeners, two accept modes) / Connector  ──► Connection
//!  protocol   frame::FrameReader / http::serve (HTTP/1.1)  — over Connection
//!  app        async fn(Connection), async fn(http::Request) -> http::Response
//! ```
//!
//! A [`Server`] starts one worker thread per CPU, each pinned, each with its
//! own io_uring, receive-buffer ring and connections; nothing is shared on
//! the hot path. A connection's `read()` yields a [`Lease`] of one buffer the
//! kernel filled (multishot receive with buffer selection); writes are
//! copied into buffers the connection owns and sent with one `sendmsg` per
//! scheduling round. Per-request work allocates nothing once warm.
//!
//! Unsafety is contained in the kernel interface (`uring`), the slot
//! machinery that hands buffers to and from the kernel (`conn`), and the
//! executor's pinned task slabs (`runtime`); each `unsafe` block states its
//! invariant.
//!
//! ```no_run
//! fn main() -> std::io::Result<()> {
//!     corering::Server::builder()
//!         .bind("127.0.0.1:7000")
//!         .build()?
//!         .serve(|mut conn| async move {
//!             while let Ok(Some(buf)) = conn.read().await {
//!                 if conn.write_all(&buf).await.is_err() {
//!                     break;
//!                 }
//!             }
//!         })
//! }
//! ```

#![deny(
    missing_docs,
    clippy::undocumented_unsafe_blocks,
    unsafe_op_in_unsafe_fn
)]

pub mod cli;
pub mod compat;
mod conn;
mod driver;
mod error;
pub mod frame;
pub mod future;
pub mod http;
pub mod metrics;
mod net;
pub mod pipeline;
mod rt;
mod runtime;
mod server;
mod signal;
pub mod task;
pub mod test;
#[cfg(feature = "tls")]
pub mod tls;
mod trace;
pub mod ws;

pub use conn::{
    Address, Connection, Features, Flush, Inbound, IoStream, Layer, LayerIo, Lease, OutBuf, Read,
    ShutdownWrite, WriteAll, WriteFrame, WriteOwned,
};
pub use driver::{Backend, BackendChoice, RingMode};
pub use net::{AcceptMode, Connector};
pub use rt::Runtime;
pub use runtime::mesh::{call_on, Call, CallError};
pub use runtime::time;
pub use runtime::{
    is_shutting_down, shutdown_requested, spawn_blocking, spawn_local, worker_count, worker_index,
    JoinHandle, ShutdownRequested, WorkerStats,
};
pub use server::{RunningServer, Server, ServerBuilder, ShutdownHandle};

/// Route attributes and the router macro; see [`http::route`].
pub use corering_macros::{delete, get, head, options, patch, post, put, route, routes};

/// The README's Rust examples, compiled as doctests so they stay true.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct ReadmeDoctests;

/// Everything a handler usually needs.
pub mod prelude {
    pub use crate::time::{sleep, timeout};
    pub use crate::{delete, get, head, options, patch, post, put, route, routes};
    pub use crate::{spawn_blocking, spawn_local, Connection, Connector, Lease, Server};
}
