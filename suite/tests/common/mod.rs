//! Helpers shared by the `engine_*` integration tests.
//!
//! Every test talks to a real server over real sockets on loopback (or a
//! Unix socket in the temp directory); nothing is mocked.

#![allow(dead_code)]

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use corering::{Connection, RunningServer, Server, ServerBuilder};

mod example;
pub mod http;
pub mod xor;
// Each test uses what it needs (the `dead_code` allow above does not cover imports).
#[allow(unused_imports)]
pub use example::{example_binary, start_command, start_example, stop_example};

/// Socket read/write timeout for blocking test clients: long enough never to
/// fire on a healthy (if slow, loaded) machine, short enough that a hang
/// fails the test instead of the suite.
pub const IO_TIMEOUT: Duration = Duration::from_secs(20);

/// A TCP server builder on 127.0.0.1, ephemeral port, two unpinned workers.
pub fn builder() -> ServerBuilder {
    Server::builder()
        .bind("127.0.0.1:0")
        .workers(2)
        .pin_workers(false)
}

/// Echo handler that sends each received buffer back as is (zero copy).
pub async fn echo(mut conn: Connection) {
    loop {
        let buf = match conn.read().await {
            Ok(Some(b)) => b,
            Ok(None) | Err(_) => return,
        };
        if conn.write_owned(buf).await.is_err() {
            return;
        }
    }
}

/// [`echo`], then a clean end of the sending side once the peer's ends
/// (through any layer: TLS sends close_notify).
pub async fn echo_then_shutdown(mut conn: Connection) {
    while let Ok(Some(buf)) = conn.read().await {
        if conn.write_owned(buf).await.is_err() {
            return;
        }
    }
    let _ = conn.shutdown_write().await;
}

/// Echo handler that copies each received buffer into the write buffer.
pub async fn echo_copy(mut conn: Connection) {
    loop {
        let buf = match conn.read().await {
            Ok(Some(b)) => b,
            Ok(None) | Err(_) => return,
        };
        if conn.write_all(&buf).await.is_err() {
            return;
        }
    }
}

/// Sends `data` through `conn` in `chunk`-sized pieces, reading each piece's echo
/// before sending the next; returns everything read (an echo server gives `data` back).
pub async fn ping_pong(conn: &mut Connection, data: &[u8], chunk: usize) -> io::Result<Vec<u8>> {
    let mut got = Vec::with_capacity(data.len());
    for c in data.chunks(chunk) {
        conn.write_all(c).await?;
        let want = got.len() + c.len();
        while got.len() < want {
            match conn.read().await? {
                Some(b) => got.extend_from_slice(&b),
                None => return Err(io::ErrorKind::UnexpectedEof.into()),
            }
        }
    }
    Ok(got)
}

/// Starts an echo server (zero-copy echo) from `b`.
pub fn start_echo(b: ServerBuilder) -> RunningServer {
    b.build()
        .expect("build server")
        .start(echo)
        .expect("start server")
}

/// The server's TCP address.
pub fn tcp_addr(s: &RunningServer) -> SocketAddr {
    s.tcp_addr().expect("server has a TCP address")
}

// ---- data ------------------------------------------------------------------

/// xorshift64* — deterministic pseudo-random bytes without a dependency.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A value in `lo..hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next_u64() % (hi - lo)
    }

    pub fn fill(&mut self, buf: &mut [u8]) {
        let mut chunks = buf.chunks_exact_mut(8);
        for c in &mut chunks {
            c.copy_from_slice(&self.next_u64().to_le_bytes());
        }
        let rest = chunks.into_remainder();
        let v = self.next_u64().to_le_bytes();
        rest.copy_from_slice(&v[..rest.len()]);
    }
}

/// `len` pseudo-random bytes from `seed`.
pub fn random_bytes(seed: u64, len: usize) -> Vec<u8> {
    let mut v = vec![0u8; len];
    Rng::new(seed).fill(&mut v);
    v
}

/// Index of the first differing byte, for readable failure messages.
pub fn first_diff(a: &[u8], b: &[u8]) -> Option<usize> {
    if a == b {
        // memcmp fast path (debug builds iterate slowly).
        return None;
    }
    a.iter()
        .zip(b)
        .position(|(x, y)| x != y)
        .or(if a.len() == b.len() {
            None
        } else {
            Some(a.len().min(b.len()))
        })
}

