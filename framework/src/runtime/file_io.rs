//! File operations on the worker's ring: open and read submitted from a
//! task and awaited like any other completion, so a worker reads
//! files without a pool thread and without blocking (the kernel reads
//! from the page cache inline, or waits for the disk on its own worker
//! threads).
//!
//! Only with io_uring (`KernelSupport::files`); [`available`] says whether
//! this worker has them, and callers take the blocking pool otherwise
//! (epoll cannot make a disk read non-blocking: a regular file is always
//! "ready").
//!
//! ```text
//!  task: FileOp::submit ──► table entry (owns path / buffer) ──► Request (Op::File)
//!  worker: completion ──► entry Done(result), waker woken
//!  task: poll ──► result taken, entry freed
//!  future dropped first ──► entry Orphan: freed (and an opened file closed)
//!                           when its completion arrives
//! ```
//!
//! (statx is not here: on the ring it always goes to an io-wq thread, so
//! `http/fs/direct.rs` makes it as a plain call on the open file.)
//!
//! The memory the kernel writes or reads (the path, the read buffer) is
//! owned by the table entry, never by the future, so
//! dropping the future at any point is safe.

use std::ffi::CString;
use std::future::Future;
use std::io;
use std::os::fd::{FromRawFd, OwnedFd, RawFd};
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use super::Worker;
use crate::driver::{Driver, Op, Request, Submit, Token};

/// What an entry keeps alive for the kernel.
enum Keep {
    None,
    /// An open's path; the open's result is a descriptor to close if
    /// nobody takes it.
    Path(CString),
    Buf(Vec<u8>),
}

enum State {
    Free,
    /// Submitted; the waker of the task awaiting it.
    Pending(Option<Waker>),
    /// Submitted, and the future is gone.
    Orphan,
    Done(i32),
}

struct Entry {
    state: State,
    keep: Keep,
    gen: u32,
}

/// A worker's file operations in flight.
pub(crate) struct FileOps {
    entries: Vec<Entry>,
    free: Vec<u32>,
    enabled: bool,
}

impl FileOps {
    /// An empty table; `enabled` if the driver has the file operations.
    pub fn new(enabled: bool) -> FileOps {
        FileOps {
            entries: Vec::new(),
            free: Vec::new(),
            enabled,
        }
    }

    fn alloc(&mut self, keep: Keep) -> (u32, u32) {
        let i = match self.free.pop() {
            Some(i) => i,
            None => {
                self.entries.push(Entry {
                    state: State::Free,
                    keep: Keep::None,
                    gen: 0,
                });
                self.entries.len() as u32 - 1
            }
        };
        let e = &mut self.entries[i as usize];
        e.gen = e.gen.wrapping_add(1);
        e.state = State::Pending(None);
        e.keep = keep;
        (i, e.gen)
    }

    fn release(&mut self, i: u32) -> Keep {
        let e = &mut self.entries[i as usize];
        e.state = State::Free;
        self.free.push(i);
        std::mem::replace(&mut e.keep, Keep::None)
    }

    /// The completion of entry `t.index`.
    pub fn complete(&mut self, t: Token, res: i32, drv: &mut Driver) {
        let Some(e) = self.entries.get_mut(t.index as usize) else {
            return;
        };
        if !crate::driver::same_gen(e.gen, t.gen) {
            return;
        }
        match std::mem::replace(&mut e.state, State::Done(res)) {
            State::Pending(w) => {
                if let Some(w) = w {
                    w.wake();
                }
            }
            State::Orphan => {
                let opened = matches!(e.keep, Keep::Path(_)) && res >= 0;
                self.release(t.index);
                if opened {
                    close(drv, res);
                }
            }
            other => e.state = other,
        }
    }
}

/// Closes `fd` on the ring, not waiting for the answer.
fn close(drv: &mut Driver, fd: RawFd) {
    // SAFETY: a close references no memory.
    unsafe { drv.submit(Token::new(Op::Ignore, 0, 0), Request::Close { fd }) };
}

/// True if this thread's worker opens and reads files on its ring.
pub(crate) fn available() -> bool {
    super::try_with(|w| w.io.borrow().files.enabled).unwrap_or(false)
}

/// One submitted file operation.
struct FileOp {
    index: u32,
    gen: u32,
    done: bool,
}

