//! Static files (`http::fs::ServeDir`, `ServeFile`) checked with curl:
//! content types, validators and `304`, ranges and `416`, `HEAD`,
//! directory indexes and their redirect, traversal attempts (`..`, its
//! percent-encoded forms, backslashes, NUL, absolute paths, symbolic
//! links out of the root), memory that does not grow with file size, and
//! a cached file sent whole (`sendfile(2)`) to a slow, pipelining reader.
//!
//! Prints `SKIP:` and passes where curl is missing (fails instead with
//! `CI` set). `measure_serve_dir_against_reading_on_the_worker` (ignored)
//! prints requests/s and CPU per request of `ServeDir` against a handler
//! reading with `std::fs` on the worker itself.

mod common;

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::SocketAddr;
use std::path::{Path as FsPath, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

use common::http::start_http;
use corering::http::fs::{ServeDir, ServeFile};
use corering::http::route::{Path, State};
use corering::http::{Http1Config, Request, Response};
use corering::{get, routes};

/// What the routes serve from.
#[derive(Clone)]
struct Files {
    dir: ServeDir,
    favicon: ServeFile,
}

#[get("/static/{*path}")]
async fn files(path: Path<String>, State(f): State<Files>, req: &mut Request<'_>) -> Response {
    f.dir.serve(req, &path.0).await
}

/// The same directory through `serve_prefixed` (raw path, decoded by
/// `ServeDir` itself).
#[get("/raw/{*rest}")]
async fn raw(rest: Path<String>, State(f): State<Files>, req: &mut Request<'_>) -> Response {
    let _ = rest;
    f.dir.serve_prefixed(req, "/raw").await
}

#[get("/favicon.ico")]
async fn favicon(State(f): State<Files>, req: &mut Request<'_>) -> Response {
    f.favicon.serve(req).await
}

/// The alternative measured against: `std::fs` on the worker.
#[get("/inline/{*path}")]
async fn inline(path: Path<String>) -> Response {
    let root = std::env::var("CORERING_TEST_FILES_ROOT").unwrap_or_default();
    match std::fs::read(FsPath::new(&root).join(&path.0)) {
        Ok(b) => Response::new(corering::http::Status::OK).body(b),
        Err(_) => Response::new(corering::http::Status::NOT_FOUND),
    }
}

/// A temporary tree, removed on drop: `root` (served) and `outside`
/// (next to it, never to be served).
struct Tree {
    base: PathBuf,
    root: PathBuf,
    outside: PathBuf,
}

impl Drop for Tree {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.base);
    }
}

const SECRET: &str = "top secret outside the root\n";
const BIG: usize = 3 * 1024 * 1024 + 17;

fn big_bytes() -> Vec<u8> {
    (0..BIG).map(|i| (i * 7 % 251) as u8).collect()
}

fn tree() -> Tree {
    static N: AtomicUsize = AtomicUsize::new(0);
    let base = std::env::temp_dir().join(format!(
        "corering-files-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let root = base.join("root");
    let outside = base.join("outside");
    std::fs::create_dir_all(root.join("sub")).unwrap();
    std::fs::create_dir_all(root.join("empty")).unwrap();
    std::fs::create_dir_all(&outside).unwrap();
    let w = |p: &str, b: &[u8]| std::fs::write(root.join(p), b).unwrap();
    w("hello.txt", b"hello world\n");
    w("index.html", b"<h1>root</h1>\n");
    w("sub/index.html", b"<h1>sub</h1>\n");
    w("style.css", b"body{}");
    w("data.json", b"{\"a\":1}");
    w("app.wasm", b"\0asm\x01\0\0\0");
    w("blob.xyz", b"??");
    w("favicon.ico", b"ICO!");
    w("big.bin", &big_bytes());
    std::fs::write(outside.join("secret.txt"), SECRET).unwrap();
    let link = |target: &FsPath, name: &str| {
        std::os::unix::fs::symlink(target, root.join(name)).unwrap();
    };
    link(FsPath::new("/etc/passwd"), "passwd_link");
    link(&outside, "outside_link");
    link(&outside.join("secret.txt"), "secret_link.txt");
    link(FsPath::new("hello.txt"), "hello_link.txt");
    Tree {
        base,
        root,
        outside,
    }
}

fn start(t: &Tree) -> (corering::RunningServer, SocketAddr) {
    let state = Files {
        dir: ServeDir::new(&t.root),
        favicon: ServeFile::new(t.root.join("favicon.ico")),
    };
    let router = routes![files, raw, favicon, inline].with_state(state);
    start_http(common::builder(), Http1Config::new(), router)
}

/// Held for reading by every test, for writing by the memory test, so
/// no other test's allocations land in its measurement.
static EXCLUSIVE: std::sync::RwLock<()> = std::sync::RwLock::new(());

fn shared() -> std::sync::RwLockReadGuard<'static, ()> {
    EXCLUSIVE.read().unwrap_or_else(|p| p.into_inner())
}

/// True if curl runs; otherwise prints `SKIP:` (or fails under CI).
fn have_curl() -> bool {
    let ok = Command::new("curl")
        .arg("--version")
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        assert!(std::env::var_os("CI").is_none(), "curl is required in CI");
        eprintln!("SKIP: curl not found (apt-get install curl)");
    }
    ok
}

