//! HTTPS on corering with a rustls client nobody here wrote (rustls'
//! `StreamOwned` over a std socket): GET, 300 KB bodies both ways in both
//! framings, keep-alive reuse, pipelining in one TLS write, one handler fn
//! serving HTTP and HTTPS, and SNI/ALPN seen by the handler.

mod common;
mod tls_common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use common::random_bytes;
use corering::http::{self, Http1Config, Request, Response, Status};
use corering::tls::TlsInfo;
use corering::{RunningServer, Server};
use tls_common::{client_config, pki, read_response, roundtrip, server_config, tls_connect};

const BIG: usize = 300 * 1024;

/// One handler for both servers: what it sees does not depend on TLS.
async fn app(mut req: Request<'_>) -> Response {
    match req.path() {
        "/plaintext" => Response::text("Hello, World!"),
        "/echo" => match req.body().await {
            Ok(b) => Response::new(Status::OK)
                .content_type("application/octet-stream")
                .body(b.to_vec()),
            Err(_) => Response::new(Status::BAD_REQUEST),
        },
        "/big" => Response::new(Status::OK)
            .content_type("application/octet-stream")
            .body(random_bytes(7, BIG)),
        "/big-chunked" => {
            let Ok(mut out) = req.stream(Response::new(Status::OK)).await else {
                return Response::new(Status::INTERNAL_SERVER_ERROR);
            };
            let data = random_bytes(8, BIG);
            for piece in data.chunks(10_000) {
                if out.write(piece).await.is_err() {
                    break;
                }
            }
            out.finish().await
        }
        "/tls" => match req.connection().features().get::<TlsInfo>() {
            Some(t) => Response::text(format!(
                "sni={} alpn={} version={:?} mode={:?}",
                t.server_name.as_deref().unwrap_or("-"),
                t.alpn_str().unwrap_or("-"),
                t.version,
                t.mode
            )),
            None => Response::text("plain"),
        },
        _ => Response::new(Status::NOT_FOUND),
    }
}

fn start(tls: Option<corering::tls::rustls::ServerConfig>) -> RunningServer {
    let mut b = Server::builder()
        .bind("127.0.0.1:0")
        .workers(1)
        .pin_workers(false);
    if let Some(c) = tls {
        b = b.tls(c);
    }
    let cfg = Http1Config::new();
    b.build()
        .expect("build")
        .start(move |conn| http::serve(conn, cfg, app))
        .expect("start")
}

#[test]
fn get_keep_alive_and_sni_alpn() {
    let p = pki("corering test CA");
    let server = start(Some(server_config(&p)));
    assert!(
        server.summary().contains("https://") && server.summary().contains("tls: rustls userspace"),
        "{}",
        server.summary()
    );
    let addr = server.tcp_addr().unwrap();
    let cc = client_config(&p);
    let mut s = tls_connect(addr, &cc, "localhost");
    let mut buf = Vec::new();
    // Several requests, one connection.
    for _ in 0..5 {
        let r = roundtrip(
            &mut s,
            b"GET /plaintext HTTP/1.1\r\nHost: localhost\r\n\r\n",
            &mut buf,
        );
        assert_eq!(r.status, 200);
        assert_eq!(r.body, b"Hello, World!");
    }
    let r = roundtrip(
        &mut s,
        b"GET /tls HTTP/1.1\r\nHost: localhost\r\n\r\n",
        &mut buf,
    );
    let text = String::from_utf8(r.body).unwrap();
    assert!(
        text.starts_with("sni=localhost alpn=http/1.1 version=TLSv1_3"),
        "{text}"
    );
    assert!(text.ends_with("mode=Userspace"), "{text}");

    // Another SNI name on the same certificate.
    let mut s2 = tls_connect(addr, &cc, "example.test");
    let r = roundtrip(
        &mut s2,
        b"GET /tls HTTP/1.1\r\nHost: example.test\r\n\r\n",
        &mut Vec::new(),
    );
    assert!(String::from_utf8(r.body)
        .unwrap()
        .starts_with("sni=example.test "));
    // An IP address sends no SNI.
    let mut s3 = tls_connect(addr, &cc, "127.0.0.1");
    let r = roundtrip(
        &mut s3,
        b"GET /tls HTTP/1.1\r\nHost: x\r\n\r\n",
        &mut Vec::new(),
    );
    assert!(String::from_utf8(r.body).unwrap().starts_with("sni=- "));
    drop((s, s2, s3));
    server.shutdown().unwrap();
}

#[test]
fn big_bodies_both_ways_both_framings() {
    let p = pki("corering test CA");
    let server = start(Some(server_config(&p)));
    let addr = server.tcp_addr().unwrap();
    let mut s = tls_connect(addr, &client_config(&p), "localhost");
    let mut buf = Vec::new();

    let r = roundtrip(&mut s, b"GET /big HTTP/1.1\r\nHost: h\r\n\r\n", &mut buf);
    assert_eq!(r.status, 200);
    assert!(r
        .head
        .to_ascii_lowercase()
        .contains("content-length: 307200"));
    assert!(
        r.body == random_bytes(7, BIG),
        "Content-Length body differs"
    );

    let r = roundtrip(
        &mut s,
        b"GET /big-chunked HTTP/1.1\r\nHost: h\r\n\r\n",
        &mut buf,
    );
    assert!(r
        .head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked"));
    assert!(r.body == random_bytes(8, BIG), "chunked body differs");

    // Upload with Content-Length, in uneven writes.
    let data = random_bytes(9, BIG);
    let mut req =
        format!("POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: {BIG}\r\n\r\n").into_bytes();
    req.extend_from_slice(&data);
    for piece in req.chunks(7_777) {
        s.write_all(piece).unwrap();
    }
    let r = read_response(&mut s, &mut buf);
    assert_eq!(r.status, 200);
    assert!(r.body == data, "Content-Length upload differs");

    // Upload chunked.
    let mut req = b"POST /echo HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    for piece in data.chunks(5_000) {
        req.extend_from_slice(format!("{:x}\r\n", piece.len()).as_bytes());
        req.extend_from_slice(piece);
        req.extend_from_slice(b"\r\n");
    }
    req.extend_from_slice(b"0\r\n\r\n");
    s.write_all(&req).unwrap();
    let r = read_response(&mut s, &mut buf);
    assert!(r.body == data, "chunked upload differs");
    drop(s);
    server.shutdown().unwrap();
}

