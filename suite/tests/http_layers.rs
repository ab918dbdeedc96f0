//! Request-level composition checked with clients nobody here wrote
//! (ureq, curl): layer order, timeouts, request ids, CORS preflight,
//! bearer auth, fallback, nest, merge and the rejection hook.

use std::net::SocketAddr;
use std::process::Command;
use std::time::Duration;

use corering::http::layer::{map_request, map_response, Cors, RequestId, RequireBearer, Timeout};
use corering::http::observe::AccessLog;
use corering::http::route::{Json, Path, Rejection, State};
use corering::http::{Http1Config, Request, Response, Status};
use corering::{get, post, routes};

mod common;

use common::http::{start_http, ureq_agent};

#[get("/hello")]
async fn hello() -> &'static str {
    "hello"
}

#[get("/slow")]
async fn slow() -> &'static str {
    corering::time::sleep(Duration::from_secs(30)).await;
    "late"
}

#[get("/users/{id}")]
async fn user(id: Path<u32>) -> String {
    format!("user {}", id.0)
}

#[post("/sum")]
async fn sum(Json(v): Json<Vec<u32>>) -> String {
    v.iter().sum::<u32>().to_string()
}

#[get("/state")]
async fn needs_state(State(n): State<u64>) -> String {
    n.to_string()
}

#[get("/items")]
async fn items_get() -> &'static str {
    "items"
}

#[post("/items")]
async fn items_post() -> &'static str {
    "added"
}

#[get("/whoami")]
async fn whoami(req: &Request<'_>) -> String {
    format!("path={}", req.path())
}

/// The issue's first workaround (logging + auth + timeout, 43 lines as a
/// hand-written `Handler`) with layers: the 4 lines of the body.
fn logged_authed_timed() -> impl for<'a> corering::http::Handler<'a> + Clone + Send + Sync + 'static
{
    routes![hello, slow]
        .layer(Timeout::new(Duration::from_millis(300)))
        .layer(RequireBearer::new("s3cret"))
        .layer(AccessLog::layer())
}

/// The issue's second workaround (a JSON 404, 25 lines): these 4 lines.
async fn json_404(req: Request<'_>) -> Response {
    let body = format!(r#"{{"error":"not found","path":{:?}}}"#, req.path());
    Response::json(body).with_status(Status::NOT_FOUND)
}

fn json_rejection(r: Rejection) -> Response {
    let body = format!(
        r#"{{"error":"{}","status":{},"message":{:?}}}"#,
        r.kind().as_str(),
        r.status().as_u16(),
        r.message()
    );
    Response::json(body).with_status(r.status())
}

fn tag_outer(r: Response) -> Response {
    r.header("x-order", "outer")
}

fn tag_inner(r: Response) -> Response {
    r.header("x-order", "inner")
}

fn block_path(req: &mut Request<'_>) -> Option<Response> {
    (req.path() == "/api/users/666")
        .then(|| Response::text("blocked\n").with_status(Status::FORBIDDEN))
}

fn app() -> impl for<'a> corering::http::Handler<'a> + Clone + Send + Sync + 'static {
    routes![hello, slow, sum]
        .merge(routes![items_get])
        .merge(routes![items_post])
        .nest("/api", routes![user, whoami])
        .on_rejection(json_rejection)
        .fallback(json_404)
        .layer(Timeout::new(Duration::from_millis(300)))
        .layer(map_request(block_path))
        .layer(map_response(tag_inner))
        .layer(map_response(tag_outer))
        .layer(
            Cors::new()
                .allow_origin("https://app.example")
                .allow_methods("GET, POST")
                .max_age(60),
        )
        .layer(RequestId::new())
}

fn start() -> (corering::RunningServer, SocketAddr) {
    start_http(common::builder().workers(1), Http1Config::new(), app())
}

fn call(agent: &ureq::Agent, url: &str) -> (u16, Vec<(String, String)>, String) {
    let mut r = agent.get(url).call().expect("a response");
    let status = r.status().as_u16();
    let headers = r
        .headers()
        .iter()
        .map(|(n, v)| (n.as_str().to_owned(), v.to_str().unwrap_or("").to_owned()))
        .collect();
    (status, headers, r.body_mut().read_to_string().unwrap())
}

