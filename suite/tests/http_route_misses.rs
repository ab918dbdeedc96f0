//! The router's own answers when no route takes a request, read by ureq:
//! `404` (no route has the path) and `405` with `Allow` (routes have the
//! path, for other methods); as `text/plain` by default, and in a JSON
//! API's own format through `Router::on_rejection`, with or without a
//! fallback, merged or nested routers.

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use common::http::{start_http, ureq_agent};
use corering::http::route::{Rejection, RejectionKind};
use corering::http::{Http1Config, Request, Response, Status};
use corering::prelude::*;
use corering::RunningServer;

#[get("/items")]
async fn list() -> Response {
    Response::json("[]")
}

#[post("/items")]
async fn add() -> Response {
    Response::json("{}").with_status(Status::CREATED)
}

#[delete("/items/{id}")]
async fn remove(id: corering::http::route::Path<u32>) -> Response {
    Response::json(format!("{{\"deleted\":{}}}", id.0))
}

#[get("/status")]
async fn status() -> &'static str {
    "up"
}

/// A JSON API's error format: `{"error":KIND,"allow":METHODS}`.
fn json_error(r: Rejection) -> Response {
    let allow = r
        .allow()
        .map(|a| format!(",\"allow\":{a:?}"))
        .unwrap_or_default();
    let body = format!(r#"{{"error":"{}"{allow}}}"#, r.kind().as_str());
    Response::json(body).with_status(r.status())
}

/// A hook that sets its own `Allow` field (the router must keep it).
fn own_allow(r: Rejection) -> Response {
    match r.kind() {
        RejectionKind::MethodNotAllowed => Response::json(r#"{"error":"nope"}"#)
            .with_status(r.status())
            .header("Allow", "GET"),
        _ => r.into_default_response(),
    }
}

async fn json_404(_req: Request<'_>) -> Response {
    Response::json(r#"{"error":"fallback"}"#).with_status(Status::NOT_FOUND)
}

/// One exchange: status, `Content-Type`, `Allow`, body.
#[derive(Debug, PartialEq)]
struct Got {
    status: u16,
    ctype: String,
    allow: Option<String>,
    body: String,
}

fn send(addr: SocketAddr, method: &str, path: &str) -> Got {
    let agent = ureq_agent(Duration::from_secs(10));
    let url = format!("http://{addr}{path}");
    let mut resp = match method {
        "GET" => agent.get(&url).call(),
        "PUT" => agent.put(&url).send_empty(),
        "POST" => agent.post(&url).send_empty(),
        "PATCH" => agent.patch(&url).send_empty(),
        "DELETE" => agent.delete(&url).call(),
        _ => unreachable!("{method}"),
    }
    .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
    let field = |name: &str| {
        resp.headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
    };
    let (ctype, allow) = (field("content-type").unwrap_or_default(), field("allow"));
    Got {
        status: resp.status().as_u16(),
        ctype,
        allow,
        body: resp.body_mut().read_to_string().unwrap(),
    }
}

fn got(status: u16, ctype: &str, allow: Option<&str>, body: &str) -> Got {
    Got {
        status,
        ctype: ctype.into(),
        allow: allow.map(Into::into),
        body: body.into(),
    }
}

fn serve<H>(handler: H) -> (RunningServer, SocketAddr)
where
    H: for<'a> corering::http::Handler<'a> + Clone + Send + Sync + 'static,
{
    start_http(common::builder(), Http1Config::new(), handler)
}

const TEXT: &str = "text/plain; charset=utf-8";
const JSON: &str = "application/json";

#[test]
fn default_answers_are_plain_text_with_allow() {
    let (_s, addr) = serve(routes![list, add, remove]);
    assert_eq!(
        send(addr, "GET", "/nope"),
        got(404, TEXT, None, "Not Found")
    );
    assert_eq!(
        send(addr, "PUT", "/items"),
        got(405, TEXT, Some("GET, HEAD, POST"), "Method Not Allowed")
    );
    assert_eq!(
        send(addr, "GET", "/items/7"),
        got(405, TEXT, Some("DELETE"), "Method Not Allowed")
    );
}

#[test]
fn the_rejection_hook_answers_404_and_405() {
    let (_s, addr) = serve(routes![list, add, remove].on_rejection(json_error));
    assert_eq!(
        send(addr, "GET", "/nope"),
        got(404, JSON, None, r#"{"error":"not_found"}"#)
    );
    assert_eq!(
        send(addr, "PATCH", "/items"),
        got(
            405,
            JSON,
            Some("GET, HEAD, POST"),
            r#"{"error":"method_not_allowed","allow":"GET, HEAD, POST"}"#
        )
    );
    // The extractors' refusals still go through it.
    assert_eq!(
        send(addr, "DELETE", "/items/x"),
        got(400, JSON, None, r#"{"error":"path_param"}"#)
    );
    // Routes still answer.
    assert_eq!(send(addr, "POST", "/items"), got(201, JSON, None, "{}"));
}

#[test]
fn a_hooks_own_allow_field_is_kept() {
    let (_s, addr) = serve(routes![list, add].on_rejection(own_allow));
    assert_eq!(
        send(addr, "PUT", "/items"),
        got(405, JSON, Some("GET"), r#"{"error":"nope"}"#)
    );
    assert_eq!(
        send(addr, "GET", "/nope"),
        got(404, TEXT, None, "Not Found")
    );
}

#[test]
fn with_a_fallback_405_goes_through_the_hook() {
    let app = routes![list, add]
        .on_rejection(json_error)
        .fallback(json_404);
    let (_s, addr) = serve(app);
    assert_eq!(
        send(addr, "GET", "/nope"),
        got(404, JSON, None, r#"{"error":"fallback"}"#)
    );
    assert_eq!(
        send(addr, "DELETE", "/items"),
        got(
            405,
            JSON,
            Some("GET, HEAD, POST"),
            r#"{"error":"method_not_allowed","allow":"GET, HEAD, POST"}"#
        )
    );
}

#[test]
fn merged_and_nested_misses_use_the_outer_hook() {
    let app = routes![status]
        .merge(routes![list])
        .nest("/v1", routes![add, remove])
        .on_rejection(json_error);
    let (_s, addr) = serve(app);
    assert_eq!(send(addr, "GET", "/status"), got(200, TEXT, None, "up"));
    // A path merged routers have for other methods: their methods together.
    assert_eq!(
        send(addr, "POST", "/items"),
        got(
            405,
            JSON,
            Some("GET, HEAD"),
            r#"{"error":"method_not_allowed","allow":"GET, HEAD"}"#
        )
    );
    assert_eq!(
        send(addr, "GET", "/v1/items"),
        got(
            405,
            JSON,
            Some("POST"),
            r#"{"error":"method_not_allowed","allow":"POST"}"#
        )
    );
    assert_eq!(
        send(addr, "GET", "/v1/nope"),
        got(404, JSON, None, r#"{"error":"not_found"}"#)
    );
}