#[test]
fn pipelined_requests_in_one_tls_write() {
    let p = pki("corering test CA");
    let server = start(Some(server_config(&p)));
    let mut s = tls_connect(server.tcp_addr().unwrap(), &client_config(&p), "localhost");
    let mut batch = Vec::new();
    for i in 0..16 {
        batch.extend_from_slice(
            format!("POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 6\r\n\r\nreq{i:03}")
                .as_bytes(),
        );
    }
    // One write: rustls puts it all in one record, one TCP send.
    s.write_all(&batch).unwrap();
    s.flush().unwrap();
    let mut buf = Vec::new();
    for i in 0..16 {
        let r = read_response(&mut s, &mut buf);
        assert_eq!(r.status, 200);
        assert_eq!(
            r.body,
            format!("req{i:03}").as_bytes(),
            "response {i} out of order"
        );
    }
    drop(s);
    server.shutdown().unwrap();
}

#[test]
fn one_handler_serves_http_and_https() {
    let p = pki("corering test CA");
    let https = start(Some(server_config(&p)));
    let plain = start(None);
    assert!(!plain.summary().contains("https"), "{}", plain.summary());

    let mut t = tls_connect(https.tcp_addr().unwrap(), &client_config(&p), "localhost");
    let mut c = TcpStream::connect(plain.tcp_addr().unwrap()).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let (mut bt, mut bc) = (Vec::new(), Vec::new());
    for req in [
        &b"GET /plaintext HTTP/1.1\r\nHost: h\r\n\r\n"[..],
        b"POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello",
        b"GET /nope HTTP/1.1\r\nHost: h\r\n\r\n",
    ] {
        let a = roundtrip(&mut t, req, &mut bt);
        let b = roundtrip(&mut c, req, &mut bc);
        assert_eq!((a.status, &a.body), (b.status, &b.body));
    }
    let r = roundtrip(&mut c, b"GET /tls HTTP/1.1\r\nHost: h\r\n\r\n", &mut bc);
    assert_eq!(r.body, b"plain");
    drop((t, c));
    https.shutdown().unwrap();
    plain.shutdown().unwrap();
}

/// A client that ends with close_notify: the server sees the end of the
/// stream and closes cleanly (its own close_notify, then EOF).
#[test]
fn close_notify_ends_the_connection_cleanly() {
    let p = pki("corering test CA");
    let server = start(Some(server_config(&p)));
    let mut s = tls_connect(server.tcp_addr().unwrap(), &client_config(&p), "localhost");
    let r = roundtrip(
        &mut s,
        b"GET /plaintext HTTP/1.1\r\nHost: h\r\n\r\n",
        &mut Vec::new(),
    );
    assert_eq!(r.status, 200);
    s.conn.send_close_notify();
    s.conn.complete_io(&mut s.sock).unwrap();
    let mut rest = Vec::new();
    // rustls returns Ok(0) only after the server's close_notify.
    s.read_to_end(&mut rest)
        .expect("clean TLS close from the server");
    assert!(rest.is_empty());
    server.shutdown().unwrap();
}

/// A request written before the handshake finishes leaves with the
/// client's Finished (one TLS write): the server hands it to HTTP first.
#[test]
fn request_sent_with_the_client_finished_is_served() {
    let p = pki("corering test CA");
    let server = start(Some(server_config(&p)));
    let sock = TcpStream::connect(server.tcp_addr().unwrap()).unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let conn =
        rustls::ClientConnection::new(client_config(&p), "localhost".try_into().unwrap()).unwrap();
    let mut s = rustls::StreamOwned::new(conn, sock);
    // Buffered by rustls until the handshake completes, then sent with the
    // Finished message.
    s.conn
        .writer()
        .write_all(b"GET /plaintext HTTP/1.1\r\nHost: h\r\n\r\n")
        .unwrap();
    let r = read_response(&mut s, &mut Vec::new());
    assert_eq!((r.status, &r.body[..]), (200, &b"Hello, World!"[..]));
    drop(s);
    server.shutdown().unwrap();
}

/// A TLS 1.3 KeyUpdate from the client mid-connection (post-handshake
/// message): the server answers with its own and goes on serving.
#[test]
fn key_update_mid_connection() {
    let p = pki("corering test CA");
    let server = start(Some(server_config(&p)));
    let mut s = tls_connect(server.tcp_addr().unwrap(), &client_config(&p), "localhost");
    let mut buf = Vec::new();
    for round in 0..3 {
        s.conn.refresh_traffic_keys().expect("TLS 1.3 key update");
        let r = roundtrip(
            &mut s,
            b"GET /plaintext HTTP/1.1\r\nHost: h\r\n\r\n",
            &mut buf,
        );
        assert_eq!(
            (r.status, &r.body[..]),
            (200, &b"Hello, World!"[..]),
            "round {round}"
        );
    }
    drop(s);
    server.shutdown().unwrap();
}
