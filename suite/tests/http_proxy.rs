//! The reverse proxy of `examples/proxy.rs` between `ureq` (and a raw
//! socket) and an in-process corering upstream that echoes what it saw:
//! forwarding fields, hop-by-hop fields dropped, request bodies with
//! `Content-Length` and chunked, streamed responses, `HEAD` and `304`
//! lengths (also with the `hello` example as upstream), `502` and `504`.

mod common;

#[allow(dead_code)]
#[path = "../../examples/proxy.rs"]
mod proxy;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::Duration;

use common::{builder, start_example};
use corering::http::client::{Client, ClientConfig};
use corering::http::{Http1Config, Request, Response, Status, Upgraded};
use corering::RunningServer;
use proxy::Proxy;

/// Upstream: `/echo` answers with the request line, the header fields it
/// saw (one per line), an empty line, then the body.
async fn upstream(mut req: Request<'_>) -> Response {
    match req.path() {
        "/stream" => common::http::stream_lines(&mut req, 500).await,
        "/no-content" => Response::new(Status::NO_CONTENT),
        // Switches to `echo` when offered: answers `up:`, then echoes.
        "/tunnel" if req.upgrade().is_some_and(|o| o.contains("echo")) => {
            Response::upgrade("echo", |up: Upgraded| async move {
                let (mut conn, early) = up.into_parts();
                if conn.write_all(b"up:").await.is_err()
                    || conn.write_all(early.bytes()).await.is_err()
                {
                    return;
                }
                while let Ok(Some(data)) = conn.read().await {
                    if conn.write_all(&data).await.is_err() {
                        return;
                    }
                }
            })
            .header("X-Tunnel", "1")
        }
        // A conditional GET answered with the length of the 200 it stands
        // for.
        "/not-modified" => Response::new(Status::NOT_MODIFIED)
            .header("ETag", "\"v1\"")
            .omitted_body(Some(13)),
        "/hop" => Response::text("hop")
            .header("Keep-Alive", "timeout=5")
            .header("Proxy-Authenticate", "Basic")
            .header("Upgrade", "h2c")
            .header("X-Kept", "1"),
        _ => {
            let mut s = format!("{} {}\n", req.method(), req.target());
            for (n, v) in req.headers() {
                s.push_str(&format!(
                    "{}: {}\n",
                    n.to_ascii_lowercase(),
                    String::from_utf8_lossy(v)
                ));
            }
            s.push('\n');
            let mut out = s.into_bytes();
            match req.body().await {
                Ok(b) => out.extend_from_slice(b),
                Err(e) => return Response::new(e.status()),
            }
            Response::new(Status::OK)
                .content_type("application/octet-stream")
                .body(out)
        }
    }
}

fn start_upstream() -> (RunningServer, SocketAddr) {
    let cfg = Http1Config::new().max_body(8 << 20);
    common::http::start_http(builder().workers(1), cfg, upstream)
}

fn start_proxy(p: Proxy) -> (RunningServer, SocketAddr) {
    let cfg = proxy::config();
    common::http::start_http(builder().workers(1), cfg, p)
}

fn agent() -> ureq::Agent {
    common::http::ureq_agent(Duration::from_secs(20))
}

/// Splits an `/echo` answer into its header lines and body.
fn split(answer: &[u8]) -> (String, Vec<u8>) {
    let end = answer
        .windows(2)
        .position(|w| w == b"\n\n")
        .expect("empty line");
    (
        String::from_utf8_lossy(&answer[..end + 1]).into_owned(),
        answer[end + 2..].to_vec(),
    )
}

