//! Hostile and broken peers on a TLS port: plain HTTP, a ClientHello that
//! stalls half-way, garbage records after the handshake, a client that
//! leaves mid-handshake. Each closes only its own connection (counted in
//! `tls_handshake_failures` where the handshake failed), and a good TLS
//! client on the same server is served throughout.

mod common;
mod tls_common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

use corering::http::{self, Http1Config, Request, Response};
use corering::RunningServer;
use tls_common::{
    client_config, pki, roundtrip, server_config, tls_builder, tls_connect, Pki, Tls,
};

async fn app(_req: Request<'_>) -> Response {
    Response::text("Hello, World!")
}

fn start(p: &Pki, handshake_timeout: Duration) -> (RunningServer, SocketAddr) {
    let cfg = Http1Config::new();
    let server = tls_builder(server_config(p))
        .tls_handshake_timeout(handshake_timeout)
        .build()
        .expect("build")
        .start(move |conn| http::serve(conn, cfg, app))
        .expect("start");
    let a = server.tcp_addr().unwrap();
    (server, a)
}

fn raw(addr: SocketAddr) -> TcpStream {
    let s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    s
}

/// Reads until the server closes; returns what it sent.
fn read_until_closed(s: &mut TcpStream) -> Vec<u8> {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return got,
            Ok(n) => got.extend_from_slice(&buf[..n]),
            // A reset also closes it.
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return got,
            Err(e) => panic!("server did not close the connection: {e}"),
        }
    }
}

/// A good client's request on its kept-alive connection.
fn good(s: &mut Tls) {
    let r = roundtrip(
        s,
        b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n",
        &mut Vec::new(),
    );
    assert_eq!((r.status, &r.body[..]), (200, &b"Hello, World!"[..]));
}

fn wait_failures(server: &RunningServer, n: u64) {
    let t0 = Instant::now();
    while server.total_stats().tls_handshake_failures < n {
        assert!(
            t0.elapsed() < Duration::from_secs(10),
            "{} handshake failures counted, expected {n}",
            server.total_stats().tls_handshake_failures
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn plain_http_on_the_tls_port_is_refused() {
    let p = pki("bad CA");
    let (server, addr) = start(&p, Duration::from_secs(10));
    let cc = client_config(&p);
    let mut ok = tls_connect(addr, &cc, "localhost");
    let mut s = raw(addr);
    s.write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .unwrap();
    let t0 = Instant::now();
    let got = read_until_closed(&mut s);
    // Refused at once, not after the 10 s handshake timeout (generous:
    // "GET /" must not be taken for the header of an 8 KiB record).
    assert!(
        t0.elapsed() < Duration::from_secs(5),
        "closed after {:?}",
        t0.elapsed()
    );
    assert!(!got.starts_with(b"HTTP/"), "answered plain HTTP: {got:?}");
    // What comes back, if anything, is a TLS alert record (type 21).
    assert!(got.is_empty() || got[0] == 21, "{got:?}");
    wait_failures(&server, 1);
    good(&mut ok);
    drop(ok);
    server.shutdown().unwrap();
}

#[test]
fn a_stalled_client_hello_times_out_while_others_are_served() {
    let p = pki("bad CA");
    let (server, addr) = start(&p, Duration::from_millis(300));
    let cc = client_config(&p);
    // The start of a real ClientHello, then nothing.
    let hello = client_hello(&cc);
    let mut s = raw(addr);
    s.write_all(&hello[..hello.len() / 2]).unwrap();
    let t0 = Instant::now();
    // A good client comes and goes while that one stalls.
    let mut ok = tls_connect(addr, &cc, "localhost");
    good(&mut ok);
    read_until_closed(&mut s);
    // Generous: the timeout is 300 ms.
    assert!(
        t0.elapsed() < Duration::from_secs(5),
        "closed after {:?}",
        t0.elapsed()
    );
    wait_failures(&server, 1);
    good(&mut ok);
    drop(ok);
    server.shutdown().unwrap();
}

#[test]
fn a_client_leaving_mid_handshake_is_counted_and_forgotten() {
    let p = pki("bad CA");
    let (server, addr) = start(&p, Duration::from_secs(10));
    let cc = client_config(&p);
    for _ in 0..3 {
        let hello = client_hello(&cc);
        let mut s = raw(addr);
        s.write_all(&hello[..hello.len() - 10]).unwrap();
        drop(s);
    }
    // A complete ClientHello, then gone before the server's flight is read.
    let mut s = raw(addr);
    s.write_all(&client_hello(&cc)).unwrap();
    s.shutdown(std::net::Shutdown::Both).unwrap();
    drop(s);
    wait_failures(&server, 4);
    let mut ok = tls_connect(addr, &cc, "localhost");
    good(&mut ok);
    drop(ok);
    assert_eq!(server.total_stats().tls_handshake_failures, 4);
    server.shutdown().unwrap();
}

#[test]
fn garbage_records_after_the_handshake_close_that_connection() {
    let p = pki("bad CA");
    let (server, addr) = start(&p, Duration::from_secs(10));
    let cc = client_config(&p);
    let mut ok = tls_connect(addr, &cc, "localhost");
    let mut bad = tls_connect(addr, &cc, "localhost");
    good(&mut bad);
    // An application-data record that does not decrypt.
    let mut rec = vec![23, 3, 3, 0, 64];
    rec.extend((0..64u8).map(|i| i.wrapping_mul(37)));
    bad.sock.write_all(&rec).unwrap();
    // The server answers with an alert (bad_record_mac) and closes.
    let mut rest = Vec::new();
    let r = bad.read_to_end(&mut rest);
    let e = r.expect_err("the server should end the session with an alert");
    assert!(
        e.to_string().to_lowercase().contains("alert")
            || e.kind() == std::io::ErrorKind::UnexpectedEof,
        "{e}"
    );
    good(&mut ok);
    drop(ok);
    // Not a handshake failure.
    assert_eq!(server.total_stats().tls_handshake_failures, 0);
    server.shutdown().unwrap();
}

/// The bytes of a ClientHello rustls would send.
fn client_hello(cc: &Arc<rustls::ClientConfig>) -> Vec<u8> {
    let mut c = rustls::ClientConnection::new(cc.clone(), "localhost".try_into().unwrap()).unwrap();
    let mut out = Vec::new();
    c.write_tls(&mut out).unwrap();
    assert!(out.len() > 100);
    out
}

/// Shutdown does not wait for a handshake that stalls: it is dropped at
/// once (the handshake timeout here is far longer than the test allows).
#[test]
fn shutdown_drops_a_stalled_handshake() {
    let p = pki("bad CA");
    let (server, addr) = start(&p, Duration::from_secs(120));
    let hello = client_hello(&client_config(&p));
    let mut s = raw(addr);
    s.write_all(&hello[..20]).unwrap();
    // Let the worker take the bytes in.
    std::thread::sleep(Duration::from_millis(100));
    let t0 = Instant::now();
    server.shutdown().unwrap();
    assert!(
        t0.elapsed() < Duration::from_secs(5),
        "shutdown took {:?}",
        t0.elapsed()
    );
    read_until_closed(&mut s);
}