/// One curl exchange: status, header fields (names lowercase; the last of
/// each), body.
struct Got {
    status: u16,
    headers: HashMap<String, String>,
    body: Vec<u8>,
}

impl Got {
    fn h(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }
}

/// Runs curl on `path` with `args`; the response as curl saw it (after
/// any redirects it followed, the last one).
fn curl(addr: SocketAddr, path: &str, args: &[&str]) -> Got {
    let out = Command::new("curl")
        .args(["-sS", "--max-time", "20", "-D", "/dev/stderr", "-o", "-"])
        .args(args)
        .arg(format!("http://{addr}{path}"))
        .stdin(Stdio::null())
        .output()
        .expect("run curl");
    assert!(out.status.success(), "curl {path} {args:?}: {:?}", out);
    let head = String::from_utf8_lossy(&out.stderr);
    // With redirects followed, the last head counts.
    let last = head
        .split("\r\n\r\n")
        .filter(|h| h.starts_with("HTTP/"))
        .last()
        .unwrap_or_else(|| panic!("no head for {path}: {head}"));
    let mut lines = last.lines();
    let status = lines.next().unwrap().split(' ').nth(1).unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    Got {
        status: status.parse().unwrap(),
        headers,
        body: out.stdout,
    }
}

#[test]
fn content_types_validators_and_bodies() {
    let _shared = shared();
    if !have_curl() {
        return;
    }
    let t = tree();
    let (server, addr) = start(&t);
    let g = curl(addr, "/static/hello.txt", &[]);
    assert_eq!(g.status, 200);
    assert_eq!(g.body, b"hello world\n");
    assert_eq!(g.h("content-type"), Some("text/plain; charset=utf-8"));
    assert_eq!(g.h("content-length"), Some("12"));
    assert_eq!(g.h("accept-ranges"), Some("bytes"));
    assert!(
        g.h("etag").is_some_and(|e| e.starts_with("\"c-")),
        "{:?}",
        g.h("etag")
    );
    assert!(g.h("last-modified").is_some_and(|d| d.ends_with(" GMT")));
    for (path, ty) in [
        ("/static/style.css", "text/css; charset=utf-8"),
        ("/static/data.json", "application/json"),
        ("/static/app.wasm", "application/wasm"),
        ("/static/blob.xyz", "application/octet-stream"),
        ("/static/index.html", "text/html; charset=utf-8"),
        ("/favicon.ico", "image/x-icon"),
    ] {
        let g = curl(addr, path, &[]);
        assert_eq!(g.status, 200, "{path}");
        assert_eq!(g.h("content-type"), Some(ty), "{path}");
    }
    // A large file, streamed with its length.
    let g = curl(addr, "/static/big.bin", &[]);
    assert_eq!(g.status, 200);
    assert_eq!(g.h("content-length"), Some(BIG.to_string().as_str()));
    assert!(g.body == big_bytes(), "big body differs");
    // A link inside the root is followed.
    assert_eq!(
        curl(addr, "/static/hello_link.txt", &[]).body,
        b"hello world\n"
    );
    assert_eq!(curl(addr, "/static/nope.txt", &[]).status, 404);
    assert_eq!(curl(addr, "/static/empty/", &[]).status, 404);
    // Methods other than GET and HEAD are not routed here.
    assert_eq!(curl(addr, "/static/hello.txt", &["-X", "POST"]).status, 405);
    server.shutdown().unwrap();
}

