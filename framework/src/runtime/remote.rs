//! Messages into a worker from other threads: a mutex-protected queue and an
//! eventfd that the worker's ring keeps a read armed on.
//!
//! The `notified` flag makes a burst of sends cost one eventfd write: a
//! sender writes only when it flips the flag from false to true, and the
//! worker clears it before taking the queue, so no message is left behind.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use super::task_id::TaskId;

/// A message for a worker.
pub(crate) enum Msg {
    /// Wake a task owned by the worker.
    Wake(TaskId),
    /// A socket accepted by the acceptor thread, for the worker to serve.
    Conn(RawFd, crate::conn::SockKind),
    /// Run a closure on the worker (cross-worker calls).
    Run(Box<dyn FnOnce() + Send>),
    /// Begin graceful shutdown.
    Shutdown,
    /// Give up on the grace period and close everything now.
    ForceShutdown,
}

/// The receiving end of a worker's (or the acceptor's) message queue.
pub(crate) struct Remote {
    /// `None` once the worker has exited: messages are dropped on arrival.
    queue: Mutex<Option<Vec<Msg>>>,
    notified: AtomicBool,
    efd: OwnedFd,
}

impl Remote {
    pub fn new() -> io::Result<Arc<Remote>> {
        // SAFETY: eventfd has no memory preconditions; the result is checked.
        let fd = unsafe { libc::eventfd(0, libc::EFD_CLOEXEC) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(Arc::new(Remote {
            queue: Mutex::new(Some(Vec::new())),
            notified: AtomicBool::new(false),
            // SAFETY: fd is a fresh descriptor that nothing else owns.
            efd: unsafe { OwnedFd::from_raw_fd(fd) },
        }))
    }

    /// The eventfd the worker reads.
    pub fn fd(&self) -> RawFd {
        self.efd.as_raw_fd()
    }

    /// Queues `msg` and wakes the worker if it may be sleeping. Once the
    /// worker has exited the message is dropped (a pending cross-worker call
    /// then fails, a handed-over socket is closed).
    pub fn send(&self, msg: Msg) {
        {
            let mut q = self.queue.lock().unwrap_or_else(|e| e.into_inner());
            match q.as_mut() {
                Some(q) => q.push(msg),
                None => {
                    drop(q);
                    discard(msg);
                    return;
                }
            }
        }
        if !self.notified.swap(true, Ordering::AcqRel) {
            let one: u64 = 1;
            // SAFETY: writes 8 bytes from a live u64 to our own eventfd.
            unsafe { libc::write(self.fd(), (&one as *const u64).cast(), 8) };
        }
    }

    /// Moves every queued message into `out` (which keeps its capacity).
    pub fn take(&self, out: &mut Vec<Msg>) {
        self.notified.store(false, Ordering::Release);
        let mut q = self.queue.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(q) = q.as_mut() {
            std::mem::swap(q, out);
        }
    }

    /// Closes the queue for good, discarding what is still in it.
    pub fn close(&self) {
        let left = self.queue.lock().unwrap_or_else(|e| e.into_inner()).take();
        for m in left.into_iter().flatten() {
            discard(m);
        }
    }
}

/// Drops a message that will never be handled, releasing what it owns.
pub(crate) fn discard(msg: Msg) {
    if let Msg::Conn(fd, _) = msg {
        // SAFETY: a socket handed to a worker that will never serve it.
        unsafe { libc::close(fd) };
    }
}

/// Process-wide table from worker id to its remote, for wakes that arrive on
/// another thread. Ids are recycled when workers exit.
static REGISTRY: RwLock<Vec<Option<Arc<Remote>>>> = RwLock::new(Vec::new());

/// Registers a remote and returns its worker id.
pub(crate) fn register(remote: Arc<Remote>) -> u16 {
    let mut reg = REGISTRY.write().unwrap_or_else(|e| e.into_inner());
    if let Some(i) = reg.iter().position(Option::is_none) {
        reg[i] = Some(remote);
        return i as u16;
    }
    assert!(reg.len() < u16::MAX as usize, "too many live workers");
    reg.push(Some(remote));
    (reg.len() - 1) as u16
}

/// Frees a worker id.
pub(crate) fn unregister(id: u16) {
    let mut reg = REGISTRY.write().unwrap_or_else(|e| e.into_inner());
    if let Some(slot) = reg.get_mut(id as usize) {
        *slot = None;
    }
}

/// Wakes task `id` from a thread that is not its worker.
pub(crate) fn wake_remote(id: TaskId) {
    let reg = REGISTRY.read().unwrap_or_else(|e| e.into_inner());
    if let Some(Some(r)) = reg.get(id.worker() as usize) {
        r.send(Msg::Wake(id));
    }
}
