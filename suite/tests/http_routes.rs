//! Route attributes and `routes![...]` over real sockets: parameters,
//! tails, ranking, 404/405, HEAD from GET, extractors, state, responses.

mod common;

use std::cell::Cell;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use corering::http::route::serde::{Deserialize, Serialize};
use corering::http::route::{Bytes, Form, Headers, Json, Local, Path, Query, State};
use corering::http::{Http1Config, Method, Response, Status};
use corering::prelude::*;
use corering::RunningServer;

#[get("/")]
async fn index() -> &'static str {
    "index"
}

#[get("/users/{id}")]
async fn user(id: Path<u32>) -> String {
    format!("user {}", id.0)
}

#[get("/users/me")]
async fn me() -> &'static str {
    "me"
}

#[delete("/users/{id}")]
async fn delete_user(Path(id): Path<u32>) -> (Status, String) {
    (Status::ACCEPTED, format!("deleted {id}"))
}

#[get("/files/{*path}")]
async fn files(path: Path<String>) -> String {
    format!("file [{}]", path.0)
}

#[get("/pair/{a}/{b}")]
async fn pair(a: Path<String>, b: Path<i64>, method: Method) -> String {
    format!("{method} {} {}", a.0, b.0)
}

#[derive(Deserialize)]
#[serde(crate = "corering::http::route::serde")]
struct Page {
    page: u32,
    q: Option<String>,
}

#[get("/search")]
async fn search(Query(p): Query<Page>) -> String {
    format!("page {} q {:?}", p.page, p.q)
}

#[derive(Deserialize, Serialize)]
#[serde(crate = "corering::http::route::serde")]
struct Item {
    name: String,
    qty: u32,
}

#[get("/opt")]
async fn opt(q: Option<Query<Page>>) -> String {
    match q {
        Some(Query(p)) => format!("page {}", p.page),
        None => "no page".into(),
    }
}

#[post("/items")]
async fn add_item(Json(item): Json<Item>) -> (Status, Json<Item>) {
    (
        Status::CREATED,
        Json(Item {
            name: item.name.to_uppercase(),
            qty: item.qty * 2,
        }),
    )
}

#[route(method = "PUT", path = "/form")]
async fn form(Form(item): Form<Item>) -> String {
    format!("{} x{}", item.name, item.qty)
}

#[post("/echo")]
async fn echo(headers: Headers, body: Bytes) -> Vec<u8> {
    let mut out = headers.get("x-tag").unwrap_or(b"-").to_vec();
    out.push(b':');
    out.extend_from_slice(&body.0);
    out
}

#[patch("/text")]
async fn text(body: String) -> String {
    body.chars().rev().collect()
}

#[derive(Clone)]
struct App {
    hits: Arc<AtomicUsize>,
    name: &'static str,
}

#[post("/hit")]
async fn hit(State(app): State<App>) -> String {
    let n = app.hits.fetch_add(1, Ordering::SeqCst) + 1;
    format!("{} {n}", app.name)
}

#[get("/maybe/{n}")]
async fn maybe(n: Path<u32>) -> Result<String, (Status, &'static str)> {
    if n.0 & 1 == 0 {
        Ok(format!("even {}", n.0))
    } else {
        Err((Status::CONFLICT, "odd"))
    }
}

#[head("/only-head")]
async fn only_head() -> Response {
    Response::new(Status::NO_CONTENT).header("X-Head", "yes")
}

#[options("/users/{id}")]
async fn user_options(_id: Path<u32>) -> Response {
    Response::new(Status::NO_CONTENT).header("X-Options", "yes")
}

fn start() -> (RunningServer, SocketAddr, Arc<AtomicUsize>) {
    let hits = Arc::new(AtomicUsize::new(0));
    let router = routes![
        index,
        user,
        me,
        delete_user,
        files,
        pair,
        search,
        opt,
        add_item,
        form,
        echo,
        text,
        hit,
        maybe,
        only_head,
        user_options,
    ]
    .with_state(App {
        hits: hits.clone(),
        name: "app",
    });
    let cfg = Http1Config::new();
    let (s, a) = common::http::start_http(common::builder(), cfg, router);
    (s, a, hits)
}

#[derive(Debug)]
struct Resp {
    status: u16,
    head: String,
    body: Vec<u8>,
}

impl Resp {
    fn text(&self) -> &str {
        std::str::from_utf8(&self.body).unwrap()
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().skip(1).find_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }
}