#[test]
fn forwarding_fields_arrive_and_hop_by_hop_fields_do_not() {
    let (_u, up) = start_upstream();
    let (_p, addr) = start_proxy(Proxy::new(up));
    let mut s = common::connect(addr);
    s.write_all(
        b"GET /echo?q=1 HTTP/1.1\r\nHost: example.test\r\n\
          X-Forwarded-For: 203.0.113.7\r\nForwarded: for=203.0.113.7\r\n\
          Connection: close, X-Secret\r\nX-Secret: hidden\r\nKeep-Alive: timeout=5\r\n\
          Proxy-Authorization: Basic eA==\r\nTE: trailers\r\nUpgrade: websocket\r\n\
          X-Custom: kept\r\n\r\n",
    )
    .unwrap();
    let got = common::read_all(&mut s).unwrap();
    let text = String::from_utf8_lossy(&got).into_owned();
    assert!(text.starts_with("HTTP/1.1 200 OK\r\n"), "{text}");
    let body = &got[got.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4..];
    let (seen, _) = split(body);
    assert!(seen.starts_with("GET /echo?q=1\n"), "{seen}");
    assert!(seen.contains("host: example.test\n"), "{seen}");
    assert!(seen.contains("x-custom: kept\n"), "{seen}");
    assert!(
        seen.contains("x-forwarded-for: 203.0.113.7, 127.0.0.1\n"),
        "{seen}"
    );
    assert!(
        seen.contains(
            "forwarded: for=203.0.113.7, for=127.0.0.1;proto=http;host=\"example.test\"\n"
        ),
        "{seen}"
    );
    for gone in [
        "x-secret",
        "keep-alive",
        "proxy-authorization",
        "te:",
        "upgrade",
        "connection",
    ] {
        assert!(!seen.contains(gone), "{gone} forwarded: {seen}");
    }
}

#[test]
fn request_bodies_round_trip() {
    let (_u, up) = start_upstream();
    let (_p, addr) = start_proxy(Proxy::new(up));
    let a = agent();
    let data: Vec<u8> = (0..200_000u32).map(|i| (i * 13) as u8).collect();
    // Content-Length.
    let mut r = a
        .post(format!("http://{addr}/echo"))
        .send(&data[..])
        .unwrap();
    assert_eq!(r.status(), 200);
    let (seen, body) = split(&r.body_mut().read_to_vec().unwrap());
    assert!(seen.starts_with("POST /echo\n"), "{seen}");
    assert!(seen.contains("content-length: 200000\n"), "{seen}");
    assert!(!seen.contains("transfer-encoding"), "{seen}");
    assert_eq!(body, data);
    // Chunked (a reader body).
    let mut r = a
        .post(format!("http://{addr}/echo"))
        .send(ureq::SendBody::from_reader(&mut &data[..70_000]))
        .unwrap();
    assert_eq!(r.status(), 200);
    let (seen, body) = split(&r.body_mut().read_to_vec().unwrap());
    assert!(seen.contains("transfer-encoding: chunked\n"), "{seen}");
    assert_eq!(body, &data[..70_000]);
    // Keep-alive on both sides: a few more in a row.
    for i in 0..5 {
        let mut r = a
            .put(format!("http://{addr}/echo/{i}"))
            .send(format!("body {i}"))
            .unwrap();
        let (seen, body) = split(&r.body_mut().read_to_vec().unwrap());
        assert!(seen.starts_with(&format!("PUT /echo/{i}\n")), "{seen}");
        assert_eq!(body, format!("body {i}").as_bytes());
    }
}

#[test]
fn responses_stream_back_without_hop_by_hop_fields() {
    let (_u, up) = start_upstream();
    let (_p, addr) = start_proxy(Proxy::new(up));
    let a = agent();
    let mut r = a.get(format!("http://{addr}/stream")).call().unwrap();
    assert_eq!(r.status(), 200);
    let want: String = (0..500).map(|i| format!("line {i}\n")).collect();
    assert_eq!(r.body_mut().read_to_string().unwrap(), want);

    let mut r = a.get(format!("http://{addr}/hop")).call().unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["x-kept"], "1");
    assert_eq!(r.headers()["content-type"], "text/plain; charset=utf-8");
    for gone in ["keep-alive", "proxy-authenticate", "upgrade"] {
        assert!(!r.headers().contains_key(gone), "{gone}: {:?}", r.headers());
    }
    assert_eq!(r.body_mut().read_to_string().unwrap(), "hop");

    // HEAD and bodiless statuses pass through without a body.
    let mut r = a.head(format!("http://{addr}/hop")).call().unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["x-kept"], "1");
    assert_eq!(r.body_mut().read_to_string().unwrap(), "");
    let mut r = a.get(format!("http://{addr}/no-content")).call().unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(r.body_mut().read_to_string().unwrap(), "");
}

