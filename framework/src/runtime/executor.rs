//! The worker's single-threaded executor: a run queue of task ids, the
//! bookkeeping for connection tasks (whose futures live in the worker loop's
//! typed slab), and a slab of boxed `spawn_local` tasks.
//!
//! A task is queued at most once: `queued` is set when its id is pushed and
//! cleared when it is popped, so a burst of wakes costs one poll.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::task::Context;

use super::task_id::{next_gen, TaskId, TaskKind, MAX_INDEX};

#[derive(Default)]
struct Meta {
    gen: u32,
    live: bool,
    queued: bool,
}

struct BoxedSlot {
    meta: Meta,
    fut: Option<Pin<Box<dyn Future<Output = ()>>>>,
}

/// Run queue plus task bookkeeping for one worker.
pub(crate) struct Executor {
    worker: u16,
    queue: RefCell<VecDeque<TaskId>>,
    conn_meta: RefCell<Vec<Meta>>,
    boxed: RefCell<Vec<BoxedSlot>>,
    boxed_free: RefCell<Vec<u32>>,
    boxed_live: Cell<usize>,
}

impl Executor {
    pub fn new(worker: u16) -> Executor {
        Executor {
            worker,
            queue: RefCell::new(VecDeque::with_capacity(1024)),
            conn_meta: RefCell::new(Vec::new()),
            boxed: RefCell::new(Vec::new()),
            boxed_free: RefCell::new(Vec::new()),
            boxed_live: Cell::new(0),
        }
    }

    /// Queues `id` if it names a live task that is not queued yet.
    pub fn schedule(&self, id: TaskId) {
        let fresh = match id.kind() {
            TaskKind::Conn => {
                let mut metas = self.conn_meta.borrow_mut();
                mark_queued(metas.get_mut(id.index() as usize), id.gen())
            }
            TaskKind::Boxed => {
                let mut slots = self.boxed.borrow_mut();
                mark_queued(
                    slots.get_mut(id.index() as usize).map(|s| &mut s.meta),
                    id.gen(),
                )
            }
        };
        if fresh {
            self.queue.borrow_mut().push_back(id);
        }
    }

    /// Pops the next task to poll, clearing its queued mark.
    pub fn pop(&self) -> Option<TaskId> {
        let id = self.queue.borrow_mut().pop_front()?;
        match id.kind() {
            TaskKind::Conn => {
                if let Some(m) = self.conn_meta.borrow_mut().get_mut(id.index() as usize) {
                    m.queued = false;
                }
            }
            TaskKind::Boxed => {
                if let Some(s) = self.boxed.borrow_mut().get_mut(id.index() as usize) {
                    s.meta.queued = false;
                }
            }
        }
        Some(id)
    }

    /// True when no task is waiting to be polled.
    pub fn is_idle(&self) -> bool {
        self.queue.borrow().is_empty()
    }

    // ---- connection tasks -------------------------------------------------

    /// Registers a live connection task at `index` and queues its first poll.
    pub fn conn_started(&self, index: u32) -> TaskId {
        assert!(
            index <= MAX_INDEX,
            "too many connection tasks on one worker"
        );
        let mut metas = self.conn_meta.borrow_mut();
        if metas.len() <= index as usize {
            metas.resize_with(index as usize + 1, Meta::default);
        }
        let m = &mut metas[index as usize];
        m.live = true;
        m.queued = false;
        let id = TaskId::new(self.worker, TaskKind::Conn, m.gen, index);
        drop(metas);
        self.schedule(id);
        id
    }

    /// True if `id` still names the live connection task at its index.
    pub fn conn_current(&self, id: TaskId) -> bool {
        let metas = self.conn_meta.borrow();
        matches!(metas.get(id.index() as usize), Some(m) if m.live && m.gen == id.gen())
    }

    /// Marks the connection task at `index` finished; old wakers go stale.
    pub fn conn_finished(&self, index: u32) {
        let mut metas = self.conn_meta.borrow_mut();
        let m = &mut metas[index as usize];
        m.live = false;
        m.queued = false;
        m.gen = next_gen(m.gen);
    }

    // ---- boxed tasks ------------------------------------------------------

    /// Adds a boxed task and queues its first poll.
    pub fn spawn_boxed(&self, fut: Pin<Box<dyn Future<Output = ()>>>) {
        let index = match self.boxed_free.borrow_mut().pop() {
            Some(i) => i,
            None => {
                let mut slots = self.boxed.borrow_mut();
                slots.push(BoxedSlot {
                    meta: Meta::default(),
                    fut: None,
                });
                (slots.len() - 1) as u32
            }
        };
        assert!(index <= MAX_INDEX, "too many tasks on one worker");
        let gen = {
            let mut slots = self.boxed.borrow_mut();
            let s = &mut slots[index as usize];
            s.fut = Some(fut);
            s.meta.live = true;
            s.meta.gen
        };
        self.boxed_live.set(self.boxed_live.get() + 1);
        self.schedule(TaskId::new(self.worker, TaskKind::Boxed, gen, index));
    }

    /// Polls the boxed task `id` once; frees it when it completes.
    pub fn poll_boxed(&self, id: TaskId) {
        let mut fut = {
            let mut slots = self.boxed.borrow_mut();
            match slots.get_mut(id.index() as usize) {
                Some(s) if s.meta.live && s.meta.gen == id.gen() => match s.fut.take() {
                    Some(f) => f,
                    None => return, // already being polled (re-entrant wake)
                },
                _ => return,
            }
        };
        let waker = id.waker();
        let mut cx = Context::from_waker(&waker);
        // The future is polled with no executor borrow held, so it may spawn
        // or wake freely. A panicking task is dropped; the worker goes on
        // (the panic hook has already reported it).
        let done = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            fut.as_mut().poll(&mut cx).is_ready()
        }))
        .unwrap_or(true);
        let mut slots = self.boxed.borrow_mut();
        let s = &mut slots[id.index() as usize];
        if done {
            s.meta.live = false;
            s.meta.queued = false;
            s.meta.gen = next_gen(s.meta.gen);
            drop(slots);
            drop(fut);
            self.boxed_free.borrow_mut().push(id.index());
            self.boxed_live.set(self.boxed_live.get() - 1);
        } else {
            s.fut = Some(fut);
        }
    }

    /// Drops every boxed task (used when the worker exits).
    pub fn drop_boxed(&self) {
        loop {
            // Take futures out one at a time: dropping one may spawn or wake.
            let fut = {
                let mut slots = self.boxed.borrow_mut();
                slots.iter_mut().find_map(|s| {
                    if s.meta.live {
                        s.meta.live = false;
                        s.meta.gen = next_gen(s.meta.gen);
                        s.fut.take()
                    } else {
                        None
                    }
                })
            };
            match fut {
                Some(f) => {
                    drop(f);
                    self.boxed_live.set(self.boxed_live.get().saturating_sub(1));
                }
                None => break,
            }
        }
        self.queue.borrow_mut().clear();
    }
}

fn mark_queued(m: Option<&mut Meta>, gen: u32) -> bool {
    match m {
        Some(m) if m.live && m.gen == gen && !m.queued => {
            m.queued = true;
            true
        }
        _ => false,
    }
}
