//! `examples/frames`: the counter service built on `#[derive(Frame)]`,
//! started as a child process and driven by its own `--client` mode and by
//! raw sockets sending hand-built bytes (an independent check of the wire
//! format documented in the example).

mod common;

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

use common::{example_binary, start_example};

/// Socket timeout: a hang fails the test instead of blocking it.
const IO_TIMEOUT: Duration = Duration::from_secs(5);
/// Longest a `--client` process may run.
const CLIENT_LIMIT: Duration = Duration::from_secs(10);

// ---- the example binary --------------------------------------------------------

/// Path of `target/<profile>/examples/frames`, built once per test process
/// (see [`example_binary`]).
fn frames_example() -> PathBuf {
    example_binary("frames")
}

/// A running server; killed (SIGKILL) if dropped without [`FramesServer::stop`].
struct FramesServer {
    child: Option<Child>,
    addr: SocketAddr,
}

impl FramesServer {
    /// Starts `frames --addr 127.0.0.1:0 --workers 2` and waits for the
    /// line saying where it listens.
    fn start() -> FramesServer {
        let (child, addr) = start_example("frames", &["--addr", "127.0.0.1:0", "--workers", "2"]);
        FramesServer {
            child: Some(child),
            addr,
        }
    }

    /// A raw TCP connection with timeouts.
    fn raw(&self) -> TcpStream {
        let s = TcpStream::connect(self.addr).expect("connect");
        s.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
        s.set_write_timeout(Some(IO_TIMEOUT)).unwrap();
        s.set_nodelay(true).unwrap();
        s
    }

    /// Starts `frames --client --addr ADDR <words>`.
    fn spawn_client(&self, words: &[&str]) -> Child {
        Command::new(frames_example())
            .arg("--client")
            .args(["--addr", &self.addr.to_string()])
            .args(words)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start frames --client")
    }

    /// Runs a client to completion (at most [`CLIENT_LIMIT`]).
    fn client(&self, words: &[&str]) -> Output {
        finish(self.spawn_client(words), words)
    }

    /// Sends SIGTERM and waits (at most `limit`) for the exit status.
    fn stop(mut self, limit: Duration) -> ExitStatus {
        let mut child = self.child.take().expect("running");
        // SAFETY: kill(2) on our own child, not yet reaped.
        unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) };
        wait_limited(&mut child, limit).unwrap_or_else(|| {
            let _ = child.kill();
            let _ = child.wait();
            panic!("frames did not exit within {limit:?} of SIGTERM");
        })
    }
}