#[test]
fn absolute_form_targets_go_upstream_in_origin_form() {
    let (_u, up) = start_upstream();
    let (_p, addr) = start_proxy(Proxy::new(up));
    let mut s = common::connect(addr);
    s.write_all(
        b"GET http://example.test/echo?a=b HTTP/1.1\r\nHost: example.test\r\nConnection: close\r\n\r\n",
    )
    .unwrap();
    let got = common::read_all(&mut s).unwrap();
    let text = String::from_utf8_lossy(&got).into_owned();
    assert!(text.contains("\r\n\r\nGET /echo?a=b\n"), "{text}");
}

#[test]
fn upstream_down_is_502() {
    let (_p, addr) = start_proxy(Proxy::new(common::closed_port()));
    let mut r = agent().get(format!("http://{addr}/echo")).call().unwrap();
    assert_eq!(r.status(), 502);
    let text = r.body_mut().read_to_string().unwrap();
    assert!(text.contains("connection refused"), "{text}");
}

#[test]
fn upstream_timeout_is_504() {
    // Accepts and never answers.
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let up = l.local_addr().unwrap();
    let hold = std::thread::spawn(move || {
        let (mut s, _) = l.accept().unwrap();
        let mut b = [0u8; 1024];
        let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
        while matches!(s.read(&mut b), Ok(n) if n > 0) {}
    });
    let client = Client::with_config(ClientConfig::new().head_timeout(Duration::from_millis(300)));
    let (_p, addr) = start_proxy(Proxy::with_client(up, client));
    let mut r = agent().get(format!("http://{addr}/echo")).call().unwrap();
    assert_eq!(r.status(), 504);
    let text = r.body_mut().read_to_string().unwrap();
    assert!(text.contains("timeout"), "{text}");
    drop(r);
    let _ = hold.join();
}

#[test]
fn upstream_failing_mid_body_cuts_the_client_connection() {
    // Sends part of a chunked body, then closes.
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let up = l.local_addr().unwrap();
    let srv = std::thread::spawn(move || {
        let (mut s, _) = l.accept().unwrap();
        let mut b = [0u8; 4096];
        let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
        let _ = s.read(&mut b);
        let _ = s.write_all(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n3\r\nwo",
        );
    });
    let (_p, addr) = start_proxy(Proxy::new(up));
    let mut s = common::connect(addr);
    s.write_all(b"GET /x HTTP/1.1\r\nHost: t\r\n\r\n").unwrap();
    let got = common::read_all(&mut s).unwrap_or_default();
    let text = String::from_utf8_lossy(&got).into_owned();
    assert!(text.starts_with("HTTP/1.1 200 OK\r\n"), "{text}");
    assert!(text.contains("hello"), "{text}");
    // No last chunk: the body is visibly incomplete.
    assert!(!text.ends_with("0\r\n\r\n"), "{text}");
    let _ = srv.join();
}

/// A child process killed when dropped.
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// One response read off a raw socket: its head (status line and fields)
/// and its body, by `Content-Length` or chunked (none for `HEAD`).
struct Raw {
    head: String,
    body: Vec<u8>,
}

impl Raw {
    fn status(&self) -> &str {
        &self.head[9..12]
    }

    fn field(&self, name: &str) -> Option<&str> {
        self.head.split("\r\n").skip(1).find_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }
}

