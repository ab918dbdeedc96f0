//! The proxy example end to end over TLS: curl speaks HTTPS to the proxy
//! (`--tls-cert/--tls-key`), which forwards to the hello example over an
//! `https://` upstream verified with `--upstream-ca`. Also: an upstream
//! the proxy does not trust is a `502` naming the reason, and the flags
//! are checked.

mod common;
mod tls_common;

use std::net::SocketAddr;
use std::process::{Child, Command, Output, Stdio};

use common::{example_binary, start_example};
use tls_common::{have_command, pki, s, Pki};

struct Kill(Child);

impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn curl(p: &Pki, addr: SocketAddr, args: &[&str]) -> Output {
    let resolve = format!("localhost:{}:127.0.0.1", addr.port());
    Command::new("curl")
        .args(["-sS", "--max-time", "20", "--cacert", s(&p.ca)])
        .args(["--resolve", &resolve])
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run curl")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// hello over HTTPS, and the proxy in front of it with `proxy_args`.
fn start_pair(p: &Pki, proxy_args: &[&str]) -> (Kill, Kill, SocketAddr) {
    let tls = ["--tls-cert", s(&p.cert), "--tls-key", s(&p.key)];
    let mut args = vec!["--addr", "127.0.0.1:0", "--workers", "1"];
    args.extend(tls);
    let (hello, up) = start_example("hello", &args);
    let hello = Kill(hello);
    let upstream = format!("https://localhost:{}", up.port());
    let mut args = vec!["--addr", "127.0.0.1:0", "--workers", "1"];
    args.extend(tls);
    args.extend(["--upstream", &upstream]);
    args.extend(proxy_args);
    let (proxy, addr) = start_example("proxy", &args);
    (hello, Kill(proxy), addr)
}

#[test]
fn https_in_front_and_an_https_upstream_behind() {
    if !have_command("curl") {
        return;
    }
    let p = pki("proxy CA");
    let (_hello, _proxy, addr) = start_pair(&p, &["--upstream-ca", s(&p.ca)]);
    let base = format!("https://localhost:{}", addr.port());
    // Two requests on one connection, then a 300 KB body both ways.
    let out = curl(
        &p,
        addr,
        &[&format!("{base}/plaintext"), &format!("{base}/json")],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "Hello, World!{\"message\":\"Hello, World!\"}"
    );
    let body: String = (0..300_000)
        .map(|i| (b'a' + (i % 26) as u8) as char)
        .collect();
    let file = p.dir.join("body.txt");
    std::fs::write(&file, &body).unwrap();
    let data = format!("@{}", s(&file));
    for extra in [&[][..], &["-H", "Transfer-Encoding: chunked"][..]] {
        let mut args = vec!["--data-binary", &data, "-H", "Content-Type: text/plain"];
        args.extend_from_slice(extra);
        let url = format!("{base}/echo");
        args.push(&url);
        let out = curl(&p, addr, &args);
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert!(
            out.stdout == body.as_bytes(),
            "300 KB echo through both TLS legs differs"
        );
    }
}

#[test]
fn an_untrusted_upstream_is_a_502_with_the_reason() {
    if !have_command("curl") {
        return;
    }
    let p = pki("proxy CA 2");
    // No --upstream-ca: the proxy trusts the public roots, not the test CA.
    let (_hello, _proxy, addr) = start_pair(&p, &[]);
    let out = curl(
        &p,
        addr,
        &[
            "-i",
            &format!("https://localhost:{}/plaintext", addr.port()),
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let resp = text(&out.stdout);
    assert!(resp.starts_with("HTTP/1.1 502"), "{resp}");
    assert!(resp.contains("UnknownIssuer"), "{resp}");
}

#[test]
fn proxy_tls_flags_are_checked() {
    let run = |args: &[&str]| {
        let out = Command::new(example_binary("proxy"))
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        (out.status.code(), text(&out.stderr))
    };
    let (code, err) = run(&["--upstream", "127.0.0.1:1", "--upstream-ca", "ca.pem"]);
    assert_eq!(code, Some(2));
    assert!(
        err.contains("--upstream-ca needs an https:// upstream"),
        "{err}"
    );
    let (code, err) = run(&["--upstream", "ftp://x:1"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("only http:// and https://"), "{err}");
    let (code, err) = run(&[
        "--upstream",
        "https://localhost:1",
        "--upstream-ca",
        "/nonexistent/ca.pem",
    ]);
    assert_eq!(code, Some(2));
    assert!(err.contains("/nonexistent/ca.pem"), "{err}");
    let (code, err) = run(&["--tls-cert", "c.pem"]);
    assert_eq!(code, Some(2));
    assert!(
        err.contains("--tls-cert and --tls-key go together"),
        "{err}"
    );
}
