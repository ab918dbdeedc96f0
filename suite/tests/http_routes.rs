//! Route attributes and `routes![...]` over real sockets: parameters,
//! tails, ranking, 404/405, HEAD from GET, extractors, state, responses.

mod common;

use std::cell::Cell;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use corering::http::route::serde::{Deserialize, Serialize};
use corering::http::route::{Bytes, Form, Headers, Json, Local, Path, Query, State};
use corering::http::{Http1Config, Method, Response, Status};
use corering::prelude::*;
use corering::test::TestServer;
use corering::Server;

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

/// The routes above on two workers; the hit counter they share.
fn start() -> (TestServer, Arc<AtomicUsize>) {
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
    let builder = Server::builder().workers(2).pin_workers(false);
    let app = TestServer::with_config(builder, Http1Config::new(), router);
    (app, hits)
}

/// The status and body of `GET target`.
fn get(app: &TestServer, target: &str) -> (u16, String) {
    let r = app.get(target).send();
    (r.status(), r.text().to_owned())
}

#[test]
fn routes_end_to_end() {
    let (a, hits) = start();

    // Literals, parameters, ranking (a literal beats a parameter).
    a.get("/")
        .send()
        .assert_status(200)
        .assert_text("index")
        .assert_header("content-type", "text/plain; charset=utf-8");
    for (target, want) in [
        ("/users/42", "user 42"),
        ("/users/me", "me"),
        ("/pair/x/-7", "GET x -7"),
        ("/users/42?x=1", "user 42"),
        // Tail.
        ("/files/a/b/c.txt", "file [a/b/c.txt]"),
        ("/files", "file []"),
        ("/files/", "file []"),
        // Percent-decoding of values (not of the matched literals).
        ("/files/a%20b/%C3%A9", "file [a b/\u{e9}]"),
        ("/users/%34%32", "user 42"),
        // Query.
        ("/search?page=3&q=rust", "page 3 q Some(\"rust\")"),
        ("/search?page=3", "page 3 q None"),
        ("/opt?page=2", "page 2"),
        ("/opt?page=x", "no page"),
        // Result: the Ok response.
        ("/maybe/4", "even 4"),
    ] {
        assert_eq!(get(&a, target), (200, want.to_owned()), "{target}");
    }

    // 404; 400 for a path or query that does not parse (handler not run).
    for path in ["/nope", "/users", "/users/", "/users/1/2", "/pair/x"] {
        assert_eq!(get(&a, path).0, 404, "{path}");
    }
    a.get("/nope").send().assert_text("Not Found");
    for target in [
        "/users/%zz",
        "/users/99999999999",
        "/search?page=x",
        "/search",
    ] {
        assert_eq!(get(&a, target).0, 400, "{target}");
    }
    a.get("/users/abc")
        .send()
        .assert_status(400)
        .assert_contains("`id`");

    // 405 with Allow listing the methods of every route matching the path.
    a.post("/users/1")
        .send()
        .assert_status(405)
        .assert_header("allow", "GET, HEAD, DELETE, OPTIONS")
        .assert_text("Method Not Allowed");
    a.put("/")
        .send()
        .assert_status(405)
        .assert_header("allow", "GET, HEAD");
    a.get("/only-head")
        .send()
        .assert_status(405)
        .assert_header("allow", "HEAD");

    // Other methods, custom status.
    a.delete("/users/9")
        .send()
        .assert_status(202)
        .assert_text("deleted 9");
    a.request(Method::Options, "/users/9")
        .send()
        .assert_status(204)
        .assert_header("x-options", "yes");

    // HEAD: served by GET (fields, no body), or by its own route.
    let r = a.head("/users/42").send();
    r.assert_status(200).assert_header("content-length", "7");
    assert!(r.bytes().is_empty());
    a.head("/only-head")
        .send()
        .assert_status(204)
        .assert_header("x-head", "yes");
    // A literal GET route serves HEAD too (the literal fast path does
    // not take HEAD requests it has no HEAD route for).
    let r = a.head("/users/me").send();
    assert_eq!(r.status(), 200);
    assert!(r.bytes().is_empty());
    assert_eq!(r.header("content-length").map(|v| v != "0"), Some(true));

    // Json in and out; 415, 400, 422.
    let item = r#"{"name":"pen","qty":2}"#;
    a.post("/items")
        .header("Content-Type", "application/json")
        .body(item)
        .send()
        .assert_status(201)
        .assert_header("content-type", "application/json")
        .assert_text(r#"{"name":"PEN","qty":4}"#);
    for (ct, body, status) in [
        ("text/plain", item, 415),
        ("application/json", r#"{"name":"#, 400),
        ("application/json", r#"{"name":"pen"}"#, 422),
        (
            "application/vnd.api+json; charset=utf-8",
            r#"{"name":"a","qty":0}"#,
            201,
        ),
    ] {
        let r = a
            .post("/items")
            .header("Content-Type", ct)
            .body(body)
            .send();
        assert_eq!(r.status(), status, "{ct} {body}");
    }

    // Form.
    let form = |ct: &str, body: &str| a.put("/form").header("Content-Type", ct).body(body).send();
    let urlencoded = "application/x-www-form-urlencoded";
    form(urlencoded, "name=big+cup&qty=3")
        .assert_status(200)
        .assert_text("big cup x3");
    form(urlencoded, "name=x").assert_status(422);
    form("application/json", "name=x&qty=1").assert_status(415);

    // Body bytes and headers; body as String.
    let r = a
        .post("/echo")
        .header("X-Tag", "t1")
        .body(&b"\x00\xffraw"[..])
        .send();
    r.assert_header("content-type", "application/octet-stream");
    assert_eq!(r.bytes(), b"t1:\x00\xffraw");
    a.patch("/text").body("abc").send().assert_text("cba");
    a.patch("/text")
        .body(&b"\xff"[..])
        .send()
        .assert_status(400);

    // Shared state: one counter across workers and connections.
    for i in 1..=4 {
        a.post("/hit").send().assert_text(&format!("app {i}"));
    }
    assert_eq!(hits.load(Ordering::SeqCst), 4);

    // Result: the Err response.
    a.get("/maybe/5")
        .send()
        .assert_status(409)
        .assert_text("odd");
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
    let app = TestServer::with_config(Server::builder(), cfg, router);
    // The client is not shown the server's internal type names.
    app.get("/state")
        .send()
        .assert_status(500)
        .assert_text("Internal Server Error");

    // Per-worker state (one worker here): kept across requests.
    app.get("/local").send().assert_text("1");
    app.get("/local").send().assert_text("2");

    // Several requests on one keep-alive connection (raw bytes: the
    // second pipelined behind the first).
    let mut c = TcpStream::connect(app.addr()).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    c.write_all(b"GET /state HTTP/1.1\r\nHost: t\r\n\r\nGET /x HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut raw = String::new();
    c.read_to_string(&mut raw).unwrap();
    assert_eq!(raw.matches("HTTP/1.1 500").count(), 1, "{raw}");
    assert_eq!(raw.matches("HTTP/1.1 404").count(), 1, "{raw}");
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