fn all<'h>(h: &'h [(String, String)], name: &str) -> Vec<&'h str> {
    h.iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
        .collect()
}

#[test]
fn routing_composition_with_ureq() {
    let (server, addr) = start();
    let agent = ureq_agent(Duration::from_secs(10));
    let url = |p: &str| format!("http://{addr}{p}");

    // Order: inner map_response runs first, so its field comes first.
    let (s, h, body) = call(&agent, &url("/hello"));
    assert_eq!((s, body.as_str()), (200, "hello"));
    assert_eq!(all(&h, "x-order"), ["inner", "outer"]);
    // A made request id.
    let id = all(&h, "x-request-id");
    assert_eq!(id.len(), 1);
    assert_eq!(id[0].split('-').count(), 3, "{id:?}");
    // Two requests, two ids.
    let (_, h2, _) = call(&agent, &url("/hello"));
    assert_ne!(all(&h2, "x-request-id"), id);

    // A client's id comes back.
    let r = agent
        .get(&url("/hello"))
        .header("x-request-id", "trace-abc-123")
        .call()
        .unwrap();
    assert_eq!(r.headers().get("x-request-id").unwrap(), "trace-abc-123");
    // One too long is replaced.
    let long = "x".repeat(100);
    let r = agent
        .get(&url("/hello"))
        .header("x-request-id", &long)
        .call()
        .unwrap();
    assert_ne!(
        r.headers().get("x-request-id").unwrap().to_str().unwrap(),
        long
    );

    // Timeout fires, and the layers outside it still run.
    let t = std::time::Instant::now();
    let (s, h, body) = call(&agent, &url("/slow"));
    assert_eq!(s, 503);
    assert_eq!(body, "request timed out\n");
    assert!(t.elapsed() < Duration::from_secs(5));
    assert_eq!(all(&h, "x-order"), ["inner", "outer"]);

    // map_request answers early.
    let (s, _, body) = call(&agent, &url("/api/users/666"));
    assert_eq!((s, body.as_str()), (403, "blocked\n"));

    // Nest: routes match without the prefix; handlers see the full path.
    let (s, _, body) = call(&agent, &url("/api/users/7"));
    assert_eq!((s, body.as_str()), (200, "user 7"));
    let (s, _, body) = call(&agent, &url("/api/whoami"));
    assert_eq!((s, body.as_str()), (200, "path=/api/whoami"));
    // Not under the prefix: the fallback.
    let (s, h, body) = call(&agent, &url("/users/7"));
    assert_eq!(s, 404);
    assert_eq!(all(&h, "content-type"), ["application/json"]);
    assert_eq!(body, r#"{"error":"not found","path":"/users/7"}"#);
    let (s, _, _) = call(&agent, &url("/apix/users/7"));
    assert_eq!(s, 404);

    // Merge: GET from one router, POST from another; 405 lists both.
    let (s, _, body) = call(&agent, &url("/items"));
    assert_eq!((s, body.as_str()), (200, "items"));
    let mut r = agent.post(&url("/items")).send("").unwrap();
    assert_eq!(r.body_mut().read_to_string().unwrap(), "added");
    let r = agent.put(&url("/items")).send("").unwrap();
    assert_eq!(r.status().as_u16(), 405);
    let allow = r.headers().get("allow").unwrap().to_str().unwrap();
    assert!(allow.contains("GET") && allow.contains("POST"), "{allow}");

    // Rejections in the hook's JSON: bad path parameter (nested router
    // inherits the hook), bad JSON, wrong shape, wrong content type.
    let (s, h, body) = call(&agent, &url("/api/users/abc"));
    assert_eq!(s, 400);
    assert_eq!(all(&h, "content-type"), ["application/json"]);
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["error"], "path_param");
    let post = |body: &str, ct: &str| {
        let mut r = agent
            .post(&url("/sum"))
            .header("content-type", ct)
            .send(body)
            .unwrap();
        let s = r.status().as_u16();
        (
            s,
            serde_json::from_str::<serde_json::Value>(&r.body_mut().read_to_string().unwrap())
                .unwrap(),
        )
    };
    let (s, v) = post("[1, 2", "application/json");
    assert_eq!((s, v["error"].as_str()), (400, Some("json_syntax")));
    let (s, v) = post(r#"{"a":1}"#, "application/json");
    assert_eq!((s, v["error"].as_str()), (422, Some("json_data")));
    let (s, v) = post("[1]", "text/plain");
    assert_eq!((s, v["error"].as_str()), (415, Some("content_type")));
    let mut r = agent
        .post(&url("/sum"))
        .header("content-type", "application/json")
        .send("[1,2,3]")
        .unwrap();
    assert_eq!(r.body_mut().read_to_string().unwrap(), "6");

    // CORS on a simple request.
    let r = agent
        .get(&url("/hello"))
        .header("origin", "https://app.example")
        .call()
        .unwrap();
    assert_eq!(
        r.headers().get("access-control-allow-origin").unwrap(),
        "https://app.example"
    );
    let r = agent
        .get(&url("/hello"))
        .header("origin", "https://evil.example")
        .call()
        .unwrap();
    assert!(r.headers().get("access-control-allow-origin").is_none());
    server.shutdown().unwrap();
}

/// A deadline already past when the handler first waits: the timer is
/// not armed in the past; the request is answered at its next poll. A
/// handler that answers at once is never cut, whatever the deadline.
#[test]
fn a_zero_timeout_cuts_waiting_handlers_only() {
    let app = routes![hello, slow]
        .layer(Timeout::new(Duration::ZERO).status(Status::REQUEST_TIMEOUT))
        .layer(RequestId::new());
    let (server, addr) = start_http(common::builder().workers(1), Http1Config::new(), app);
    let agent = ureq_agent(Duration::from_secs(10));
    let t = std::time::Instant::now();
    let (s, h, body) = call(&agent, &format!("http://{addr}/slow"));
    assert_eq!((s, body.as_str()), (408, "request timed out\n"));
    assert_eq!(all(&h, "x-request-id").len(), 1);
    assert!(t.elapsed() < Duration::from_secs(5));
    let (s, _, body) = call(&agent, &format!("http://{addr}/hello"));
    assert_eq!((s, body.as_str()), (200, "hello"));
    server.shutdown().unwrap();
}

/// A handler that polls what it wraps as a plain future: what a user's
/// own wrapper does (`inner.call(req).await`). The layers change the
/// response in place when `http::serve` polls them through
/// `Handler::poll_into`; polled this way they must answer the same.
#[derive(Clone)]
struct PlainPoll<H>(H);

impl<'a, H: corering::http::Handler<'a>> corering::http::Handler<'a> for PlainPoll<H> {
    type Future = H::Future;
    fn call(&self, req: Request<'a>) -> H::Future {
        self.0.call(req)
    }
}

