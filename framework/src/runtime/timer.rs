//! The worker's timer wheel.
//!
//! A hashed wheel of `SLOTS` one-millisecond slots. Each timer is an entry in
//! a slab, linked into the list of the slot its deadline tick hashes to, so
//! insert and cancel are O(1) and allocate nothing once the slab is warm. A
//! timer more than one turn away waits in its slot for later turns; an
//! occupancy bitmap finds the next non-empty slot quickly, and the worker
//! arms one io_uring timeout for that tick.
//!
//! ```text
//!   cur tick ─┐
//!   slots: [ ][x][ ][ ][x]...[ ]     x = non-empty list
//!              │        └─► e7 ─► e2      (e2 may be due in a later turn)
//!              └─► e4
//! ```

use std::task::Waker;

const SLOTS: usize = 1024;
const MASK: u64 = SLOTS as u64 - 1;
// `TimerWheel::words` has one bit per word of `occupied`.
const _: () = assert!(SLOTS / 64 == u16::BITS as usize);
const NIL: u32 = u32::MAX;

#[derive(Copy, Clone, PartialEq, Eq, Debug)]
enum State {
    Free,
    Armed,
    Fired,
}

struct Entry {
    tick: u64,
    gen: u32,
    state: State,
    prev: u32,
    next: u32,
    waker: Option<Waker>,
}

/// A handle to a timer: entry index plus generation.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) struct TimerKey {
    index: u32,
    gen: u32,
}

/// Hashed timer wheel with millisecond ticks.
pub(crate) struct TimerWheel {
    entries: Vec<Entry>,
    free: Vec<u32>,
    heads: Box<[u32; SLOTS]>,
    occupied: [u64; SLOTS / 64],
    /// Bit `w` set: `occupied[w]` is not zero (so the next armed slot is
    /// found in two steps, not by reading every word).
    words: u16,
    /// Last tick whose timers have been processed.
    cur: u64,
    armed: usize,
}

impl TimerWheel {
    pub fn new(now_tick: u64) -> TimerWheel {
        TimerWheel {
            entries: Vec::new(),
            free: Vec::new(),
            heads: Box::new([NIL; SLOTS]),
            occupied: [0; SLOTS / 64],
            words: 0,
            cur: now_tick,
            armed: 0,
        }
    }