/// Asserts two byte strings are equal, reporting where they differ.
#[track_caller]
pub fn assert_bytes_eq(got: &[u8], want: &[u8], what: &str) {
    if let Some(i) = first_diff(got, want) {
        panic!(
            "{what}: got {} bytes, want {}; first difference at byte {i}",
            got.len(),
            want.len()
        );
    }
}

// ---- blocking clients ----------------------------------------------------------

/// A blocking stream the echo helpers can drive (TCP or Unix).
pub trait Duplex: Read + Write + Send + Sized + 'static {
    fn clone_stream(&self) -> io::Result<Self>;
    fn shutdown_write(&self) -> io::Result<()>;
    fn set_timeouts(&self, d: Duration) -> io::Result<()>;
}

impl Duplex for TcpStream {
    fn clone_stream(&self) -> io::Result<Self> {
        self.try_clone()
    }
    fn shutdown_write(&self) -> io::Result<()> {
        self.shutdown(Shutdown::Write)
    }
    fn set_timeouts(&self, d: Duration) -> io::Result<()> {
        self.set_read_timeout(Some(d))?;
        self.set_write_timeout(Some(d))
    }
}

impl Duplex for UnixStream {
    fn clone_stream(&self) -> io::Result<Self> {
        self.try_clone()
    }
    fn shutdown_write(&self) -> io::Result<()> {
        self.shutdown(Shutdown::Write)
    }
    fn set_timeouts(&self, d: Duration) -> io::Result<()> {
        self.set_read_timeout(Some(d))?;
        self.set_write_timeout(Some(d))
    }
}

/// Connects to `addr` with the standard blocking client and I/O timeouts.
pub fn connect(addr: SocketAddr) -> TcpStream {
    let s = TcpStream::connect(addr).unwrap_or_else(|e| panic!("connect {addr}: {e}"));
    s.set_timeouts(IO_TIMEOUT).unwrap();
    s.set_nodelay(true).unwrap();
    s
}

/// Sends `data` (in `chunk`-sized writes) while concurrently reading the
/// echo; shuts down the write side when done and reads until EOF. Returns
/// everything read.
pub fn echo_through<S: Duplex>(stream: S, data: Vec<u8>, chunk: usize) -> io::Result<Vec<u8>> {
    stream.set_timeouts(IO_TIMEOUT)?;
    let mut w = stream.clone_stream()?;
    let writer = std::thread::spawn(move || -> io::Result<()> {
        for c in data.chunks(chunk.max(1)) {
            w.write_all(c)?;
        }
        w.shutdown_write()
    });
    let mut r = stream;
    let mut got = Vec::new();
    let read = r.read_to_end(&mut got);
    writer.join().expect("writer thread")?;
    read?;
    Ok(got)
}

/// Echoes `data` through a new TCP connection to `addr` and checks it.
pub fn check_echo_tcp(addr: SocketAddr, data: &[u8]) {
    let got = echo_through(connect(addr), data.to_vec(), 16 << 10)
        .unwrap_or_else(|e| panic!("echo via {addr}: {e}"));
    assert_bytes_eq(&got, data, &format!("echo via {addr}"));
}

/// Echoes `data` through a new Unix-socket connection to `path`.
pub fn check_echo_unix(path: &Path, data: &[u8]) {
    let s = UnixStream::connect(path).unwrap_or_else(|e| panic!("connect {path:?}: {e}"));
    let got = echo_through(s, data.to_vec(), 16 << 10)
        .unwrap_or_else(|e| panic!("echo via {path:?}: {e}"));
    assert_bytes_eq(&got, data, &format!("echo via {path:?}"));
}

/// Reads exactly `n` bytes.
pub fn read_n<R: Read>(r: &mut R, n: usize) -> io::Result<Vec<u8>> {
    let mut v = vec![0u8; n];
    r.read_exact(&mut v)?;
    Ok(v)
}

/// Reads until EOF, returning the bytes.
pub fn read_all<R: Read>(r: &mut R) -> io::Result<Vec<u8>> {
    let mut v = Vec::new();
    r.read_to_end(&mut v)?;
    Ok(v)
}

// ---- bounded execution -----------------------------------------------------------

/// Runs `f` on its own thread and fails the test if it takes longer than
/// `limit` (the thread is abandoned). Panics inside `f` propagate.
#[track_caller]
pub fn within<T: Send + 'static>(
    limit: Duration,
    what: &str,
    f: impl FnOnce() -> T + Send + 'static,
) -> T {
    let (tx, rx) = mpsc::channel();
    let h = std::thread::spawn(move || {
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
        let _ = tx.send(r);
    });
    match rx.recv_timeout(limit) {
        Ok(Ok(v)) => {
            let _ = h.join();
            v
        }
        Ok(Err(p)) => std::panic::resume_unwind(p),
        Err(_) => panic!("{what}: did not finish within {limit:?}"),
    }
}