/// One request on a fresh connection (`Connection: close`), read to EOF.
fn request(
    addr: SocketAddr,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Resp {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut req = format!("{method} {target} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n");
    for (n, v) in headers {
        req.push_str(&format!("{n}: {v}\r\n"));
    }
    if !body.is_empty() || matches!(method, "POST" | "PUT" | "PATCH") {
        req.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    req.push_str("\r\n");
    let mut bytes = req.into_bytes();
    bytes.extend_from_slice(body);
    s.write_all(&bytes).unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("complete head");
    let head = String::from_utf8(raw[..end].to_vec()).unwrap();
    let status = head[9..12].parse().unwrap();
    Resp {
        status,
        head,
        body: raw[end + 4..].to_vec(),
    }
}

fn get(addr: SocketAddr, target: &str) -> Resp {
    request(addr, "GET", target, &[], b"")
}

#[test]
fn routes_end_to_end() {
    let (server, a, hits) = start();

    // Literals, parameters, ranking (a literal beats a parameter).
    let r = get(a, "/");
    assert_eq!((r.status, r.text()), (200, "index"));
    assert_eq!(r.header("content-type"), Some("text/plain; charset=utf-8"));
    assert_eq!(get(a, "/users/42").text(), "user 42");
    assert_eq!(get(a, "/users/me").text(), "me");
    assert_eq!(get(a, "/pair/x/-7").text(), "GET x -7");
    assert_eq!(get(a, "/users/42?x=1").text(), "user 42");

    // Tail.
    assert_eq!(get(a, "/files/a/b/c.txt").text(), "file [a/b/c.txt]");
    assert_eq!(get(a, "/files").text(), "file []");
    assert_eq!(get(a, "/files/").text(), "file []");

    // Percent-decoding of values (not of the matched literals).
    assert_eq!(get(a, "/files/a%20b/%C3%A9").text(), "file [a b/\u{e9}]");
    assert_eq!(get(a, "/users/%34%32").text(), "user 42");
    assert_eq!(get(a, "/users/%zz").status, 400);

    // 404.
    for path in ["/nope", "/users", "/users/", "/users/1/2", "/pair/x"] {
        assert_eq!(get(a, path).status, 404, "{path}");
    }

    // 405 with Allow listing the methods of every route matching the path.
    let r = request(a, "POST", "/users/1", &[], b"");
    assert_eq!(r.status, 405);
    assert_eq!(r.header("allow"), Some("GET, HEAD, DELETE, OPTIONS"));
    assert_eq!(r.text(), "Method Not Allowed");
    assert_eq!(get(a, "/nope").text(), "Not Found");
    let r = request(a, "PUT", "/", &[], b"");
    assert_eq!((r.status, r.header("allow")), (405, Some("GET, HEAD")));
    let r = request(a, "GET", "/only-head", &[], b"");
    assert_eq!((r.status, r.header("allow")), (405, Some("HEAD")));

    // Other methods, custom status.
    let r = request(a, "DELETE", "/users/9", &[], b"");
    assert_eq!((r.status, r.text()), (202, "deleted 9"));
    let r = request(a, "OPTIONS", "/users/9", &[], b"");
    assert_eq!((r.status, r.header("x-options")), (204, Some("yes")));

    // HEAD: served by GET (fields, no body), or by its own route.
    let r = request(a, "HEAD", "/users/42", &[], b"");
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-length"), Some("7"));
    assert!(r.body.is_empty());
    let r = request(a, "HEAD", "/only-head", &[], b"");
    assert_eq!((r.status, r.header("x-head")), (204, Some("yes")));
    // A literal GET route serves HEAD too (the literal fast path does
    // not take HEAD requests it has no HEAD route for).
    let r = request(a, "HEAD", "/users/me", &[], b"");
    assert_eq!(r.status, 200);
    assert!(r.body.is_empty());
    assert_eq!(r.header("content-length").map(|v| v != "0"), Some(true));

    // Path parse failure: 400, handler not run.
    let r = get(a, "/users/abc");
    assert_eq!(r.status, 400);
    assert!(r.text().contains("`id`"), "{}", r.text());
    assert_eq!(get(a, "/users/99999999999").status, 400);

    // Query.
    assert_eq!(
        get(a, "/search?page=3&q=rust").text(),
        "page 3 q Some(\"rust\")"
    );
    assert_eq!(get(a, "/search?page=3").text(), "page 3 q None");
    assert_eq!(get(a, "/search?page=x").status, 400);
    assert_eq!(get(a, "/search").status, 400);
    assert_eq!(get(a, "/opt?page=2").text(), "page 2");
    assert_eq!(get(a, "/opt?page=x").text(), "no page");

    // Json in and out; 415, 400, 422.
    let json = [("Content-Type", "application/json")];
    let r = request(a, "POST", "/items", &json, br#"{"name":"pen","qty":2}"#);
    assert_eq!(r.status, 201);
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(r.text(), r#"{"name":"PEN","qty":4}"#);
    let r = request(a, "POST", "/items", &[], br#"{"name":"pen","qty":2}"#);
    assert_eq!(r.status, 415);
    let r = request(a, "POST", "/items", &json, br#"{"name":"#);
    assert_eq!(r.status, 400);
    let r = request(a, "POST", "/items", &json, br#"{"name":"pen"}"#);
    assert_eq!(r.status, 422);
    let vnd = [("Content-Type", "application/vnd.api+json; charset=utf-8")];
    let r = request(a, "POST", "/items", &vnd, br#"{"name":"a","qty":0}"#);
    assert_eq!(r.status, 201);

    // Form.
    let form = [("Content-Type", "application/x-www-form-urlencoded")];
    let r = request(a, "PUT", "/form", &form, b"name=big+cup&qty=3");
    assert_eq!((r.status, r.text()), (200, "big cup x3"));
    assert_eq!(request(a, "PUT", "/form", &form, b"name=x").status, 422);
    assert_eq!(
        request(a, "PUT", "/form", &json, b"name=x&qty=1").status,
        415
    );

    // Body bytes and headers; body as String.
    let r = request(a, "POST", "/echo", &[("X-Tag", "t1")], b"\x00\xffraw");
    assert_eq!(r.header("content-type"), Some("application/octet-stream"));
    assert_eq!(r.body, b"t1:\x00\xffraw");
    assert_eq!(request(a, "PATCH", "/text", &[], b"abc").text(), "cba");
    assert_eq!(request(a, "PATCH", "/text", &[], b"\xff").status, 400);

    // Shared state: one counter across workers and connections.
    for i in 1..=4 {
        assert_eq!(
            request(a, "POST", "/hit", &[], b"").text(),
            format!("app {i}")
        );
    }
    assert_eq!(hits.load(Ordering::SeqCst), 4);

    // Result: Ok and Err responses.
    assert_eq!(get(a, "/maybe/4").text(), "even 4");
    let r = get(a, "/maybe/5");
    assert_eq!((r.status, r.text()), (409, "odd"));

    server.shutdown().expect("shutdown");
}

#[get("/state")]
async fn needs_state(State(n): State<u64>) -> String {
    n.to_string()
}

#[get("/local")]
async fn local_count(Local(n): Local<Cell<u32>>) -> String {
    n.set(n.get() + 1);
    n.get().to_string()
}

#[test]
fn missing_state_is_500_and_keep_alive_works() {
    let router = routes![needs_state, local_count].with_local_state(|| Cell::new(0u32));
    let cfg = Http1Config::new();
    let (s, a) = common::http::start_http(common::builder().workers(1), cfg, router);
    let r = get(a, "/state");
    assert_eq!(r.status, 500);
    // The client is not shown the server's internal type names.
    assert_eq!(r.text(), "Internal Server Error");

    // Per-worker state (one worker here): kept across requests.
    assert_eq!(get(a, "/local").text(), "1");
    assert_eq!(get(a, "/local").text(), "2");

    // Several requests on one keep-alive connection.
    let mut c = TcpStream::connect(a).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    c.write_all(b"GET /state HTTP/1.1\r\nHost: t\r\n\r\nGET /x HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut raw = String::new();
    c.read_to_string(&mut raw).unwrap();
    assert_eq!(raw.matches("HTTP/1.1 500").count(), 1, "{raw}");
    assert_eq!(raw.matches("HTTP/1.1 404").count(), 1, "{raw}");
    s.shutdown().expect("shutdown");
}

mod counting_alloc;

const WARMUP: usize = 300;
const MEASURED: usize = 500;

/// Allocations counted on the worker, published after the last measured
/// request.
static RESULT: AtomicUsize = AtomicUsize::new(usize::MAX);

#[get("/count/{n}")]
async fn counted(n: Path<u32>, State(seen): State<Arc<AtomicUsize>>) -> &'static str {
    let k = seen.fetch_add(1, Ordering::SeqCst) + 1;
    assert_eq!(n.0 as usize, k);
    if k == WARMUP {
        counting_alloc::reset();
        counting_alloc::set_counting(true);
    }
    if k == WARMUP + MEASURED {
        counting_alloc::set_counting(false);
        RESULT.store(counting_alloc::count(), Ordering::SeqCst);
    }
    "Hello, World!"
}

#[get("/count/other")]
async fn count_other() -> &'static str {
    "other"
}

#[post("/count/{n}")]
async fn count_post(_n: Path<u32>) -> &'static str {
    "post"
}

/// Routing, extraction (a parsed `Path`, an `Arc` state) and a static
/// response allocate nothing on the worker once warm.
#[test]
fn routed_requests_allocate_nothing_when_warm() {
    let router = routes![count_other, count_post, counted, index, user, files]
        .with_state(Arc::new(AtomicUsize::new(0)));
    let cfg = Http1Config::new();
    let (server, addr) = common::http::start_http(common::builder().workers(1), cfg, router);
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_nodelay(true).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut buf = vec![0u8; 4096];
    let mut have = 0;
    for i in 1..=WARMUP + MEASURED {
        s.write_all(format!("GET /count/{i} HTTP/1.1\r\nHost: h\r\n\r\n").as_bytes())
            .unwrap();
        common::read_hello(&mut s, &mut buf, &mut have);
    }
    let published = counting_alloc::wait_published(&RESULT, std::time::Duration::from_secs(10));
    drop(s);
    server.shutdown().expect("shutdown");
    let n = published;
    assert_eq!(n, 0, "{n} allocations in {MEASURED} routed requests");
}