/// Reads one response from `s`, keeping bytes past it in `buf`; a `HEAD`
/// response (`head_request`) or a `304` has no body whatever its fields say.
fn read_raw(s: &mut std::net::TcpStream, buf: &mut Vec<u8>, head_request: bool) -> Raw {
    let mut tmp = [0u8; 4096];
    let end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = s.read(&mut tmp).expect("read response");
        assert!(n > 0, "closed mid-head: {:?}", String::from_utf8_lossy(buf));
        buf.extend_from_slice(&tmp[..n]);
    };
    let mut r = Raw {
        head: String::from_utf8(buf[..end].to_vec()).unwrap(),
        body: Vec::new(),
    };
    buf.drain(..end);
    let mut more = |buf: &mut Vec<u8>| {
        let n = s.read(&mut tmp).expect("read body");
        assert!(n > 0, "closed mid-body");
        buf.extend_from_slice(&tmp[..n]);
    };
    if head_request || r.status() == "304" {
        return r;
    }
    if r.field("transfer-encoding") == Some("chunked") {
        loop {
            let line = loop {
                match buf.windows(2).position(|w| w == b"\r\n") {
                    Some(i) => break i,
                    None => more(buf),
                }
            };
            let size = std::str::from_utf8(&buf[..line]).unwrap();
            let size = usize::from_str_radix(size, 16).unwrap();
            while buf.len() < line + 2 + size + 2 {
                more(buf);
            }
            r.body.extend_from_slice(&buf[line + 2..line + 2 + size]);
            buf.drain(..line + 2 + size + 2);
            if size == 0 {
                return r;
            }
        }
    }
    let len = r.field("content-length").map_or(0, |v| v.parse().unwrap());
    while buf.len() < len {
        more(buf);
    }
    r.body = buf.drain(..len).collect();
    r
}

/// `GET`, `HEAD`, then `GET` again of `target` on one keep-alive
/// connection to `addr`; the last answer shows that no body bytes followed
/// the `HEAD` response (they would be read as the next status line).
fn get_head_get(addr: SocketAddr, target: &str) -> (Raw, Raw, Raw) {
    let mut s = common::connect(addr);
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let req = |m: &str| format!("{m} {target} HTTP/1.1\r\nHost: example.test\r\n\r\n");
    s.write_all(format!("{}{}{}", req("GET"), req("HEAD"), req("GET")).as_bytes())
        .unwrap();
    let mut buf = Vec::new();
    let get = read_raw(&mut s, &mut buf, false);
    let head = read_raw(&mut s, &mut buf, true);
    let again = read_raw(&mut s, &mut buf, false);
    assert!(
        buf.is_empty(),
        "bytes after the last response: {:?}",
        String::from_utf8_lossy(&buf)
    );
    (get, head, again)
}

#[test]
fn head_through_the_proxy_has_the_get_length_and_no_body() {
    // The hello example as the upstream, as in the proxy's own docs.
    let (child, up) = start_example("hello", &["--addr", "127.0.0.1:0", "--workers", "1"]);
    let _child = Child(child);
    let (_p, addr) = start_proxy(Proxy::new(up));

    let (get, head, again) = get_head_get(addr, "/plaintext");
    assert_eq!(get.status(), "200", "{}", get.head);
    assert_eq!(get.body, b"Hello, World!");
    assert_eq!(get.field("content-length"), Some("13"), "{}", get.head);
    assert_eq!(head.status(), "200", "{}", head.head);
    assert_eq!(head.field("content-length"), Some("13"), "{}", head.head);
    assert_eq!(head.field("content-type"), get.field("content-type"));
    assert_eq!(head.field("transfer-encoding"), None, "{}", head.head);
    assert_eq!(again.status(), "200", "{}", again.head);
    assert_eq!(again.body, b"Hello, World!");

    // The same through ureq.
    let a = agent();
    let mut r = a.head(format!("http://{addr}/plaintext")).call().unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-length"], "13");
    assert_eq!(r.body_mut().read_to_vec().unwrap(), b"");
    let mut r = a.get(format!("http://{addr}/plaintext")).call().unwrap();
    assert_eq!(r.headers()["content-length"], "13");
    assert_eq!(r.body_mut().read_to_string().unwrap(), "Hello, World!");
}

