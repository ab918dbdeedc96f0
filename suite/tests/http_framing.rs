//! HTTP/1.1 framing, limits and timeouts over raw TCP: each rule gets the
//! exact status it should, and the connection is closed after it.

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use common::builder;
use common::http::{assert_closed, connect, fill, read_response, Resp};
use corering::http::{Http1Config, Request, Response};
use corering::RunningServer;

/// Short limits and timeouts so the slow tests stay fast.
fn config() -> Http1Config {
    Http1Config::new()
        .max_head(1024)
        .max_headers(10)
        .max_target(128)
        .max_body(1024)
        .head_timeout(Duration::from_millis(300))
        .idle_timeout(Duration::from_millis(300))
        .body_timeout(Duration::from_millis(300))
}

async fn handler(mut req: Request<'_>) -> Response {
    match req.path() {
        "/echo" => match req.body().await {
            Ok(b) => Response::text(b.to_vec()),
            Err(e) => Response::new(e.status()),
        },
        "/pieces" => {
            let mut n = 0;
            let mut total = 0;
            loop {
                match req.chunk().await {
                    Ok(Some(p)) => {
                        n += 1;
                        total += p.len();
                    }
                    Ok(None) => break,
                    Err(e) => return Response::new(e.status()),
                }
            }
            Response::text(format!("{total} bytes in {n} pieces"))
        }
        "/pad" => {
            let pad = req.header("x-pad").map_or(0, |v| v.len());
            let host = req.host().len();
            Response::text(format!("pad {pad} host {host}"))
        }
        "/stream" | "/stream-unfinished" => {
            let finish = req.path() == "/stream";
            let Ok(mut out) = req.stream(Response::text("")).await else {
                return Response::new(corering::http::Status::INTERNAL_SERVER_ERROR);
            };
            for piece in [&b"a"[..], b"", b"bc", &[b'd'; 20]] {
                if out.write(piece).await.is_err() {
                    break;
                }
            }
            if finish {
                out.finish().await
            } else {
                Response::text("not sent")
            }
        }
        // Streams of a declared length: exact, short (cut), too long (refused).
        "/sized" | "/sized-short" | "/sized-long" => {
            let declared = match req.path() {
                "/sized" => 23,
                "/sized-short" => 30,
                _ => 2,
            };
            let Ok(mut out) = req.stream_sized(Response::text(""), declared).await else {
                return Response::new(corering::http::Status::INTERNAL_SERVER_ERROR);
            };
            for piece in [&b"a"[..], b"", b"bc", &[b'd'; 20]] {
                if let Err(e) = out.write(piece).await {
                    assert_eq!(e.kind(), std::io::ErrorKind::InvalidInput);
                    break;
                }
            }
            out.finish().await
        }
        // The length of a body the handler does not have: for HEAD only.
        "/omitted" => Response::text("").omitted_body(Some(1234)),
        "/omitted-unknown" => Response::text("").omitted_body(None),
        // Answers without reading the body.
        "/ignore" => Response::text("ignored"),
        _ => Response::text(format!("{} {}", req.method(), req.target())),
    }
}

fn start(cfg: Http1Config) -> (RunningServer, SocketAddr) {
    // Small receive buffers, so heads and bodies span leases.
    common::http::start_http(builder().workers(1).recv_buffers(256, 512), cfg, handler)
}

/// Sends `req` on a fresh connection; expects one response with `status`
/// followed by the connection closing.
#[track_caller]
fn expect_error(addr: SocketAddr, req: &[u8], status: u16) -> Resp {
    let mut s = connect(addr);
    s.write_all(req).unwrap();
    let mut buf = Vec::new();
    let r = read_response(&mut s, &mut buf, false);
    assert_eq!(
        r.status,
        status,
        "for {:?}: {}",
        String::from_utf8_lossy(req),
        r.head
    );
    assert_eq!(r.header("connection"), Some("close"), "{}", r.head);
    assert_closed(&mut s, &buf);
    r
}

