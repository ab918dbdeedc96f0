//! One worker's shard of the key space: a hash map of byte strings with
//! optional expiry.
//!
//! Expired keys are removed lazily when touched and actively by a sweep
//! (see [`Store::sweep`]) over a min-heap of deadlines, which the worker
//! runs on a timer while keys with a TTL exist. Times are milliseconds on a
//! process-wide monotonic clock ([`now_ms`]).

use std::cell::RefCell;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::sync::OnceLock;
use std::time::Instant;

use super::glob;
use super::hash::KeyHash;

/// Milliseconds since the process's first call (never 0, so 0 can mean
/// "no expiry").
pub fn now_ms() -> u64 {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    EPOCH.get_or_init(Instant::now).elapsed().as_millis() as u64 + 1
}

/// The clock, read at most once per command and only if a TTL is involved.
#[derive(Default, Debug)]
pub struct Clock(Option<u64>);

impl Clock {
    /// The current time in ms (read on first use, then fixed).
    pub fn now(&mut self) -> u64 {
        *self.0.get_or_insert_with(now_ms)
    }
}

/// A stored value and its deadline.
#[derive(Debug)]
pub struct Entry {
    /// The value bytes.
    pub value: Box<[u8]>,
    /// Absolute expiry time in ms ([`now_ms`] scale), 0 for none.
    pub expires_at: u64,
}

impl Entry {
    fn expired(&self, clock: &mut Clock) -> bool {
        self.expires_at != 0 && self.expires_at <= clock.now()
    }

    /// Replaces the value, reusing the allocation when the length matches.
    pub fn set_value(&mut self, value: &[u8]) {
        if self.value.len() == value.len() {
            self.value.copy_from_slice(value);
        } else {
            self.value = value.into();
        }
    }
}

/// A deadline in the heap; stale when the key's entry now has another one.
type Deadline = Reverse<(u64, Box<[u8]>)>;

/// One shard of the key space.
pub struct Store {
    map: HashMap<Box<[u8]>, Entry, KeyHash>,
    deadlines: BinaryHeap<Deadline>,
}

impl Default for Store {
    fn default() -> Self {
        Store::new()
    }
}

impl Store {
    /// An empty store.
    pub fn new() -> Store {
        Store {
            map: HashMap::with_hasher(KeyHash::random()),
            deadlines: BinaryHeap::new(),
        }
    }

    /// The live entry for `key`; an expired one is removed instead.
    pub fn get_mut(&mut self, key: &[u8], clock: &mut Clock) -> Option<&mut Entry> {
        let expired = self.map.get(key)?.expired(clock);
        if expired {
            self.map.remove(key);
            return None;
        }
        self.map.get_mut(key)
    }

    /// The live value of `key`.
    pub fn get(&mut self, key: &[u8], clock: &mut Clock) -> Option<&[u8]> {
        self.get_mut(key, clock).map(|e| &*e.value)
    }

    /// True if `key` exists and has not expired.
    pub fn contains(&mut self, key: &[u8], clock: &mut Clock) -> bool {
        self.get_mut(key, clock).is_some()
    }

    /// Sets `key` to `value` with deadline `expires_at` (0: none), reusing
    /// the existing entry's allocations where it can.
    pub fn set(&mut self, key: &[u8], value: &[u8], expires_at: u64) {
        match self.map.get_mut(key) {
            Some(e) => {
                e.set_value(value);
                e.expires_at = expires_at;
            }
            None => {
                self.map.insert(
                    key.into(),
                    Entry {
                        value: value.into(),
                        expires_at,
                    },
                );
            }
        }
        if expires_at != 0 {
            self.track_deadline(key, expires_at);
        }
    }

    /// Sets the deadline of an existing live entry (0 removes it).
    pub fn set_deadline(&mut self, key: &[u8], expires_at: u64, clock: &mut Clock) -> bool {
        match self.get_mut(key, clock) {
            Some(e) => e.expires_at = expires_at,
            None => return false,
        }
        if expires_at != 0 {
            self.track_deadline(key, expires_at);
        }
        true
    }

    /// Removes `key`; true if it existed (and had not expired).
    pub fn remove(&mut self, key: &[u8], clock: &mut Clock) -> bool {
        match self.map.remove(key) {
            Some(e) => !e.expired(clock),
            None => false,
        }
    }

    /// Number of keys, including expired ones not yet swept (as redis's
    /// `DBSIZE`).
    pub fn key_count(&self) -> usize {
        self.map.len()
    }

    /// Removes every key.
    pub fn clear(&mut self) {
        self.map.clear();
        self.deadlines.clear();
    }

    /// Live keys matching the glob `pattern`, in no particular order.
    pub fn keys(&self, pattern: &[u8], clock: &mut Clock) -> Vec<&[u8]> {
        let all = pattern == b"*";
        self.map
            .iter()
            .filter(|(k, e)| !e.expired(clock) && (all || glob::matches(pattern, k)))
            .map(|(k, _)| &**k)
            .collect()
    }

    /// True if some key has a deadline the sweep should look at.
    pub fn has_deadlines(&self) -> bool {
        !self.deadlines.is_empty()
    }

    fn track_deadline(&mut self, key: &[u8], expires_at: u64) {
        // Stale heap entries (deadline changed or key gone) are dropped when
        // they come due; rebuild if they ever dominate the heap.
        if self.deadlines.len() > 2 * self.map.len() + 1024 {
            self.deadlines = self
                .map
                .iter()
                .filter(|(_, e)| e.expires_at != 0)
                .map(|(k, e)| Reverse((e.expires_at, k.clone())))
                .collect();
        } else {
            self.deadlines.push(Reverse((expires_at, key.into())));
        }
    }

    /// Removes up to `budget` keys whose deadline is at or before `now`;
    /// returns how many heap entries it examined.
    pub fn sweep(&mut self, now: u64, budget: usize) -> usize {
        let mut n = 0;
        while n < budget {
            match self.deadlines.peek() {
                Some(Reverse((at, _))) if *at <= now => {}
                _ => break,
            }
            let Some(Reverse((at, key))) = self.deadlines.pop() else {
                break;
            };
            if self.map.get(&key).is_some_and(|e| e.expires_at == at) {
                self.map.remove(&key);
            }
            n += 1;
        }
        n
    }
}

thread_local! {
    /// This worker's shard.
    static STORE: RefCell<Store> = RefCell::new(Store::new());
}

/// Runs `f` on this worker's shard. Never call it re-entrantly or hold the
/// borrow across an `.await`.
pub fn with_store<R>(f: impl FnOnce(&mut Store) -> R) -> R {
    STORE.with(|s| f(&mut s.borrow_mut()))
}