#[test]
fn head_requests_state_the_length_without_a_body() {
    let _shared = shared();
    if !have_curl() {
        return;
    }
    let t = tree();
    let (server, addr) = start(&t);
    for (path, len) in [("/static/hello.txt", 12), ("/static/big.bin", BIG)] {
        let g = curl(addr, path, &["-I"]);
        assert_eq!(g.status, 200, "{path}");
        assert_eq!(g.h("content-length"), Some(len.to_string().as_str()));
        assert!(g.h("etag").is_some());
        // With -I, curl prints the head as its output: nothing else came.
        let out = String::from_utf8_lossy(&g.body);
        assert!(
            out.starts_with("HTTP/1.1 200 OK\r\n") && out.ends_with("\r\n\r\n"),
            "{out}"
        );
        assert_eq!(out.matches("\r\n\r\n").count(), 1, "{out}");
    }
    server.shutdown().unwrap();
}

#[test]
fn conditional_requests_answer_304() {
    let _shared = shared();
    if !have_curl() {
        return;
    }
    let t = tree();
    let (server, addr) = start(&t);
    for path in ["/static/hello.txt", "/static/big.bin"] {
        let first = curl(addr, path, &[]);
        let etag = first.h("etag").unwrap().to_owned();
        let modified = first.h("last-modified").unwrap().to_owned();
        let inm = format!("If-None-Match: {etag}");
        let g = curl(addr, path, &["-H", &inm]);
        assert_eq!(g.status, 304, "{path}");
        assert!(g.body.is_empty());
        assert_eq!(g.h("etag"), Some(etag.as_str()));
        let listed = format!("If-None-Match: \"other\", W/{etag}");
        assert_eq!(curl(addr, path, &["-H", &listed]).status, 304);
        assert_eq!(curl(addr, path, &["-H", "If-None-Match: *"]).status, 304);
        let g = curl(addr, path, &["-H", "If-None-Match: \"other\""]);
        assert_eq!(g.status, 200);
        let ims = format!("If-Modified-Since: {modified}");
        assert_eq!(curl(addr, path, &["-H", &ims]).status, 304);
        // HEAD too.
        assert_eq!(curl(addr, path, &["-I", "-H", &ims]).status, 304);
        // Older than the file, or not a date: the file.
        let old = "If-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT";
        assert_eq!(curl(addr, path, &["-H", old]).status, 200);
        assert_eq!(
            curl(addr, path, &["-H", "If-Modified-Since: yesterday"]).status,
            200
        );
        // If-None-Match decides when both are sent.
        let both = ["-H", "If-None-Match: \"other\"", "-H", &ims];
        assert_eq!(curl(addr, path, &both).status, 200);
    }
    // Touching the file changes its validators.
    let first = curl(addr, "/static/hello.txt", &[]);
    std::fs::write(t.root.join("hello.txt"), b"hello again\n").unwrap();
    let inm = format!("If-None-Match: {}", first.h("etag").unwrap());
    let g = curl(addr, "/static/hello.txt", &["-H", &inm]);
    assert_eq!(g.status, 200);
    assert_eq!(g.body, b"hello again\n");
    server.shutdown().unwrap();
}

