//! HTTPS checked by command-line clients nobody here wrote: curl (TLS 1.3
//! and 1.2, `--cacert`, 300 KB bodies both framings, connection reuse)
//! and `openssl s_client` (verify OK, ALPN http/1.1), against a corering
//! server and against the `hello` example run with `--tls-cert/--tls-key`.
//! A missing tool prints a `skip:` line and the test returns.

mod common;
mod tls_common;

use std::net::SocketAddr;
use std::process::{Command, Output, Stdio};

use common::random_bytes;
use corering::http::{self, Http1Config, Request, Response, Status};
use corering::RunningServer;
use tls_common::{have_command, pki, s, server_config, tls_builder, Pki};

const BIG: usize = 300 * 1024;

async fn app(mut req: Request<'_>) -> Response {
    match req.path() {
        "/plaintext" => Response::text("Hello, World!"),
        "/echo" => match req.body().await {
            Ok(b) => Response::new(Status::OK).body(b.to_vec()),
            Err(_) => Response::new(Status::BAD_REQUEST),
        },
        "/big-chunked" => {
            let Ok(mut out) = req.stream(Response::new(Status::OK)).await else {
                return Response::new(Status::INTERNAL_SERVER_ERROR);
            };
            for piece in random_bytes(3, BIG).chunks(9_000) {
                if out.write(piece).await.is_err() {
                    break;
                }
            }
            out.finish().await
        }
        _ => Response::new(Status::NOT_FOUND),
    }
}

fn start(p: &Pki) -> (RunningServer, SocketAddr) {
    let cfg = Http1Config::new();
    let server = tls_builder(server_config(p))
        .build()
        .expect("build")
        .start(move |conn| http::serve(conn, cfg, app))
        .expect("start");
    let a = server.tcp_addr().unwrap();
    (server, a)
}

/// curl against `https://localhost:PORT` (resolved to 127.0.0.1), trusting
/// the test CA, with `args` appended.
fn curl(p: &Pki, addr: SocketAddr, args: &[&str]) -> Output {
    let resolve = format!("localhost:{}:127.0.0.1", addr.port());
    Command::new("curl")
        .args([
            "-sS",
            "-v",
            "--max-time",
            "20",
            "--cacert",
            s(&p.ca),
            "--resolve",
            &resolve,
        ])
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run curl")
}

