//! Extractors that borrow the request (`&Request`, `&mut Request`, `&[u8]`,
//! `&str`, `BodyStream`), driven by ureq: bodies of every framing reach
//! them, a streamed body is read in pieces without being collected, and a
//! body over the limit is refused however it is read.

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use corering::http::route::{BodyStream, Path};
use corering::http::{Http1Config, Request, Response};
use corering::{get, post, put, routes, RunningServer};

#[get("/who/{id}")]
async fn who(id: Path<u32>, req: &Request<'_>) -> String {
    let agent = req.header_str("user-agent").unwrap_or("-");
    format!("{} {} {}", id.0, req.path(), agent.starts_with("ureq"))
}

#[post("/raw")]
async fn raw(body: &[u8]) -> Vec<u8> {
    body.iter().rev().copied().collect()
}

#[post("/text")]
async fn text(body: &str) -> String {
    body.to_uppercase()
}

#[put("/mut")]
async fn mutable(req: &mut Request<'_>) -> String {
    match req.body().await {
        Ok(b) => format!("{} bytes", b.len()),
        Err(e) => format!("error {}", e.status()),
    }
}

/// Sums and counts the pieces; never holds more than one.
#[post("/stream/{name}")]
async fn streamed(name: Path<String>, mut body: BodyStream<'_, '_>) -> String {
    let (mut pieces, mut total, mut sum) = (0u32, 0usize, 0u64);
    loop {
        match body.next().await {
            Ok(Some(p)) => {
                pieces += 1;
                total += p.len();
                sum += p.iter().map(|&b| u64::from(b)).sum::<u64>();
            }
            Ok(None) => break,
            Err(e) => return format!("error {}", e.status()),
        }
    }
    let many = pieces > 1;
    format!("{} {total} {sum} {many}", name.0)
}

/// A streamed (chunked) response from a route: `n` lines.
#[get("/count/{n}")]
async fn count(n: Path<u32>, req: &mut Request<'_>) -> Response {
    common::http::stream_lines(req, n.0).await
}

fn start() -> (RunningServer, SocketAddr) {
    let router = routes![who, raw, text, mutable, streamed, count];
    let cfg = Http1Config::new().max_body(256 << 10);
    let b = common::builder().workers(1).recv_buffers(64, 2048);
    common::http::start_http(b, cfg, router)
}

fn agent() -> ureq::Agent {
    common::http::ureq_agent(Duration::from_secs(10))
}

#[test]
fn borrowing_extractors_see_the_request_and_body() {
    let (_s, addr) = start();
    let a = agent();
    let mut r = a.get(format!("http://{addr}/who/7")).call().unwrap();
    assert_eq!(r.body_mut().read_to_string().unwrap(), "7 /who/7 true");

    let mut r = a
        .post(format!("http://{addr}/raw"))
        .send(&b"abc\xff"[..])
        .unwrap();
    assert_eq!(r.body_mut().read_to_vec().unwrap(), b"\xffcba");
    // Chunked (a reader body), larger than a receive buffer.
    let data: Vec<u8> = (0..10_000u32).map(|i| (i % 256) as u8).collect();
    let mut r = a
        .post(format!("http://{addr}/raw"))
        .send(ureq::SendBody::from_reader(&mut &data[..]))
        .unwrap();
    let want: Vec<u8> = data.iter().rev().copied().collect();
    assert_eq!(r.body_mut().read_to_vec().unwrap(), want);

    let mut r = a.post(format!("http://{addr}/text")).send("héllo").unwrap();
    assert_eq!(r.body_mut().read_to_string().unwrap(), "HÉLLO");
    let r = a
        .post(format!("http://{addr}/text"))
        .send(&b"\xff\xfe"[..])
        .unwrap();
    assert_eq!(r.status(), 400);

    let mut r = a.put(format!("http://{addr}/mut")).send(&data[..]).unwrap();
    assert_eq!(r.body_mut().read_to_string().unwrap(), "10000 bytes");
}

#[test]
fn body_stream_reads_pieces_of_any_framing() {
    let (_s, addr) = start();
    let a = agent();
    let data: Vec<u8> = (0..200_000u32).map(|i| (i * 31 % 251) as u8).collect();
    let sum: u64 = data.iter().map(|&b| u64::from(b)).sum();
    let want = format!("big 200000 {sum} true");
    // Content-Length.
    let mut r = a
        .post(format!("http://{addr}/stream/big"))
        .send(&data[..])
        .unwrap();
    assert_eq!(r.body_mut().read_to_string().unwrap(), want);
    // Chunked.
    let mut r = a
        .post(format!("http://{addr}/stream/big"))
        .send(ureq::SendBody::from_reader(&mut &data[..]))
        .unwrap();
    assert_eq!(r.body_mut().read_to_string().unwrap(), want);
    // Empty.
    let mut r = a
        .post(format!("http://{addr}/stream/none"))
        .send(&[][..])
        .unwrap();
    assert_eq!(r.body_mut().read_to_string().unwrap(), "none 0 0 false");
}

#[test]
fn routes_stream_responses() {
    let (_s, addr) = start();
    let mut r = agent()
        .get(format!("http://{addr}/count/3000"))
        .call()
        .unwrap();
    assert_eq!(r.headers()["transfer-encoding"], "chunked");
    let body = r
        .body_mut()
        .with_config()
        .limit(1 << 20)
        .read_to_string()
        .unwrap();
    let want: String = (0..3000).map(|i| format!("line {i}\n")).collect();
    assert_eq!(body, want);
}

#[test]
fn streamed_body_over_the_limit_is_413() {
    let (_s, addr) = start();
    let data = vec![1u8; 300 << 10];
    let r = agent()
        .post(format!("http://{addr}/stream/big"))
        .send(&data[..]);
    // The server answers 413 and closes; ureq may see the answer or, if it
    // is still sending, a reset.
    if let Ok(r) = r {
        assert_eq!(r.status(), 413);
    }
}
