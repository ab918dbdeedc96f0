//! corering's own TLS record layer (after the handshake) against rustls
//! peers: TLS 1.2 and 1.3 with AES-128/256-GCM and ChaCha20-Poly1305 forced
//! by the client, many records in one TCP segment, a record dribbled a few
//! bytes at a time, corering's client with a configuration without secret
//! extraction (rustls' own path) and with it, and a rustls server that
//! updates its keys before every reply and issues session tickets that
//! corering's client stores and resumes with, and frames encoded with
//! `write_frame` straight into the records being built.

mod common;
mod tls_common;

use common::echo_then_shutdown;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use common::http::run_client;
use common::random_bytes;
use corering::http::{self, Http1Config, Request, Response};
use corering::tls::rustls as crustls;
use corering::tls::TlsConnector;
use corering::{Connection, Connector, RunningServer};
use tls_common::{client_config, pki, read_response, server_config, tls_builder, tls_connect, Pki};

fn start_echo(p: &Pki) -> RunningServer {
    tls_builder(server_config(p))
        .build()
        .expect("build")
        .start(echo_then_shutdown)
        .expect("start")
}

async fn hello(_req: Request<'_>) -> Response {
    Response::text("Hello, World!")
}

fn start_http(p: &Pki) -> RunningServer {
    let cfg = Http1Config::new();
    tls_builder(server_config(p))
        .build()
        .expect("build")
        .start(move |conn| http::serve(conn, cfg, hello))
        .expect("start")
}

/// A rustls client configuration offering only `suite` (and its version).
fn forced(p: &Pki, suite: rustls::SupportedCipherSuite) -> Arc<rustls::ClientConfig> {
    let base = client_config(p);
    let mut provider = rustls::crypto::ring::default_provider();
    provider.cipher_suites = vec![suite];
    let version = match suite {
        rustls::SupportedCipherSuite::Tls12(_) => &rustls::version::TLS12,
        rustls::SupportedCipherSuite::Tls13(_) => &rustls::version::TLS13,
    };
    let mut roots = rustls::RootCertStore::empty();
    roots.add(ca_der(p).into()).unwrap();
    let mut c = rustls::ClientConfig::builder_with_provider(Arc::new(provider))
        .with_protocol_versions(&[version])
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    c.alpn_protocols = base.alpn_protocols.clone();
    Arc::new(c)
}

fn ca_der(p: &Pki) -> Vec<u8> {
    use rustls::pki_types::pem::PemObject;
    let pem = std::fs::read(&p.ca).unwrap();
    rustls::pki_types::CertificateDer::from_pem_slice(&pem)
        .unwrap()
        .to_vec()
}

/// Writes `data` in pieces and reads the echo back, byte-exact.
fn echo_through(s: &mut tls_common::Tls, data: &[u8]) {
    let mut got = vec![0u8; data.len()];
    for (piece, back) in data.chunks(50_000).zip(got.chunks_mut(50_000)) {
        s.write_all(piece).unwrap();
        s.flush().unwrap();
        s.read_exact(back).expect("echo");
    }
    assert!(got == data, "echo differs");
}

#[test]
fn every_suite_and_version_echoes_300_kb_intact() {
    use rustls::crypto::ring::cipher_suite as cs;
    let p = pki("records CA");
    let server = start_echo(&p);
    let addr = server.tcp_addr().unwrap();
    let data = random_bytes(3, 300_000);
    for suite in [
        cs::TLS13_AES_128_GCM_SHA256,
        cs::TLS13_AES_256_GCM_SHA384,
        cs::TLS13_CHACHA20_POLY1305_SHA256,
        cs::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
        cs::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
        cs::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
    ] {
        let mut s = tls_connect(addr, &forced(&p, suite), "localhost");
        assert_eq!(
            s.conn.negotiated_cipher_suite().map(|c| c.suite()),
            Some(suite.suite())
        );
        echo_through(&mut s, &data);
        // The server's close_notify after ours: a clean end of stream.
        s.conn.send_close_notify();
        s.flush().unwrap();
        let mut rest = Vec::new();
        s.read_to_end(&mut rest)
            .unwrap_or_else(|e| panic!("{:?}: {e}", suite.suite()));
        assert!(rest.is_empty());
    }
    server.shutdown().unwrap();
}

