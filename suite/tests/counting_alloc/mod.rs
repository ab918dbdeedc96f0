//! A counting global allocator for allocation tests.
//!
//! Declaring `mod counting_alloc;` in a test binary installs it. It counts
//! allocations (and reallocations) made on threads that have switched
//! counting on, so a test can measure exactly one thread: its own, or a
//! server worker from inside a handler.

#![allow(dead_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// The allocator: the system allocator plus a per-thread counter.
pub struct Counting;

thread_local! {
    static COUNTING: Cell<bool> = const { Cell::new(false) };
    static ALLOCS: Cell<usize> = const { Cell::new(0) };
}

fn count_one() {
    if COUNTING.with(|c| c.get()) {
        ALLOCS.with(|a| a.set(a.get() + 1));
    }
}

// SAFETY: forwards to the system allocator; counting touches only
// const-initialized thread-locals (no allocation, no reentrancy).
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        count_one();
        // SAFETY: same contract as ours.
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        // SAFETY: same contract as ours.
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, n: usize) -> *mut u8 {
        count_one();
        // SAFETY: same contract as ours.
        unsafe { System.realloc(p, l, n) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Switches counting on or off for the calling thread.
pub fn set_counting(on: bool) {
    COUNTING.with(|c| c.set(on));
}

/// Sets the calling thread's count to zero.
pub fn reset() {
    ALLOCS.with(|a| a.set(0));
}

/// Allocations counted on the calling thread since its last `reset`.
pub fn count() -> usize {
    ALLOCS.with(|a| a.get())
}

/// Allocations made by `f` on the calling thread.
pub fn allocations(f: impl FnOnce()) -> usize {
    reset();
    set_counting(true);
    f();
    set_counting(false);
    count()
}

/// Waits until a handler has published its count in `slot` (which starts
/// at `usize::MAX`) and returns it; panics after `limit`.
pub fn wait_published(slot: &AtomicUsize, limit: Duration) -> usize {
    let t0 = Instant::now();
    loop {
        let n = slot.load(Ordering::SeqCst);
        if n != usize::MAX {
            return n;
        }
        assert!(t0.elapsed() < limit, "handler did not finish");
        std::thread::sleep(Duration::from_millis(5));
    }
}
