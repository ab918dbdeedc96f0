//! corering's TLS client (`Connector::connect_tls` + `TlsConnector`) against
//! a corering TLS server: 1 MiB echoed byte-exact, `TlsInfo` on the client
//! side, a clean close_notify exchange, and clear errors for an untrusted
//! certificate and a name the certificate does not cover, after which the
//! server still serves.

mod common;
mod tls_common;

use common::echo_then_shutdown;

use std::time::Duration;

use common::http::run_client;
use common::random_bytes;
use corering::tls::{TlsConnector, TlsInfo};
use corering::{Connector, RunningServer};
use tls_common::{pki, server_config, tls_builder, trusting, Pki};

fn start(p: &Pki) -> RunningServer {
    tls_builder(server_config(p))
        .build()
        .expect("build")
        .start(echo_then_shutdown)
        .expect("start")
}

#[test]
fn connector_echoes_a_mebibyte_through_a_tls_server() {
    let p = pki("corering client CA");
    let server = start(&p);
    let addr = server.tcp_addr().unwrap();
    let tls = trusting(&p);
    let data = random_bytes(11, 1 << 20);
    let (got, info, end) = run_client(async {
        let mut conn = Connector::new()
            .connect_tls(addr, &tls, "localhost")
            .await
            .expect("connect_tls");
        let info = conn.features().get::<TlsInfo>().cloned().expect("TlsInfo");
        let mut got = Vec::with_capacity(data.len());
        for piece in data.chunks(100_000) {
            conn.write_all(piece).await.unwrap();
            let want = got.len() + piece.len();
            while got.len() < want {
                let lease = conn.read().await.unwrap().expect("echo ended early");
                got.extend_from_slice(&lease);
            }
        }
        // close_notify out; the server's close_notify ends our reads.
        conn.shutdown_write().await.unwrap();
        let end = conn.read().await.map(|l| l.map(|l| l.len()));
        (got, info, end)
    });
    assert!(got == data, "echo differs");
    assert_eq!(info.server_name.as_deref(), Some("localhost"));
    assert!(!info.peer_certificates.is_empty(), "server chain missing");
    assert_eq!(end.unwrap(), None, "stream did not end cleanly");
    server.shutdown().unwrap();
}

#[test]
fn untrusted_or_misnamed_certificates_are_clear_errors() {
    let p = pki("corering untrusted CA");
    let server = start(&p);
    let addr = server.tcp_addr().unwrap();
    let (untrusted, misnamed, good) = run_client(async {
        // The Mozilla roots do not include the test CA.
        let untrusted = Connector::new()
            .connect_tls(addr, &TlsConnector::new(), "localhost")
            .await
            .map(drop);
        let misnamed = Connector::new()
            .connect_tls(addr, &trusting(&p), "other.test")
            .await
            .map(drop);
        let mut conn = Connector::new()
            .connect_tls(addr, &trusting(&p), "localhost")
            .await
            .expect("good client");
        conn.write_all(b"still here").await.unwrap();
        let l = conn.read().await.unwrap().unwrap();
        (untrusted, misnamed, l.to_vec())
    });
    let e = untrusted.unwrap_err().to_string();
    assert!(
        e.contains("tls handshake with localhost failed") && e.contains("invalid peer certificate"),
        "{e}"
    );
    assert!(e.contains("UnknownIssuer"), "{e}");
    let e = misnamed.unwrap_err().to_string();
    assert!(
        e.contains("certificate not valid for name \"other.test\""),
        "{e}"
    );
    assert_eq!(good, b"still here");
    // The server saw two failed handshakes (the client's alerts).
    let t0 = std::time::Instant::now();
    while server.total_stats().tls_handshake_failures < 2 {
        assert!(
            t0.elapsed() < Duration::from_secs(10),
            "failures not counted"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    server.shutdown().unwrap();
}

#[test]
fn ca_file_errors_name_the_file() {
    let e = TlsConnector::builder()
        .ca_file("/nonexistent/ca.pem")
        .unwrap_err()
        .to_string();
    assert!(e.contains("/nonexistent/ca.pem"), "{e}");
    let p = pki("x");
    let e = TlsConnector::builder()
        .ca_file(&p.key)
        .unwrap_err()
        .to_string();
    assert!(e.contains("key.pem") && e.contains("no certificate"), "{e}");
    let e = corering::tls::server_config_from_pem(&p.cert, "/nonexistent/key.pem")
        .unwrap_err()
        .to_string();
    assert!(e.contains("/nonexistent/key.pem"), "{e}");
    let e = corering::tls::server_config_from_pem(&p.key, &p.key)
        .unwrap_err()
        .to_string();
    assert!(e.contains("key.pem") && e.contains("no certificate"), "{e}");
}