/// Three pipelined requests, each byte its own record, all in one TCP
/// write: the server opens dozens of records inside one receive buffer.
#[test]
fn one_byte_records_in_one_segment() {
    let p = pki("records CA");
    let server = start_http(&p);
    let mut s = tls_connect(server.tcp_addr().unwrap(), &client_config(&p), "localhost");
    let req = b"GET /a HTTP/1.1\r\nHost: h\r\n\r\n".repeat(3);
    for b in req.chunks(1) {
        // One writer call, one record (rustls seals as it is given data).
        s.conn.writer().write_all(b).unwrap();
    }
    while s.conn.wants_write() {
        s.conn.write_tls(&mut s.sock).unwrap();
    }
    let mut buf = Vec::new();
    for _ in 0..3 {
        let r = read_response(&mut s, &mut buf);
        assert_eq!((r.status, &r.body[..]), (200, &b"Hello, World!"[..]));
    }
    server.shutdown().unwrap();
}

/// One request record sent five bytes at a time: the server assembles it
/// across many receive buffers.
#[test]
fn a_record_dribbled_in_small_pieces() {
    let p = pki("records CA");
    let server = start_http(&p);
    let mut s = tls_connect(server.tcp_addr().unwrap(), &client_config(&p), "localhost");
    s.conn
        .writer()
        .write_all(b"GET /b HTTP/1.1\r\nHost: h\r\n\r\n")
        .unwrap();
    let mut wire = Vec::new();
    while s.conn.wants_write() {
        s.conn.write_tls(&mut wire).unwrap();
    }
    for piece in wire.chunks(5) {
        s.sock.write_all(piece).unwrap();
        std::thread::sleep(Duration::from_millis(2));
    }
    let r = read_response(&mut s, &mut Vec::new());
    assert_eq!((r.status, &r.body[..]), (200, &b"Hello, World!"[..]));
    server.shutdown().unwrap();
}

/// corering's client with a configuration of its own: TLS 1.2 ChaCha20
/// without secret extraction (rustls' unbuffered path), then the same with
/// it (corering's record layer), both echoing 300 KB through the server.
#[test]
fn own_client_config_with_and_without_secret_extraction() {
    let p = pki("records CA");
    let server = start_echo(&p);
    let addr = server.tcp_addr().unwrap();
    let data = random_bytes(5, 300_000);
    for extract in [false, true] {
        let mut provider = crustls::crypto::ring::default_provider();
        provider.cipher_suites = vec![
            crustls::crypto::ring::cipher_suite::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
        ];
        let mut roots = crustls::RootCertStore::empty();
        for c in corering::tls::certs_from_pem(&p.ca).unwrap() {
            roots.add(c).unwrap();
        }
        let mut cfg = crustls::ClientConfig::builder_with_provider(Arc::new(provider))
            .with_protocol_versions(&[&crustls::version::TLS12])
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
        cfg.enable_secret_extraction = extract;
        let tls = TlsConnector::from_config(cfg);
        let got = run_client(async {
            let mut conn = Connector::new()
                .connect_tls(addr, &tls, "localhost")
                .await
                .expect("connect_tls");
            let mut got = Vec::with_capacity(data.len());
            for piece in data.chunks(60_000) {
                conn.write_all(piece).await.unwrap();
                let want = got.len() + piece.len();
                while got.len() < want {
                    let lease = conn.read().await.unwrap().expect("echo ended early");
                    got.extend_from_slice(&lease);
                }
            }
            conn.shutdown_write().await.unwrap();
            assert!(conn.read().await.unwrap().is_none(), "clean end");
            got
        });
        assert!(got == data, "echo differs (secret extraction {extract})");
    }
    server.shutdown().unwrap();
}

/// A rustls server (blocking, its own thread) that answers each line with
/// a KeyUpdate first, and issues TLS 1.3 session tickets. corering's
/// client reads the replies across the key changes, stores the tickets,
/// and its second connection resumes.
#[test]
fn server_key_updates_and_tickets_reach_the_client() {
    let p = pki("records CA");
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let mut scfg = server_config(&p);
    scfg.alpn_protocols.clear();
    let scfg = Arc::new(scfg);
    let peer = std::thread::spawn(move || {
        let mut kinds = Vec::new();
        for _ in 0..2 {
            let (sock, _) = listener.accept().unwrap();
            sock.set_read_timeout(Some(Duration::from_secs(20)))
                .unwrap();
            let conn = crustls::ServerConnection::new(scfg.clone()).unwrap();
            let mut s = crustls::StreamOwned::new(conn, sock);
            let mut lines = 0;
            let mut r = BufReader::new(&mut s);
            let mut line = String::new();
            loop {
                line.clear();
                if r.read_line(&mut line).unwrap_or(0) == 0 {
                    break;
                }
                let s = r.get_mut();
                s.conn.refresh_traffic_keys().unwrap();
                s.write_all(format!("got {}", line).as_bytes()).unwrap();
                s.flush().unwrap();
                lines += 1;
            }
            kinds.push((r.get_ref().conn.handshake_kind(), lines));
        }
        kinds
    });
    let tls = TlsConnector::builder()
        .no_default_roots()
        .ca_file(&p.ca)
        .unwrap()
        .build();
    for _ in 0..2 {
        run_client(async {
            let mut conn = Connector::new()
                .connect_tls(addr, &tls, "localhost")
                .await
                .expect("connect_tls");
            for i in 0..3 {
                let msg = format!("line {i}\n");
                conn.write_all(msg.as_bytes()).await.unwrap();
                let want = format!("got {msg}");
                let mut got = Vec::new();
                while got.len() < want.len() {
                    let lease = conn.read().await.unwrap().expect("reply");
                    got.extend_from_slice(&lease);
                }
                assert_eq!(String::from_utf8_lossy(&got), want);
            }
            conn.shutdown_write().await.unwrap();
        });
    }
    let kinds = peer.join().unwrap();
    assert_eq!(kinds[0], (Some(crustls::HandshakeKind::Full), 3));
    assert_eq!(kinds[1], (Some(crustls::HandshakeKind::Resumed), 3));
}

