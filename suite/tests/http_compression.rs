//! The `Compression` layer's Brotli and Zstandard (features `brotli` and
//! `zstd`, on for the suite), decoded by curl (`--compressed` takes gzip,
//! br and zstd in curl 7.88+ built with them): which coding each
//! `Accept-Encoding` gets, and that the body comes back whole.
//!
//! Prints `SKIP:` and passes where curl is missing or was built without
//! brotli or zstd (fails instead under CI, which installs it).

mod common;

use std::net::SocketAddr;
use std::process::{Command, Stdio};

use common::http::start_http;
use corering::http::layer::Compression;
use corering::http::{Http1Config, Response};
use corering::prelude::*;

#[get("/report")]
async fn report() -> Response {
    Response::json(body())
}

/// A JSON body that compresses well (and must come back byte for byte).
fn body() -> String {
    let rows: Vec<String> = (0..400)
        .map(|i| format!(r#"{{"id":{i},"name":"item {i}","done":{}}}"#, i % 3 == 0))
        .collect();
    format!("[{}]", rows.join(","))
}

/// True if curl runs and decodes both codings; otherwise `SKIP:` (or a
/// failure under CI).
fn have_curl() -> bool {
    let out = Command::new("curl")
        .arg("--version")
        .stderr(Stdio::null())
        .output();
    let features = out
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).to_ascii_lowercase());
    let ok = features
        .as_deref()
        .is_some_and(|f| f.contains("brotli") && f.contains("zstd"));
    if !ok {
        assert!(
            std::env::var_os("CI").is_none(),
            "curl with brotli and zstd is required in CI"
        );
        eprintln!("SKIP: curl with brotli and zstd not found (apt-get install curl)");
    }
    ok
}

/// What curl saw: the `Content-Encoding` (lowercase) and the body, decoded
/// when `decode`.
fn curl(addr: SocketAddr, accept: Option<&str>, decode: bool) -> (Option<String>, Vec<u8>) {
    let mut cmd = Command::new("curl");
    cmd.args(["-sS", "--max-time", "20", "-D", "/dev/stderr", "-o", "-"]);
    if decode {
        cmd.arg("--compressed");
    }
    if let Some(a) = accept {
        cmd.args(["-H", &format!("Accept-Encoding: {a}")]);
    }
    let out = cmd
        .arg(format!("http://{addr}/report"))
        .stdin(Stdio::null())
        .output()
        .expect("run curl");
    assert!(out.status.success(), "curl: {out:?}");
    let head = String::from_utf8_lossy(&out.stderr).to_ascii_lowercase();
    assert!(head.starts_with("http/1.1 200"), "{head}");
    let coding = head
        .lines()
        .find_map(|l| l.strip_prefix("content-encoding:"))
        .map(|v| v.trim().to_owned());
    (coding, out.stdout)
}

#[test]
fn curl_decodes_brotli_and_zstd_chosen_by_accept_encoding() {
    if !have_curl() {
        return;
    }
    let app = routes![report].layer(Compression::new());
    let (_s, addr) = start_http(common::builder().workers(1), Http1Config::new(), app);
    let want = body();

    // curl --compressed offers `deflate, gzip, br, zstd`, all weight 1:
    // Brotli, the first by preference.
    let (coding, got) = curl(addr, None, true);
    assert_eq!(coding.as_deref(), Some("br"));
    assert_eq!(String::from_utf8(got).unwrap(), want);

    // Weights decide; the body is decoded whichever is chosen.
    for (accept, expect) in [
        ("zstd", Some("zstd")),
        ("br", Some("br")),
        ("gzip, zstd", Some("zstd")),
        ("br;q=0.5, zstd;q=0.9, gzip;q=0.7", Some("zstd")),
        ("br;q=0.5, gzip", Some("gzip")),
        ("zstd;q=0, br;q=0, *;q=0.3", Some("gzip")),
        ("*", Some("br")),
        ("identity", None),
        ("br;q=0, zstd;q=0, gzip;q=0", None),
    ] {
        let (coding, got) = curl(addr, Some(accept), true);
        assert_eq!(coding.as_deref(), expect, "{accept}");
        assert_eq!(String::from_utf8(got).unwrap(), want, "{accept}");
    }

    // On the wire, each is really compressed (and smaller than the body).
    for (accept, magic) in [("br", None), ("zstd", Some(&[0x28, 0xb5, 0x2f, 0xfd][..]))] {
        let (coding, raw) = curl(addr, Some(accept), false);
        assert_eq!(coding.as_deref(), Some(accept));
        assert!(raw.len() < want.len() / 4, "{accept}: {} bytes", raw.len());
        if let Some(m) = magic {
            assert_eq!(&raw[..4], m, "{accept} frame magic");
        }
    }
}