#[test]
fn layers_polled_as_plain_futures_answer_the_same() {
    let app = routes![hello, slow]
        .layer(Timeout::new(Duration::from_millis(200)))
        .layer(map_response(tag_inner))
        .layer(RequestId::new())
        .layer(AccessLog::layer().discard());
    let (server, addr) = start_http(
        common::builder().workers(1),
        Http1Config::new(),
        PlainPoll(app),
    );
    let agent = ureq_agent(Duration::from_secs(10));
    let (s, h, body) = call(&agent, &format!("http://{addr}/hello"));
    assert_eq!((s, body.as_str()), (200, "hello"));
    assert_eq!(all(&h, "x-order"), ["inner"]);
    let id = all(&h, "x-request-id");
    assert_eq!(id.len(), 1);
    assert_eq!(id[0].split('-').count(), 3, "{id:?}");
    let mut r = agent
        .get(&format!("http://{addr}/hello"))
        .header("x-request-id", "client-id-7")
        .call()
        .unwrap();
    assert_eq!(r.headers()["x-request-id"], "client-id-7");
    assert_eq!(r.body_mut().read_to_string().unwrap(), "hello");
    let (s, h, body) = call(&agent, &format!("http://{addr}/slow"));
    assert_eq!((s, body.as_str()), (503, "request timed out\n"));
    assert_eq!(all(&h, "x-request-id").len(), 1);
    assert_eq!(all(&h, "x-order"), ["inner"]);
    server.shutdown().unwrap();
}