#[test]
fn ranges_answer_206_and_416() {
    let _shared = shared();
    if !have_curl() {
        return;
    }
    let t = tree();
    let (server, addr) = start(&t);
    let big = big_bytes();
    let len = BIG;
    let cases: [(&str, usize, usize); 5] = [
        ("0-99", 0, 99),
        ("100-", 100, len - 1),
        ("-10", len - 10, len - 1),
        ("1000-2000000", 1000, 2_000_000),
        ("5-999999999", 5, len - 1),
    ];
    for (r, start, end) in cases {
        let g = curl(addr, "/static/big.bin", &["-r", r]);
        assert_eq!(g.status, 206, "{r}");
        assert_eq!(
            g.h("content-range"),
            Some(format!("bytes {start}-{end}/{len}").as_str()),
            "{r}"
        );
        assert_eq!(
            g.h("content-length"),
            Some((end - start + 1).to_string().as_str())
        );
        assert!(g.body == big[start..=end], "{r}: body differs");
    }
    let g = curl(addr, "/static/hello.txt", &["-r", "6-"]);
    assert_eq!((g.status, &g.body[..]), (206, &b"world\n"[..]));
    // Past the end: 416 with the length.
    for r in ["99999999-", "12-20"] {
        let g = curl(addr, "/static/hello.txt", &["-r", r]);
        assert_eq!(g.status, 416, "{r}");
        assert_eq!(g.h("content-range"), Some("bytes */12"));
    }
    // Several ranges, garbage, another unit: the whole file.
    for h in [
        "Range: bytes=0-1,5-6",
        "Range: bytes=oops",
        "Range: bytes=5-1",
        "Range: lines=1-2",
    ] {
        let g = curl(addr, "/static/hello.txt", &["-H", h]);
        assert_eq!((g.status, &g.body[..]), (200, &b"hello world\n"[..]), "{h}");
    }
    // If-Range: a range only while it names the current version.
    let etag = curl(addr, "/static/hello.txt", &[])
        .h("etag")
        .unwrap()
        .to_owned();
    let ir = format!("If-Range: {etag}");
    assert_eq!(
        curl(addr, "/static/hello.txt", &["-r", "0-4", "-H", &ir]).status,
        206
    );
    let g = curl(
        addr,
        "/static/hello.txt",
        &["-r", "0-4", "-H", "If-Range: \"old\""],
    );
    assert_eq!((g.status, g.body.len()), (200, 12));
    // HEAD ignores Range.
    assert_eq!(
        curl(addr, "/static/hello.txt", &["-I", "-r", "0-4"]).status,
        200
    );
    server.shutdown().unwrap();
}

#[test]
fn directories_serve_their_index_and_redirect_without_slash() {
    let _shared = shared();
    if !have_curl() {
        return;
    }
    let t = tree();
    let (server, addr) = start(&t);
    assert_eq!(curl(addr, "/static/", &[]).body, b"<h1>root</h1>\n");
    assert_eq!(curl(addr, "/static", &[]).body, b"<h1>root</h1>\n");
    let g = curl(addr, "/static/sub/", &[]);
    assert_eq!(g.body, b"<h1>sub</h1>\n");
    assert_eq!(g.h("content-type"), Some("text/html; charset=utf-8"));
    let g = curl(addr, "/static/sub?x=1", &[]);
    assert_eq!(g.status, 301);
    assert_eq!(g.h("location"), Some("/static/sub/?x=1"));
    let g = curl(addr, "/static/sub", &["-L"]);
    assert_eq!((g.status, &g.body[..]), (200, &b"<h1>sub</h1>\n"[..]));
    // The same through serve_prefixed.
    assert_eq!(curl(addr, "/raw/sub/", &[]).body, b"<h1>sub</h1>\n");
    assert_eq!(curl(addr, "/raw/hello.txt", &[]).body, b"hello world\n");
    server.shutdown().unwrap();
}