    /// Number of armed timers.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.armed
    }

    /// Arms a timer for `tick`; a tick already past fires at the next advance.
    pub fn insert(&mut self, tick: u64, waker: Waker) -> TimerKey {
        let tick = tick.max(self.cur + 1);
        let index = match self.free.pop() {
            Some(i) => i,
            None => {
                self.entries.push(Entry {
                    tick: 0,
                    gen: 0,
                    state: State::Free,
                    prev: NIL,
                    next: NIL,
                    waker: None,
                });
                (self.entries.len() - 1) as u32
            }
        };
        let e = &mut self.entries[index as usize];
        e.tick = tick;
        e.state = State::Armed;
        e.waker = Some(waker);
        let gen = e.gen;
        self.link(index);
        self.armed += 1;
        TimerKey { index, gen }
    }

    /// True once the timer has fired.
    pub fn fired(&self, key: TimerKey) -> bool {
        match self.entries.get(key.index as usize) {
            Some(e) if e.gen == key.gen => e.state == State::Fired,
            _ => true,
        }
    }

    /// Replaces the waker of an armed timer.
    pub fn set_waker(&mut self, key: TimerKey, waker: &Waker) {
        if let Some(e) = self.entries.get_mut(key.index as usize) {
            if e.gen == key.gen && e.state == State::Armed {
                match &e.waker {
                    Some(w) if w.will_wake(waker) => {}
                    _ => e.waker = Some(waker.clone()),
                }
            }
        }
    }

    /// Cancels an armed timer or releases a fired one.
    pub fn remove(&mut self, key: TimerKey) {
        let Some(e) = self.entries.get(key.index as usize) else {
            return;
        };
        if e.gen != key.gen {
            return;
        }
        match e.state {
            State::Armed => {
                self.unlink(key.index);
                self.armed -= 1;
            }
            State::Fired => {}
            State::Free => return,
        }
        let e = &mut self.entries[key.index as usize];
        e.state = State::Free;
        e.waker = None;
        e.gen = e.gen.wrapping_add(1);
        self.free.push(key.index);
    }

    /// Fires every timer due at or before `now`; returns how many fired.
    pub fn advance(&mut self, now: u64) -> usize {
        if now <= self.cur {
            return 0;
        }
        let span = (now - self.cur).min(SLOTS as u64);
        let mut fired = 0;
        for t in self.cur + 1..=self.cur + span {
            let slot = (t & MASK) as usize;
            let mut i = self.heads[slot];
            while i != NIL {
                let next = self.entries[i as usize].next;
                if self.entries[i as usize].tick <= now {
                    self.unlink(i);
                    self.armed -= 1;
                    let e = &mut self.entries[i as usize];
                    e.state = State::Fired;
                    if let Some(w) = e.waker.take() {
                        w.wake();
                    }
                    fired += 1;
                }
                i = next;
            }
        }
        self.cur = now;
        fired
    }

    /// The earliest tick at which some timer may be due, if any is armed.
    ///
    /// This is the tick of the next non-empty slot; its timers may belong to
    /// a later turn, in which case the worker wakes once more than needed.
    pub fn next_tick(&self) -> Option<u64> {
        if self.armed == 0 {
            return None;
        }
        let start = ((self.cur + 1) & MASK) as usize;
        let first = start / 64;
        let at = |slot: usize| {
            let step = (slot + SLOTS - start) % SLOTS;
            Some(self.cur + 1 + step as u64)
        };
        // The start's word from the start on; then the next non-empty
        // word after it, going round; then the start's word below the
        // start. A word's lowest set bit is its earliest slot.
        let here = self.occupied[first];
        let from_start = here & (!0u64 << (start % 64));
        if from_start != 0 {
            return at(first * 64 + from_start.trailing_zeros() as usize);
        }
        let others = (self.words & !(1 << first)).rotate_right(first as u32 + 1);
        if others != 0 {
            let w = (first + 1 + others.trailing_zeros() as usize) % (SLOTS / 64);
            return at(w * 64 + self.occupied[w].trailing_zeros() as usize);
        }
        if here != 0 {
            return at(first * 64 + here.trailing_zeros() as usize);
        }
        None
    }

    fn link(&mut self, index: u32) {
        let slot = (self.entries[index as usize].tick & MASK) as usize;
        let head = self.heads[slot];
        {
            let e = &mut self.entries[index as usize];
            e.prev = NIL;
            e.next = head;
        }
        if head != NIL {
            self.entries[head as usize].prev = index;
        }
        self.heads[slot] = index;
        self.occupied[slot / 64] |= 1 << (slot % 64);
        self.words |= 1 << (slot / 64);
    }

    fn unlink(&mut self, index: u32) {
        let (prev, next, tick) = {
            let e = &self.entries[index as usize];
            (e.prev, e.next, e.tick)
        };
        let slot = (tick & MASK) as usize;
        if prev == NIL {
            self.heads[slot] = next;
        } else {
            self.entries[prev as usize].next = next;
        }
        if next != NIL {
            self.entries[next as usize].prev = prev;
        }
        if self.heads[slot] == NIL {
            self.occupied[slot / 64] &= !(1 << (slot % 64));
            if self.occupied[slot / 64] == 0 {
                self.words &= !(1 << (slot / 64));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::task::Wake;

    struct Count(AtomicUsize);
    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn fires_in_order_and_across_turns() {
        let c = Arc::new(Count(AtomicUsize::new(0)));
        let w = Waker::from(c.clone());
        let mut wheel = TimerWheel::new(100);
        let a = wheel.insert(105, w.clone());
        let b = wheel.insert(100 + 3000, w.clone()); // three turns away
        let d = wheel.insert(110, w.clone());
        wheel.remove(d);
        assert_eq!(wheel.next_tick(), Some(105));
        assert_eq!(wheel.advance(104), 0);
        assert_eq!(wheel.advance(105), 1);
        assert!(wheel.fired(a));
        assert!(!wheel.fired(b));
        assert_eq!(wheel.advance(2000), 0);
        assert!(wheel.next_tick().is_some());
        assert_eq!(wheel.advance(3100), 1);
        assert!(wheel.fired(b));
        assert_eq!(c.0.load(Ordering::SeqCst), 2);
        assert_eq!(wheel.len(), 0);
        assert_eq!(wheel.next_tick(), None);
    }

    /// The slot-by-slot answer `next_tick` must agree with.
    fn next_tick_slowly(wheel: &TimerWheel) -> Option<u64> {
        (0..SLOTS as u64)
            .map(|step| wheel.cur + 1 + step)
            .find(|t| {
                let slot = (t & MASK) as usize;
                wheel.occupied[slot / 64] & (1 << (slot % 64)) != 0
            })
    }

    #[test]
    fn next_tick_finds_the_earliest_slot_from_any_position() {
        let w = Waker::noop().clone();
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut rand = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for round in 0..400u64 {
            let now = rand() % 100_000;
            let mut wheel = TimerWheel::new(now);
            let mut keys = Vec::new();
            for _ in 0..(round % 5) {
                keys.push(wheel.insert(now + 1 + rand() % 5000, w.clone()));
            }
            assert_eq!(wheel.next_tick(), next_tick_slowly(&wheel), "round {round}");
            for k in keys {
                wheel.remove(k);
                assert_eq!(wheel.next_tick(), next_tick_slowly(&wheel), "round {round}");
            }
        }
        // The slot just before the start (a full turn ahead) and the start itself.
        for now in [63u64, 64, 65, 1023, 1024] {
            let mut wheel = TimerWheel::new(now);
            let k = wheel.insert(now + SLOTS as u64, w.clone());
            assert_eq!(wheel.next_tick(), next_tick_slowly(&wheel), "now {now}");
            wheel.remove(k);
            wheel.insert(now + 1, w.clone());
            assert_eq!(wheel.next_tick(), Some(now + 1));
        }
    }

    #[test]
    fn reuses_entries() {
        let w = Waker::noop().clone();
        let mut wheel = TimerWheel::new(0);
        for i in 0..1000u64 {
            let k = wheel.insert(i % 50 + 1, w.clone());
            wheel.remove(k);
        }
        assert_eq!(wheel.entries.len(), 1);
    }
}
