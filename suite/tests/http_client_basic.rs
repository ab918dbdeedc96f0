//! The HTTP client (`corering::http::client`) over real sockets: against a
//! corering HTTP server in this process, and against a raw
//! `std::net::TcpListener` "server" that answers with hand-written
//! responses (framing variants, interim responses, malformed and
//! truncated responses, slowness, keep-alive and `Connection: close`).

mod common;

use common::http::{run_client as run, test_client};

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use common::builder;
use corering::http::client::{
    self, Client, ClientConfig, ClientErrorKind, ClientRequest, ClientResponse,
};
use corering::http::{Http1Config, Method, Request, Response, Status};
use corering::{RunningServer, Runtime};

// ---- a corering server ------------------------------------------------------

async fn route(mut req: Request<'_>) -> Response {
    match req.path() {
        "/plaintext" => Response::text("Hello, World!"),
        "/echo" => match req.body().await {
            Ok(b) => Response::new(Status::OK)
                .content_type("application/octet-stream")
                .body(b.to_vec()),
            Err(e) => Response::new(e.status()),
        },
        "/headers" => {
            let mut s = String::new();
            for (n, v) in req.headers() {
                s.push_str(&format!("{}: {}\n", n, String::from_utf8_lossy(v)));
            }
            Response::text(s)
        }
        "/stream" => common::http::stream_lines(&mut req, 200).await,
        "/empty" => Response::new(Status::NO_CONTENT),
        _ => Response::new(Status::NOT_FOUND).body("not found\n"),
    }
}

fn start_server() -> (RunningServer, SocketAddr) {
    let cfg = Http1Config::new().max_body(8 << 20);
    common::http::start_http(builder().workers(1), cfg, route)
}

#[test]
fn corering_server_get_post_head_and_reuse() {
    let (_s, addr) = start_server();
    run(async {
        let c = test_client();
        let r = c.get(addr, "/plaintext").await.unwrap();
        assert_eq!(r.status(), Status::OK);
        assert_eq!(r.reason(), "OK");
        assert_eq!(
            r.header_str("content-type"),
            Some("text/plain; charset=utf-8")
        );
        assert_eq!(r.content_length(), Some(13));
        assert_eq!(r.text().await.unwrap(), "Hello, World!");
        // The connection went back to the pool and is used again.
        assert_eq!(client::idle_count(), 1);

        let data: Vec<u8> = (0..300_000u32).map(|i| (i * 7) as u8).collect();
        let req = ClientRequest::post("/echo", data.clone()).header("X-Test", "1");
        let r = c.send(addr, &req).await.unwrap();
        assert_eq!(r.status(), Status::OK);
        assert_eq!(r.bytes().await.unwrap(), data);
        assert_eq!(client::idle_count(), 1);

        // A streamed (chunked) request body.
        let mut w = c
            .start(addr, &ClientRequest::new(Method::Post, "/echo"))
            .await
            .unwrap();
        for piece in data.chunks(7000) {
            w.write(piece).await.unwrap();
        }
        let r = w.finish().await.unwrap();
        assert_eq!(r.bytes().await.unwrap(), data);

        // A streamed body with a declared length.
        let req = ClientRequest::new(Method::Put, "/echo").content_length(10);
        let mut w = c.start(addr, &req).await.unwrap();
        w.write(b"01234").await.unwrap();
        w.write(b"56789").await.unwrap();
        assert_eq!(
            w.finish().await.unwrap().text().await.unwrap(),
            "0123456789"
        );

        // A chunked response, read piece by piece.
        let mut r = c.get(addr, "/stream").await.unwrap();
        assert!(r.is_chunked());
        let mut got = Vec::new();
        while let Some(p) = r.chunk().await.unwrap() {
            got.extend_from_slice(p);
        }
        let want: String = (0..200).map(|i| format!("line {i}\n")).collect();
        assert_eq!(got, want.as_bytes());

        let r = c
            .send(addr, &ClientRequest::new(Method::Head, "/plaintext"))
            .await
            .unwrap();
        assert!(r.is_done());
        assert_eq!(r.content_length(), Some(13));
        assert_eq!(r.bytes().await.unwrap(), b"");

        let r = c.get(addr, "/empty").await.unwrap();
        assert_eq!(r.status(), Status::NO_CONTENT);
        assert!(r.is_done());

        let r = c.get(addr, "/headers").await.unwrap();
        let text = r.text().await.unwrap();
        assert!(text.contains(&format!("Host: {addr}\n")), "{text}");
        assert_eq!(client::idle_count(), 1);

        // Connection: close is honoured: nothing is pooled afterwards.
        let r = c
            .send(addr, &ClientRequest::get("/plaintext").close())
            .await
            .unwrap();
        assert!(!r.keep_alive());
        assert_eq!(r.text().await.unwrap(), "Hello, World!");
        assert_eq!(client::idle_count(), 0);
    });
}