#[test]
fn state_reaches_merged_and_nested_routers() {
    let app = routes![hello]
        .nest("/n", routes![needs_state])
        .with_state(41u64);
    let (server, addr) = start_http(common::builder().workers(1), Http1Config::new(), app);
    let (s, _, body) = call(
        &ureq_agent(Duration::from_secs(10)),
        &format!("http://{addr}/n/state"),
    );
    assert_eq!((s, body.as_str()), (200, "41"));
    server.shutdown().unwrap();
}

#[test]
fn missing_state_is_found_at_startup() {
    // Listed by `check`, with route and type, also inside a nested router.
    let app = routes![hello].nest("/n", routes![needs_state]);
    let err = app.check().unwrap_err().to_string();
    assert!(
        err.contains("GET /n/state (fn needs_state) takes State<u64>"),
        "{err}"
    );
    // Layering checks too.
    let layered = std::panic::catch_unwind(|| {
        routes![needs_state].layer(RequestId::new());
    });
    let msg = layered.unwrap_err();
    let msg = msg.downcast_ref::<String>().unwrap();
    assert!(msg.contains("State<u64>"), "{msg}");
    // A state of another type is missing too.
    assert!(routes![needs_state].with_state(1u32).check().is_err());
    assert!(routes![needs_state].with_state(1u64).check().is_ok());

    // Served unchecked anyway: 500 through the hook, no type name.
    let app = routes![needs_state].on_rejection(json_rejection);
    let (server, addr) = start_http(common::builder().workers(1), Http1Config::new(), app);
    let (s, _, body) = call(
        &ureq_agent(Duration::from_secs(10)),
        &format!("http://{addr}/state"),
    );
    assert_eq!(s, 500);
    assert!(!body.contains("u64"), "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["error"], "missing_state");
    server.shutdown().unwrap();
}

#[test]
#[should_panic(expected = "collide")]
fn merge_collision_is_a_startup_error() {
    #[get("/hello")]
    async fn hello_again() -> &'static str {
        "again"
    }
    let _ = routes![hello].merge(routes![hello_again]);
}

#[test]
#[should_panic(expected = "prefix")]
fn nest_rejects_a_bad_prefix() {
    let _ = routes![hello].nest("/api/", routes![user]);
}