impl FileOp {
    /// Takes an entry keeping `keep` and submits the request `make` builds
    /// from it.
    fn submit(w: &Worker, keep: Keep, make: impl FnOnce(&mut Keep) -> Request) -> FileOp {
        let mut io = w.io.borrow_mut();
        let io = &mut *io;
        let (index, gen) = io.files.alloc(keep);
        let req = make(&mut io.files.entries[index as usize].keep);
        // SAFETY: what `req` points to is owned by the entry, which stays
        // until the completion (an orphaned entry waits for it too); the
        // entries' Vec may move, but not the boxed or heap memory it owns.
        unsafe { io.drv.submit(Token::new(Op::File, index, gen), req) };
        FileOp {
            index,
            gen,
            done: false,
        }
    }
}

impl Future for FileOp {
    /// The result, and what the entry kept.
    type Output = (i32, Keep);

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<(i32, Keep)> {
        super::with(|w| {
            let mut io = w.io.borrow_mut();
            let files = &mut io.files;
            let e = &mut files.entries[self.index as usize];
            debug_assert_eq!(e.gen, self.gen);
            match &mut e.state {
                State::Done(res) => {
                    let res = *res;
                    let keep = files.release(self.index);
                    self.done = true;
                    Poll::Ready((res, keep))
                }
                State::Pending(waker) => {
                    crate::conn::set_waker(waker, cx.waker());
                    Poll::Pending
                }
                State::Free | State::Orphan => unreachable!("a live FileOp's entry is in use"),
            }
        })
    }
}

impl Drop for FileOp {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        let _ = super::try_with(|w| {
            let mut io = w.io.borrow_mut();
            let io = &mut *io;
            let e = &mut io.files.entries[self.index as usize];
            match e.state {
                State::Done(res) => {
                    let opened = matches!(e.keep, Keep::Path(_)) && res >= 0;
                    io.files.release(self.index);
                    if opened {
                        close(&mut io.drv, res);
                    }
                }
                _ => e.state = State::Orphan,
            }
        });
    }
}

fn result(res: i32) -> io::Result<i32> {
    if res < 0 {
        Err(io::Error::from_raw_os_error(-res))
    } else {
        Ok(res)
    }
}

/// Opens `path` for reading on the ring: relative to `dir` and never
/// leaving it if `beneath`, following no symbolic link (`ELOOP`).
/// Only where [`available`] is true.
pub(crate) async fn open(dir: RawFd, path: CString, beneath: bool) -> io::Result<OwnedFd> {
    let op = super::with(|w| {
        FileOp::submit(w, Keep::Path(path), |k| match k {
            Keep::Path(p) => Request::OpenFile {
                dir,
                path: p.as_ptr(),
                beneath,
            },
            _ => unreachable!(),
        })
    });
    let (res, _) = op.await;
    // SAFETY: a fresh descriptor the kernel just opened for us.
    result(res).map(|fd| unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Reads up to `len` bytes at `offset` of `fd` into `buf` (cleared first,
/// its capacity reused), on the ring; gives the buffer back with the
/// bytes read.
pub(crate) async fn read_at(
    fd: RawFd,
    mut buf: Vec<u8>,
    len: usize,
    offset: u64,
) -> io::Result<Vec<u8>> {
    buf.clear();
    buf.reserve_exact(len);
    let len = len.min(u32::MAX as usize) as u32;
    let op = super::with(|w| {
        FileOp::submit(w, Keep::Buf(buf), |k| match k {
            Keep::Buf(b) => Request::ReadAt {
                fd,
                buf: b.as_mut_ptr(),
                len,
                offset,
            },
            _ => unreachable!(),
        })
    });
    match op.await {
        (res, Keep::Buf(mut b)) => {
            let n = result(res)? as usize;
            // SAFETY: the kernel wrote `n` ≤ capacity bytes at the start.
            unsafe { b.set_len(n) };
            Ok(b)
        }
        (res, _) => result(res).and(Err(io::Error::other("read lost its buffer"))),
    }
}

/// Closes `fd` on the ring (this worker's), not waiting for the answer.
pub(crate) fn close_file(fd: OwnedFd) {
    use std::os::fd::IntoRawFd;
    let raw = fd.into_raw_fd();
    super::with(|w| {
        let mut io = w.io.borrow_mut();
        close(&mut io.drv, raw);
    });
}
