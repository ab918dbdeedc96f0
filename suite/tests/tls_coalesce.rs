//! What a TLS server sends is gathered per round: sixteen pipelined
//! requests get their sixteen responses in one TLS record, not sixteen
//! (each record costs both ends a seal or an open). A response larger
//! than a record is cut into full 16 KiB records, and a streamed response
//! that waits between pieces still sends each piece promptly. Counted on
//! the wire under a rustls client nobody here wrote: a socket wrapper
//! reads the record headers of what the server sent.

mod common;
mod tls_common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use corering::http::{self, Http1Config, Request, Response, Status};
use corering::RunningServer;
use tls_common::{client_config, pki, read_response, server_config, tls_builder, Pki};

const BIG: usize = 100_000;

/// Set by the test once it has read the first piece of `/stream`.
static FIRST_SEEN: AtomicBool = AtomicBool::new(false);

async fn app(mut req: Request<'_>) -> Response {
    match req.path() {
        "/big" => Response::new(Status::OK)
            .content_type("application/octet-stream")
            .body(vec![7u8; BIG]),
        "/stream" => {
            let Ok(mut out) = req.stream(Response::new(Status::OK)).await else {
                return Response::new(Status::INTERNAL_SERVER_ERROR);
            };
            if out.write(b"first;").await.is_err() {
                return out.abort();
            }
            // No flush: the piece must leave with the round anyway, or
            // the client never sees it and this waits forever.
            while !FIRST_SEEN.load(Ordering::Acquire) {
                corering::time::sleep(Duration::from_millis(5)).await;
            }
            let _ = out.write(b"second").await;
            out.finish().await
        }
        _ => Response::text("Hello, World!"),
    }
}

fn start(p: &Pki) -> RunningServer {
    tls_builder(server_config(p))
        .build()
        .expect("build")
        .start(|conn| http::serve(conn, Http1Config::new(), app))
        .expect("start")
}

/// A socket that splits what it reads into TLS records and keeps their
/// content types and lengths.
struct Wire {
    sock: TcpStream,
    /// Bytes of the record header being read, and what is left of its body.
    header: Vec<u8>,
    body_left: usize,
    records: Vec<(u8, usize)>,
}

impl Wire {
    fn see(&mut self, mut b: &[u8]) {
        while !b.is_empty() {
            if self.body_left > 0 {
                let n = self.body_left.min(b.len());
                self.body_left -= n;
                b = &b[n..];
                continue;
            }
            self.header.push(b[0]);
            b = &b[1..];
            if self.header.len() == 5 {
                let len = u16::from_be_bytes([self.header[3], self.header[4]]) as usize;
                self.records.push((self.header[0], len));
                self.body_left = len;
                self.header.clear();
            }
        }
    }

    /// Application-data records seen so far (type 23: every record after
    /// the TLS 1.3 handshake's first flight).
    fn data_records(&self) -> usize {
        self.records.iter().filter(|r| r.0 == 23).count()
    }
}

impl Read for Wire {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.sock.read(buf)?;
        let seen = buf[..n].to_vec();
        self.see(&seen);
        Ok(n)
    }
}

impl Write for Wire {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.sock.write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.sock.flush()
    }
}

type Client = rustls::StreamOwned<rustls::ClientConnection, Wire>;

fn connect(server: &RunningServer, config: &Arc<rustls::ClientConfig>) -> Client {
    let sock = TcpStream::connect(server.tcp_addr().unwrap()).unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    sock.set_nodelay(true).unwrap();
    let wire = Wire {
        sock,
        header: Vec::new(),
        body_left: 0,
        records: Vec::new(),
    };
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    let conn = rustls::ClientConnection::new(config.clone(), name).unwrap();
    let mut s = rustls::StreamOwned::new(conn, wire);
    while s.conn.is_handshaking() {
        s.conn.complete_io(&mut s.sock).expect("handshake");
    }
    // Let the server's session tickets arrive and be counted first.
    s.write_all(b"GET /warm HTTP/1.1\r\nHost: h\r\n\r\n")
        .unwrap();
    let mut buf = Vec::new();
    assert_eq!(read_response(&mut s, &mut buf).status, 200);
    s
}

#[test]
fn sixteen_pipelined_responses_leave_in_one_record() {
    let p = pki("coalesce CA");
    let server = start(&p);
    let mut s = connect(&server, &client_config(&p));
    let before = s.sock.data_records();
    let batch = "GET /plaintext HTTP/1.1\r\nHost: h\r\n\r\n".repeat(16);
    s.write_all(batch.as_bytes()).unwrap();
    let mut buf = Vec::new();
    for _ in 0..16 {
        let r = read_response(&mut s, &mut buf);
        assert_eq!(r.status, 200);
        assert_eq!(r.body, b"Hello, World!");
    }
    let records = s.sock.data_records() - before;
    assert_eq!(records, 1, "16 responses in {records} records");
    drop(s);
    server.shutdown().unwrap();
}

#[test]
fn a_large_response_is_cut_into_full_records() {
    let p = pki("coalesce CA 2");
    let server = start(&p);
    let mut s = connect(&server, &client_config(&p));
    let before = s.sock.records.len();
    s.write_all(b"GET /big HTTP/1.1\r\nHost: h\r\n\r\n")
        .unwrap();
    let mut buf = Vec::new();
    let r = read_response(&mut s, &mut buf);
    assert_eq!(r.body.len(), BIG);
    let sizes: Vec<usize> = s.sock.records[before..].iter().map(|r| r.1).collect();
    // Head + 100,000 bytes: six full records (16 KiB of plaintext, plus
    // TLS 1.3's type byte and tag) and a last partial one.
    let full = 16 * 1024 + 17;
    assert_eq!(sizes.len(), 7, "{sizes:?}");
    assert!(sizes[..6].iter().all(|&n| n == full), "{sizes:?}");
    drop(s);
    server.shutdown().unwrap();
}

#[test]
fn a_streamed_piece_leaves_with_its_round_without_a_flush() {
    let p = pki("coalesce CA 3");
    let server = start(&p);
    let mut s = connect(&server, &client_config(&p));
    s.write_all(b"GET /stream HTTP/1.1\r\nHost: h\r\n\r\n")
        .unwrap();
    // Read until the first piece's bytes are in: the handler waits for us.
    let mut got = Vec::new();
    let mut b = [0u8; 4096];
    while !got.windows(6).any(|w| w == b"first;") {
        let n = s
            .read(&mut b)
            .expect("the first piece arrives before the handler goes on");
        assert!(n > 0, "closed early");
        got.extend_from_slice(&b[..n]);
    }
    FIRST_SEEN.store(true, Ordering::Release);
    while !got.windows(6).any(|w| w == b"second") {
        let n = s.read(&mut b).unwrap();
        assert!(n > 0, "closed early");
        got.extend_from_slice(&b[..n]);
    }
    drop(s);
    server.shutdown().unwrap();
}
