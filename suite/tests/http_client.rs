//! Ordinary HTTP traffic from `ureq`, a client nobody here wrote: GET,
//! POST with bodies (Content-Length and chunked), HEAD, keep-alive reuse,
//! 404 and 405.

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use common::{builder, wait_until};
use corering::http::{Http1Config, Method, Request, Response, Status};
use corering::RunningServer;

async fn route(mut req: Request<'_>) -> Response {
    let get = matches!(req.method(), Method::Get | Method::Head);
    match req.path() {
        "/plaintext" if get => Response::text("Hello, World!"),
        "/json" if get => Response::json(r#"{"message":"Hello, World!"}"#),
        "/plaintext" | "/json" => {
            Response::new(Status::METHOD_NOT_ALLOWED).header("Allow", "GET, HEAD")
        }
        "/echo" if req.method() == Method::Post => match req.body().await {
            Ok(b) => Response::new(Status::OK)
                .content_type("application/octet-stream")
                .body(b.to_vec()),
            Err(e) => Response::new(e.status()),
        },
        "/query" => {
            let q = req.query().unwrap_or("").to_owned();
            let agent = req.header_str("User-Agent").is_some();
            Response::text(format!("{q} {agent}"))
        }
        "/stream" => common::http::stream_lines(&mut req, 100).await,
        _ => Response::new(Status::NOT_FOUND).body("not found\n"),
    }
}

fn start() -> (RunningServer, SocketAddr) {
    let cfg = Http1Config::new().server_name(Some("corering-test"));
    common::http::start_http(builder().workers(1), cfg, route)
}

fn agent() -> ureq::Agent {
    common::http::ureq_agent(Duration::from_secs(10))
}

#[test]
fn get_plaintext_and_json() {
    let (_s, addr) = start();
    let a = agent();
    let mut r = a.get(format!("http://{addr}/plaintext")).call().unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "text/plain; charset=utf-8");
    assert_eq!(r.headers()["server"], "corering-test");
    assert!(r.headers().contains_key("date"));
    assert_eq!(r.body_mut().read_to_string().unwrap(), "Hello, World!");
    let mut r = a.get(format!("http://{addr}/json")).call().unwrap();
    assert_eq!(r.headers()["content-type"], "application/json");
    assert_eq!(
        r.body_mut().read_to_string().unwrap(),
        r#"{"message":"Hello, World!"}"#
    );
}

#[test]
fn post_bodies_are_echoed() {
    let (_s, addr) = start();
    let a = agent();
    let data: Vec<u8> = (0..100_000u32).map(|i| (i * 7) as u8).collect();
    let mut r = a
        .post(format!("http://{addr}/echo"))
        .send(&data[..])
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.body_mut().read_to_vec().unwrap(), data);
    // A reader body goes out chunked.
    let mut r = a
        .post(format!("http://{addr}/echo"))
        .send(ureq::SendBody::from_reader(&mut &data[..5000]))
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.body_mut().read_to_vec().unwrap(), &data[..5000]);
}

#[test]
fn head_has_headers_but_no_body() {
    let (_s, addr) = start();
    let mut r = agent()
        .head(format!("http://{addr}/plaintext"))
        .call()
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-length"], "13");
    assert_eq!(r.body_mut().read_to_string().unwrap(), "");
}

#[test]
fn not_found_and_method_not_allowed() {
    let (_s, addr) = start();
    let a = agent();
    let r = a.get(format!("http://{addr}/nope")).call().unwrap();
    assert_eq!(r.status(), 404);
    let r = a.delete(format!("http://{addr}/plaintext")).call().unwrap();
    assert_eq!(r.status(), 405);
    assert_eq!(r.headers()["allow"], "GET, HEAD");
}

#[test]
fn query_and_headers() {
    let (_s, addr) = start();
    let mut r = agent()
        .get(format!("http://{addr}/query?a=1&b=2"))
        .call()
        .unwrap();
    assert_eq!(r.body_mut().read_to_string().unwrap(), "a=1&b=2 true");
}

#[test]
fn keep_alive_reuses_one_connection() {
    let (s, addr) = start();
    let a = agent();
    for i in 0..50 {
        let mut r = if i % 2 == 0 {
            a.get(format!("http://{addr}/plaintext")).call().unwrap()
        } else {
            a.post(format!("http://{addr}/echo")).send("abc").unwrap()
        };
        assert_eq!(r.status(), 200);
        r.body_mut().read_to_vec().unwrap();
    }
    assert!(
        wait_until(Duration::from_secs(2), || s.total_stats().accepted >= 1),
        "no connection accepted?"
    );
    assert_eq!(
        s.total_stats().accepted,
        1,
        "requests should share one connection"
    );
}

#[test]
fn streamed_response_is_read_whole() {
    let (_s, addr) = start();
    let a = agent();
    for _ in 0..2 {
        let mut r = a.get(format!("http://{addr}/stream")).call().unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["transfer-encoding"], "chunked");
        let want: String = (0..100).map(|i| format!("line {i}\n")).collect();
        assert_eq!(r.body_mut().read_to_string().unwrap(), want);
    }
}
