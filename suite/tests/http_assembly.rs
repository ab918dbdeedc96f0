//! Heads that span receive buffers: pipelined requests written in pieces
//! of awkward sizes, with and without bodies (`Content-Length` and
//! chunked), through 512-byte receive buffers so that heads and bodies
//! straddle leases all the time. Every request must be answered, correctly
//! and in order.

mod common;

use std::io::Write;
use std::net::SocketAddr;
use std::thread;

use common::builder;
use common::http::{connect, read_response};
use corering::http::{Http1Config, Request, Response, Status};
use corering::RunningServer;

/// Answers with what it read: method, target, the `x-pad` length and the
/// body (read whole with `body()` on `/echo`, piece by piece on `/pieces`).
async fn handler(mut req: Request<'_>) -> Response {
    let method = req.method();
    let target = req.target();
    let pad = req.header("x-pad").map_or(0, |v| v.len());
    let body = match req.path() {
        "/echo" => match req.body().await {
            Ok(b) => b.to_vec(),
            Err(e) => return Response::new(e.status()),
        },
        "/pieces" => {
            let mut all = Vec::new();
            loop {
                match req.chunk().await {
                    Ok(Some(p)) => all.extend_from_slice(p),
                    Ok(None) => break,
                    Err(e) => return Response::new(e.status()),
                }
            }
            all
        }
        _ => Vec::new(),
    };
    let mut text = format!("{method} {target} pad={pad} body=").into_bytes();
    text.extend_from_slice(&body);
    Response::text(text)
}

fn start() -> (RunningServer, SocketAddr) {
    common::http::start_http(
        builder().workers(1).recv_buffers(256, 512),
        Http1Config::new().max_head(4096),
        handler,
    )
}

/// Request `i` of a mixed pipeline, and the response body it must get.
fn request(i: usize) -> (Vec<u8>, Vec<u8>) {
    // Heads from ~40 to ~700 bytes, so every offset in a lease is hit.
    let pad = "p".repeat((i * 37) % 660);
    let body: Vec<u8> = (0..(i * 53) % 1500)
        .map(|k| b'a' + ((i + k) % 26) as u8)
        .collect();
    let target;
    let req = match i % 4 {
        0 => {
            target = format!("/get/{i}");
            format!("GET {target} HTTP/1.1\r\nHost: t\r\nX-Pad: {pad}\r\n\r\n").into_bytes()
        }
        1 => {
            target = format!("/echo?n={i}");
            let mut r = format!(
                "POST {target} HTTP/1.1\r\nHost: t\r\nX-Pad: {pad}\r\nContent-Length: {}\r\n\r\n",
                body.len()
            )
            .into_bytes();
            r.extend_from_slice(&body);
            r
        }
        2 => {
            target = format!("/pieces?n={i}");
            let mut r = format!(
                "POST {target} HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\nX-Pad: {pad}\r\n\r\n"
            )
            .into_bytes();
            for piece in body.chunks(1 + i % 400) {
                r.extend_from_slice(format!("{:x}\r\n", piece.len()).as_bytes());
                r.extend_from_slice(piece);
                r.extend_from_slice(b"\r\n");
            }
            r.extend_from_slice(b"0\r\n\r\n");
            r
        }
        _ => {
            // A Content-Length body the handler never reads: drained.
            target = format!("/ignored/{i}");
            let mut r = format!(
                "PUT {target} HTTP/1.1\r\nHost: t\r\nX-Pad: {pad}\r\nContent-Length: {}\r\n\r\n",
                body.len()
            )
            .into_bytes();
            r.extend_from_slice(&body);
            r
        }
    };
    let method = ["GET", "POST", "POST", "PUT"][i % 4];
    let mut want = format!("{method} {target} pad={} body=", pad.len()).into_bytes();
    if i % 4 == 1 || i % 4 == 2 {
        want.extend_from_slice(&body);
    }
    (req, want)
}

/// Writes `stream` in pieces whose sizes cycle through `sizes`, while the
/// responses are read and checked in order.
fn pipeline(addr: SocketAddr, count: usize, sizes: &'static [usize]) {
    let mut stream = Vec::new();
    let mut wants = Vec::new();
    for i in 0..count {
        let (r, w) = request(i);
        stream.extend_from_slice(&r);
        wants.push(w);
    }
    let mut s = connect(addr);
    let mut w = s.try_clone().unwrap();
    let writer = thread::spawn(move || {
        let mut at = 0;
        for &n in sizes.iter().cycle() {
            if at == stream.len() {
                break;
            }
            let end = (at + n).min(stream.len());
            w.write_all(&stream[at..end]).unwrap();
            at = end;
        }
    });
    let mut buf = Vec::new();
    for (i, want) in wants.iter().enumerate() {
        let r = read_response(&mut s, &mut buf, false);
        assert_eq!(r.status, 200, "request {i}: {}", r.head);
        assert!(
            r.body == *want,
            "request {i}: got {:?}, want {:?}",
            String::from_utf8_lossy(&r.body),
            String::from_utf8_lossy(want)
        );
    }
    writer.join().unwrap();
    assert!(buf.is_empty(), "bytes past the last response");
}

#[test]
fn pipelined_requests_in_awkward_pieces_are_answered_in_order() {
    let (_srv, addr) = start();
    pipeline(addr, 600, &[1, 7, 100, 4093, 13, 511, 512, 513, 2000, 3]);
}

#[test]
fn pipelined_requests_in_large_writes_are_answered_in_order() {
    let (_srv, addr) = start();
    pipeline(addr, 3000, &[4093, 65521, 8191, 1000, 30011]);
}

#[test]
fn pipelined_requests_byte_by_byte_are_answered_in_order() {
    let (_srv, addr) = start();
    pipeline(addr, 40, &[1]);
}

#[test]
fn a_head_over_the_limit_across_leases_is_431() {
    let (_srv, addr) = start();
    let mut s = connect(addr);
    // Two small requests first, then one whose head passes 4096 bytes
    // across several 512-byte leases.
    let mut stream = Vec::new();
    stream.extend_from_slice(&request(0).0);
    stream.extend_from_slice(&request(1).0);
    stream.extend_from_slice(b"GET /big HTTP/1.1\r\nHost: t\r\nX-Pad: ");
    stream.extend_from_slice(&[b'x'; 5000]);
    stream.extend_from_slice(b"\r\n\r\n");
    let _ = s.write_all(&stream);
    let mut buf = Vec::new();
    assert_eq!(read_response(&mut s, &mut buf, false).body, request(0).1);
    assert_eq!(read_response(&mut s, &mut buf, false).body, request(1).1);
    let r = read_response(&mut s, &mut buf, false);
    assert_eq!(
        r.status,
        Status::REQUEST_HEADER_FIELDS_TOO_LARGE.as_u16(),
        "{}",
        r.head
    );
}
