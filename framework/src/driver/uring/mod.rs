//! The io_uring driver: requests become submission entries on the worker's
//! ring, the kernel's completions come back unchanged, and receive buffers
//! sit in a provided-buffer ring the kernel picks from.
//!
//! Everything io_uring-specific lives here: ring setup and modes
//! (`ring.rs`), the feature probe (`probe.rs`), opcodes, the registered
//! buffer group, and the timespecs the kernel reads at submission.

mod probe;
mod ring;

use std::io;
use std::os::fd::RawFd;

use io_uring::{opcode, squeue, types};

pub(crate) use probe::{probe_kernel, KernelSupport};
pub use ring::RingMode;
pub(crate) use ring::{is_transient, Ring};

use super::buffers::{mmap_anon, Buffers, KernelRing};
use super::op::{open_file_resolve, Completion, Request, OPEN_FILE_FLAGS};
use super::token::Token;
use super::{sendfile, Wait};
use crate::conn::FileSpan;

/// Timespecs handed to the kernel with timeout entries. The kernel copies
/// a timespec when it prepares the entry, during the next submission, so a
/// small arena reused round-robin (flushed before it wraps) is enough.
const TS_ARENA: usize = 32;

/// The buffer group id of the worker's receive buffers.
const BGID: u16 = 0;

/// `IORING_SEND_ZC_REPORT_USAGE` (Linux 6.2+): the notification of a
/// zero-copy send says whether the kernel had to copy the bytes after all
/// (see `op::zc_copied`). A 6.1 kernel rejects it with EINVAL, which the
/// engine takes as "no zero-copy here" and sends by copying.
const SEND_ZC_REPORT_USAGE: u16 = 8;

/// A worker's io_uring.
pub(crate) struct Uring {
    ring: Ring,
    ts: Box<[types::Timespec; TS_ARENA]>,
    ts_next: usize,
    /// `open_how`s of file opens, read by the kernel at submission like
    /// the timespecs (same arena rule).
    how: Box<[types::OpenHow; TS_ARENA]>,
    how_next: usize,
    /// File spans being sent (see `push_file`), by connection slot (the
    /// index of their send's token: a slot has one send at a time), and
    /// how many there are.
    files: Vec<Option<FileSend>>,
    files_live: usize,
}

/// A file span's send in flight: `sendfile(2)` is made on the worker (no
/// io_uring opcode does it without a thread hop), and the ring carries
/// either its result (a no-op entry) or the wait for room (a poll).
struct FileSend {
    ud: u64,
    sock: RawFd,
    span: FileSpan,
    /// The result, once known; `None` while the poll waits.
    result: Option<i32>,
}

fn timespec_ns(ns: u64) -> types::Timespec {
    types::Timespec::new()
        .sec(ns / 1_000_000_000)
        .nsec((ns % 1_000_000_000) as u32)
}

impl Uring {
    pub fn new(entries: u32) -> io::Result<Uring> {
        Ok(Uring {
            ring: Ring::new(entries)?,
            ts: Box::new([types::Timespec::new(); TS_ARENA]),
            ts_next: 0,
            how: Box::new([types::OpenHow::new(); TS_ARENA]),
            how_next: 0,
            files: Vec::new(),
            files_live: 0,
        })
    }

    pub fn mode(&self) -> RingMode {
        self.ring.mode()
    }

    /// True if an idle wait can batch completions: the min-wait (6.12+)
    /// with `DEFER_TASKRUN`. Only there does the kernel drop the wait
    /// target to one completion once the min-wait has passed, so a batch
    /// target set under load never holds a lone completion back.
    pub fn can_batch(&self) -> bool {
        self.ring.has_min_wait() && self.ring.mode() == RingMode::DeferTaskrun
    }

    pub fn counts(&self) -> (u64, u64) {
        (self.ring.enters, self.ring.submitted)
    }

    /// Maps the receive buffers and registers them as a provided-buffer
    /// ring.
    pub fn buffers(&self, entries: u16, buf_size: u32) -> io::Result<Buffers> {
        let ring_len = entries as usize * std::mem::size_of::<types::BufRingEntry>();
        let ring_ptr = mmap_anon(ring_len)?.cast::<types::BufRingEntry>();
        let kr = KernelRing {
            ring: ring_ptr,
            ring_len,
            tail: std::cell::Cell::new(0),
        };
        // From here on the mapping is unmapped by `Buffers`' drop.
        let bufs = Buffers::with_ring(entries, buf_size, kr).inspect_err(|_| {
            // SAFETY: mapped above with ring_len bytes; nothing else owns it.
            unsafe { libc::munmap(ring_ptr.cast(), ring_len) };
        })?;
        // SAFETY: the ring memory is page aligned, `ring_len` long and lives
        // until `bufs` is dropped, after the ring that uses it is gone.
        unsafe {
            self.ring.uring().submitter().register_buf_ring_with_flags(
                ring_ptr as u64,
                entries,
                BGID,
                0,
            )
        }
        .map_err(crate::error::buf_ring_setup)?;
        bufs.recycle_all();
        Ok(bufs)
    }