#[test]
fn framing_errors_are_400_and_close() {
    let (_s, addr) = start(config());
    let cases: &[(&str, &[u8])] = &[
        (
            "Content-Length with Transfer-Encoding",
            b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        ),
        (
            "differing Content-Length fields",
            b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
        ),
        (
            "differing Content-Length list",
            b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3, 4\r\n\r\nabcd",
        ),
        ("malformed Content-Length", b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: +3\r\n\r\nabc"),
        ("hex Content-Length", b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0x3\r\n\r\nabc"),
        (
            "Transfer-Encoding not ending in chunked",
            b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, identity\r\n\r\n",
        ),
        (
            "bad chunk size",
            b"POST /echo HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n",
        ),
        (
            "chunk data too long",
            b"POST /echo HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n0\r\n\r\n",
        ),
        ("obs-fold", b"GET / HTTP/1.1\r\nHost: h\r\nX-A: a\r\n b\r\n\r\n"),
        ("whitespace before colon", b"GET / HTTP/1.1\r\nHost : h\r\n\r\n"),
        ("bare CR", b"GET / HTTP/1.1\r\nHost: h\rX-A: b\r\n\r\n"),
        ("control character", b"GET / HTTP/1.1\r\nHost: h\r\nX-A: a\x01b\r\n\r\n"),
        ("invalid method token", b"G@T / HTTP/1.1\r\nHost: h\r\n\r\n"),
        ("invalid header name", b"GET / HTTP/1.1\r\nHost: h\r\nX(A): b\r\n\r\n"),
        ("missing Host", b"GET / HTTP/1.1\r\nAccept: */*\r\n\r\n"),
        ("two Host fields", b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"),
        ("asterisk-form without OPTIONS", b"GET * HTTP/1.1\r\nHost: h\r\n\r\n"),
        ("CONNECT without authority-form", b"CONNECT /x HTTP/1.1\r\nHost: h\r\n\r\n"),
        ("malformed version", b"GET / HTTQ/1.1\r\nHost: h\r\n\r\n"),
    ];
    for (what, req) in cases {
        let r = expect_error(addr, req, 400);
        assert!(!r.body.is_empty(), "{what}");
    }
}

#[test]
fn equal_content_lengths_are_accepted() {
    let (_s, addr) = start(config());
    let mut s = connect(addr);
    s.write_all(
        b"POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 3, 3\r\nContent-Length: 3\r\n\r\nabc",
    )
    .unwrap();
    let mut buf = Vec::new();
    let r = read_response(&mut s, &mut buf, false);
    assert_eq!((r.status, &r.body[..]), (200, &b"abc"[..]));
}

#[test]
fn unsupported_version_is_505() {
    let (_s, addr) = start(config());
    expect_error(addr, b"GET / HTTP/2.0\r\nHost: h\r\n\r\n", 505);
    expect_error(addr, b"GET / HTTP/1.2\r\nHost: h\r\n\r\n", 505);
}

#[test]
fn unknown_method_is_501() {
    let (_s, addr) = start(config());
    expect_error(addr, b"BREW /pot HTTP/1.1\r\nHost: h\r\n\r\n", 501);
    expect_error(
        addr,
        b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
        501,
    );
}

#[test]
fn long_target_is_414() {
    let (_s, addr) = start(config());
    let mut req = b"GET /".to_vec();
    req.extend([b'a'; 200]);
    req.extend_from_slice(b" HTTP/1.1\r\nHost: h\r\n\r\n");
    expect_error(addr, &req, 414);
}

#[test]
fn large_or_many_headers_are_431() {
    let (_s, addr) = start(config());
    let mut req = b"GET / HTTP/1.1\r\nHost: h\r\nX-Big: ".to_vec();
    req.extend([b'b'; 2000]);
    req.extend_from_slice(b"\r\n\r\n");
    expect_error(addr, &req, 431);
    let mut req = b"GET / HTTP/1.1\r\nHost: h\r\n".to_vec();
    for i in 0..20 {
        req.extend_from_slice(format!("X-{i}: v\r\n").as_bytes());
    }
    req.extend_from_slice(b"\r\n");
    expect_error(addr, &req, 431);
}

#[test]
fn body_over_limit_is_413() {
    let (_s, addr) = start(config());
    // Declared too large: refused before any body is read.
    let mut req = b"POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 5000\r\n\r\n".to_vec();
    req.extend([b'x'; 5000]);
    expect_error(addr, &req, 413);
    // Chunked, growing past the limit while read.
    let mut req = b"POST /echo HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    for _ in 0..3 {
        req.extend_from_slice(b"200\r\n");
        req.extend([b'y'; 0x200]);
        req.extend_from_slice(b"\r\n");
    }
    req.extend_from_slice(b"0\r\n\r\n");
    expect_error(addr, &req, 413);
}

#[test]
fn slowloris_head_is_408() {
    let (_s, addr) = start(config());
    let mut s = connect(addr);
    let t0 = Instant::now();
    s.write_all(b"GET / HTTP/1.1\r\nHost: h\r\n").unwrap();
    std::thread::sleep(Duration::from_millis(100));
    s.write_all(b"X-Slow: 1\r\n").unwrap();
    let mut buf = Vec::new();
    let r = read_response(&mut s, &mut buf, false);
    assert_eq!(r.status, 408, "{}", r.head);
    let took = t0.elapsed();
    assert!(took >= Duration::from_millis(290), "408 after {took:?}");
    assert!(took < Duration::from_secs(3), "408 after {took:?}");
    assert_closed(&mut s, &buf);
}

#[test]
fn idle_keep_alive_connection_closes_silently() {
    let (_s, addr) = start(config());
    let mut s = connect(addr);
    s.write_all(b"GET /a HTTP/1.1\r\nHost: h\r\n\r\n").unwrap();
    let mut buf = Vec::new();
    let r = read_response(&mut s, &mut buf, false);
    assert_eq!(r.status, 200);
    let t0 = Instant::now();
    assert_closed(&mut s, &buf);
    let took = t0.elapsed();
    assert!(took >= Duration::from_millis(250), "closed after {took:?}");
    // A connection that never sends anything is closed as well, silently.
    let mut s = connect(addr);
    assert_closed(&mut s, &[]);
}

#[test]
fn pipelined_requests_are_answered_in_order() {
    let (_s, addr) = start(config());
    let mut s = connect(addr);
    let mut all = Vec::new();
    for i in 0..20 {
        all.extend_from_slice(format!("GET /p{i} HTTP/1.1\r\nHost: h\r\n\r\n").as_bytes());
        if i % 5 == 0 {
            all.extend_from_slice(
                b"POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\n\r\nbody",
            );
            all.extend_from_slice(
                b"POST /ignore HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
            );
        }
    }
    all.extend_from_slice(b"HEAD /last HTTP/1.1\r\nHost: h\r\n\r\n");
    all.extend_from_slice(b"GET /bye HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n");
    // Send in odd-sized pieces so heads span receive buffers.
    for piece in all.chunks(37) {
        s.write_all(piece).unwrap();
    }
    let mut buf = Vec::new();
    for i in 0..20 {
        let r = read_response(&mut s, &mut buf, false);
        assert_eq!(r.body, format!("GET /p{i}").as_bytes());
        if i % 5 == 0 {
            assert_eq!(read_response(&mut s, &mut buf, false).body, b"body");
            assert_eq!(read_response(&mut s, &mut buf, false).body, b"ignored");
        }
    }
    let r = read_response(&mut s, &mut buf, true);
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("content-length"),
        Some("10"),
        "HEAD keeps the length"
    );
    let r = read_response(&mut s, &mut buf, false);
    assert_eq!(r.body, b"GET /bye");
    assert_eq!(r.header("connection"), Some("close"));
    assert_closed(&mut s, &buf);
}

#[test]
fn chunked_body_with_extensions_and_trailers() {
    let (_s, addr) = start(config());
    let mut s = connect(addr);
    let req = b"POST /echo HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n\
        5;name=value;flag\r\nhello\r\n1 ;x\r\n,\r\n6\r\n world\r\n0;last\r\nX-Checksum: abc\r\nX-More: 1\r\n\r\n\
        GET /after HTTP/1.1\r\nHost: h\r\n\r\n";
    for piece in req.chunks(7) {
        s.write_all(piece).unwrap();
        std::thread::sleep(Duration::from_millis(1));
    }
    let mut buf = Vec::new();
    let r = read_response(&mut s, &mut buf, false);
    assert_eq!((r.status, &r.body[..]), (200, &b"hello, world"[..]));
    let r = read_response(&mut s, &mut buf, false);
    assert_eq!(r.body, b"GET /after");
}

#[test]
fn body_pieces_are_streamed() {
    let (_s, addr) = start(config());
    let mut s = connect(addr);
    s.write_all(b"POST /pieces HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\n01234")
        .unwrap();
    std::thread::sleep(Duration::from_millis(50));
    s.write_all(b"56789").unwrap();
    let mut buf = Vec::new();
    let r = read_response(&mut s, &mut buf, false);
    assert_eq!(r.body, b"10 bytes in 2 pieces");
}

#[test]
fn expect_100_continue() {
    let (_s, addr) = start(config());
    let mut s = connect(addr);
    s.write_all(
        b"POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n",
    )
    .unwrap();
    let mut buf = Vec::new();
    let r = read_response(&mut s, &mut buf, false);
    assert_eq!(r.status, 100, "{}", r.head);
    s.write_all(b"hello").unwrap();
    let r = read_response(&mut s, &mut buf, false);
    assert_eq!((r.status, &r.body[..]), (200, &b"hello"[..]));
    // A handler that does not read the body: no 100, final answer, close.
    s.write_all(
        b"POST /ignore HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n",
    )
    .unwrap();
    let r = read_response(&mut s, &mut buf, false);
    assert_eq!((r.status, &r.body[..]), (200, &b"ignored"[..]));
    assert_eq!(r.header("connection"), Some("close"));
    assert_closed(&mut s, &buf);
}

#[test]
fn unsupported_expectation_is_417() {
    let (_s, addr) = start(config());
    expect_error(
        addr,
        b"POST / HTTP/1.1\r\nHost: h\r\nExpect: tea\r\nContent-Length: 1\r\n\r\nx",
        417,
    );
}

#[test]
fn truncated_body_times_out_with_408() {
    let (_s, addr) = start(config());
    let mut s = connect(addr);
    s.write_all(b"POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\nabc")
        .unwrap();
    let mut buf = Vec::new();
    let r = read_response(&mut s, &mut buf, false);
    assert_eq!(r.status, 408);
    assert_closed(&mut s, &buf);
}

#[test]
fn request_target_forms() {
    let (_s, addr) = start(config());
    let mut s = connect(addr);
    s.write_all(
        b"OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n\
          GET http://h/x?y HTTP/1.1\r\nHost: h\r\n\r\n\
          CONNECT h:443 HTTP/1.1\r\nHost: h:443\r\n\r\n",
    )
    .unwrap();
    let mut buf = Vec::new();
    assert_eq!(read_response(&mut s, &mut buf, false).body, b"OPTIONS *");
    assert_eq!(
        read_response(&mut s, &mut buf, false).body,
        b"GET http://h/x?y"
    );
    assert_eq!(
        read_response(&mut s, &mut buf, false).body,
        b"CONNECT h:443"
    );
}

#[test]
fn http_1_0_closes_unless_kept_alive() {
    let (_s, addr) = start(config());
    let mut s = connect(addr);
    s.write_all(b"GET /k HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        .unwrap();
    let mut buf = Vec::new();
    let r = read_response(&mut s, &mut buf, false);
    assert_eq!(r.header("connection"), Some("keep-alive"));
    s.write_all(b"GET /c HTTP/1.0\r\n\r\n").unwrap();
    let r = read_response(&mut s, &mut buf, false);
    assert_eq!(r.body, b"GET /c");
    assert_eq!(r.header("connection"), Some("close"));
    assert_closed(&mut s, &buf);
}

#[test]
fn error_after_good_requests_closes_without_reading_more() {
    let (_s, addr) = start(config());
    let mut s = connect(addr);
    s.write_all(
        b"GET /one HTTP/1.1\r\nHost: h\r\n\r\n\
          POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nxx\
          GET /smuggled HTTP/1.1\r\nHost: h\r\n\r\n",
    )
    .unwrap();
    let mut buf = Vec::new();
    assert_eq!(read_response(&mut s, &mut buf, false).body, b"GET /one");
    let r = read_response(&mut s, &mut buf, false);
    assert_eq!(r.status, 400);
    assert_closed(&mut s, &buf);
}

#[test]
fn head_spanning_leases_sent_slowly() {
    let (_s, addr) = start(config());
    let mut s = connect(addr);
    let mut req = b"GET /pad HTTP/1.1\r\nHost: example.org\r\nX-Pad: ".to_vec();
    req.extend([b'p'; 900]);
    req.extend_from_slice(b"\r\n\r\n");
    for piece in req.chunks(100) {
        s.write_all(piece).unwrap();
        std::thread::sleep(Duration::from_millis(5));
    }
    let mut buf = Vec::new();
    let r = read_response(&mut s, &mut buf, false);
    assert_eq!(r.body, b"pad 900 host 11");
    // And again on the same connection, in one write.
    s.write_all(&req).unwrap();
    let r = read_response(&mut s, &mut buf, false);
    assert_eq!(r.body, b"pad 900 host 11");
}

#[test]
fn bodies_spanning_leases() {
    let (_s, addr) = start(config());
    let mut s = connect(addr);
    let body: Vec<u8> = (0..1000u32).map(|i| b'a' + (i % 26) as u8).collect();
    let mut req = b"POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 1000\r\n\r\n".to_vec();
    req.extend_from_slice(&body);
    req.extend_from_slice(b"POST /echo HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n");
    for part in body.chunks(333) {
        req.extend_from_slice(format!("{:x}\r\n", part.len()).as_bytes());
        req.extend_from_slice(part);
        req.extend_from_slice(b"\r\n");
    }
    req.extend_from_slice(b"0\r\n\r\n");
    // An unread body is drained before the next request.
    req.extend_from_slice(b"POST /ignore HTTP/1.1\r\nHost: h\r\nContent-Length: 1000\r\n\r\n");
    req.extend_from_slice(&body);
    req.extend_from_slice(b"GET /end HTTP/1.1\r\nHost: h\r\n\r\n");
    for piece in req.chunks(700) {
        s.write_all(piece).unwrap();
        std::thread::sleep(Duration::from_millis(2));
    }
    let mut buf = Vec::new();
    assert_eq!(read_response(&mut s, &mut buf, false).body, body);
    assert_eq!(read_response(&mut s, &mut buf, false).body, body);
    assert_eq!(read_response(&mut s, &mut buf, false).body, b"ignored");
    assert_eq!(read_response(&mut s, &mut buf, false).body, b"GET /end");
}

#[test]
fn invalid_host_is_400() {
    let (_s, addr) = start(config());
    expect_error(addr, b"GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400);
}

/// The raw bytes of a chunked body, through its last chunk.
fn read_chunked_raw(s: &mut TcpStream, buf: &mut Vec<u8>) -> Vec<u8> {
    let end = loop {
        if let Some(i) = buf.windows(5).position(|w| w == b"0\r\n\r\n") {
            break i + 5;
        }
        fill(s, buf);
    };
    buf.drain(..end).collect()
}

const STREAMED: &[u8] = b"1\r\na\r\n2\r\nbc\r\n14\r\ndddddddddddddddddddd\r\n0\r\n\r\n";

#[test]
fn streamed_responses_are_chunked() {
    let (_s, addr) = start(config());
    let mut s = connect(addr);
    let mut buf = Vec::new();
    for path in ["/stream", "/stream-unfinished"] {
        s.write_all(format!("GET {path} HTTP/1.1\r\nHost: h\r\n\r\n").as_bytes())
            .unwrap();
        let r = read_response(&mut s, &mut buf, true);
        assert_eq!(r.status, 200);
        assert_eq!(r.header("transfer-encoding"), Some("chunked"), "{}", r.head);
        assert_eq!(r.header("content-length"), None);
        assert_eq!(read_chunked_raw(&mut s, &mut buf), STREAMED, "{path}");
    }
    // HEAD: the head only, and the connection carries on.
    s.write_all(b"HEAD /stream HTTP/1.1\r\nHost: h\r\n\r\nGET /x HTTP/1.1\r\nHost: h\r\n\r\n")
        .unwrap();
    let r = read_response(&mut s, &mut buf, true);
    assert_eq!(r.header("transfer-encoding"), Some("chunked"));
    assert_eq!(read_response(&mut s, &mut buf, false).body, b"GET /x");
    // HTTP/1.0: unframed, ended by closing.
    let mut s = connect(addr);
    s.write_all(b"GET /stream HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        .unwrap();
    let mut all = Vec::new();
    s.read_to_end(&mut all).unwrap();
    let all = String::from_utf8(all).unwrap();
    assert!(all.contains("Connection: close\r\n"), "{all}");
    assert!(all.ends_with("\r\n\r\nabcdddddddddddddddddddd"), "{all}");
}

#[test]
fn sized_streams_carry_their_length_and_cut_a_wrong_one() {
    let (_s, addr) = start(config());
    let mut s = connect(addr);
    let mut buf = Vec::new();
    s.write_all(b"GET /sized HTTP/1.1\r\nHost: h\r\n\r\n")
        .unwrap();
    let r = read_response(&mut s, &mut buf, false);
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-length"), Some("23"), "{}", r.head);
    assert_eq!(r.header("transfer-encoding"), None);
    assert_eq!(r.body, b"abcdddddddddddddddddddd");
    // Kept alive; HEAD states the length and sends nothing.
    s.write_all(b"HEAD /sized HTTP/1.1\r\nHost: h\r\n\r\nGET /x HTTP/1.1\r\nHost: h\r\n\r\n")
        .unwrap();
    let r = read_response(&mut s, &mut buf, true);
    assert_eq!(r.header("content-length"), Some("23"));
    assert_eq!(read_response(&mut s, &mut buf, false).body, b"GET /x");
    // Fewer bytes than declared, or an attempt at more: the body is cut
    // and the connection closed, never a wrong body on a live connection.
    for (path, declared, sent) in [("/sized-short", "30", 23), ("/sized-long", "2", 1)] {
        let mut s = connect(addr);
        s.write_all(format!("GET {path} HTTP/1.1\r\nHost: h\r\n\r\n").as_bytes())
            .unwrap();
        let mut all = Vec::new();
        s.read_to_end(&mut all).unwrap();
        let all = String::from_utf8(all).unwrap();
        let (head, body) = all.split_once("\r\n\r\n").unwrap();
        assert!(
            head.lines()
                .any(|l| l == format!("Content-Length: {declared}")),
            "{head}"
        );
        assert_eq!(body.len(), sent, "{path}: {body:?}");
    }
}

#[test]
fn head_handler_declared_length_is_written() {
    let (_s, addr) = start(config());
    let mut s = connect(addr);
    // The GET after each HEAD would be misread if any body byte followed.
    s.write_all(
        b"HEAD /omitted HTTP/1.1\r\nHost: h\r\n\r\n\
          GET /a HTTP/1.1\r\nHost: h\r\n\r\n\
          HEAD /omitted-unknown HTTP/1.1\r\nHost: h\r\n\r\n\
          HEAD /full HTTP/1.1\r\nHost: h\r\n\r\n\
          GET /b HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
    )
    .unwrap();
    let mut buf = Vec::new();
    let r = read_response(&mut s, &mut buf, true);
    assert_eq!(r.status, 200, "{}", r.head);
    assert_eq!(r.header("content-length"), Some("1234"), "{}", r.head);
    assert_eq!(
        r.header("content-type"),
        Some("text/plain; charset=utf-8"),
        "{}",
        r.head
    );
    assert_eq!(read_response(&mut s, &mut buf, false).body, b"GET /a");
    // Unknown length: no Content-Length rather than a wrong 0.
    let r = read_response(&mut s, &mut buf, true);
    assert_eq!(r.status, 200, "{}", r.head);
    assert_eq!(r.header("content-length"), None, "{}", r.head);
    assert_eq!(r.header("transfer-encoding"), None, "{}", r.head);
    // A HEAD handler that built the whole body: its length, no bytes.
    let r = read_response(&mut s, &mut buf, true);
    assert_eq!(r.header("content-length"), Some("10"), "{}", r.head);
    let r = read_response(&mut s, &mut buf, false);
    assert_eq!(r.body, b"GET /b");
    assert_closed(&mut s, &buf);
}

#[test]
fn omitted_body_on_get_is_500() {
    let (_s, addr) = start(config());
    for target in ["/omitted", "/omitted-unknown"] {
        let req = format!("GET {target} HTTP/1.1\r\nHost: h\r\n\r\n");
        expect_error(addr, req.as_bytes(), 500);
    }
}

#[test]
fn consecutive_heads_follow_each_response() {
    // One connection, responses that share all, some or none of their
    // head: each head must be its own (the server may reuse an equal one).
    let (_s, addr) = start(config());
    let mut s = connect(addr);
    let reqs: [(&str, &str); 8] = [
        ("GET /a HTTP/1.1\r\nHost: h\r\n\r\n", "GET /a"),
        ("GET /b HTTP/1.1\r\nHost: h\r\n\r\n", "GET /b"),
        ("GET /cc HTTP/1.1\r\nHost: h\r\n\r\n", "GET /cc"),
        ("HEAD /dd HTTP/1.1\r\nHost: h\r\n\r\n", ""),
        ("GET /ee HTTP/1.1\r\nHost: h\r\n\r\n", "GET /ee"),
        (
            "GET /ff HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
            "GET /ff",
        ),
        ("GET /gg HTTP/1.1\r\nHost: h\r\n\r\n", "GET /gg"),
        (
            "GET /hh HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
            "GET /hh",
        ),
    ];
    let all: String = reqs.iter().map(|(r, _)| *r).collect();
    s.write_all(all.as_bytes()).unwrap();
    let mut buf = Vec::new();
    for (i, (req, body)) in reqs.iter().enumerate() {
        let head_request = req.starts_with("HEAD");
        let r = read_response(&mut s, &mut buf, head_request);
        let len = if head_request { 8 } else { body.len() };
        let connection = match i {
            5 => "Connection: keep-alive\r\n",
            7 => "Connection: close\r\n",
            _ => "",
        };
        let date = r.header("date").expect("a Date field").to_owned();
        let want = format!(
            "HTTP/1.1 200 OK\r\nDate: {date}\r\nContent-Type: text/plain; charset=utf-8\r\n\
             Content-Length: {len}\r\n{connection}\r\n"
        );
        assert_eq!(r.head, want, "response {i}");
        assert_eq!(r.body, body.as_bytes(), "response {i}");
    }
    assert_closed(&mut s, &buf);
}