#[test]
fn traversal_attempts_never_leave_the_root() {
    let _shared = shared();
    if !have_curl() {
        return;
    }
    let t = tree();
    let (server, addr) = start(&t);
    let passwd = std::fs::read("/etc/passwd").unwrap_or_default();
    let attempts = [
        "/static/../outside/secret.txt",
        "/static/../../../../etc/passwd",
        "/static/sub/../../outside/secret.txt",
        "/static/%2e%2e/outside/secret.txt",
        "/static/%2E%2E/%2e%2e/%2e%2e/etc/passwd",
        "/static/..%2foutside%2fsecret.txt",
        "/static/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
        "/static/..%5coutside%5csecret.txt",
        "/static/%5c..%5c..%5cetc%5cpasswd",
        "/static/hello.txt%00.html",
        "/static//etc/passwd",
        "/static/%2fetc%2fpasswd",
        "/static/passwd_link",
        "/static/outside_link/secret.txt",
        "/static/secret_link.txt",
        "/raw/../outside/secret.txt",
        "/raw/%2e%2e/outside/secret.txt",
        "/raw/..%2f..%2fetc%2fpasswd",
        "/raw/passwd_link",
    ];
    for path in attempts {
        let g = curl(addr, path, &["--path-as-is"]);
        assert!(
            g.status == 403 || g.status == 404 || g.status == 400,
            "{path}: {} {:?}",
            g.status,
            String::from_utf8_lossy(&g.body)
        );
        assert!(!g.body.windows(6).any(|w| w == b"secret"), "{path}");
        assert!(passwd.is_empty() || g.body != passwd, "{path}");
        assert!(
            !String::from_utf8_lossy(&g.body).contains("root:"),
            "{path}"
        );
    }
    // The outside file was there all along.
    assert_eq!(
        std::fs::read_to_string(t.outside.join("secret.txt")).unwrap(),
        SECRET
    );
    // Symbolic links out are refused as such (403), not as missing.
    assert_eq!(curl(addr, "/static/passwd_link", &[]).status, 403);
    assert_eq!(
        curl(addr, "/static/%2e%2e/x", &["--path-as-is"]).status,
        403
    );
    server.shutdown().unwrap();
}

/// Resident memory of this process, in KiB.
fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[test]
fn a_large_file_streams_in_bounded_memory() {
    let _alone = EXCLUSIVE.write().unwrap_or_else(|p| p.into_inner());
    if !have_curl() {
        return;
    }
    let t = tree();
    // 256 MiB, sparse: cheap to make, and all of it to send.
    const HUGE: u64 = 256 << 20;
    let f = std::fs::File::create(t.root.join("huge.bin")).unwrap();
    f.set_len(HUGE).unwrap();
    drop(f);
    let (server, addr) = start(&t);
    // Warm: the pools and buffers a first big response sets up.
    curl(addr, "/static/big.bin", &["-o", "/dev/null"]);
    let before = rss_kib();
    let out = Command::new("curl")
        .args([
            "-sS",
            "--max-time",
            "60",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code} %{size_download}",
        ])
        .arg(format!("http://{addr}/static/huge.bin"))
        .output()
        .expect("run curl");
    let after = rss_kib();
    assert_eq!(String::from_utf8_lossy(&out.stdout), format!("200 {HUGE}"));
    let grown = after.saturating_sub(before);
    eprintln!("rss before {before} KiB, after {after} KiB, grown {grown} KiB for {HUGE} bytes");
    assert!(
        grown < 16 * 1024,
        "memory grew by {grown} KiB serving 256 MiB"
    );
    server.shutdown().unwrap();
}

/// Clients that leave in the middle of a large body (their reads still
/// under way on the server) do not disturb it: the next requests get
/// whole, correct answers, and it shuts down cleanly.
#[test]
fn clients_leaving_mid_body_leave_the_server_serving() {
    let _shared = shared();
    if !have_curl() {
        return;
    }
    let t = tree();
    let (server, addr) = start(&t);
    // 64 MiB, sparse: far more than the socket buffers hold, so the
    // server is still reading and sending when each client leaves.
    let f = std::fs::File::create(t.root.join("huge.bin")).unwrap();
    f.set_len(64 << 20).unwrap();
    drop(f);
    for _ in 0..8 {
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        s.write_all(b"GET /static/huge.bin HTTP/1.1\r\nHost: x\r\n\r\n")
            .unwrap();
        let mut some = vec![0u8; 64 << 10];
        s.read_exact(&mut some).unwrap();
        drop(s);
    }
    let got = curl(addr, "/static/big.bin", &[]);
    assert_eq!(got.status, 200);
    assert!(
        got.body == big_bytes(),
        "big.bin differs after the cut-off clients"
    );
    assert_eq!(curl(addr, "/static/hello.txt", &[]).body, b"hello world\n");
    server.shutdown().unwrap();
}