#[test]
fn head_of_a_chunked_upstream_response_has_no_length() {
    let (_u, up) = start_upstream();
    let (_p, addr) = start_proxy(Proxy::new(up));
    // Upstream answers HEAD /stream with `Transfer-Encoding: chunked` and
    // no body: the length is unknown, so the proxy states none (not 0).
    let (get, head, again) = get_head_get(addr, "/stream");
    assert_eq!(get.status(), "200", "{}", get.head);
    assert_eq!(
        get.field("transfer-encoding"),
        Some("chunked"),
        "{}",
        get.head
    );
    let want: String = (0..500).map(|i| format!("line {i}\n")).collect();
    assert_eq!(get.body, want.as_bytes());
    assert_eq!(head.status(), "200", "{}", head.head);
    assert_eq!(head.field("content-length"), None, "{}", head.head);
    assert_eq!(head.field("transfer-encoding"), None, "{}", head.head);
    assert_eq!(head.field("content-type"), get.field("content-type"));
    assert_eq!(again.status(), "200", "{}", again.head);
    assert_eq!(again.body, want.as_bytes());
}

#[test]
fn head_of_a_buffered_upstream_response_keeps_its_length() {
    let (_u, up) = start_upstream();
    let (_p, addr) = start_proxy(Proxy::new(up));
    let (get, head, _) = get_head_get(addr, "/hop");
    assert_eq!(get.field("content-length"), Some("3"), "{}", get.head);
    assert_eq!(head.field("content-length"), Some("3"), "{}", head.head);
    assert_eq!(head.field("x-kept"), Some("1"), "{}", head.head);
}

#[test]
fn not_modified_keeps_the_upstream_length() {
    let (_u, up) = start_upstream();
    let (_p, addr) = start_proxy(Proxy::new(up));
    // Straight from the upstream, then through the proxy.
    for target in [up, addr] {
        let (get, head, again) = get_head_get(target, "/not-modified");
        for r in [&get, &head, &again] {
            assert_eq!(r.status(), "304", "{}", r.head);
            assert_eq!(r.field("content-length"), Some("13"), "{}", r.head);
            assert_eq!(r.field("etag"), Some("\"v1\""), "{}", r.head);
            assert!(r.body.is_empty());
        }
    }
}

#[test]
fn upgrades_tunnel_through_the_proxy() {
    let (_up, up_addr) = start_upstream();
    let (_p, addr) = start_proxy(Proxy::new(up_addr));
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    // Bytes of the new protocol right behind the request.
    s.write_all(
        b"GET /tunnel HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\nearly",
    )
    .unwrap();
    let mut got = Vec::new();
    let mut tmp = [0u8; 4096];
    let want_end = b"up:early";
    while !got.ends_with(want_end) {
        let n = s.read(&mut tmp).unwrap();
        assert!(n > 0, "closed early: {:?}", String::from_utf8_lossy(&got));
        got.extend_from_slice(&tmp[..n]);
    }
    let text = String::from_utf8_lossy(&got).into_owned();
    assert!(
        text.starts_with("HTTP/1.1 101 Switching Protocols\r\n"),
        "{text}"
    );
    let head = text.split("\r\n\r\n").next().unwrap().to_ascii_lowercase();
    assert!(head.contains("\r\nupgrade: echo"), "{text}");
    assert!(head.contains("\r\nconnection: upgrade"), "{text}");
    assert!(head.contains("\r\nx-tunnel: 1"), "{text}");
    // Both ways, larger than a buffer, then a half-close travels through.
    let data: Vec<u8> = (0..100_000u32).map(|i| (i % 253) as u8).collect();
    s.write_all(&data).unwrap();
    s.shutdown(std::net::Shutdown::Write).unwrap();
    let mut echoed = Vec::new();
    s.read_to_end(&mut echoed).unwrap();
    assert_eq!(echoed.len(), data.len());
    assert!(echoed == data, "tunnelled bytes differ");
}

#[test]
fn declined_upgrade_is_relayed_as_a_response() {
    let (_up, up_addr) = start_upstream();
    let (_p, addr) = start_proxy(Proxy::new(up_addr));
    let mut r = agent()
        .get(format!("http://{addr}/tunnel"))
        .header("Connection", "upgrade")
        .header("Upgrade", "h2c")
        .call()
        .unwrap();
    assert_eq!(r.status(), 200);
    // The echo route answers with what it saw: the proxy asked upstream
    // for the same switch.
    let body = r.body_mut().read_to_string().unwrap();
    assert!(body.contains("upgrade: h2c\n"), "{body}");
}
