//! What permessage-deflate costs in memory per connection: one `Deflater`
//! and one `Inflater`, after a message each way, at every window size. A
//! global allocator of this test's own counts the bytes the calling thread
//! holds. Run with `--nocapture` to see the table.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use corering::ws::deflate::{Deflater, Inflater, DEFAULT_MEM_LEVEL};

struct Tracking;

thread_local! {
    static LIVE: Cell<isize> = const { Cell::new(0) };
}

fn add(n: isize) {
    // `try_with`: thread-locals may be gone while a thread exits.
    let _ = LIVE.try_with(|l| l.set(l.get() + n));
}

// SAFETY: forwards to the system allocator; the bookkeeping touches only
// a const-initialised thread-local (no allocation, no reentrancy).
unsafe impl GlobalAlloc for Tracking {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        add(l.size() as isize);
        // SAFETY: same contract as ours.
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        add(-(l.size() as isize));
        // SAFETY: same contract as ours.
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, n: usize) -> *mut u8 {
        add(n as isize - l.size() as isize);
        // SAFETY: same contract as ours.
        unsafe { System.realloc(p, l, n) }
    }
}

#[global_allocator]
static GLOBAL: Tracking = Tracking;

fn live() -> isize {
    LIVE.with(|l| l.get())
}

/// Bytes held by a warm `Deflater` and a warm `Inflater` at `bits` (the
/// message buffers excluded).
fn held(level: u8, bits: u8, mem_level: u8) -> (usize, usize) {
    let msg: Vec<u8> = b"{\"user\":\"ann\",\"text\":\"hello there\"},".repeat(100);
    let (mut wire, mut back) = (Vec::with_capacity(1 << 16), Vec::with_capacity(1 << 16));
    let before = live();
    let mut tx = Deflater::with_mem_level(level, bits, false, mem_level);
    tx.compress_message(&msg, &mut wire);
    let deflater = live() - before;
    let mut rx = Inflater::new(bits);
    rx.decompress(&wire, &mut back, 1 << 20).unwrap();
    let inflater = live() - before - deflater;
    assert_eq!(back, msg);
    drop((tx, rx));
    (deflater as usize, inflater as usize)
}

#[test]
fn memory_per_connection_scales_with_the_window() {
    let mut pair = [0usize; 16];
    for bits in 8..=15u8 {
        let (d, i) = held(1, bits, DEFAULT_MEM_LEVEL);
        let (d8, _) = held(1, bits, 8);
        let (d9, _) = held(9, bits, DEFAULT_MEM_LEVEL);
        pair[bits as usize] = d + i;
        eprintln!(
            "window bits {bits:>2}: Deflater {:>3} KiB (level 9: {:>3}; memLevel 8: {:>3}), Inflater {:>2} KiB, pair {:>3} KiB",
            d >> 10,
            d9 >> 10,
            d8 >> 10,
            i >> 10,
            (d + i) >> 10
        );
    }
    assert!(pair[9] < pair[15], "{} vs {}", pair[9], pair[15]);
    assert!(
        pair[15] > 32 << 10,
        "a 15-bit pair holds at least its 32 KiB window"
    );
}
