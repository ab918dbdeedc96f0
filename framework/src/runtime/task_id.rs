//! Task identities and the wakers that carry them.
//!
//! A waker's data word *is* the task id, so cloning or dropping a waker
//! allocates nothing and touches no reference count:
//!
//! ```text
//!  63            48  47   46                 24 23                  0
//! +----------------+----+----------------------+---------------------+
//! | worker id (16) |kind|  generation (23)     |    index (24)       |
//! +----------------+----+----------------------+---------------------+
//! ```
//!
//! `kind` separates connection tasks (typed slab owned by the worker loop)
//! from boxed `spawn_local` tasks. A wake on the owning worker's thread pushes
//! the id on the local run queue; a wake from any other thread goes through
//! that worker's remote queue and eventfd.

use std::task::{RawWaker, RawWakerVTable, Waker};

/// Which slab a task lives in.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum TaskKind {
    /// A connection task in the worker loop's typed slab.
    Conn,
    /// A boxed task from `spawn_local`.
    Boxed,
}

/// A packed task id.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) struct TaskId(pub u64);

pub(crate) const GEN_BITS: u32 = 23;
const GEN_MASK: u64 = (1 << GEN_BITS) - 1;
const INDEX_MASK: u64 = (1 << 24) - 1;
/// Largest task index a worker may use.
pub(crate) const MAX_INDEX: u32 = INDEX_MASK as u32;

impl TaskId {
    pub fn new(worker: u16, kind: TaskKind, gen: u32, index: u32) -> TaskId {
        debug_assert!(index as u64 <= INDEX_MASK);
        let k = matches!(kind, TaskKind::Boxed) as u64;
        TaskId(
            (worker as u64) << 48
                | k << 47
                | (gen as u64 & GEN_MASK) << 24
                | (index as u64 & INDEX_MASK),
        )
    }
    pub fn worker(self) -> u16 {
        (self.0 >> 48) as u16
    }
    pub fn kind(self) -> TaskKind {
        if self.0 >> 47 & 1 == 1 {
            TaskKind::Boxed
        } else {
            TaskKind::Conn
        }
    }
    pub fn gen(self) -> u32 {
        ((self.0 >> 24) & GEN_MASK) as u32
    }
    pub fn index(self) -> u32 {
        (self.0 & INDEX_MASK) as u32
    }

    /// A waker for this task. Allocation-free.
    pub fn waker(self) -> Waker {
        // SAFETY: the vtable functions below treat the data pointer as a plain
        // integer and never dereference it, so any value is valid.
        unsafe { Waker::from_raw(raw(self.0)) }
    }
}

/// Generations wrap at `GEN_BITS` bits.
pub(crate) fn next_gen(gen: u32) -> u32 {
    (gen + 1) & GEN_MASK as u32
}

fn raw(id: u64) -> RawWaker {
    RawWaker::new(id as usize as *const (), &VTABLE)
}

static VTABLE: RawWakerVTable = RawWakerVTable::new(clone, wake, wake, drop);

fn clone(data: *const ()) -> RawWaker {
    raw(data as usize as u64)
}

fn wake(data: *const ()) {
    super::schedule(TaskId(data as usize as u64));
}

fn drop(_: *const ()) {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pack_unpack() {
        let id = TaskId::new(0xBEEF, TaskKind::Boxed, 0x7F_FFFF, 0xAB_CDEF);
        assert_eq!(id.worker(), 0xBEEF);
        assert_eq!(id.kind(), TaskKind::Boxed);
        assert_eq!(id.gen(), 0x7F_FFFF);
        assert_eq!(id.index(), 0xAB_CDEF);
        let id = TaskId::new(1, TaskKind::Conn, 5, 7);
        assert_eq!(id.kind(), TaskKind::Conn);
    }
}
