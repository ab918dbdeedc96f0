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
use std::os::fd::RawFd;

use corering_http_peers::uring::{self, Cqe, Uring, OP_ACCEPT, OP_RECV, OP_SEND};
use corering_http_peers::{exit_on_sigterm, parse_addr, BODY};

/// Most responses one send carries; the rest wait for the next send.
const MAX_BATCH: usize = 256;

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

struct Floor {
    uring: Uring,
    conns: Vec<Option<Conn>>,
    dirty: Vec<RawFd>,
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
    let date = httpdate::fmt_http_date(std::time::SystemTime::now());
    let mut response = format!(
        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nContent-Type: text/plain\r\nDate: {date}\r\n\r\n",
        BODY.len()
    )
    .into_bytes();
    response.extend_from_slice(BODY);

    let uring = Uring::bind(addr, None)?;
    println!("listening on {}", uring.local_addr()?);
    let mut floor = Floor {
        uring,
        conns: Vec::new(),
        dirty: Vec::new(),
        responses: response.repeat(MAX_BATCH),
        response_len: response.len(),
    };
    floor.run()
}

impl Floor {
    fn run(&mut self) -> io::Result<()> {
        let mut cqes: Vec<Cqe> = Vec::with_capacity(1024);
        loop {
            self.uring.wait(&mut cqes)?;
            for cqe in &cqes {
                match cqe.op {
                    OP_ACCEPT => {
                        if let Some(fd) = self.uring.on_accept("uring_floor", cqe)? {
                            uring::new_conn(&mut self.conns, fd);
                        }
                    }
                    OP_RECV => self.on_recv(cqe)?,
                    OP_SEND => self.on_send(cqe.fd, cqe.res)?,
                    _ => {} // OP_CLOSE: nothing to do.
                }
            }
            self.uring.bufs.publish();
            while let Some(fd) = self.dirty.pop() {
                self.flush(fd)?;
            }
        }
    }

    fn on_recv(&mut self, cqe: &Cqe) -> io::Result<()> {
        let (fd, res, more) = (cqe.fd, cqe.res, cqe.more());
        if res > 0 {
            let bid = cqe.buffer().expect("recv with a provided buffer");
            let conn = self.conns[fd as usize]
                .as_mut()
                .expect("recv on a known conn");
            let (requests, matched) =
                count_terminators(self.uring.bufs.buf(bid, res as usize), conn.matched);
            conn.matched = matched;
            conn.owed += requests;
            if requests > 0 && !conn.dirty {
                conn.dirty = true;
                self.dirty.push(fd);
            }
            self.uring.bufs.push(bid);
            if !more {
                self.uring.arm_recv(fd)?;
            }
        } else if res == -libc::ENOBUFS {
            // Out of buffers for now: they are handed back at the end of this batch.
            if !more {
                self.uring.arm_recv(fd)?;
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
        // SAFETY: `responses` lives, unchanged, as long as the ring.
        unsafe { self.uring.send(fd, buf.as_ptr(), len) }
    }

    fn close(&mut self, fd: RawFd) -> io::Result<()> {
        self.conns[fd as usize] = None;
        self.uring.close(fd)
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