#[test]
fn client_inside_a_server_handler() {
    let (_up, upstream) = start_server();
    let (_s, addr) = {
        let s = builder()
            .workers(1)
            .build()
            .unwrap()
            .start(move |mut conn: corering::Connection| async move {
                let c = test_client();
                let r = c.get(upstream, "/plaintext").await;
                let text = match r {
                    Ok(r) => r.text().await.unwrap_or_default(),
                    Err(e) => e.to_string(),
                };
                let _ = conn.write_all(text.as_bytes()).await;
                let _ = conn.close().await;
            })
            .unwrap();
        let a = common::tcp_addr(&s);
        (s, a)
    };
    let mut s = common::connect(addr);
    let got = common::read_all(&mut s).unwrap();
    assert_eq!(got, b"Hello, World!");
}

#[test]
fn connect_refused_is_a_connect_error() {
    let addr = common::closed_port();
    run(async {
        let e = test_client().get(addr, "/").await.unwrap_err();
        assert_eq!(e.kind(), ClientErrorKind::Connect, "{e}");
    });
}

// ---- a raw server -------------------------------------------------------------

/// A hand-written "server": accepts connections (counting them) and answers
/// each request by calling `reply` with the request head and its index on
/// the connection; `reply` writes whatever it likes and says whether to
/// keep the connection open.
struct Raw {
    addr: SocketAddr,
    accepted: Arc<AtomicUsize>,
}

fn raw(reply: fn(&str, &mut TcpStream, usize) -> bool) -> Raw {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = accepted.clone();
    thread::spawn(move || {
        for s in l.incoming() {
            let Ok(mut s) = s else { return };
            count.fetch_add(1, Ordering::SeqCst);
            thread::spawn(move || {
                s.set_read_timeout(Some(common::IO_TIMEOUT)).unwrap();
                let mut buf = Vec::new();
                let mut nth = 0;
                while let Some(head) = read_request(&mut s, &mut buf) {
                    if !reply(&head, &mut s, nth) {
                        return;
                    }
                    nth += 1;
                }
            });
        }
    });
    Raw { addr, accepted }
}

/// Reads one request head (and a Content-Length body, discarded).
fn read_request(s: &mut TcpStream, buf: &mut Vec<u8>) -> Option<String> {
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end + 4]).into_owned();
            let len = head
                .lines()
                .find_map(|l| {
                    let (n, v) = l.split_once(':')?;
                    n.eq_ignore_ascii_case("content-length")
                        .then(|| v.trim().parse::<usize>().ok())?
                })
                .unwrap_or(0);
            while buf.len() < end + 4 + len {
                let mut b = [0u8; 4096];
                let n = s.read(&mut b).ok().filter(|&n| n > 0)?;
                buf.extend_from_slice(&b[..n]);
            }
            buf.drain(..end + 4 + len);
            return Some(head);
        }
        let mut b = [0u8; 4096];
        let n = s.read(&mut b).ok().filter(|&n| n > 0)?;
        buf.extend_from_slice(&b[..n]);
    }
}

fn path(head: &str) -> &str {
    head.split(' ').nth(1).unwrap_or("")
}

fn send(s: &mut TcpStream, bytes: &[u8]) -> bool {
    s.write_all(bytes).is_ok()
}

