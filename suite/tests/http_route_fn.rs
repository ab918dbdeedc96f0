//! Routes added at run time with `Router::route` (no attribute), read by
//! ureq: closures and async fns beside attribute routes, patterns, `HEAD`
//! from `GET`, `405`/`Allow` across both kinds, the fallback after them,
//! and the startup panics (collision, bad pattern).

mod common;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::http::{start_http, ureq_agent};
use corering::http::{Http1Config, Method, Request, Response, Status};
use corering::prelude::*;

#[get("/items")]
async fn list() -> Response {
    Response::json("[]")
}

async fn version(_req: Request<'_>) -> Response {
    Response::text("1.0")
}

async fn not_found(_req: Request<'_>) -> Response {
    Response::text("nothing here").with_status(Status::NOT_FOUND)
}

/// Status, `Allow`, body of one exchange.
fn send(addr: SocketAddr, method: &str, path: &str) -> (u16, Option<String>, String) {
    let agent = ureq_agent(Duration::from_secs(10));
    let url = format!("http://{addr}{path}");
    let mut resp = match method {
        "GET" => agent.get(&url).call(),
        "HEAD" => agent.head(&url).call(),
        "POST" => agent.post(&url).send("x"),
        "DELETE" => agent.delete(&url).call(),
        _ => unreachable!("{method}"),
    }
    .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
    let allow = resp
        .headers()
        .get("allow")
        .map(|v| v.to_str().unwrap().to_owned());
    (
        resp.status().as_u16(),
        allow,
        resp.body_mut().read_to_string().unwrap(),
    )
}

fn ok(body: &str) -> (u16, Option<String>, String) {
    (200, None, body.into())
}

#[test]
fn closures_and_fns_answer_beside_attribute_routes() {
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    let app = routes![list]
        .route(Method::Get, "/version", version)
        .route(Method::Post, "/items", move |req: Request<'_>| {
            let n = counter.fetch_add(1, Ordering::Relaxed) + 1;
            let method = req.method();
            async move { Response::text(format!("{method} #{n}")).with_status(Status::CREATED) }
        })
        .route(
            Method::Get,
            "/users/{id}/files/{*rest}",
            |req: Request<'_>| {
                let path = req.path().to_owned();
                async move { Response::text(path) }
            },
        )
        .fallback(not_found);
    let (_s, addr) = start_http(common::builder(), Http1Config::new(), app);

    assert_eq!(send(addr, "GET", "/items"), ok("[]"));
    assert_eq!(send(addr, "GET", "/version"), ok("1.0"));
    // HEAD is served by the GET route: same status, no body.
    assert_eq!(send(addr, "HEAD", "/version"), ok(""));
    assert_eq!(send(addr, "POST", "/items"), (201, None, "POST #1".into()));
    assert_eq!(send(addr, "POST", "/items"), (201, None, "POST #2".into()));
    assert_eq!(hits.load(Ordering::Relaxed), 2);
    assert_eq!(
        send(addr, "GET", "/users/7/files/a/b.txt"),
        ok("/users/7/files/a/b.txt")
    );
    // A parameter segment must not be empty.
    assert_eq!(send(addr, "GET", "/users//files/x").0, 404);
    // 405 lists the methods of both kinds of route on the path.
    assert_eq!(
        send(addr, "DELETE", "/items"),
        (
            405,
            Some("GET, HEAD, POST".into()),
            "Method Not Allowed".into()
        )
    );
    assert_eq!(
        send(addr, "POST", "/version"),
        (405, Some("GET, HEAD".into()), "Method Not Allowed".into())
    );
    // No route at all: the fallback, tried after the run-time routes.
    assert_eq!(
        send(addr, "GET", "/nope"),
        (404, None, "nothing here".into())
    );
}

#[test]
#[should_panic(expected = "collides with route `list`")]
fn a_colliding_route_panics_at_startup() {
    let _ = routes![list].route(Method::Get, "/items", version);
}

#[test]
#[should_panic(expected = "must be the last segment")]
fn a_bad_pattern_panics_at_startup() {
    let _ = routes![list].route(Method::Get, "/files/{*rest}/more", version);
}
