//! Helpers for the `kv_*` tests: start `examples/kv` as a child process on
//! an ephemeral port and talk to it with the `redis` crate or raw sockets.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Child, ExitStatus};
use std::time::{Duration, Instant};

#[path = "../common/example.rs"]
mod example;
use example::{example_binary, start_example};

/// Socket timeout for test clients: a hang fails the test, not the suite.
pub const IO_TIMEOUT: Duration = Duration::from_secs(10);

/// Path of the `kv` example binary next to this test binary
/// (`target/<profile>/examples/kv`), built first: see [`example_binary`].
pub fn kv_example() -> PathBuf {
    example_binary("kv")
}

/// A running `kv` server; killed (SIGKILL) if dropped without [`KvServer::stop`].
pub struct KvServer {
    child: Option<Child>,
    pub addr: SocketAddr,
}

impl KvServer {
    /// Starts `kv --addr 127.0.0.1:0 --workers N` and waits for the line
    /// saying where it listens.
    pub fn start(workers: usize) -> KvServer {
        let workers = workers.to_string();
        let (child, addr) = start_example("kv", &["--addr", "127.0.0.1:0", "--workers", &workers]);
        KvServer {
            child: Some(child),
            addr,
        }
    }

    /// A `redis` crate connection.
    pub fn client(&self) -> redis::Connection {
        let client = redis::Client::open(format!("redis://{}/", self.addr)).expect("client");
        let con = client
            .get_connection_with_timeout(IO_TIMEOUT)
            .expect("connect with the redis crate");
        con.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
        con.set_write_timeout(Some(IO_TIMEOUT)).unwrap();
        con
    }

    /// A raw TCP connection.
    pub fn raw(&self) -> TcpStream {
        let s = TcpStream::connect(self.addr).expect("connect");
        s.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
        s.set_write_timeout(Some(IO_TIMEOUT)).unwrap();
        s.set_nodelay(true).unwrap();
        s
    }

    /// The server's pid.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().map_or(0, Child::id)
    }

    /// Sends SIGTERM and waits (at most `limit`) for the exit status.
    pub fn stop(mut self, limit: Duration) -> ExitStatus {
        let mut child = self.child.take().expect("running");
        // SAFETY: kill(2) on our own child, not yet reaped.
        unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) };
        let deadline = Instant::now() + limit;
        loop {
            if let Some(st) = child.try_wait().expect("wait") {
                return st;
            }
            if Instant::now() >= deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!("kv did not exit within {limit:?} of SIGTERM");
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for KvServer {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Sends `request` and reads exactly `want.len()` bytes, which must equal `want`.
#[track_caller]
pub fn exchange(s: &mut TcpStream, request: &[u8], want: &[u8]) {
    s.write_all(request).expect("write");
    let mut got = vec![0u8; want.len()];
    s.read_exact(&mut got).unwrap_or_else(|e| {
        panic!(
            "reading the reply to {:?}: {e}",
            String::from_utf8_lossy(request)
        )
    });
    assert_eq!(
        String::from_utf8_lossy(&got),
        String::from_utf8_lossy(want),
        "reply to {:?}",
        String::from_utf8_lossy(request)
    );
}

/// Reads until the server closes the connection; returns what came.
pub fn read_to_close(s: &mut TcpStream) -> Vec<u8> {
    let mut out = Vec::new();
    match s.read_to_end(&mut out) {
        Ok(_) => out,
        // A reset after the reply also counts as closed.
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => out,
        Err(e) => panic!("waiting for the server to close: {e} (got {out:?})"),
    }
}

/// Encodes a request as a RESP array of bulk strings.
pub fn resp_request(args: &[&[u8]]) -> Vec<u8> {
    let mut v = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        v.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        v.extend_from_slice(a);
        v.extend_from_slice(b"\r\n");
    }
    v
}
