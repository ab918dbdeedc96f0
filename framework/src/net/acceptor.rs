//! The acceptor thread of `AcceptMode::Acceptor`: one driver (io_uring or
//! epoll, like the workers) with a multishot accept per listening socket,
//! handing each accepted socket to the next worker in turn through the
//! worker's remote queue.
//!
//! When accepting fails for lack of descriptors or memory (EMFILE and the
//! like) the listener backs off for 100 ms (a timeout on the same driver)
//! before accepting again, and says so once per episode; see
//! [`AcceptBackoff`].

use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::Arc;
use std::thread::JoinHandle;

use super::backoff::AcceptBackoff;
use crate::conn::SockKind;
use crate::driver::op::more;
use crate::driver::{is_transient, Backend, Completion, Driver, Op, Request, Submit, Token, Wait};
use crate::runtime::{Msg, Remote};

/// A running acceptor thread.
pub(crate) struct Acceptor {
    remote: Arc<Remote>,
    thread: Option<JoinHandle<()>>,
}

impl Acceptor {
    /// Starts accepting on `listeners`, distributing to `workers`.
    pub fn spawn(
        listeners: Vec<(OwnedFd, SockKind)>,
        workers: Vec<Arc<Remote>>,
        backend: Backend,
    ) -> io::Result<Acceptor> {
        let remote = Remote::new()?;
        let r2 = remote.clone();
        let (tx, rx) = std::sync::mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("corering-acceptor".into())
            .spawn(move || match Driver::new(backend, 64) {
                Ok(drv) => {
                    let _ = tx.send(Ok(()));
                    run(drv, listeners, workers, &r2);
                }
                Err(e) => {
                    let _ = tx.send(Err(e));
                }
            })?;
        rx.recv()
            .unwrap_or_else(|_| Err(io::Error::other("acceptor thread exited during startup")))?;
        Ok(Acceptor {
            remote,
            thread: Some(thread),
        })
    }

    /// The thread's message queue.
    pub fn remote(&self) -> Arc<Remote> {
        self.remote.clone()
    }

    /// Stops accepting; listening sockets are closed before the thread exits.
    pub fn stop(&self) {
        self.remote.send(Msg::Shutdown);
    }

    /// Waits for the thread to exit.
    pub fn join(mut self) {
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

struct Listener {
    fd: OwnedFd,
    kind: SockKind,
    armed: bool,
    backoff: AcceptBackoff,
    /// A back-off timeout is in flight.
    waiting: bool,
}

/// Waits out listener `i`'s back-off with a timeout on the driver.
fn arm_backoff(drv: &mut Driver, l: &mut Listener, i: usize) {
    let at_ns = crate::runtime::time::now_ns() + super::backoff::BACKOFF_MS * 1_000_000;
    let t = Token::new(Op::Timer, i as u32, 0);
    // SAFETY: a timeout references no memory of ours.
    unsafe { drv.submit(t, Request::Timeout { at_ns }) };
    l.waiting = true;
}

fn arm(drv: &mut Driver, l: &mut Listener, i: usize) {
    let t = Token::new(Op::Accept, i as u32, 0);
    let fd = l.fd.as_raw_fd();
    // SAFETY: multishot accept without an address references no memory.
    unsafe { drv.submit(t, Request::Accept { fd }) };
    l.armed = true;
}

fn run(
    mut drv: Driver,
    listeners: Vec<(OwnedFd, SockKind)>,
    workers: Vec<Arc<Remote>>,
    remote: &Remote,
) {
    let mut ls: Vec<Listener> = listeners
        .into_iter()
        .map(|(fd, kind)| Listener {
            fd,
            kind,
            armed: false,
            backoff: AcceptBackoff::default(),
            waiting: false,
        })
        .collect();
    for (i, l) in ls.iter_mut().enumerate() {
        arm(&mut drv, l, i);
    }
    let mut efd_buf = Box::new(0u64);
    let mut efd_armed = false;
    let mut stopping = false;
    let mut next = 0usize;
    let mut cqes = [Completion::default(); 64];
    let mut msgs = Vec::new();
    loop {
        if !efd_armed && !stopping {
            let fd = remote.fd();
            let buf: *mut u64 = &mut *efd_buf;
            let t = Token::new(Op::Remote, 0, 0);
            // SAFETY: efd_buf is boxed and outlives the driver's operations
            // (the loop only exits with nothing in flight).
            unsafe { drv.submit(t, Request::ReadEventfd { fd, buf }) };
            efd_armed = true;
        }
        if stopping && drv.inflight == 0 {
            break;
        }
        if let Err(e) = drv.wait(Wait::Block, None) {
            if !is_transient(&e) {
                eprintln!("corering: acceptor: waiting for I/O failed: {e}");
                break;
            }
        }
        let n = drv.reap(&mut cqes);
        for c in &cqes[..n] {
            if !more(c.flags) {
                drv.inflight -= 1;
            }
            let t = Token::decode(c.user_data);
            match t.op {
                Op::Accept => {
                    let l = &mut ls[t.index as usize];
                    if !more(c.flags) {
                        l.armed = false;
                    }
                    if c.result >= 0 {
                        if l.backoff.on_success() {
                            eprintln!("corering: accept: acceptor thread accepting again");
                        }
                        if stopping {
                            // SAFETY: a socket we will not serve.
                            unsafe { libc::close(c.result) };
                        } else {
                            workers[next % workers.len()].send(Msg::Conn(c.result, l.kind));
                            next = next.wrapping_add(1);
                        }
                    } else {
                        let log = |what: &str| {
                            eprintln!("corering: accept: {what}; acceptor thread backing off")
                        };
                        if l.backoff
                            .on_error(-c.result, crate::runtime::time::now_tick(), log)
                            && !l.armed
                            && !l.waiting
                            && !stopping
                        {
                            // Re-arming now would fail again at once (a
                            // spin): accept again after the back-off.
                            arm_backoff(&mut drv, l, t.index as usize);
                        }
                    }
                    if !l.armed && !l.waiting && !stopping {
                        arm(&mut drv, l, t.index as usize);
                    }
                }
                Op::Timer => {
                    let l = &mut ls[t.index as usize];
                    l.waiting = false;
                    if !l.armed && !stopping {
                        arm(&mut drv, l, t.index as usize);
                    }
                }
                Op::Remote => {
                    efd_armed = false;
                    remote.take(&mut msgs);
                    if msgs.drain(..).any(|m| matches!(m, Msg::Shutdown)) && !stopping {
                        stopping = true;
                        let t = Token::new(Op::Ignore, 0, 0);
                        // SAFETY: a cancel references no memory.
                        unsafe { drv.submit(t, Request::CancelAll) };
                    }
                }
                _ => {}
            }
        }
    }
    // Every accept has ended: closing the sockets now really closes them.
    drop(ls);
    remote.close();
}
