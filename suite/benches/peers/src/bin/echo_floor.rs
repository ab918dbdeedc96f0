//! The floor of the `echo_load` bench: the least an io_uring echo server can do, with no
//! framework. One thread, one io_uring (`SINGLE_ISSUER | DEFER_TASKRUN` when the kernel has
//! them), a multishot accept, one multishot recv per connection that takes its buffers from
//! a provided buffer ring, `TCP_NODELAY`, and at most one send per connection in flight
//! (the ring and buffer code is `uring_floor`'s, in the `uring` module of this package).
//!
//! Every received byte is sent back, in order. Data that arrives while the connection has
//! no send in flight is sent straight from the provided buffer it arrived in (no copy; the
//! buffer goes back to the kernel once the send is done). Data that arrives while a send is
//! in flight is appended to the connection's pending buffer, which the next send carries
//! whole once the one in flight is done. Short sends are continued. On EOF (or a recv
//! error) the connection is closed once nothing is left to send; after a failed send it
//! drops what it receives until EOF.
//!
//! Completions are batched as corering's `ServerBuilder::batch_wait` does by default: each
//! wait asks for a little more than the last one brought (up to 64 completions), waiting at
//! most 50 µs for them (io_uring min-wait, Linux 6.12+; on older kernels each wait is for
//! one completion). `--batch-wait COUNT,US` changes that, `--batch-wait off` turns it off.
//!
//! `echo_floor --addr 127.0.0.1:7000` prints `listening on ADDR` once bound and exits with
//! status 0 on SIGTERM.

use std::io;
use std::os::fd::RawFd;

use corering_http_peers::uring::{self, Cqe, Uring, OP_ACCEPT, OP_RECV, OP_SEND};
use corering_http_peers::{exit_on_sigterm, fail, parse_args};

const NAME: &str = "echo_floor";

/// The default of `--batch-wait`: corering's `batch_wait` default.
const BATCH: (u32, u32) = (64, 50);

#[derive(Default)]
struct Conn {
    /// The send in flight sends `len` bytes, `sent` of them done so far; `len == 0` when
    /// there is none. It sends from provided buffer `held`, or else from `out`.
    len: usize,
    sent: usize,
    held: Option<u16>,
    out: Vec<u8>,
    /// Bytes received while a send was in flight: the next send.
    pending: Vec<u8>,
    /// The multishot recv has ended (EOF or error): close once no send is in flight.
    recv_done: bool,
    /// A send failed: send nothing more.
    failed: bool,
}

struct EchoFloor {
    uring: Uring,
    conns: Vec<Option<Conn>>,
}

fn main() {
    let (addr, flags) = parse_args(NAME, &[("--batch-wait", "COUNT,US|off")]);
    let mut batch = Some(BATCH);
    for (_, value) in flags {
        batch = parse_batch(&value).unwrap_or_else(|| {
            let usage = format!("usage: {NAME} [--addr HOST:PORT] [--batch-wait COUNT,US|off]");
            fail(NAME, &format!("bad --batch-wait {value:?}"), &usage)
        });
    }
    exit_on_sigterm();
    if let Err(e) = run(addr, batch) {
        eprintln!("{NAME}: {e}");
        std::process::exit(1);
    }
}

/// `off`, or `COUNT,US` with a positive count.
fn parse_batch(value: &str) -> Option<Option<(u32, u32)>> {
    if value == "off" {
        return Some(None);
    }
    let (count, us) = value.split_once(',')?;
    let count: u32 = count.trim().parse().ok().filter(|&c| c > 0)?;
    Some(Some((count, us.trim().parse().ok()?)))
}

fn run(addr: std::net::SocketAddr, batch: Option<(u32, u32)>) -> io::Result<()> {
    let uring = Uring::bind(addr, batch)?;
    if batch.is_some() && !uring.batching() {
        eprintln!("{NAME}: no io_uring min-wait in this kernel; not batching completions");
    }
    println!("listening on {}", uring.local_addr()?);
    let mut floor = EchoFloor {
        uring,
        conns: Vec::new(),
    };
    floor.run()
}

impl EchoFloor {
    fn run(&mut self) -> io::Result<()> {
        let mut cqes: Vec<Cqe> = Vec::with_capacity(1024);
        loop {
            self.uring.wait(&mut cqes)?;
            for cqe in &cqes {
                match cqe.op {
                    OP_ACCEPT => {
                        if let Some(fd) = self.uring.on_accept(NAME, cqe)? {
                            uring::new_conn(&mut self.conns, fd);
                        }
                    }
                    OP_RECV => self.on_recv(cqe)?,
                    OP_SEND => self.on_send(cqe.fd, cqe.res)?,
                    _ => {} // OP_CLOSE: nothing to do.
                }
            }
            self.uring.bufs.publish();
        }
    }

    fn on_recv(&mut self, cqe: &Cqe) -> io::Result<()> {
        let (fd, res, more) = (cqe.fd, cqe.res, cqe.more());
        let conn = self.conns[fd as usize]
            .as_mut()
            .expect("recv on a known conn");
        if res > 0 {
            let bid = cqe.buffer().expect("recv with a provided buffer");
            let len = res as usize;
            if conn.failed {
                self.uring.bufs.push(bid);
            } else if conn.len == 0 {
                // Nothing in flight: send it from where it arrived.
                conn.held = Some(bid);
                conn.len = len;
                conn.sent = 0;
                self.send(fd)?;
            } else {
                conn.pending
                    .extend_from_slice(self.uring.bufs.buf(bid, len));
                self.uring.bufs.push(bid);
            }
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
            conn.recv_done = true;
            if conn.len == 0 {
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
            conn.failed = true;
            conn.len = 0;
            conn.pending.clear();
        } else {
            conn.sent += res as usize;
            if conn.sent < conn.len {
                // A short send: send the rest.
                return self.send(fd);
            }
            conn.len = 0;
        }
        // The send is over: return its buffer.
        match conn.held.take() {
            Some(bid) => self.uring.bufs.push(bid),
            None => conn.out.clear(),
        }
        if !conn.pending.is_empty() {
            // What arrived meanwhile goes out in one send.
            std::mem::swap(&mut conn.out, &mut conn.pending);
            conn.len = conn.out.len();
            conn.sent = 0;
            return self.send(fd);
        }
        if conn.recv_done {
            return self.close(fd);
        }
        Ok(())
    }

    /// Sends the rest of `fd`'s send in flight.
    fn send(&mut self, fd: RawFd) -> io::Result<()> {
        let conn = self.conns[fd as usize]
            .as_ref()
            .expect("send on a known conn");
        let buf = match conn.held {
            Some(bid) => self.uring.bufs.buf(bid, conn.len),
            None => &conn.out[..],
        };
        let rest = buf[conn.sent..conn.len].as_ptr();
        let len = conn.len - conn.sent;
        // SAFETY: neither the provided buffer `held` (owned by this connection until the
        // send completes) nor `out` (left alone while `len > 0`) changes or moves until
        // the send completes.
        unsafe { self.uring.send(fd, rest, len) }
    }

    fn close(&mut self, fd: RawFd) -> io::Result<()> {
        self.conns[fd as usize] = None;
        self.uring.close(fd)
    }
}
