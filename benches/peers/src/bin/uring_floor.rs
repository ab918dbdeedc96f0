//! The floor of the `http_load` bench: the least an io_uring HTTP responder can do, with
//! no framework. One thread, one io_uring (`SINGLE_ISSUER | DEFER_TASKRUN` when the kernel
//! has them), a multishot accept, one multishot recv per connection that takes its buffers
//! from a provided buffer ring, and one send per connection at a time.
//!
//! It does not parse HTTP: it counts `\r\n\r\n` request terminators in what it receives
//! (across buffer boundaries) and owes one response per terminator. After each batch of
//! completions, every connection that owes responses and has no send in flight gets one
//! send with all of them: a slice of a buffer that holds the same pre-built response
//! (`200 OK`, `Content-Length: 13`, `Content-Type: text/plain`, a `Date` fixed at start,
//! `Hello, World!`) many times over, so nothing is copied or formatted per request.
//!
//! `uring_floor --addr 127.0.0.1:8080` prints `listening on ADDR` once bound.

use std::io;
use std::net::TcpListener;
use std::os::fd::{AsRawFd, RawFd};
use std::sync::atomic::{AtomicU16, Ordering};

use io_uring::{cqueue, opcode, squeue, types, IoUring};

use corering_http_peers::{exit_on_sigterm, parse_addr, BODY};

/// Submission queue entries (the completion queue gets 4x as many).
const RING_ENTRIES: u32 = 1024;
/// Provided buffers: count (a power of two) and size.
const BUFS: u16 = 512;
const BUF_SIZE: usize = 4096;
const BUF_GROUP: u16 = 0;
/// Most responses one send carries; the rest wait for the next send.
const MAX_BATCH: usize = 256;

// user_data: operation in the top byte, fd below.
const OP_ACCEPT: u64 = 1 << 56;
const OP_RECV: u64 = 2 << 56;
const OP_SEND: u64 = 3 << 56;
const OP_CLOSE: u64 = 4 << 56;
const OP_MASK: u64 = 0xff << 56;

#[derive(Default)]
struct Conn {
    /// Bytes of `\r\n\r\n` matched at the end of what was received so far (0..=3).
    matched: u8,
    /// Responses owed and not yet in a send.
    owed: usize,
    /// Bytes of the send in flight still to go, and where in `responses` they start.
    sending: usize,
    send_off: usize,
    /// The multishot recv has ended (EOF or error): close once no send is in flight.
    recv_done: bool,
    /// A send failed: send nothing more.
    failed: bool,
    /// Queued in `dirty` for the end of this batch.
    dirty: bool,
}

/// A provided buffer ring: `BUFS` entries shared with the kernel, plus their memory.
struct BufRing {
    entries: *mut types::BufRingEntry,
    memory: Vec<u8>,
    tail: u16,
}

impl BufRing {
    fn new() -> io::Result<BufRing> {
        let bytes = BUFS as usize * std::mem::size_of::<types::BufRingEntry>();
        // SAFETY: an anonymous private mapping; checked for failure below.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                bytes,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        let mut ring = BufRing {
            entries: ptr.cast(),
            memory: vec![0; BUFS as usize * BUF_SIZE],
            tail: 0,
        };
        for bid in 0..BUFS {
            ring.push(bid);
        }
        ring.publish();
        Ok(ring)
    }

    /// Hands buffer `bid` back to the kernel (visible after `publish`).
    fn push(&mut self, bid: u16) {
        let slot = (self.tail & (BUFS - 1)) as usize;
        // SAFETY: slot < BUFS, inside the mapping; the kernel only reads entries up to the
        // published tail, and this one is past it.
        let entry = unsafe { &mut *self.entries.add(slot) };
        let addr = self.memory[bid as usize * BUF_SIZE..].as_ptr() as u64;
        entry.set_addr(addr);
        entry.set_len(BUF_SIZE as u32);
        entry.set_bid(bid);
        self.tail = self.tail.wrapping_add(1);
    }

    fn publish(&self) {
        // SAFETY: the tail field lives in the first entry of the mapping and is only
        // written here; the kernel reads it atomically.
        unsafe {
            let tail = types::BufRingEntry::tail(self.entries) as *const AtomicU16;
            (*tail).store(self.tail, Ordering::Release);
        }
    }

    fn buf(&self, bid: u16, len: usize) -> &[u8] {
        &self.memory[bid as usize * BUF_SIZE..][..len]
    }
}

