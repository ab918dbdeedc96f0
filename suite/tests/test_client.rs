//! `corering::test`: a router on an ephemeral port and requests to it in a
//! line each; its answers are checked against what curl reads from the
//! same server, so the test client is not judged by itself.

mod common;

use std::process::Command;

use corering::http::route::{Json, Path, Query};
use corering::http::{Request, Response, Status};
use corering::test::TestServer;
use corering::{delete, get, post, routes};

use corering::http::route::serde::Deserialize;

#[derive(Deserialize)]
#[serde(crate = "corering::http::route::serde")]
struct Page {
    n: u32,
}

#[get("/users/{id}")]
async fn user(id: Path<u32>) -> String {
    format!("user {}", id.0)
}

#[get("/page")]
async fn page(q: Query<Page>) -> String {
    format!("page {}", q.0.n)
}

#[post("/sum")]
async fn sum(Json(v): Json<Vec<i64>>) -> Result<Json<serde_json::Value>, (Status, &'static str)> {
    if v.is_empty() {
        return Err((Status::BAD_REQUEST, "nothing to add"));
    }
    Ok(Json(
        serde_json::json!({ "sum": v.iter().sum::<i64>(), "n": v.len() }),
    ))
}

#[get("/headers")]
async fn headers(req: &Request<'_>) -> Response {
    let ua = req.header_str("x-test").unwrap_or("none").to_string();
    Response::text(format!("x-test={ua}")).header("X-Seen", "yes")
}

#[delete("/items/{id}")]
async fn remove(id: Path<u32>) -> Response {
    Response::new(Status::NO_CONTENT).header_owned("X-Removed", id.0.to_string())
}

fn app() -> TestServer {
    TestServer::new(routes![user, page, sum, headers, remove])
}

#[test]
fn requests_in_a_line_each() {
    let app = app();
    app.get("/users/7")
        .send()
        .assert_status(200)
        .assert_text("user 7");
    app.get("/users/x")
        .send()
        .assert_status(400)
        .assert_contains("id");
    app.get("/page?n=3").send().assert_text("page 3");
    app.get("/nowhere").send().assert_status(404);
    app.post("/users/7").send().assert_status(405);

    let r = app.post("/sum").json(&[1, 2, 3]).send();
    r.assert_status(200)
        .assert_header("content-type", "application/json")
        .assert_json(&serde_json::json!({"n": 3, "sum": 6}));
    #[derive(Deserialize)]
    #[serde(crate = "corering::http::route::serde")]
    struct Sum {
        sum: i64,
    }
    assert_eq!(r.json::<Sum>().sum, 6);
    app.post("/sum")
        .json(&Vec::<i64>::new())
        .send()
        .assert_status(400);
    app.post("/sum").text("not json").send().assert_status(415);

    let r = app.get("/headers").header("X-Test", "abc").send();
    r.assert_text("x-test=abc").assert_header("x-seen", "yes");
    let r = app.delete("/items/9").send();
    r.assert_status(204).assert_header("X-Removed", "9");
    assert!(r.bytes().is_empty());
    let r = app.head("/users/5").send();
    r.assert_status(200).assert_header("content-length", "6");
    assert!(r.bytes().is_empty());
}

/// The same requests through curl, a client nobody here wrote: the test
/// client saw what curl sees.
#[test]
fn agrees_with_curl() {
    if !common::have_tool("curl") {
        return;
    }
    let app = app();
    for (path, args) in [
        ("/users/7", &[][..]),
        ("/users/x", &[][..]),
        ("/headers", &["-H", "X-Test: abc"][..]),
    ] {
        let out = Command::new("curl")
            .args(["-s", "-w", "\n%{http_code}"])
            .args(args)
            .arg(app.url(path))
            .output()
            .expect("run curl");
        let text = String::from_utf8(out.stdout).unwrap();
        let (body, code) = text.rsplit_once('\n').unwrap();
        let mut req = app.get(path);
        if let [_, h] = args {
            let (n, v) = h.split_once(": ").unwrap();
            req = req.header(n, v);
        }
        let r = req.send();
        assert_eq!(
            (r.status().to_string().as_str(), r.text()),
            (code, body),
            "{path}"
        );
    }
}

/// Dropping the server shuts it down: its port stops accepting.
#[test]
fn drop_stops_the_server() {
    let app = app();
    let addr = app.addr();
    app.get("/users/1").send().assert_status(200);
    drop(app);
    assert!(std::net::TcpStream::connect(addr).is_err());
}

/// Requests through the test client leave the test's own thread alone: a
/// blocking read with a timeout there times out instead of failing with
/// `EINTR` (which an io_uring torn down on this thread would cause).
#[test]
fn the_tests_thread_keeps_its_blocking_reads() {
    use std::io::{ErrorKind, Read};
    let app = app();
    for _ in 0..4 {
        app.get("/users/1").send().assert_status(200);
        let mut quiet = std::net::TcpStream::connect(app.addr()).unwrap();
        quiet
            .set_read_timeout(Some(std::time::Duration::from_millis(200)))
            .unwrap();
        let err = quiet.read(&mut [0u8; 16]).expect_err("nothing was asked");
        assert!(
            matches!(err.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut),
            "a quiet read should time out, got {err:?}"
        );
    }
}
