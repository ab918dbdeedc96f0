//! `tokio_floor`, the hand-written tokio responder of the `http_load` bench, seen from
//! outside: curl's view of its answers, and pipelined, split, closing and refused requests
//! over raw sockets. Run with `cargo test --release --manifest-path benches/peers/Cargo.toml
//! --target-dir benches/peers/target` (release: the build the benches already made).

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, SystemTime};

/// A running `tokio_floor` on a free loopback port, killed when dropped.
struct Floor {
    child: Child,
    addr: SocketAddr,
}

impl Floor {
    fn start() -> Floor {
        let mut child = Command::new(env!("CARGO_BIN_EXE_tokio_floor"))
            .args(["--addr", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .spawn()
            .expect("starting tokio_floor");
        let mut line = String::new();
        let stdout = child.stdout.take().expect("piped stdout");
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("reading the listen line");
        let addr = line
            .trim()
            .strip_prefix("listening on ")
            .and_then(|a| a.parse().ok())
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"));
        Floor { child, addr }
    }

    fn connect(&self) -> TcpStream {
        let s = TcpStream::connect(self.addr).expect("connecting");
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        s
    }
}

impl Drop for Floor {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One answer as read off the wire.
#[derive(Debug)]
struct Answer {
    status: String,
    fields: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Answer {
    fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Reads one answer from `buf` (refilled from `s` as needed); `head`: the request was
/// `HEAD`, so no body follows.
fn read_answer(s: &mut TcpStream, buf: &mut Vec<u8>, head: bool) -> Answer {
    let end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        fill(s, buf);
    };
    let text = String::from_utf8(buf[..end].to_vec()).expect("an ASCII head");
    let mut lines = text.split("\r\n");
    let status = lines.next().unwrap().to_string();
    let fields: Vec<(String, String)> = lines
        .map(|l| {
            let (n, v) = l.split_once(':').expect("a field line");
            (n.to_string(), v.trim().to_string())
        })
        .collect();
    buf.drain(..end + 4);
    let mut answer = Answer {
        status,
        fields,
        body: Vec::new(),
    };
    let len: usize = answer
        .field("content-length")
        .expect("a Content-Length")
        .parse()
        .unwrap();
    if !head {
        while buf.len() < len {
            fill(s, buf);
        }
        answer.body = buf.drain(..len).collect();
    }
    answer
}

fn fill(s: &mut TcpStream, buf: &mut Vec<u8>) {
    let mut chunk = [0u8; 4096];
    let n = s.read(&mut chunk).expect("reading an answer");
    assert!(n > 0, "connection closed inside an answer");
    buf.extend_from_slice(&chunk[..n]);
}

/// True if the peer closes the connection (EOF or reset) before sending anything more.
fn closed(s: &mut TcpStream, buf: &[u8]) -> bool {
    if !buf.is_empty() {
        return false;
    }
    let mut byte = [0u8; 1];
    match s.read(&mut byte) {
        Ok(0) => true,
        Ok(_) => false,
        Err(e) => e.kind() == io::ErrorKind::ConnectionReset,
    }
}

fn curl(args: &[&str]) -> Option<String> {
    let out = Command::new("curl").args(args).output().ok()?;
    assert!(out.status.success(), "curl {args:?}: {}", out.status);
    Some(String::from_utf8(out.stdout).expect("curl output"))
}

const GET: &[u8] = b"GET /plaintext HTTP/1.1\r\nHost: floor\r\n\r\n";

#[test]
fn curl_gets_hellos_answer() {
    let floor = Floor::start();
    let url = format!("http://{}/plaintext", floor.addr);
    let Some(got) = curl(&["-si", &url]) else {
        eprintln!("skipped: no curl on PATH");
        return;
    };
    let (head, body) = got.split_once("\r\n\r\n").expect("a head");
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
    let names: Vec<&str> = head
        .lines()
        .skip(1)
        .map(|l| l.split_once(':').expect("a field").0)
        .collect();
    // hello's fields, in hello's order.
    assert_eq!(
        names,
        ["Date", "Server", "Content-Type", "Content-Length"],
        "{head}"
    );
    assert!(head.contains("\r\nContent-Type: text/plain; charset=utf-8"));
    assert!(head.contains("\r\nContent-Length: 13"));
    assert_eq!(body, "Hello, World!");

    let headed = curl(&["-sI", &url]).unwrap();
    assert!(headed.starts_with("HTTP/1.1 200 OK\r\n"), "{headed}");
    assert!(headed.contains("\r\nContent-Length: 13"), "{headed}");

    let missing = format!("http://{}/nope", floor.addr);
    let code = curl(&["-s", "-o", "/dev/null", "-w", "%{http_code}", &missing]).unwrap();
    assert_eq!(code, "404");
}

#[test]
fn the_date_is_now() {
    let floor = Floor::start();
    let mut s = floor.connect();
    s.write_all(GET).unwrap();
    let answer = read_answer(&mut s, &mut Vec::new(), false);
    let date = answer.field("date").expect("a Date");
    let at = httpdate::parse_http_date(date).expect("an HTTP date");
    let off = match at.duration_since(SystemTime::now()) {
        Ok(ahead) => ahead,
        Err(behind) => behind.duration(),
    };
    assert!(off < Duration::from_secs(60), "Date {date} is {off:?} off");
}

#[test]
fn pipelined_requests_get_all_their_answers_in_order() {
    let floor = Floor::start();
    let mut s = floor.connect();
    // 16 in one write, as the bench's pipelined load sends them.
    s.write_all(&GET.repeat(16)).unwrap();
    let mut buf = Vec::new();
    for _ in 0..16 {
        let a = read_answer(&mut s, &mut buf, false);
        assert_eq!(a.status, "HTTP/1.1 200 OK");
        assert_eq!(a.body, b"Hello, World!");
    }
    // A HEAD, a miss and a GET, the whole cut into 7-byte writes: requests split across
    // reads are answered once complete, in order.
    let mixed = [
        &b"HEAD /plaintext HTTP/1.1\r\nHost: floor\r\n\r\n"[..],
        b"GET /other HTTP/1.1\r\nHost: floor\r\n\r\n",
        GET,
    ]
    .concat();
    s.set_nodelay(true).unwrap();
    for piece in mixed.chunks(7) {
        s.write_all(piece).unwrap();
        std::thread::sleep(Duration::from_millis(2));
    }
    let head = read_answer(&mut s, &mut buf, true);
    assert_eq!(head.status, "HTTP/1.1 200 OK");
    assert_eq!(head.field("content-length"), Some("13"));
    let miss = read_answer(&mut s, &mut buf, false);
    assert_eq!(miss.status, "HTTP/1.1 404 Not Found");
    let hello = read_answer(&mut s, &mut buf, false);
    assert_eq!(hello.body, b"Hello, World!");
    assert!(buf.is_empty(), "more than three answers");
}

#[test]
fn connection_close_and_http_1_0_end_the_connection() {
    let floor = Floor::start();
    for request in [
        &b"GET /plaintext HTTP/1.1\r\nHost: floor\r\nConnection: close\r\n\r\n"[..],
        b"GET /plaintext HTTP/1.0\r\n\r\n",
    ] {
        let mut s = floor.connect();
        // A keep-alive request first: the connection outlives it.
        s.write_all(GET).unwrap();
        s.write_all(request).unwrap();
        let mut buf = Vec::new();
        let first = read_answer(&mut s, &mut buf, false);
        assert_eq!(first.field("connection"), None);
        let last = read_answer(&mut s, &mut buf, false);
        assert_eq!(last.body, b"Hello, World!");
        assert_eq!(last.field("connection"), Some("close"));
        assert!(closed(&mut s, &buf), "still open after Connection: close");
    }
    // HTTP/1.0 asking for keep-alive keeps it.
    let mut s = floor.connect();
    s.write_all(b"GET /plaintext HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        .unwrap();
    s.write_all(GET).unwrap();
    let mut buf = Vec::new();
    let first = read_answer(&mut s, &mut buf, false);
    assert_eq!(first.field("connection"), None);
    let second = read_answer(&mut s, &mut buf, false);
    assert_eq!(second.body, b"Hello, World!");
}

#[test]
fn what_the_bench_never_sends_is_refused_and_closed() {
    let floor = Floor::start();
    let long = format!(
        "GET /plaintext HTTP/1.1\r\nX-Long: {}\r\n\r\n",
        "a".repeat(5000)
    );
    let cases: [(&[u8], &str); 3] = [
        (
            b"POST /plaintext HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc",
            "HTTP/1.1 400 Bad Request",
        ),
        (b"not http at all\r\n\r\n", "HTTP/1.1 400 Bad Request"),
        (
            long.as_bytes(),
            "HTTP/1.1 431 Request Header Fields Too Large",
        ),
    ];
    for (request, status) in cases {
        let mut s = floor.connect();
        // The server may close before reading all of an oversized head.
        let _ = s.write_all(request);
        let mut buf = Vec::new();
        let answer = read_answer(&mut s, &mut buf, false);
        assert_eq!(answer.status, status);
        assert_eq!(answer.field("connection"), Some("close"));
        assert!(closed(&mut s, &buf), "still open after {status}");
    }
}