fn replies(head: &str, s: &mut TcpStream, nth: usize) -> bool {
    match path(head) {
        "/length" => send(s, b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"),
        "/chunked" => send(
            s,
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\
              5;name=value;x\r\nhello\r\n7;ext\r\n, world\r\n0\r\nExpires: never\r\nX-T: y\r\n\r\n",
        ),
        "/chunked-split" => {
            // The response arrives in small pieces, the head included.
            let r: &[u8] = b"HTTP/1.1 200 OK\r\nX-Long: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\
                Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n3\r\ndef\r\n0\r\n\r\n";
            for piece in r.chunks(9) {
                if !send(s, piece) {
                    return false;
                }
                s.flush().ok();
                thread::sleep(Duration::from_millis(2));
            }
            true
        }
        "/close-delimited" => {
            send(
                s,
                b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end",
            );
            false
        }
        "/continue" => send(
            s,
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n\
              HTTP/1.1 201 Created\r\nContent-Length: 4\r\n\r\ndone",
        ),
        // A HEAD response declares a length but has no body.
        "/head" => send(s, b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n"),
        "/no-content" => send(s, b"HTTP/1.1 204 No Content\r\nX-A: 1\r\n\r\n"),
        "/not-modified" => send(s, b"HTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\n\r\n"),
        "/malformed" => {
            send(s, b"HTTP/1.1 abc Nope\r\nContent-Length: 0\r\n\r\n");
            false
        }
        "/garbage" => {
            send(s, b"SSH-2.0-OpenSSH_9.6\r\n\r\n");
            false
        }
        "/truncated" => {
            send(
                s,
                b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly this",
            );
            false
        }
        "/truncated-chunked" => {
            send(
                s,
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel",
            );
            false
        }
        "/slow" => {
            thread::sleep(Duration::from_millis(1500));
            send(s, b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        }
        "/slow-body" => {
            send(s, b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc");
            thread::sleep(Duration::from_millis(2000));
            false
        }
        "/big" => {
            let body = vec![b'x'; 5000];
            send(s, b"HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n") && send(s, &body)
        }
        "/big-chunked" => {
            let mut r = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
            for _ in 0..10 {
                r.extend_from_slice(b"3e8\r\n");
                r.extend_from_slice(&[b'y'; 1000]);
                r.extend_from_slice(b"\r\n");
            }
            r.extend_from_slice(b"0\r\n\r\n");
            send(s, &r)
        }
        "/close" => {
            send(
                s,
                b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 3\r\n\r\nbye",
            );
            false
        }
        "/both" => send(
            s,
            b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n\
              2\r\nok\r\n0\r\n\r\n",
        ),
        "/bad-length" => {
            send(s, b"HTTP/1.1 200 OK\r\nContent-Length: 3, 4\r\n\r\nabcd");
            false
        }
        // Answers the first request of a connection only; later ones find
        // the connection closed, as if the server timed it out just then.
        "/flaky" => nth == 0 && send(s, b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nflaky"),
        "/http10" => send(s, b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok"),
        "/once" => {
            // Answers, then closes while the client holds the connection idle.
            send(s, b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nonce");
            thread::sleep(Duration::from_millis(100));
            false
        }
        _ => send(s, b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"),
    }
}

async fn get(c: &Client, addr: SocketAddr, target: &str) -> Result<ClientResponse, String> {
    c.get(addr, target).await.map_err(|e| e.to_string())
}

#[test]
fn raw_framings() {
    let srv = raw(replies);
    let addr = srv.addr;
    run(async {
        let c = test_client();
        let r = get(&c, addr, "/length").await.unwrap();
        assert_eq!(r.content_length(), Some(5));
        assert_eq!(r.text().await.unwrap(), "hello");

        let r = get(&c, addr, "/chunked").await.unwrap();
        assert!(r.is_chunked());
        assert_eq!(r.content_length(), None);
        assert_eq!(r.text().await.unwrap(), "hello, world");

        let r = get(&c, addr, "/chunked-split").await.unwrap();
        assert_eq!(r.header_str("x-long").map(str::len), Some(32));
        assert_eq!(r.text().await.unwrap(), "abcdef");

        let r = get(&c, addr, "/continue").await.unwrap();
        assert_eq!(r.status(), Status::CREATED);
        assert_eq!(r.header("link"), None);
        assert_eq!(r.text().await.unwrap(), "done");

        let r = c
            .send(addr, &ClientRequest::new(Method::Head, "/head"))
            .await
            .unwrap();
        assert!(r.is_done());
        assert_eq!(r.content_length(), Some(1000));
        assert_eq!(r.bytes().await.unwrap(), b"");

        let r = get(&c, addr, "/no-content").await.unwrap();
        assert_eq!(r.status(), Status::NO_CONTENT);
        assert_eq!(r.header_str("x-a"), Some("1"));
        assert_eq!(r.bytes().await.unwrap(), b"");

        let r = get(&c, addr, "/not-modified").await.unwrap();
        assert_eq!(r.status().as_u16(), 304);
        assert_eq!(r.bytes().await.unwrap(), b"");

        // Everything so far kept the one connection open.
        let r = get(&c, addr, "/close-delimited").await.unwrap();
        assert!(!r.keep_alive());
        assert_eq!(r.text().await.unwrap(), "until the end");

        let r = get(&c, addr, "/big-chunked").await.unwrap();
        assert_eq!(r.bytes().await.unwrap(), vec![b'y'; 10_000]);

        let r = get(&c, addr, "/http10").await.unwrap();
        assert_eq!(r.version(), corering::http::Version::Http10);
        assert!(!r.keep_alive());
        assert_eq!(r.text().await.unwrap(), "ok");
    });
    // One connection for the keep-alive run, a new one after the
    // close-delimited body, another after the HTTP/1.0 response's close.
    assert_eq!(srv.accepted.load(Ordering::SeqCst), 2);
}

#[test]
fn raw_errors() {
    let srv = raw(replies);
    let addr = srv.addr;
    run(async {
        let c = test_client();
        let e = c.get(addr, "/malformed").await.unwrap_err();
        assert_eq!(e.kind(), ClientErrorKind::Malformed, "{e}");
        let e = c.get(addr, "/garbage").await.unwrap_err();
        assert_eq!(e.kind(), ClientErrorKind::Malformed, "{e}");

        let r = c.get(addr, "/truncated").await.unwrap();
        let e = r.bytes().await.unwrap_err();
        assert_eq!(e.kind(), ClientErrorKind::ClosedEarly, "{e}");
        let r = c.get(addr, "/truncated-chunked").await.unwrap();
        let e = r.bytes().await.unwrap_err();
        assert_eq!(e.kind(), ClientErrorKind::ClosedEarly, "{e}");

        // Body limits apply when collecting.
        let small = Client::with_config(ClientConfig::new().max_body(1000));
        let r = small.get(addr, "/big").await.unwrap();
        let e = r.bytes().await.unwrap_err();
        assert_eq!(e.kind(), ClientErrorKind::BodyTooLarge, "{e}");
        let r = small.get(addr, "/big-chunked").await.unwrap();
        let e = r.bytes().await.unwrap_err();
        assert_eq!(e.kind(), ClientErrorKind::BodyTooLarge, "{e}");
        // ... but not when streaming.
        let mut r = small.get(addr, "/big").await.unwrap();
        let mut n = 0;
        while let Some(p) = r.chunk().await.unwrap() {
            n += p.len();
        }
        assert_eq!(n, 5000);

        let tiny_head = Client::with_config(ClientConfig::new().max_head(64));
        let e = tiny_head.get(addr, "/chunked-split").await.unwrap_err();
        assert_eq!(e.kind(), ClientErrorKind::HeadTooLarge, "{e}");

        let e = c.get(addr, "/bad-length").await.unwrap_err();
        assert_eq!(e.kind(), ClientErrorKind::Malformed, "{e}");
        // Both framings: chunked wins, and the connection is not reused.
        let r = c.get(addr, "/both").await.unwrap();
        assert!(!r.keep_alive());
        assert_eq!(r.text().await.unwrap(), "ok");

        let bad = ClientRequest::get("/length").header("X", "a\r\nInjected: 1");
        let e = c.send(addr, &bad).await.unwrap_err();
        assert_eq!(e.kind(), ClientErrorKind::InvalidRequest, "{e}");
    });
}

#[test]
fn raw_timeouts() {
    let srv = raw(replies);
    let addr = srv.addr;
    run(async {
        let c = Client::with_config(ClientConfig::new().head_timeout(Duration::from_millis(300)));
        let t = Instant::now();
        let e = c.get(addr, "/slow").await.unwrap_err();
        assert_eq!(e.kind(), ClientErrorKind::Timeout, "{e}");
        assert!(e.message().contains("no response head"), "{e}");
        assert!(
            t.elapsed() < Duration::from_millis(1400),
            "{:?}",
            t.elapsed()
        );

        // The whole-request deadline covers the body too.
        let c =
            Client::with_config(ClientConfig::new().request_timeout(Duration::from_millis(500)));
        let t = Instant::now();
        let r = c.get(addr, "/slow-body").await.unwrap();
        let e = r.bytes().await.unwrap_err();
        assert!(e.is_timeout(), "{e}");
        assert!(e.message().contains("not complete within 500ms"), "{e}");
        assert!(
            t.elapsed() < Duration::from_millis(1900),
            "{:?}",
            t.elapsed()
        );
    });
}

#[test]
fn raw_keep_alive_reuse_and_close() {
    let srv = raw(replies);
    let addr = srv.addr;
    run(async {
        let c = test_client();
        for _ in 0..2 {
            let r = c.get(addr, "/length").await.unwrap();
            assert_eq!(r.text().await.unwrap(), "hello");
        }
        assert_eq!(srv.accepted.load(Ordering::SeqCst), 1);
        let r = c.get(addr, "/close").await.unwrap();
        assert!(!r.keep_alive());
        assert_eq!(r.text().await.unwrap(), "bye");
        assert_eq!(client::idle_count(), 0);
        let r = c.get(addr, "/length").await.unwrap();
        assert_eq!(r.text().await.unwrap(), "hello");
        assert_eq!(srv.accepted.load(Ordering::SeqCst), 2);

        // A response dropped before its body was read closes its connection.
        let r = c.get(addr, "/big").await.unwrap();
        drop(r);
        assert_eq!(client::idle_count(), 0);
        let r = c.get(addr, "/length").await.unwrap();
        assert_eq!(r.text().await.unwrap(), "hello");
        assert_eq!(srv.accepted.load(Ordering::SeqCst), 3);

        // With reuse turned off, every request connects.
        let fresh = Client::with_config(ClientConfig::new().max_idle_per_peer(0));
        for _ in 0..2 {
            let r = fresh.get(addr, "/length").await.unwrap();
            assert_eq!(r.text().await.unwrap(), "hello");
        }
        assert_eq!(srv.accepted.load(Ordering::SeqCst), 5);
    });
}

#[test]
fn raw_idle_connection_closed_by_server_is_not_reused() {
    let srv = raw(replies);
    let addr = srv.addr;
    run(async {
        let c = test_client();
        let r = c.get(addr, "/once").await.unwrap();
        assert_eq!(r.text().await.unwrap(), "once");
        assert_eq!(client::idle_count(), 1);
        // The server closes the pooled connection meanwhile.
        corering::time::sleep(Duration::from_millis(400)).await;
        let r = c.get(addr, "/length").await.unwrap();
        assert_eq!(r.text().await.unwrap(), "hello");
        assert_eq!(srv.accepted.load(Ordering::SeqCst), 2);
    });
}

#[test]
fn pool_does_not_outlive_its_runtime() {
    let srv = raw(replies);
    let addr = srv.addr;
    let rt = Runtime::new().unwrap();
    // The first runtime leaves a connection in the pool on purpose.
    rt.block_on(async {
        let r = test_client().get(addr, "/length").await.unwrap();
        assert_eq!(r.text().await.unwrap(), "hello");
        assert_eq!(client::idle_count(), 1);
    });
    run(async {
        assert_eq!(client::idle_count(), 0);
        let r = test_client().get(addr, "/length").await.unwrap();
        assert_eq!(r.text().await.unwrap(), "hello");
    });
    assert_eq!(srv.accepted.load(Ordering::SeqCst), 2);
}

#[test]
fn request_on_a_reused_connection_closed_meanwhile_is_retried() {
    let srv = raw(replies);
    let addr = srv.addr;
    run(async {
        let c = test_client();
        for _ in 0..3 {
            let r = c.get(addr, "/flaky").await.unwrap();
            assert_eq!(r.text().await.unwrap(), "flaky");
        }
        // A streamed request cannot be replayed: its failure is reported.
        let mut w = c
            .start(addr, &ClientRequest::post("/flaky", ""))
            .await
            .unwrap();
        w.write(b"x").await.unwrap();
        let e = w.finish().await.unwrap_err();
        assert_eq!(e.kind(), ClientErrorKind::ClosedEarly, "{e}");
    });
    assert_eq!(srv.accepted.load(Ordering::SeqCst), 3);
}