fn url(addr: SocketAddr, path: &str) -> String {
    format!("https://localhost:{}{path}", addr.port())
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn curl_tls13_and_tls12_with_big_bodies_and_reuse() {
    if !have_command("curl") {
        return;
    }
    let p = pki("corering curl CA");
    let (server, addr) = start(&p);
    let body = p.dir.join("body.bin");
    let data = random_bytes(4, BIG);
    std::fs::write(&body, &data).unwrap();
    let at_body = format!("@{}", s(&body));

    for (version, args) in [
        ("TLSv1.3", &["--tlsv1.3"][..]),
        ("TLSv1.2", &["--tlsv1.2", "--tls-max", "1.2"][..]),
    ] {
        // GET twice in one curl run: the second reuses the connection.
        let plain = url(addr, "/plaintext");
        let mut a = args.to_vec();
        a.extend([plain.as_str(), plain.as_str()]);
        let out = curl(&p, addr, &a);
        let err = text(&out.stderr);
        assert!(out.status.success(), "{version}: curl failed: {err}");
        assert_eq!(text(&out.stdout), "Hello, World!Hello, World!");
        assert!(
            err.contains(&format!("SSL connection using {version}")),
            "{err}"
        );
        assert!(err.contains("ALPN: server accepted http/1.1"), "{err}");
        assert!(
            err.contains("Re-using existing connection")
                || err.contains("Reusing existing connection"),
            "{version}: second request did not reuse the connection: {err}"
        );

        // 300 KB up with Content-Length, and chunked; 300 KB down chunked.
        let echo = url(addr, "/echo");
        let mut a = args.to_vec();
        a.extend(["--data-binary", at_body.as_str(), echo.as_str()]);
        let out = curl(&p, addr, &a);
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert!(
            out.stdout == data,
            "{version}: Content-Length upload differs"
        );

        let mut a = args.to_vec();
        a.extend([
            "-H",
            "Transfer-Encoding: chunked",
            "--data-binary",
            at_body.as_str(),
            echo.as_str(),
        ]);
        let out = curl(&p, addr, &a);
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert!(text(&out.stderr).contains("Transfer-Encoding: chunked"));
        assert!(out.stdout == data, "{version}: chunked upload differs");

        let big = url(addr, "/big-chunked");
        let mut a = args.to_vec();
        a.push(big.as_str());
        let out = curl(&p, addr, &a);
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert!(
            out.stdout == random_bytes(3, BIG),
            "{version}: chunked download differs"
        );
    }
    server.shutdown().unwrap();
}

/// `openssl s_client`: sends a request and waits for the server to close.
fn s_client(p: &Pki, addr: SocketAddr) -> Output {
    use std::io::Write;
    let mut child = Command::new("openssl")
        .args([
            "s_client",
            "-connect",
            &addr.to_string(),
            "-servername",
            "localhost",
        ])
        .args([
            "-CAfile",
            s(&p.ca),
            "-verify_return_error",
            "-alpn",
            "http/1.1",
            "-ign_eof",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run openssl");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"GET /plaintext HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn openssl_s_client_verifies_and_negotiates_alpn() {
    if !have_command("openssl") {
        return;
    }
    let p = pki("corering openssl CA");
    let (server, addr) = start(&p);
    let out = s_client(&p, addr);
    let all = text(&out.stdout) + &text(&out.stderr);
    assert!(all.contains("Verify return code: 0 (ok)"), "{all}");
    assert!(all.contains("ALPN protocol: http/1.1"), "{all}");
    assert!(all.contains("Hello, World!"), "{all}");
    server.shutdown().unwrap();
}

/// The hello example serves HTTPS with `--tls-cert/--tls-key`: same routes,
/// an `https://` startup line naming the TLS mode.
#[test]
fn hello_example_serves_https_with_pem_flags() {
    if !have_command("curl") {
        return;
    }
    let p = pki("corering hello CA");
    let (mut child, addr, line) = start_hello(&[
        "--addr",
        "127.0.0.1:0",
        "--workers",
        "1",
        "--tls-cert",
        s(&p.cert),
        "--tls-key",
        s(&p.key),
    ]);
    assert!(line.contains("https://127.0.0.1:"), "{line}");
    assert!(line.contains("tls: rustls userspace"), "{line}");
    let out = curl(&p, addr, &[&url(addr, "/json")]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), r#"{"message":"Hello, World!"}"#);
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn hello_example_refuses_half_the_tls_flags() {
    let out = Command::new(common::example_binary("hello"))
        .args(["--addr", "127.0.0.1:0", "--tls-cert", "/nonexistent.pem"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains("--tls-cert and --tls-key go together"),
        "{err}"
    );

    let out = Command::new(common::example_binary("hello"))
        .args([
            "--addr",
            "127.0.0.1:0",
            "--tls-cert",
            "/nonexistent/c.pem",
            "--tls-key",
            "/nonexistent/k.pem",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("/nonexistent/c.pem"),
        "error does not name the file: {err}"
    );
}

/// Starts the hello example; returns it, its address and its startup line.
fn start_hello(args: &[&str]) -> (std::process::Child, SocketAddr, String) {
    use std::io::BufRead;
    let mut child = Command::new(common::example_binary("hello"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .expect("start hello");
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            let _ = tx.send(line);
        }
    });
    loop {
        let Ok(line) = rx.recv_timeout(std::time::Duration::from_secs(60)) else {
            let _ = child.kill();
            let _ = child.wait();
            panic!("hello did not say where it listens");
        };
        if let Some(rest) = line.split("listening on ").nth(1) {
            let addr = rest.split([' ', ',']).next().unwrap().parse().unwrap();
            return (child, addr, line);
        }
    }
}
