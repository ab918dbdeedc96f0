//! Sharding: every key lives on one worker, chosen by its hash; other
//! workers reach it with a cross-worker call. No lock is shared.
//!
//! ```text
//!  connection on worker 0          worker 1 (owns "k")
//!  GET k ── shard_of("k") = 1 ──► call_on(1, run on STORE) ──► reply bytes
//! ```
//!
//! A call allocates (the owned arguments, the framework's message and
//! task); commands on keys of the connection's own worker run inline on
//! its store and allocate nothing.

use std::cell::Cell;
use std::time::Duration;

use corering::CallError;

use super::hash::shard_of;
use super::store::{now_ms, with_store, Store};

/// Where a key lives relative to the current worker.
pub enum Route {
    /// On this worker: use the thread-local store directly.
    Local,
    /// On worker `n`.
    Remote(usize),
}

/// Routes `key` from the current worker.
#[inline]
pub fn route(key: &[u8]) -> Route {
    let n = corering::worker_count();
    if n <= 1 {
        return Route::Local;
    }
    let shard = shard_of(key, n);
    if shard == corering::worker_index() {
        Route::Local
    } else {
        Route::Remote(shard)
    }
}

/// The shard of `key` among the current runtime's workers.
#[inline]
pub fn shard(key: &[u8]) -> usize {
    shard_of(key, corering::worker_count())
}

/// Runs `f` on worker `shard`'s store and returns its result.
pub async fn call<T, R>(shard: usize, input: T, f: fn(&mut Store, T) -> R) -> Result<R, CallError>
where
    T: Send + 'static,
    R: Send + 'static,
{
    corering::call_on(shard, move || async move { with_store(|s| f(s, input)) }).await
}

/// Runs `f(store, input)` on every shard whose input is `Some`, remote
/// shards concurrently; returns the results by shard index.
pub async fn on_shards<T, R>(
    inputs: Vec<Option<T>>,
    f: fn(&mut Store, T) -> R,
) -> Result<Vec<Option<R>>, CallError>
where
    T: Send + 'static,
    R: Send + 'static,
{
    let me = corering::worker_index();
    let mut results: Vec<Option<R>> = inputs.iter().map(|_| None).collect();
    let mut local = None;
    // A call is sent when created, so all remote shards work in parallel
    // while the local one runs and the replies are awaited in turn.
    let mut calls = Vec::new();
    for (shard, input) in inputs.into_iter().enumerate() {
        match input {
            None => {}
            Some(input) if shard == me => local = Some(input),
            Some(input) => calls.push((
                shard,
                corering::call_on(shard, move || async move { with_store(|s| f(s, input)) }),
            )),
        }
    }
    if let Some(input) = local {
        results[me] = Some(with_store(|s| f(s, input)));
    }
    for (shard, call) in calls {
        results[shard] = Some(call.await?);
    }
    Ok(results)
}

thread_local! {
    static SWEEPING: Cell<bool> = const { Cell::new(false) };
}

/// How often the sweep of expired keys runs while keys have a TTL.
const SWEEP_EVERY: Duration = Duration::from_millis(100);
/// Most deadlines one sweep examines, so a sweep never stalls the worker.
const SWEEP_BUDGET: usize = 20_000;

/// Makes sure this worker sweeps expired keys: starts the sweep task if it
/// is not running. The task stops when no key has a TTL left (and starts
/// again with the next one), so an idle worker has no timer armed.
pub fn ensure_sweeper() {
    if SWEEPING.with(Cell::get) {
        return;
    }
    SWEEPING.with(|s| s.set(true));
    drop(corering::spawn_local(async {
        loop {
            corering::time::sleep(SWEEP_EVERY).await;
            let more = with_store(|s| {
                s.sweep(now_ms(), SWEEP_BUDGET);
                s.has_deadlines()
            });
            if !more || corering::is_shutting_down() {
                SWEEPING.with(|s| s.set(false));
                return;
            }
        }
    }));
}
