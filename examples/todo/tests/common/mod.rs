//! Helpers shared by the todo tests: a temporary directory, an HTTP client
//! nobody here wrote (ureq) with JSON helpers, the CRUD checks every
//! database must pass, and a throwaway PostgreSQL server.

// Each test file uses some of these.
#![allow(dead_code)]

pub mod api;
pub mod binary;
pub mod postgres;
pub mod tempdir;

use std::time::Duration;

use corering::Runtime;
use todo::store::{Store, StoreError};

/// Opens a store from a test thread (on a short-lived runtime).
pub fn open_store(url: &str) -> Result<Store, StoreError> {
    let rt = Runtime::new().expect("a corering runtime");
    rt.block_on(Store::open(url))
}

/// How long a test waits for one HTTP exchange.
pub const HTTP_TIMEOUT: Duration = Duration::from_secs(20);
