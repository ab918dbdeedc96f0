//! Helpers shared by the todo tests: a temporary directory, an HTTP client
//! nobody here wrote (ureq) with JSON helpers, the CRUD checks every
//! database must pass, and a throwaway PostgreSQL server.

// Each test file uses some of these.
#![allow(dead_code)]

pub mod api;
pub mod binary;
pub mod postgres;
pub mod tempdir;

use std::net::SocketAddr;
use std::time::Duration;

use corering::http::{self, Http1Config};
use corering::{RunningServer, Runtime, Server};
use todo::store::{Store, StoreError};

/// Opens a store, on a runtime on a short-lived thread of its own.
///
/// Not on the test's thread: when a thread's io_uring is torn down, the
/// kernel sends that thread signal-like task work, and the test's next
/// blocking socket read with a timeout (ureq, the Chromium connection)
/// would fail with `EINTR`.
pub fn open_store(url: &str) -> Result<Store, StoreError> {
    let url = url.to_owned();
    std::thread::spawn(move || {
        let rt = Runtime::new().expect("a corering runtime");
        rt.block_on(Store::open(&url))
    })
    .join()
    .expect("the store opener panicked")
}

/// The application on `store`, served by a real server (one worker on
/// `127.0.0.1:0`) until dropped. Its rings live on its worker threads
/// only (see [`open_store`] for why that matters here).
pub struct Served {
    /// Stopped (gracefully) when dropped.
    _server: RunningServer,
    /// Where it listens.
    pub addr: SocketAddr,
}

/// Serves `todo::app(store, static/)` on a free loopback port.
pub fn serve(store: Store) -> Served {
    let app = todo::app(store, todo::page::default_static_dir());
    let server = Server::builder()
        .workers(1)
        .bind("127.0.0.1:0")
        .build()
        .and_then(|s| s.start(move |conn| http::serve(conn, Http1Config::new(), app.clone())))
        .expect("start the server");
    let addr = server.tcp_addr().expect("a TCP address");
    Served {
        _server: server,
        addr,
    }
}

/// How long a test waits for one HTTP exchange.
pub const HTTP_TIMEOUT: Duration = Duration::from_secs(20);
