//! The kTLS setting: the probe's answer on this kernel shows in the
//! startup line, `Require` where the kernel (or this build) cannot do it
//! is a startup error saying why, `Off` says so, and sessions report the
//! mode they run in.

mod tls_common;

use corering::tls::{ktls_supported, Ktls, TlsInfo, TlsMode};
use tls_common::{pki, server_config, tls_builder};

fn builder(p: &tls_common::Pki, k: Ktls) -> corering::ServerBuilder {
    tls_builder(server_config(p)).ktls(k)
}

#[test]
fn the_startup_line_names_the_tls_mode() {
    let p = pki("ktls CA");
    let server = builder(&p, Ktls::Auto)
        .build()
        .unwrap()
        .start(|conn| async move { drop(conn) })
        .unwrap();
    let line = server.summary();
    match ktls_supported() {
        Err(why) => {
            println!("kTLS on this kernel: unavailable ({why})");
            assert!(
                line.contains(&format!("tls: rustls userspace (kTLS unavailable: {why})")),
                "{line}"
            );
        }
        Ok(()) => {
            println!("kTLS on this kernel: the tls ULP is there");
            assert!(
                line.contains("tls: rustls userspace (kTLS supported"),
                "{line}"
            );
        }
    }
    server.shutdown().unwrap();

    let off = builder(&p, Ktls::Off)
        .build()
        .unwrap()
        .start(|conn| async move { drop(conn) })
        .unwrap();
    assert!(
        off.summary().contains("tls: rustls userspace (kTLS off)"),
        "{}",
        off.summary()
    );
    off.shutdown().unwrap();
}

#[test]
fn require_without_kernel_tls_is_a_startup_error() {
    let p = pki("ktls CA");
    let e = builder(&p, Ktls::Require)
        .build()
        .err()
        .expect("Require cannot be met here");
    let msg = e.to_string();
    match ktls_supported() {
        Err(why) => assert!(
            msg.contains("kTLS required but unavailable") && msg.contains(why),
            "{msg}"
        ),
        Ok(()) => assert!(
            msg.contains("does not hand session keys to the kernel"),
            "{msg}"
        ),
    }
}

#[test]
fn sessions_report_userspace_mode() {
    use std::io::Write;
    let p = pki("ktls CA");
    let server = builder(&p, Ktls::Auto)
        .build()
        .unwrap()
        .start(|mut conn: corering::Connection| async move {
            let mode = conn.features().get::<TlsInfo>().map(|t| t.mode);
            let msg = format!("{mode:?}");
            let _ = conn.write_all(msg.as_bytes()).await;
            let _ = conn.shutdown_write().await;
        })
        .unwrap();
    let mut s = tls_common::tls_connect(
        server.tcp_addr().unwrap(),
        &tls_common::client_config(&p),
        "localhost",
    );
    s.flush().unwrap();
    let mut got = String::new();
    std::io::Read::read_to_string(&mut s, &mut got).unwrap();
    assert_eq!(got, format!("{:?}", Some(TlsMode::Userspace)));
    server.shutdown().unwrap();
}
