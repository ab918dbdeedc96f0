//! The per-worker pool of idle keep-alive connections, keyed by peer
//! (address, host name, TLS or not) and TLS identity (the client
//! configuration that verified the server).
//!
//! Tasks never leave their worker, so the pool is a thread-local with no
//! locking. Each pool remembers which worker it belongs to (by the
//! identity of that worker's receive-buffer memory): a pool left behind by
//! a worker that has exited (a finished [`Runtime::block_on`]) is
//! forgotten, not used, because that worker's teardown already closed its
//! sockets.
//!
//! [`Runtime::block_on`]: crate::Runtime::block_on

use std::cell::RefCell;
use std::collections::HashMap;
use std::future::Future;
use std::rc::{Rc, Weak};
use std::task::Poll;
use std::time::{Duration, Instant};

use super::Peer;
use crate::driver::BufMem;
use crate::Connection;

/// What a pooled connection is good for: the same peer, reached with the
/// same TLS settings (a connection verified under one root store is not
/// handed to a client configured with another).
#[derive(Clone, Debug)]
pub(crate) struct PoolKey {
    pub(crate) peer: Peer,
    #[cfg(feature = "tls")]
    pub(crate) tls: Option<std::sync::Arc<rustls::ClientConfig>>,
}

impl PoolKey {
    #[cfg(feature = "tls")]
    fn tls_id(&self) -> usize {
        self.tls
            .as_ref()
            .map_or(0, |c| std::sync::Arc::as_ptr(c) as usize)
    }
    #[cfg(not(feature = "tls"))]
    fn tls_id(&self) -> usize {
        0
    }
}

impl PartialEq for PoolKey {
    fn eq(&self, other: &PoolKey) -> bool {
        // The key holds its configuration, so the address cannot be reused
        // by another one while a connection made with it is pooled.
        self.peer == other.peer && self.tls_id() == other.tls_id()
    }
}

impl Eq for PoolKey {}

impl std::hash::Hash for PoolKey {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        self.peer.hash(h);
        self.tls_id().hash(h);
    }
}

struct Idle {
    conn: Connection,
    since: Instant,
}

#[derive(Default)]
struct Pool {
    /// The worker this pool's connections belong to.
    owner: Option<Weak<BufMem>>,
    idle: HashMap<PoolKey, Vec<Idle>>,
    total: usize,
    /// A task that empties the pool when the server shuts down is running.
    watching: bool,
}

thread_local! {
    static POOL: RefCell<Pool> = RefCell::new(Pool::default());
}

/// The current worker's buffer memory: its identity.
fn current_worker() -> Option<Rc<BufMem>> {
    crate::runtime::try_with(|w| w.bufs.mem().clone())
}

impl Pool {
    /// Makes the pool belong to the current worker, forgetting the
    /// connections of a worker that is gone.
    fn adopt(&mut self, worker: &Rc<BufMem>) {
        let ours = self
            .owner
            .as_ref()
            .and_then(Weak::upgrade)
            .is_some_and(|w| Rc::ptr_eq(&w, worker));
        if !ours {
            // The sockets were closed by that worker's teardown, and the
            // handles name slots of a slab that no longer exists: dropping
            // them could touch an unrelated slot of the new worker.
            for (_, v) in self.idle.drain() {
                v.into_iter().for_each(|i| std::mem::forget(i.conn));
            }
            self.total = 0;
            self.watching = false;
            self.owner = Some(Rc::downgrade(worker));
        }
    }

    fn take_all(&mut self) -> Vec<Idle> {
        self.total = 0;
        self.idle.drain().flat_map(|(_, v)| v).collect()
    }
}

/// Takes an idle connection for `key` that is still usable: not idle for
/// longer than `max_idle`, not closed by the peer, with no unsolicited
/// bytes waiting.
pub(crate) fn take(key: &PoolKey, max_idle: Duration) -> Option<Connection> {
    let worker = current_worker()?;
    loop {
        let idle = POOL.with(|p| {
            let mut p = p.borrow_mut();
            p.adopt(&worker);
            let list = p.idle.get_mut(key)?;
            let idle = list.pop();
            if list.is_empty() {
                p.idle.remove(key);
            }
            if idle.is_some() {
                p.total -= 1;
            }
            idle
        })?;
        // Dropped outside the borrow: a connection's drop does not touch
        // the pool, but keep the borrow short regardless.
        let Idle { mut conn, since } = idle;
        if since.elapsed() <= max_idle && is_quiet(&mut conn) {
            return Some(conn);
        }
    }
}

/// True if a read on `conn` would wait: the peer has neither closed nor
/// sent anything since the last response.
fn is_quiet(conn: &mut Connection) -> bool {
    let mut read = conn.read();
    let mut read = std::pin::Pin::new(&mut read);
    let waker = std::task::Waker::noop();
    let mut cx = std::task::Context::from_waker(waker);
    matches!(read.as_mut().poll(&mut cx), Poll::Pending)
}

/// Returns `conn` to the pool, unless the pool for `key` holds
/// `per_peer` connections already, or the pool `total`, or the worker is
/// shutting down (then `conn` is dropped, which closes it).
pub(crate) fn put(key: PoolKey, conn: Connection, per_peer: usize, total: usize) {
    let Some(worker) = current_worker() else {
        return;
    };
    if crate::is_shutting_down() || per_peer == 0 || total == 0 {
        return;
    }
    let rejected = POOL.with(|p| {
        let mut p = p.borrow_mut();
        p.adopt(&worker);
        let start_watch = !p.watching;
        p.watching = true;
        let p = &mut *p;
        let list = p.idle.entry(key).or_default();
        let mut rejected = None;
        if list.len() >= per_peer || p.total >= total {
            // Keep the newest: the oldest is the likeliest to be closed by
            // its server soon.
            if list.is_empty() {
                rejected = Some(conn);
            } else {
                let old = list.remove(0);
                list.push(Idle {
                    conn,
                    since: Instant::now(),
                });
                rejected = Some(old.conn);
            }
        } else {
            list.push(Idle {
                conn,
                since: Instant::now(),
            });
            p.total += 1;
        }
        (rejected, start_watch)
    });
    let (rejected, start_watch) = rejected;
    drop(rejected);
    if start_watch {
        // Idle connections would hold up the worker's shutdown (it waits
        // for open sockets); close them as soon as shutdown begins.
        crate::spawn_local(async {
            crate::shutdown_requested().await;
            close_idle();
        });
    }
}

/// Number of idle pooled connections on this worker.
pub fn idle_count() -> usize {
    let Some(worker) = current_worker() else {
        return 0;
    };
    POOL.with(|p| {
        let mut p = p.borrow_mut();
        p.adopt(&worker);
        p.total
    })
}

/// Closes every idle pooled connection of this worker.
///
/// A worker waits for its open sockets when it stops, so code run with
/// [`Runtime::block_on`](crate::Runtime::block_on) may call this last to
/// return promptly. (Server workers do it by themselves when shutdown
/// begins.)
pub fn close_idle() {
    let Some(worker) = current_worker() else {
        return;
    };
    let all = POOL.with(|p| {
        let mut p = p.borrow_mut();
        p.adopt(&worker);
        p.take_all()
    });
    drop(all);
}