/// A large file the page cache holds goes out by `sendfile(2)`; a client
/// that reads it slowly (so the socket's buffer fills and the server
/// waits for room many times) still gets every byte, in order, and then
/// the answer to its pipelined second request.
#[test]
fn a_slow_reader_gets_a_cached_file_whole_and_then_its_next_answer() {
    let _shared = shared();
    let t = tree();
    // 24 MiB, written (so cached): several times what the socket buffers
    // hold.
    let huge: Vec<u8> = (0..24usize << 20).map(|i| (i * 13 % 253) as u8).collect();
    std::fs::write(t.root.join("cached.bin"), &huge).unwrap();
    let (server, addr) = start(&t);
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(std::time::Duration::from_secs(30)))
        .unwrap();
    s.write_all(
        b"GET /static/cached.bin HTTP/1.1\r\nHost: x\r\n\r\n\
          GET /static/hello.txt HTTP/1.1\r\nHost: x\r\n\r\n",
    )
    .unwrap();
    let mut got = Vec::new();
    let mut buf = vec![0u8; 64 << 10];
    let tail = b"hello world\n";
    while !(got.len() > huge.len() && got.ends_with(tail)) {
        let n = s.read(&mut buf).expect("read the responses");
        assert!(n > 0, "closed after {} bytes", got.len());
        got.extend_from_slice(&buf[..n]);
        // Slower than the server sends: its buffer fills, it waits.
        std::thread::sleep(std::time::Duration::from_micros(300));
    }
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    let head_end = got.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    let head = text(&got[..head_end]).to_ascii_lowercase();
    assert!(head.starts_with("http/1.1 200"), "{head}");
    assert!(
        head.contains(&format!("content-length: {}", huge.len())),
        "{head}"
    );
    let body = &got[head_end..head_end + huge.len()];
    assert!(body == &huge[..], "the body differs from the file");
    let next = text(&got[head_end + huge.len()..]);
    assert!(next.starts_with("HTTP/1.1 200"), "{next}");
    assert!(next.ends_with("\r\n\r\nhello world\n"), "{next}");
    server.shutdown().unwrap();
}

/// A cached file cut short while it is being sent (`sendfile(2)` then
/// finds its end early): the body stops short of its `Content-Length`
/// and the connection closes, so the client sees it cut; the server goes
/// on serving.
#[test]
fn a_file_that_shrinks_mid_body_ends_in_a_close() {
    let _shared = shared();
    let t = tree();
    let path = t.root.join("shrinks.bin");
    let len = 32usize << 20;
    std::fs::write(&path, vec![7u8; len]).unwrap();
    let (server, addr) = start(&t);
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(std::time::Duration::from_secs(30)))
        .unwrap();
    s.write_all(b"GET /static/shrinks.bin HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let mut got = 0usize;
    let mut buf = vec![0u8; 64 << 10];
    // Some of it, then the file is cut to 1 MiB under the response.
    while got < 2 << 20 {
        let n = s.read(&mut buf).expect("read");
        assert!(n > 0);
        got += n;
    }
    std::fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .unwrap()
        .set_len(1 << 20)
        .unwrap();
    loop {
        match s.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => break,
            Err(e) => panic!("no close after {got} bytes: {e}"),
        }
    }
    assert!(
        got < len,
        "all {got} bytes arrived from a file cut to 1 MiB"
    );
    assert_eq!(raw_get(addr, "/static/hello.txt"), b"hello world\n");
    server.shutdown().unwrap();
}

/// The body of `GET path` over a raw connection (`Connection: close`).
/// Drops `path`'s pages from the page cache (synced first, so they are
/// clean and may go), as a file the server has not read for a while.
fn evict(path: &FsPath) {
    use std::os::fd::AsRawFd;
    let f = std::fs::File::open(path).unwrap();
    f.sync_all().unwrap();
    // SAFETY: `f` is an open descriptor; the call is advice only.
    let r = unsafe { libc::posix_fadvise(f.as_raw_fd(), 0, 0, libc::POSIX_FADV_DONTNEED) };
    assert_eq!(r, 0, "posix_fadvise");
}