/// After the server's record layer rejects a tampered record, other
/// connections are served.
#[test]
fn a_tampered_record_ends_only_its_connection() {
    let p = pki("records CA");
    let server = start_http(&p);
    let addr = server.tcp_addr().unwrap();
    let mut s = tls_connect(addr, &client_config(&p), "localhost");
    s.conn
        .writer()
        .write_all(b"GET /c HTTP/1.1\r\nHost: h\r\n\r\n")
        .unwrap();
    let mut wire = Vec::new();
    while s.conn.wants_write() {
        s.conn.write_tls(&mut wire).unwrap();
    }
    let last = wire.len() - 1;
    wire[last] ^= 0x55;
    s.sock.write_all(&wire).unwrap();
    // The server's alert (bad_record_mac), then the end of the stream.
    let mut back = Vec::new();
    let _ = s.sock.read_to_end(&mut back);
    let mut c = s.conn;
    let mut rd = &back[..];
    let alert = loop {
        match c.read_tls(&mut rd) {
            Ok(0) => break None,
            Ok(_) => {
                if let Err(e) = c.process_new_packets() {
                    break Some(e);
                }
            }
            Err(e) => panic!("{e}"),
        }
    };
    let e = alert.expect("an alert from the server");
    assert!(e.to_string().to_lowercase().contains("badrecordmac"), "{e}");
    let mut s2 = tls_connect(addr, &client_config(&p), "localhost");
    s2.write_all(b"GET /d HTTP/1.1\r\nHost: h\r\n\r\n").unwrap();
    let r = read_response(&mut s2, &mut Vec::new());
    assert_eq!(r.status, 200);
    server.shutdown().unwrap();
}

/// A frame written with `write_frame`: its bytes are encoded straight into
/// the TLS record being built (one record up to 16 KiB of plaintext,
/// staged and cut into records beyond).
#[derive(corering::frame::Frame, Debug)]
struct Data<'a> {
    seq: u64,
    #[frame(prefix = u32)]
    payload: &'a [u8],
}

/// Frame payload sizes: small, exactly one full record (8 + 4 + 16372),
/// and one that needs three records.
const FRAME_SIZES: [usize; 3] = [10, (16 << 10) - 12, 40_000];

fn payload(seq: u64, n: usize) -> Vec<u8> {
    (0..n).map(|i| (i as u64 * 7 + seq) as u8).collect()
}

async fn send_frames(mut conn: Connection) {
    for (seq, n) in FRAME_SIZES.iter().enumerate() {
        let p = payload(seq as u64, *n);
        let f = Data {
            seq: seq as u64,
            payload: &p,
        };
        if conn.write_frame(&f).await.is_err() {
            return;
        }
    }
    let _ = conn.shutdown_write().await;
}

#[test]
fn frames_encoded_in_place_into_records() {
    use corering::frame::{Decoded, Frame};
    let p = pki("records CA");
    let server = tls_builder(server_config(&p))
        .build()
        .expect("build")
        .start(send_frames)
        .expect("start");
    let mut s = tls_connect(server.tcp_addr().unwrap(), &client_config(&p), "localhost");
    let mut got = Vec::new();
    // Ends cleanly at the server's close_notify.
    s.read_to_end(&mut got).expect("read to close_notify");
    let mut at = 0;
    for (seq, n) in FRAME_SIZES.iter().enumerate() {
        let Ok(Decoded::Complete { frame, consumed }) = Data::decode(&got[at..]) else {
            panic!("frame {seq} incomplete or bad");
        };
        assert_eq!(frame.seq, seq as u64);
        assert!(
            frame.payload == payload(seq as u64, *n),
            "frame {seq} differs"
        );
        at += consumed;
    }
    assert_eq!(at, got.len(), "bytes after the frames");
    server.shutdown().unwrap();
}