    fn timespec(&mut self, ts: types::Timespec) -> *const types::Timespec {
        if self.ts_next == TS_ARENA {
            // Every timespec handed out so far must be read by the kernel
            // before its place is reused.
            self.flush();
            self.ts_next = 0;
        }
        let i = self.ts_next;
        self.ts_next += 1;
        self.ts[i] = ts;
        &self.ts[i]
    }

    fn open_how(&mut self, how: types::OpenHow) -> *const types::OpenHow {
        if self.how_next == TS_ARENA {
            // As for the timespecs: the kernel copies each at submission.
            self.flush();
            self.how_next = 0;
        }
        let i = self.how_next;
        self.how_next += 1;
        self.how[i] = how;
        &self.how[i]
    }

    fn flush(&mut self) {
        if let Err(e) = self.ring.enter(0) {
            if !is_transient(&e) {
                panic!("corering: io_uring_enter failed: {e}");
            }
        }
    }

    /// Queues `req`; returns how many final completions it will bring.
    ///
    /// # Safety
    /// Pointers in `req` must stay valid until its last completion.
    #[inline]
    pub unsafe fn push(&mut self, token: Token, req: Request) -> usize {
        let ud = token.encode();
        let fd = |fd: RawFd| types::Fd(fd);
        let mut nosig = libc::MSG_NOSIGNAL;
        let (e, n) = match req {
            Request::Recv { fd: f } => (opcode::RecvMulti::new(fd(f), BGID).build(), 1),
            Request::Send { fd: f, state } => {
                // SAFETY: the caller keeps the send state alive and unmoved
                // until the completion (and a zero-copy notification).
                let st = unsafe { &*state };
                if let Some(span) = st.file {
                    return self.push_file(ud, f, span);
                }
                if st.more {
                    nosig |= libc::MSG_MORE;
                }
                let n = st.msg.msg_iovlen;
                // One buffer: plain send, which skips the kernel's msghdr
                // import.
                let (base, len) = (st.iov[0].iov_base as *const u8, st.iov[0].iov_len as u32);
                let e = match (n, st.zc) {
                    (1, false) => opcode::Send::new(fd(f), base, len).flags(nosig).build(),
                    (1, true) => opcode::SendZc::new(fd(f), base, len)
                        .flags(nosig)
                        .zc_flags(SEND_ZC_REPORT_USAGE)
                        .build(),
                    (_, false) => opcode::SendMsg::new(fd(f), &st.msg)
                        .flags(nosig as u32)
                        .build(),
                    (_, true) => opcode::SendMsgZc::new(fd(f), &st.msg)
                        .flags(nosig as u32)
                        .ioprio(SEND_ZC_REPORT_USAGE)
                        .build(),
                };
                (e, 1)
            }
            Request::Cancel { target, .. } => {
                (opcode::AsyncCancel::new(target.encode()).build(), 1)
            }
            Request::CancelAll => (
                opcode::AsyncCancel2::new(types::CancelBuilder::any()).build(),
                1,
            ),
            Request::Close { fd: f } => (opcode::Close::new(fd(f)).build(), 1),
            Request::Shutdown { fd: f, how } => (opcode::Shutdown::new(fd(f), how).build(), 1),
            Request::Connect { fd: f, state } => {
                // SAFETY: the slot keeps the connect state until completion.
                let st = unsafe { &*state };
                let e = opcode::Connect::new(
                    fd(f),
                    (&st.addr as *const libc::sockaddr_storage).cast(),
                    st.len,
                )
                .build()
                .user_data(ud);
                let Some(t) = st.timeout else {
                    // SAFETY: forwarded from the caller's contract.
                    unsafe { self.ring.push(&e) };
                    return 1;
                };
                let ts = self.timespec(types::Timespec::from(t));
                // SAFETY: as above; the linked timeout's timespec is copied
                // by the kernel when it is prepared.
                unsafe {
                    self.ring.push(&e.flags(squeue::Flags::IO_LINK));
                    let lt = opcode::LinkTimeout::new(ts)
                        .build()
                        .user_data(Token::new(super::Op::Ignore, token.index, token.gen).encode());
                    self.ring.push(&lt);
                }
                return 2;
            }
            Request::Accept { fd: f } => (
                opcode::AcceptMulti::new(fd(f))
                    .flags(libc::SOCK_CLOEXEC)
                    .build(),
                1,
            ),
            Request::ReadEventfd { fd: f, buf } => {
                (opcode::Read::new(fd(f), buf.cast(), 8).build(), 1)
            }
            Request::Timeout { at_ns } => {
                let ts = self.timespec(timespec_ns(at_ns));
                (
                    opcode::Timeout::new(ts)
                        .flags(types::TimeoutFlags::ABS)
                        .build(),
                    1,
                )
            }
            Request::TimeoutUpdate { target, at_ns } => {
                let ts = self.timespec(timespec_ns(at_ns));
                (
                    opcode::TimeoutUpdate::new(target.encode(), ts)
                        .flags(types::TimeoutFlags::ABS)
                        .build(),
                    1,
                )
            }
            Request::OpenFile { dir, path, beneath } => {
                let how = types::OpenHow::new()
                    .flags(OPEN_FILE_FLAGS as u64)
                    .resolve(open_file_resolve(beneath));
                let how = self.open_how(how);
                (opcode::OpenAt2::new(fd(dir), path, how).build(), 1)
            }
            Request::ReadAt {
                fd: f,
                buf,
                len,
                offset,
            } => (opcode::Read::new(fd(f), buf, len).offset(offset).build(), 1),
        };
        // SAFETY: forwarded from the caller's contract.
        unsafe { self.ring.push(&e.user_data(ud)) };
        n
    }