/// Polls `cond` every 5 ms until it holds or `limit` passes; returns
/// whether it held.
pub fn wait_until(limit: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + limit;
    loop {
        if cond() {
            return true;
        }
        if Instant::now() >= end {
            return false;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

// ---- futures ---------------------------------------------------------------------

#[allow(unused_imports)]
pub use corering::future::{race, Either};

// ---- OS helpers -------------------------------------------------------------------

/// Raises the soft RLIMIT_NOFILE to at least `want` (up to the hard limit);
/// returns the resulting soft limit.
pub fn raise_nofile(want: u64) -> u64 {
    let mut rl = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit read and write the struct we pass.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut rl) != 0 {
            return 0;
        }
        if rl.rlim_cur < want {
            rl.rlim_cur = want.min(rl.rlim_max);
            libc::setrlimit(libc::RLIMIT_NOFILE, &rl);
            libc::getrlimit(libc::RLIMIT_NOFILE, &mut rl);
        }
    }
    rl.rlim_cur
}

/// Sets SO_LINGER {on, 0}: closing the socket then sends RST.
pub fn set_linger_zero(fd: &impl AsRawFd) {
    let l = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: passes a pointer to a live linger struct and its size.
    let r = unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            (&l as *const libc::linger).cast(),
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        )
    };
    assert_eq!(
        r,
        0,
        "setsockopt(SO_LINGER): {}",
        io::Error::last_os_error()
    );
}

/// A fresh, short Unix socket path in the temp directory (not created).
pub fn unix_path(tag: &str) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    let p = std::env::temp_dir().join(format!("crt-{}-{tag}-{n}.sock", std::process::id()));
    let _ = std::fs::remove_file(&p);
    p
}

/// A loopback TCP address nothing listens on (bound once, then released).
pub fn closed_port() -> SocketAddr {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let a = l.local_addr().unwrap();
    drop(l);
    a
}

/// True if this machine can listen on [::1].
/// True (after saying so on stderr) when the tests run on the epoll
/// backend (`CORERING_BACKEND=epoll`, or io_uring unavailable here) and
/// the calling test is about `what`, an io_uring-only feature: the test
/// then returns early. This is not a skip for a missing tool: the suite
/// runs once per backend, and the io_uring run covers it.
pub fn io_uring_only(what: &str) -> bool {
    let backend = corering::Runtime::new().map(|r| r.backend());
    if matches!(backend, Ok(corering::Backend::IoUring)) {
        return false;
    }
    eprintln!(
        "not applicable on epoll: {what} is an io_uring feature (covered by the io_uring run)"
    );
    true
}

pub fn ipv6_loopback_available() -> bool {
    std::net::TcpListener::bind("[::1]:0").is_ok()
}

/// Path of the `echo` example binary next to this test binary
/// (`target/<profile>/examples/echo`), built first: see [`example_binary`].
pub fn echo_example() -> PathBuf {
    example_binary("echo")
}

// ---- position-dependent byte streams -------------------------------------------