/// A small file is read on the worker only from the page cache; one that
/// is not there (or a large one partly not there) is read by the ring or
/// the pool: the same bytes either way, each time.
#[test]
fn files_out_of_the_page_cache_are_served_whole() {
    let _shared = shared();
    if !have_curl() {
        return;
    }
    let t = tree();
    let small: Vec<u8> = (0..4096u32).map(|i| (i * 7 % 251) as u8).collect();
    std::fs::write(t.root.join("cold.bin"), &small).unwrap();
    let big = big_bytes();
    let (server, addr) = start(&t);
    for round in 0..3 {
        for (name, want) in [("cold.bin", &small), ("big.bin", &big)] {
            evict(&t.root.join(name));
            let g = curl(addr, &format!("/static/{name}"), &[]);
            assert_eq!(g.status, 200, "{name}, round {round}");
            assert!(
                g.body == *want,
                "{name}, round {round}: {} bytes of {}",
                g.body.len(),
                want.len()
            );
            // And again, from the cache the read filled.
            assert!(curl(addr, &format!("/static/{name}"), &[]).body == *want);
        }
    }
    server.shutdown().unwrap();
}

fn raw_get(addr: SocketAddr, path: &str) -> Vec<u8> {
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut all = Vec::new();
    s.read_to_end(&mut all).unwrap();
    let at = all.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    all[at..].to_vec()
}

/// CPU time (user + system) of this process.
fn cpu_time() -> std::time::Duration {
    // SAFETY: getrusage fills the zeroed struct we pass; nothing else is
    // read or written.
    let ru = unsafe {
        let mut ru: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut ru);
        ru
    };
    let tv = |t: libc::timeval| {
        std::time::Duration::from_secs(t.tv_sec as u64)
            + std::time::Duration::from_micros(t.tv_usec as u64)
    };
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

/// Requests/s and CPU per request (server and client, same process) of
/// `ServeDir` against reading with `std::fs` on the worker, on a 4 KiB and
/// a 1 MiB file: `cargo test --release --test http_files -- --ignored
/// --nocapture measure`.
#[test]
#[ignore]
fn measure_serve_dir_against_reading_on_the_worker() {
    use std::io::{Read, Write};
    let t = tree();
    std::fs::write(t.root.join("4k.bin"), vec![7u8; 4096]).unwrap();
    std::fs::write(t.root.join("1m.bin"), vec![7u8; 1 << 20]).unwrap();
    std::env::set_var("CORERING_TEST_FILES_ROOT", &t.root);
    let (server, addr) = start(&t);
    for (file, n) in [("4k.bin", 20_000usize), ("1m.bin", 2_000)] {
        for prefix in ["static", "inline"] {
            let mut s = std::net::TcpStream::connect(addr).unwrap();
            s.set_nodelay(true).unwrap();
            let req = format!("GET /{prefix}/{file} HTTP/1.1\r\nHost: x\r\n\r\n");
            let mut buf = vec![0u8; 2 << 20];
            let mut one = |s: &mut std::net::TcpStream| {
                s.write_all(req.as_bytes()).unwrap();
                let mut got = 0;
                let mut need = usize::MAX;
                while got < need {
                    let k = s.read(&mut buf[got..]).unwrap();
                    assert!(k > 0);
                    got += k;
                    if need == usize::MAX {
                        if let Some(end) = buf[..got].windows(4).position(|w| w == b"\r\n\r\n") {
                            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
                            let len: usize = head
                                .split("content-length: ")
                                .nth(1)
                                .and_then(|v| v.split('\r').next())
                                .unwrap()
                                .parse()
                                .unwrap();
                            need = end + 4 + len;
                        }
                    }
                }
            };
            for _ in 0..n / 10 {
                one(&mut s);
            }
            let (t0, c0) = (std::time::Instant::now(), cpu_time());
            for _ in 0..n {
                one(&mut s);
            }
            let (wall, cpu) = (t0.elapsed(), cpu_time() - c0);
            println!(
                "{file} {prefix:>6}: {:>8.0} req/s, {:>6.1} us CPU/req ({n} requests, one connection)",
                n as f64 / wall.as_secs_f64(),
                cpu.as_secs_f64() * 1e6 / n as f64
            );
        }
    }
    server.shutdown().unwrap();
}
