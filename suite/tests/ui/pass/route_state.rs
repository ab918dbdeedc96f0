//! Shared and per-worker state together; a handler returning `Result`.

use std::cell::Cell;
use std::sync::Arc;

use corering::http::route::{Local, State};
use corering::http::Status;
use corering::prelude::*;

#[derive(Clone)]
struct Db(Arc<Vec<&'static str>>);

#[get("/names/{i}")]
async fn name(
    i: corering::http::route::Path<usize>,
    State(db): State<Db>,
    Local(seen): Local<Cell<u64>>,
) -> Result<String, (Status, String)> {
    seen.set(seen.get() + 1);
    db.0.get(i.0)
        .map(|n| n.to_string())
        .ok_or((Status::NOT_FOUND, format!("no name {}", i.0)))
}

fn main() {
    let router = routes![name]
        .with_state(Db(Arc::new(vec!["a", "b"])))
        .with_local_state(|| Cell::new(0u64));
    let _copy = router.clone();
}