fn mix(seed: u64, i: u64) -> u64 {
    // splitmix64 of (seed, word index)
    let mut z = seed ^ i.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Fills `buf` with bytes `offset..offset + buf.len()` of an endless
/// pseudo-random stream named by `seed`: any lost, duplicated or reordered
/// byte shows up as a mismatch, without keeping the stream in memory.
pub fn pattern_fill(seed: u64, offset: u64, buf: &mut [u8]) {
    let mut p = offset;
    let mut i = 0;
    while i < buf.len() {
        let w = mix(seed, p / 8).to_le_bytes();
        let k = (p % 8) as usize;
        let n = (8 - k).min(buf.len() - i);
        buf[i..i + n].copy_from_slice(&w[k..k + n]);
        i += n;
        p += n as u64;
    }
}

/// Checks `got` against the stream at `offset`; returns the offset of the
/// first wrong byte.
pub fn pattern_check(seed: u64, offset: u64, got: &[u8], scratch: &mut Vec<u8>) -> Result<(), u64> {
    scratch.resize(got.len(), 0);
    pattern_fill(seed, offset, scratch);
    match first_diff(got, scratch) {
        None => Ok(()),
        Some(i) => Err(offset + i as u64),
    }
}

// ---- tokio echo clients -----------------------------------------------------------

/// One tokio echo client: writes `bytes` of stream `seed` in uneven chunks
/// while reading the echo concurrently, then half-closes and checks that
/// exactly the same bytes come back followed by EOF.
pub async fn tokio_echo(addr: SocketAddr, seed: u64, bytes: usize) -> Result<(), String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let stream = tokio::net::TcpStream::connect(addr)
        .await
        .map_err(|e| format!("stream {seed}: connect: {e}"))?;
    stream.set_nodelay(true).ok();
    let (mut rd, mut wr) = stream.into_split();
    let writer = tokio::task::spawn_local(async move {
        let mut buf = vec![0u8; 48 << 10];
        let mut off = 0usize;
        let mut step = 1 + (seed as usize * 7919) % (48 << 10);
        while off < bytes {
            let n = step.min(bytes - off);
            pattern_fill(seed, off as u64, &mut buf[..n]);
            wr.write_all(&buf[..n]).await?;
            off += n;
            step = 1 + (step * 31 + 17) % (48 << 10);
        }
        wr.shutdown().await
    });
    let mut got = 0usize;
    let mut buf = vec![0u8; 64 << 10];
    let mut scratch = Vec::new();
    loop {
        let n = rd
            .read(&mut buf)
            .await
            .map_err(|e| format!("stream {seed}: read after {got} bytes: {e}"))?;
        if n == 0 {
            break;
        }
        if got + n > bytes {
            return Err(format!("stream {seed}: received more than sent"));
        }
        pattern_check(seed, got as u64, &buf[..n], &mut scratch)
            .map_err(|at| format!("stream {seed}: wrong byte at offset {at}"))?;
        got += n;
    }
    writer
        .await
        .map_err(|e| format!("stream {seed}: writer task: {e}"))?
        .map_err(|e| format!("stream {seed}: write: {e}"))?;
    if got != bytes {
        return Err(format!("stream {seed}: EOF after {got} of {bytes} bytes"));
    }
    Ok(())
}

/// Runs `conns` concurrent [`tokio_echo`] clients (streams `seed0..`) on a
/// current-thread runtime on this thread; returns the errors.
pub fn tokio_echo_many(addr: SocketAddr, seed0: u64, conns: usize, bytes: usize) -> Vec<String> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let local = tokio::task::LocalSet::new();
    local.block_on(&rt, async move {
        let handles: Vec<_> = (0..conns as u64)
            .map(|i| tokio::task::spawn_local(tokio_echo(addr, seed0 + i, bytes)))
            .collect();
        let mut errors = Vec::new();
        for h in handles {
            match h.await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => errors.push(e),
                Err(e) => errors.push(format!("client task panicked: {e}")),
            }
        }
        errors
    })
}

/// Asserts a list of client errors is empty, showing the first few.
#[track_caller]
pub fn assert_no_errors(errors: &[String], total: usize) {
    assert!(
        errors.is_empty(),
        "{} of {total} clients failed; first: {:?}",
        errors.len(),
        &errors[..errors.len().min(5)]
    );
}

// ---- HTTP ----------------------------------------------------------------------

/// Reads one `200 OK` response with the body `Hello, World!` from `s`;
/// `buf[..*have]` holds bytes already read, and keeps what follows it.
pub fn read_hello<R: Read>(s: &mut R, buf: &mut [u8], have: &mut usize) {
    loop {
        if let Some(end) = buf[..*have].windows(4).position(|w| w == b"\r\n\r\n") {
            if *have >= end + 4 + 13 {
                assert!(buf.starts_with(b"HTTP/1.1 200 OK\r\n"));
                assert_eq!(&buf[end + 4..end + 17], b"Hello, World!");
                buf.copy_within(end + 17..*have, 0);
                *have -= end + 17;
                return;
            }
        }
        let n = s.read(&mut buf[*have..]).unwrap();
        assert!(n > 0, "server closed the connection");
        *have += n;
    }
}

/// Whether the command-line tool `name` runs (`name --version`). Where it
/// does not, a test prints `SKIP: NAME not found` and returns, except in CI
/// (`CI` set), which installs its tools: there this panics.
#[allow(dead_code)]
pub fn have_tool(name: &str) -> bool {
    let ok = std::process::Command::new(name)
        .arg("--version")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        assert!(
            std::env::var_os("CI").is_none(),
            "{name} is not installed (CI must run this test with it)"
        );
        println!("SKIP: {name} not found");
    }
    ok
}