    /// Sends a file span now, as far as the socket takes it, and queues a
    /// no-op that brings the result back as the send's completion; or,
    /// if the socket's buffer is full, a poll for room (`reap` sends
    /// when it completes). One final completion either way.
    #[cold]
    fn push_file(&mut self, ud: u64, sock: RawFd, span: FileSpan) -> usize {
        let r = sendfile::send_on_blocking(sock, span);
        let result = (r != -libc::EAGAIN).then_some(r);
        let slot = Token::decode(ud).index as usize;
        if self.files.len() <= slot {
            self.files.resize_with(slot + 1, || None);
        }
        debug_assert!(self.files[slot].is_none(), "one send per slot");
        self.files[slot] = Some(FileSend {
            ud,
            sock,
            span,
            result,
        });
        self.files_live += 1;
        self.push_file_entry(ud, sock, result.is_none());
        1
    }

    fn push_file_entry(&mut self, ud: u64, sock: RawFd, poll: bool) {
        let e = if poll {
            opcode::PollAdd::new(types::Fd(sock), libc::POLLOUT as u32).build()
        } else {
            opcode::Nop::new().build()
        };
        // SAFETY: neither entry points at memory.
        unsafe { self.ring.push(&e.user_data(ud)) };
    }

    /// Turns the completions of file sends (`push_file`) into send
    /// completions: a no-op's carries the result; a poll's, once the
    /// socket has room, the next `sendfile(2)`, or it is dropped and the
    /// poll armed again if there is no room after all.
    #[cold]
    fn reap_files(&mut self, out: &mut [Completion], n: usize) -> usize {
        let mut kept = 0;
        for i in 0..n {
            let mut c = out[i];
            let slot = Token::decode(c.user_data).index as usize;
            let mine = self
                .files
                .get(slot)
                .and_then(Option::as_ref)
                .filter(|f| f.ud == c.user_data);
            if let Some(f) = mine {
                let r = match f.result {
                    Some(r) => r,
                    // Cancelled, or the poll failed.
                    None if c.result < 0 => c.result,
                    None => sendfile::send_on_blocking(f.sock, f.span),
                };
                if r == -libc::EAGAIN && f.result.is_none() {
                    let (ud, sock) = (f.ud, f.sock);
                    self.push_file_entry(ud, sock, true);
                    continue;
                }
                self.files[slot] = None;
                self.files_live -= 1;
                c.result = r;
                c.flags = 0;
            }
            out[kept] = c;
            kept += 1;
        }
        kept
    }

    /// Submits what is queued and waits as `how` says.
    #[inline]
    pub fn wait(&mut self, how: Wait) -> io::Result<()> {
        let r = match how {
            Wait::Poll => self.ring.enter(0),
            Wait::Block => self.ring.enter(1),
            Wait::Batch { want, min_us } => {
                // The general timeout is what makes an idle batched wait a
                // sleep (see `Ring::enter_batch`); timers and wakes arrive
                // as completions, so it only bounds the sleep.
                let idle = types::Timespec::new().sec(3600);
                self.ring.enter_batch(want, min_us, &idle)
            }
            Wait::Timeout(d) => self.ring.enter_timeout(1, &types::Timespec::from(d)),
        };
        if r.is_ok() {
            // Everything queued was submitted: the kernel has read the
            // timespecs and the open_hows.
            self.ts_next = 0;
            self.how_next = 0;
        }
        r.map(drop)
    }

    /// Moves up to `out.len()` completions into `out`; returns how many.
    pub fn reap(&mut self, out: &mut [Completion]) -> usize {
        let n = self.ring.reap(out);
        if self.files_live == 0 {
            return n;
        }
        self.reap_files(out, n)
    }
}