struct Floor {
    ring: IoUring,
    bufs: BufRing,
    conns: Vec<Option<Conn>>,
    dirty: Vec<RawFd>,
    listener: RawFd,
    /// `MAX_BATCH` copies of the response.
    responses: Vec<u8>,
    response_len: usize,
}

fn main() {
    let addr = parse_addr("uring_floor");
    exit_on_sigterm();
    if let Err(e) = run(addr) {
        eprintln!("uring_floor: {e}");
        std::process::exit(1);
    }
}

fn run(addr: std::net::SocketAddr) -> io::Result<()> {
    let listener = TcpListener::bind(addr)?;
    let date = httpdate::fmt_http_date(std::time::SystemTime::now());
    let mut response = format!(
        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nContent-Type: text/plain\r\nDate: {date}\r\n\r\n",
        BODY.len()
    )
    .into_bytes();
    response.extend_from_slice(BODY);

    let ring = IoUring::builder()
        .setup_cqsize(RING_ENTRIES * 4)
        .setup_single_issuer()
        .setup_defer_taskrun()
        .build(RING_ENTRIES)
        .or_else(|_| {
            IoUring::builder()
                .setup_cqsize(RING_ENTRIES * 4)
                .build(RING_ENTRIES)
        })?;
    let bufs = BufRing::new()?;
    // SAFETY: the ring memory stays mapped (and `bufs` alive) for the life of the process.
    unsafe {
        ring.submitter()
            .register_buf_ring_with_flags(bufs.entries as u64, BUFS, BUF_GROUP, 0)?;
    }
    let mut floor = Floor {
        ring,
        bufs,
        conns: Vec::new(),
        dirty: Vec::new(),
        listener: listener.as_raw_fd(),
        responses: response.repeat(MAX_BATCH),
        response_len: response.len(),
    };
    floor.arm_accept()?;
    println!("listening on {}", listener.local_addr()?);
    floor.run()
}

impl Floor {
    fn push(&mut self, sqe: squeue::Entry) -> io::Result<()> {
        loop {
            // SAFETY: every buffer an entry points to (provided buffers, `responses`)
            // lives as long as the ring.
            if unsafe { self.ring.submission().push(&sqe) }.is_ok() {
                return Ok(());
            }
            self.ring.submit()?;
        }
    }

    fn arm_accept(&mut self) -> io::Result<()> {
        let sqe = opcode::AcceptMulti::new(types::Fd(self.listener))
            .build()
            .user_data(OP_ACCEPT);
        self.push(sqe)
    }

    fn arm_recv(&mut self, fd: RawFd) -> io::Result<()> {
        let sqe = opcode::RecvMulti::new(types::Fd(fd), BUF_GROUP)
            .build()
            .user_data(OP_RECV | fd as u64);
        self.push(sqe)
    }

    fn run(&mut self) -> io::Result<()> {
        let mut cqes: Vec<(u64, i32, u32)> = Vec::with_capacity(1024);
        loop {
            match self.ring.submit_and_wait(1) {
                Ok(_) => {}
                Err(e) if e.raw_os_error() == Some(libc::EINTR) => continue,
                Err(e) if e.raw_os_error() == Some(libc::EBUSY) => {}
                Err(e) => return Err(e),
            }
            cqes.clear();
            cqes.extend(
                self.ring
                    .completion()
                    .map(|c| (c.user_data(), c.result(), c.flags())),
            );
            for &(data, res, flags) in &cqes {
                let fd = (data & !OP_MASK) as RawFd;
                match data & OP_MASK {
                    OP_ACCEPT => self.on_accept(res, flags)?,
                    OP_RECV => self.on_recv(fd, res, flags)?,
                    OP_SEND => self.on_send(fd, res)?,
                    _ => {} // OP_CLOSE: nothing to do.
                }
            }
            self.bufs.publish();
            while let Some(fd) = self.dirty.pop() {
                self.flush(fd)?;
            }
        }
    }

    fn on_accept(&mut self, res: i32, flags: u32) -> io::Result<()> {
        if res >= 0 {
            let fd = res;
            let one: libc::c_int = 1;
            // SAFETY: setsockopt reads an int from a valid pointer.
            unsafe {
                libc::setsockopt(
                    fd,
                    libc::IPPROTO_TCP,
                    libc::TCP_NODELAY,
                    (&one as *const libc::c_int).cast(),
                    std::mem::size_of::<libc::c_int>() as libc::socklen_t,
                );
            }
            let i = fd as usize;
            if self.conns.len() <= i {
                self.conns.resize_with(i + 1, || None);
            }
            self.conns[i] = Some(Conn::default());
            self.arm_recv(fd)?;
        } else {
            eprintln!(
                "uring_floor: accept: {}",
                io::Error::from_raw_os_error(-res)
            );
        }
        if !cqueue::more(flags) {
            self.arm_accept()?;
        }
        Ok(())
    }