impl Drop for FramesServer {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Waits for `child` at most `limit`.
fn wait_limited(child: &mut Child, limit: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(st) = child.try_wait().expect("wait") {
            return Some(st);
        }
        if Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Waits for a client process and collects its output.
fn finish(mut child: Child, words: &[&str]) -> Output {
    if wait_limited(&mut child, CLIENT_LIMIT).is_none() {
        let _ = child.kill();
        let _ = child.wait();
        panic!("frames --client {words:?} did not finish within {CLIENT_LIMIT:?}");
    }
    // Exited: the pipes are at end of file, so this does not block.
    child.wait_with_output().expect("client output")
}

/// The client's stdout, asserting it exited 0.
#[track_caller]
fn ok_stdout(out: &Output, words: &[&str]) -> String {
    assert!(
        out.status.success(),
        "frames --client {words:?}: {} (stderr {:?})",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).expect("UTF-8 output")
}

// ---- the wire format, by hand ---------------------------------------------------

/// Request header: magic, version, id (big-endian).
fn header(id: u32) -> Vec<u8> {
    let mut v = b"CNT?\x01".to_vec();
    v.extend_from_slice(&id.to_be_bytes());
    v
}

fn incr(id: u32, name: &str, by: i64) -> Vec<u8> {
    let mut v = header(id);
    v.push(b'I');
    v.push(name.len() as u8);
    v.extend_from_slice(name.as_bytes());
    v.extend_from_slice(&by.to_be_bytes());
    v
}

fn get(id: u32, name: &str) -> Vec<u8> {
    let mut v = header(id);
    v.push(b'G');
    v.push(name.len() as u8);
    v.extend_from_slice(name.as_bytes());
    v
}

fn ping(id: u32, nonce: u64) -> Vec<u8> {
    let mut v = header(id);
    v.push(b'P');
    v.extend_from_slice(&nonce.to_le_bytes());
    v
}

/// A decoded response.
#[derive(Debug, PartialEq)]
enum Resp {
    Value(String, i64),
    Pong(u64),
    Error(u16, String),
}

fn read_n(s: &mut TcpStream, n: usize) -> Vec<u8> {
    let mut b = vec![0u8; n];
    s.read_exact(&mut b)
        .unwrap_or_else(|e| panic!("reading {n} bytes of a response: {e}"));
    b
}

/// Reads one response; returns its id and reply.
fn read_resp(s: &mut TcpStream) -> (u32, Resp) {
    let head = read_n(s, 10);
    assert_eq!(&head[..5], b"CNT!\x01", "response header {head:?}");
    let id = u32::from_be_bytes(head[5..9].try_into().unwrap());
    let resp = match head[9] {
        b'V' => {
            let len = read_n(s, 1)[0] as usize;
            let name = String::from_utf8(read_n(s, len)).expect("UTF-8 name");
            let value = i64::from_be_bytes(read_n(s, 8).try_into().unwrap());
            Resp::Value(name, value)
        }
        b'P' => Resp::Pong(u64::from_le_bytes(read_n(s, 8).try_into().unwrap())),
        b'E' => {
            let code = u16::from_be_bytes(read_n(s, 2).try_into().unwrap());
            let len = u16::from_be_bytes(read_n(s, 2).try_into().unwrap()) as usize;
            let msg = String::from_utf8(read_n(s, len)).expect("UTF-8 message");
            Resp::Error(code, msg)
        }
        t => panic!("unknown response tag {t}"),
    };
    (id, resp)
}

/// Sends `request` and reads one response.
fn call(s: &mut TcpStream, request: &[u8]) -> (u32, Resp) {
    s.write_all(request).expect("write");
    read_resp(s)
}

/// Asserts the server closes `s` (end of file or reset) with nothing more.
#[track_caller]
fn assert_closed(s: &mut TcpStream) {
    let mut rest = Vec::new();
    match s.read_to_end(&mut rest) {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {}
        Err(e) => panic!("waiting for the server to close: {e} (got {rest:?})"),
    }
    assert!(rest.is_empty(), "bytes after the last response: {rest:?}");
}

/// Sends bad bytes; expects a malformed-frame error mentioning `why`, then
/// the connection closed.
#[track_caller]
fn expect_rejected(server: &FramesServer, bytes: &[u8], why: &str) {
    let mut s = server.raw();
    let (id, resp) = call(&mut s, bytes);
    assert_eq!(id, 0, "an error about a non-request carries id 0");
    match resp {
        Resp::Error(1, msg) => assert!(msg.contains(why), "{msg:?} should mention {why:?}"),
        other => panic!("expected a malformed-frame error for {bytes:?}, got {other:?}"),
    }
    assert_closed(&mut s);
}

// ---- tests ----------------------------------------------------------------------

/// Several `--client` processes at once, one connection each, on a few
/// counters: every increment lands on the counter's owning worker whichever
/// worker accepted the connection, so the totals add up.
#[test]
fn client_mode_counts_across_connections() {
    let server = FramesServer::start();
    let names = ["apples", "pears", "plums"];
    let mut running = Vec::new();
    for (i, name) in names.iter().enumerate() {
        for k in 1..=4i64 {
            let by = (k * (i as i64 + 1)).to_string();
            let words = ["incr", name, by.as_str()].map(String::from);
            let w: Vec<&str> = words.iter().map(String::as_str).collect();
            running.push((server.spawn_client(&w), words));
        }
    }
    for (child, words) in running {
        let w: Vec<&str> = words.iter().map(String::as_str).collect();
        let out = finish(child, &w);
        let line = ok_stdout(&out, &w);
        assert!(line.starts_with(&format!("{} = ", words[1])), "{line:?}");
    }
    for (i, name) in names.iter().enumerate() {
        let want = 10 * (i as i64 + 1);
        let out = server.client(&["get", name]);
        assert_eq!(
            ok_stdout(&out, &["get", name]),
            format!("{name} = {want}\n")
        );
    }

    // Default increment, negative increments, a counter never touched.
    let out = server.client(&["incr", "apples"]);
    assert_eq!(ok_stdout(&out, &[]), "apples = 11\n");
    let out = server.client(&["incr", "apples", "-20"]);
    assert_eq!(ok_stdout(&out, &[]), "apples = -9\n");
    let out = server.client(&["get", "nobody"]);
    assert_eq!(ok_stdout(&out, &[]), "nobody = 0\n");

    let out = server.client(&["ping"]);
    let line = ok_stdout(&out, &["ping"]);
    assert!(line.starts_with("pong "), "{line:?}");

    // An error reply: exit 1, the message on stderr.
    let out = server.client(&["incr", "big", &i64::MAX.to_string()]);
    ok_stdout(&out, &[]);
    let out = server.client(&["incr", "big", "1"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("error 2:") && err.contains("overflow"),
        "{err:?}"
    );

    // Usage errors: exit 2, nothing sent.
    for words in [&["frobnicate"][..], &["incr"], &["incr", "x", "lots"]] {
        let out = server.client(words);
        assert_eq!(out.status.code(), Some(2), "{words:?}");
    }
    let long = "n".repeat(65);
    assert_eq!(server.client(&["get", &long]).status.code(), Some(2));

    assert!(server.stop(Duration::from_secs(5)).success());
}

/// Hand-built frames: the documented layout, ids echoed, pipelining, and the
/// counters shared between raw connections (and thus workers).
#[test]
fn raw_frames_follow_the_documented_layout() {
    let server = FramesServer::start();
    let mut conns: Vec<TcpStream> = (0..6).map(|_| server.raw()).collect();
    // Exact bytes of one exchange.
    conns[0]
        .write_all(&incr(0x0102_0304, "k", 7))
        .expect("write");
    let want = b"CNT!\x01\x01\x02\x03\x04V\x01k\0\0\0\0\0\0\0\x07";
    assert_eq!(read_n(&mut conns[0], want.len()), want);

    // Every connection increments every counter once.
    let names: Vec<String> = (0..8).map(|i| format!("c{i}")).collect();
    for (c, s) in conns.iter_mut().enumerate() {
        for (i, name) in names.iter().enumerate() {
            let id = (c * 100 + i) as u32;
            let (got_id, resp) = call(s, &incr(id, name, 1));
            assert_eq!(got_id, id);
            assert!(matches!(resp, Resp::Value(n, _) if n == *name));
        }
    }
    // Pipelined: all requests in one write, responses in order.
    let mut batch = Vec::new();
    for (i, name) in names.iter().enumerate() {
        batch.extend_from_slice(&get(i as u32, name));
    }
    batch.extend_from_slice(&ping(99, 0xdead_beef_0bad_f00d));
    conns[5].write_all(&batch).expect("write");
    for (i, name) in names.iter().enumerate() {
        assert_eq!(
            read_resp(&mut conns[5]),
            (i as u32, Resp::Value(name.clone(), 6))
        );
    }
    assert_eq!(
        read_resp(&mut conns[5]),
        (99, Resp::Pong(0xdead_beef_0bad_f00d))
    );
    drop(conns);
    assert!(server.stop(Duration::from_secs(5)).success());
}

/// Malformed input gets an error frame and that connection closed; a
/// connection opened alongside keeps working throughout.
#[test]
fn malformed_input_closes_only_that_connection() {
    let server = FramesServer::start();
    let mut bystander = server.raw();
    assert_eq!(call(&mut bystander, &ping(1, 1)), (1, Resp::Pong(1)));

    let mut bad_magic = ping(2, 2);
    bad_magic[0] = b'X';
    expect_rejected(
        &server,
        &bad_magic,
        "bad magic in field `Request` at byte 0",
    );

    let mut bad_version = ping(3, 3);
    bad_version[4] = 2;
    expect_rejected(&server, &bad_version, "`Request.version`");

    let mut unknown_tag = header(4);
    unknown_tag.push(b'Z');
    expect_rejected(&server, &unknown_tag, "unknown tag 90");

    // A name length over the limit is refused as soon as the length byte
    // arrives: the name itself is never sent.
    let mut oversized = header(5);
    oversized.extend_from_slice(&[b'G', 200]);
    expect_rejected(&server, &oversized, "length 200 exceeds 64");

    let mut bad_utf8 = get(6, "ab");
    *bad_utf8.last_mut().unwrap() = 0xff;
    expect_rejected(
        &server,
        &bad_utf8,
        "invalid UTF-8 in field `Request.op.Get.name`",
    );

    // A good request followed by garbage: the answer, then the error.
    let mut s = server.raw();
    let mut bytes = incr(7, "seen", 1);
    bytes.extend_from_slice(b"garbage!garbage!");
    assert_eq!(call(&mut s, &bytes), (7, Resp::Value("seen".into(), 1)));
    assert!(matches!(read_resp(&mut s), (0, Resp::Error(1, _))));
    assert_closed(&mut s);

    // Truncated frame, then the client closes its side: closed, no reply.
    let mut s = server.raw();
    s.write_all(&incr(8, "half", 1)[..12]).expect("write");
    s.shutdown(Shutdown::Write).expect("shutdown");
    assert_closed(&mut s);

    // The bystander is unaffected, and the truncated increment never applied.
    assert_eq!(call(&mut bystander, &ping(9, 9)), (9, Resp::Pong(9)));
    assert_eq!(
        call(&mut bystander, &get(10, "half")),
        (10, Resp::Value("half".into(), 0))
    );
    assert_eq!(
        call(&mut bystander, &get(11, "seen")),
        (11, Resp::Value("seen".into(), 1))
    );
    drop(bystander);
    assert!(server.stop(Duration::from_secs(5)).success());
}

/// SIGTERM stops the server with exit status 0, also while a client
/// connection is open: waiting between requests, it is closed as soon as
/// shutdown starts (the grace period is 10 s), so exit is prompt.
#[test]
fn sigterm_exits_zero() {
    let server = FramesServer::start();
    let mut idle = server.raw();
    assert_eq!(call(&mut idle, &ping(1, 1)), (1, Resp::Pong(1)));
    let started = Instant::now();
    let status = server.stop(Duration::from_secs(8));
    assert!(status.success(), "exit status {status}");
    assert_closed(&mut idle);
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "took {:?}",
        started.elapsed()
    );
}
