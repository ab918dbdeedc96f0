//! The acceptor thread of `AcceptMode::Acceptor`: one ring with a multishot
//! accept per listening socket, handing each accepted socket to the next
//! worker in turn through the worker's remote queue.
//!
//! When accepting fails for lack of descriptors or memory (EMFILE and the
//! like) the listener backs off for 100 ms (a timeout on the same ring)
//! before accepting again, and says so once per episode; see
//! [`AcceptBackoff`].

use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::Arc;
use std::thread::JoinHandle;

use io_uring::{cqueue, opcode, types};

use super::backoff::AcceptBackoff;
use crate::conn::SockKind;
use crate::runtime::{Msg, Remote};
use crate::uring::{is_transient, Cqe, Op, Ring, Token};

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
    ) -> io::Result<Acceptor> {
        let remote = Remote::new()?;
        let r2 = remote.clone();
        let (tx, rx) = std::sync::mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("corering-acceptor".into())
            .spawn(move || match Ring::new(64) {
                Ok(ring) => {
                    let _ = tx.send(Ok(()));
                    run(ring, listeners, workers, &r2);
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
    /// Its duration; boxed so the address stays valid while it is queued.
    wait_ts: Box<types::Timespec>,
}

/// Waits out listener `i`'s back-off with a timeout on the ring.
fn arm_backoff(ring: &mut Ring, l: &mut Listener, i: usize, inflight: &mut usize) {
    *l.wait_ts = types::Timespec::new().nsec(super::backoff::BACKOFF_MS as u32 * 1_000_000);
    let e = opcode::Timeout::new(&*l.wait_ts)
        .build()
        .user_data(Token::new(Op::Timer, i as u32, 0).encode());
    // SAFETY: the timespec is boxed in the listener, which outlives every
    // operation on the ring (the loop exits with nothing in flight).
    unsafe { ring.push(&e) };
    *inflight += 1;
    l.waiting = true;
}

fn arm(ring: &mut Ring, l: &mut Listener, i: usize, inflight: &mut usize) {
    let e = opcode::AcceptMulti::new(types::Fd(l.fd.as_raw_fd()))
        .flags(libc::SOCK_CLOEXEC)
        .build()
        .user_data(Token::new(Op::Accept, i as u32, 0).encode());
    // SAFETY: multishot accept without an address references no memory.
    unsafe { ring.push(&e) };
    *inflight += 1;
    l.armed = true;
}

fn run(
    mut ring: Ring,
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
            wait_ts: Box::new(types::Timespec::new()),
        })
        .collect();
    let mut inflight = 0usize;
    for (i, l) in ls.iter_mut().enumerate() {
        arm(&mut ring, l, i, &mut inflight);
    }
    let mut efd_buf = Box::new(0u64);
    let mut efd_armed = false;
    let mut stopping = false;
    let mut next = 0usize;
    let mut cqes = [Cqe::default(); 64];
    let mut msgs = Vec::new();
    loop {
        if !efd_armed && !stopping {
            let e = opcode::Read::new(
                types::Fd(remote.fd()),
                (&mut *efd_buf as *mut u64).cast(),
                8,
            )
            .build()
            .user_data(Token::new(Op::Remote, 0, 0).encode());
            // SAFETY: efd_buf is boxed and outlives the ring's operations
            // (the loop only exits with nothing in flight).
            unsafe { ring.push(&e) };
            inflight += 1;
            efd_armed = true;
        }
        if stopping && inflight == 0 {
            break;
        }
        if let Err(e) = ring.enter(1) {
            if !is_transient(&e) {
                eprintln!("corering: acceptor ring failed: {e}");
                break;
            }
        }
        let n = ring.reap(&mut cqes);
        for c in &cqes[..n] {
            if !cqueue::more(c.flags) {
                inflight -= 1;
            }
            let t = Token::decode(c.user_data);
            match t.op {
                Op::Accept => {
                    let l = &mut ls[t.index as usize];
                    if !cqueue::more(c.flags) {
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
                            arm_backoff(&mut ring, l, t.index as usize, &mut inflight);
                        }
                    }
                    if !l.armed && !l.waiting && !stopping {
                        arm(&mut ring, l, t.index as usize, &mut inflight);
                    }
                }
                Op::Timer => {
                    let l = &mut ls[t.index as usize];
                    l.waiting = false;
                    if !l.armed && !stopping {
                        arm(&mut ring, l, t.index as usize, &mut inflight);
                    }
                }
                Op::Remote => {
                    efd_armed = false;
                    remote.take(&mut msgs);
                    if msgs.drain(..).any(|m| matches!(m, Msg::Shutdown)) && !stopping {
                        stopping = true;
                        let e = opcode::AsyncCancel2::new(types::CancelBuilder::any())
                            .build()
                            .user_data(Token::new(Op::Ignore, 0, 0).encode());
                        // SAFETY: a cancel references no memory.
                        unsafe { ring.push(&e) };
                        inflight += 1;
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