    fn on_recv(&mut self, fd: RawFd, res: i32, flags: u32) -> io::Result<()> {
        let more = cqueue::more(flags);
        if res > 0 {
            let bid = cqueue::buffer_select(flags).expect("recv with a provided buffer");
            let conn = self.conns[fd as usize]
                .as_mut()
                .expect("recv on a known conn");
            let (requests, matched) =
                count_terminators(self.bufs.buf(bid, res as usize), conn.matched);
            conn.matched = matched;
            conn.owed += requests;
            if requests > 0 && !conn.dirty {
                conn.dirty = true;
                self.dirty.push(fd);
            }
            self.bufs.push(bid);
            if !more {
                self.arm_recv(fd)?;
            }
        } else if res == -libc::ENOBUFS {
            // Out of buffers for now: they are handed back at the end of this batch.
            if !more {
                self.arm_recv(fd)?;
            }
        } else if !more {
            // EOF or an error: the multishot recv is over.
            let conn = self.conns[fd as usize]
                .as_mut()
                .expect("recv on a known conn");
            conn.recv_done = true;
            if conn.sending == 0 {
                self.close(fd)?;
            }
        }
        Ok(())
    }

    fn on_send(&mut self, fd: RawFd, res: i32) -> io::Result<()> {
        let conn = self.conns[fd as usize]
            .as_mut()
            .expect("send on a known conn");
        if res < 0 {
            conn.sending = 0;
            conn.owed = 0;
            conn.failed = true;
            // Close now if the recv is over; otherwise it ends once the peer is gone.
            if conn.recv_done {
                return self.close(fd);
            }
            return Ok(());
        }
        conn.sending -= res as usize;
        conn.send_off += res as usize;
        if conn.sending > 0 {
            // A short send: send the rest.
            let (off, len) = (conn.send_off, conn.sending);
            return self.send(fd, off, len);
        }
        if conn.recv_done {
            return self.close(fd);
        }
        if conn.owed > 0 && !conn.dirty {
            conn.dirty = true;
            self.dirty.push(fd);
        }
        Ok(())
    }

    /// Sends everything `fd` owes, unless a send is already in flight.
    fn flush(&mut self, fd: RawFd) -> io::Result<()> {
        let Some(conn) = self.conns[fd as usize].as_mut() else {
            return Ok(());
        };
        conn.dirty = false;
        if conn.sending > 0 || conn.owed == 0 || conn.recv_done || conn.failed {
            return Ok(());
        }
        let n = conn.owed.min(MAX_BATCH);
        conn.owed -= n;
        conn.sending = n * self.response_len;
        conn.send_off = 0;
        let len = conn.sending;
        self.send(fd, 0, len)
    }

    fn send(&mut self, fd: RawFd, off: usize, len: usize) -> io::Result<()> {
        // The response buffer is `MAX_BATCH` identical copies, so any `len` bytes starting
        // at `off` (which is below `MAX_BATCH` responses) are the right bytes.
        let buf = &self.responses[off..off + len];
        let sqe = opcode::Send::new(types::Fd(fd), buf.as_ptr(), len as u32)
            .flags(libc::MSG_NOSIGNAL)
            .build()
            .user_data(OP_SEND | fd as u64);
        self.push(sqe)
    }

    fn close(&mut self, fd: RawFd) -> io::Result<()> {
        self.conns[fd as usize] = None;
        let sqe = opcode::Close::new(types::Fd(fd))
            .build()
            .user_data(OP_CLOSE | fd as u64);
        self.push(sqe)
    }
}

/// Counts `\r\n\r\n` in `data`, given that the `matched` bytes before it were the start of
/// one; returns the count and how much of a terminator the end of `data` matches.
fn count_terminators(data: &[u8], mut matched: u8) -> (usize, u8) {
    const TERM: &[u8; 4] = b"\r\n\r\n";
    let mut count = 0;
    for &b in data {
        matched = if b == TERM[matched as usize] {
            matched + 1
        } else if b == b'\r' {
            1
        } else {
            0
        };
        if matched == 4 {
            count += 1;
            matched = 0;
        }
    }
    (count, matched)
}