fn curl(args: &[&str]) -> Option<String> {
    if Command::new("curl").arg("--version").output().is_err() {
        println!("SKIP: curl not found");
        return None;
    }
    let out = Command::new("curl")
        .args(["-s", "-S", "-i", "--max-time", "10"])
        .args(args)
        .output()
        .expect("run curl");
    assert!(
        out.status.success(),
        "curl failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}

#[test]
fn cors_preflight_and_auth_with_curl() {
    let (server, addr) = start();
    let url = format!("http://{addr}/hello");
    let Some(out) = curl(&[
        "-X",
        "OPTIONS",
        "-H",
        "Origin: https://app.example",
        "-H",
        "Access-Control-Request-Method: POST",
        &url,
    ]) else {
        return;
    };
    let lower = out.to_ascii_lowercase();
    assert!(out.starts_with("HTTP/1.1 204"), "{out}");
    assert!(
        lower.contains("access-control-allow-origin: https://app.example"),
        "{out}"
    );
    assert!(
        lower.contains("access-control-allow-methods: get, post"),
        "{out}"
    );
    assert!(lower.contains("access-control-max-age: 60"), "{out}");
    assert!(lower.contains("x-request-id: "), "{out}");
    let out = curl(&[
        "-X",
        "OPTIONS",
        "-H",
        "Origin: https://evil.example",
        "-H",
        "Access-Control-Request-Method: POST",
        &url,
    ])
    .unwrap();
    assert!(out.starts_with("HTTP/1.1 403"), "{out}");
    server.shutdown().unwrap();

    // Bearer auth + timeout + access log.
    let (server, addr) = start_http(
        common::builder().workers(1),
        Http1Config::new(),
        logged_authed_timed(),
    );
    let url = format!("http://{addr}/hello");
    let out = curl(&[&url]).unwrap();
    assert!(out.starts_with("HTTP/1.1 401"), "{out}");
    assert!(
        out.to_ascii_lowercase()
            .contains("www-authenticate: bearer\r\n"),
        "{out}"
    );
    let out = curl(&["-H", "Authorization: Bearer wrong", &url]).unwrap();
    assert!(out.contains("error=\"invalid_token\""), "{out}");
    let out = curl(&["-H", "Authorization: Bearer s3cret", &url]).unwrap();
    assert!(
        out.starts_with("HTTP/1.1 200") && out.ends_with("hello"),
        "{out}"
    );
    let out = curl(&[
        "-H",
        "Authorization: Bearer s3cret",
        &format!("http://{addr}/slow"),
    ])
    .unwrap();
    assert!(out.starts_with("HTTP/1.1 503"), "{out}");
    server.shutdown().unwrap();
}

#[get("/big")]
async fn big() -> String {
    "corering compresses this line; ".repeat(200)
}

#[get("/small")]
async fn small() -> &'static str {
    "tiny"
}

#[get("/png")]
async fn png() -> Response {
    Response::new(Status::OK)
        .content_type("image/png")
        .body(vec![7u8; 4096])
}

#[get("/encoded")]
async fn encoded() -> Response {
    Response::text("x".repeat(4096)).header("content-encoding", "identity")
}

fn start_compressed() -> (corering::RunningServer, SocketAddr) {
    let app = routes![big, small, png, encoded].layer(corering::http::layer::Compression::new());
    start_http(common::builder().workers(1), Http1Config::new(), app)
}

#[test]
fn compression_is_real_gzip() {
    use std::io::Read;
    let (server, addr) = start_compressed();
    let want = "corering compresses this line; ".repeat(200);
    let agent = ureq_agent(Duration::from_secs(10));
    // ureq here has no gzip support: the body comes as sent.
    let mut r = agent
        .get(&format!("http://{addr}/big"))
        .header("accept-encoding", "deflate;q=1, gzip;q=0.8")
        .call()
        .unwrap();
    assert_eq!(r.headers().get("content-encoding").unwrap(), "gzip");
    assert_eq!(r.headers().get("vary").unwrap(), "Accept-Encoding");
    let raw = r.body_mut().read_to_vec().unwrap();
    assert_eq!(&raw[..2], &[0x1f, 0x8b], "gzip magic");
    assert!(raw.len() < want.len() / 10, "{} bytes", raw.len());
    let mut back = String::new();
    flate2::read::GzDecoder::new(&raw[..])
        .read_to_string(&mut back)
        .unwrap();
    assert_eq!(back, want);

    // Not accepted (or refused with q=0): plain, but still `Vary`.
    for ae in ["identity", "gzip;q=0"] {
        let mut r = agent
            .get(&format!("http://{addr}/big"))
            .header("accept-encoding", ae)
            .call()
            .unwrap();
        assert!(r.headers().get("content-encoding").is_none(), "{ae}");
        assert_eq!(r.headers().get("vary").unwrap(), "Accept-Encoding");
        assert_eq!(r.body_mut().read_to_string().unwrap(), want);
    }
    // Small, incompressible type, already encoded: untouched.
    for path in ["/small", "/png", "/encoded"] {
        let r = agent
            .get(&format!("http://{addr}{path}"))
            .header("accept-encoding", "gzip")
            .call()
            .unwrap();
        let ce = r
            .headers()
            .get("content-encoding")
            .map(|v| v.to_str().unwrap().to_owned());
        assert!(
            ce.is_none() || ce.as_deref() == Some("identity"),
            "{path}: {ce:?}"
        );
    }

    // curl --compressed decodes it; the bytes on the wire were gzip.
    // (It would take br or zstd first: offer gzip alone.)
    let url = format!("http://{addr}/big");
    if let Some(out) = curl(&["--compressed", "-H", "Accept-Encoding: gzip", &url]) {
        assert!(
            out.to_ascii_lowercase().contains("content-encoding: gzip"),
            "{out}"
        );
        assert!(out.ends_with(&want), "curl did not decode the body");
        let wire = curl(&["-H", "Accept-Encoding: gzip", &format!("http://{addr}/big")]).unwrap();
        assert!(!wire.contains("corering compresses"), "sent uncompressed");
    }
    server.shutdown().unwrap();
}
