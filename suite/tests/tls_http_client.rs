//! The HTTP client over TLS: `https://` URLs and `Peer::https` against a
//! corering HTTPS server and against `openssl s_server` (a server nobody
//! here wrote); certificate verification against the client's roots;
//! keep-alive reuse; and a pool that never hands a connection verified
//! under one TLS configuration to a client with another.

mod common;
mod tls_common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::http::run_client;
use corering::http::client::{
    close_idle, idle_count, Client, ClientErrorKind, ClientRequest, Peer,
};
use corering::http::{self, Http1Config, Request, Response};
use corering::RunningServer;
use tls_common::{have_command, pki, s, server_config, tls_builder, trusting, Pki};

async fn handle(mut req: Request<'_>) -> Response {
    let host = req.host().to_string();
    let sni = req
        .connection()
        .features()
        .get::<corering::tls::TlsInfo>()
        .and_then(|i| i.server_name.clone())
        .unwrap_or_default();
    let body = req.body().await.map(|b| b.len()).unwrap_or(0);
    Response::text(format!("host={host} sni={sni} body={body}"))
}

fn start(p: &Pki) -> RunningServer {
    tls_builder(server_config(p))
        .build()
        .expect("build")
        .start(|conn| http::serve(conn, Http1Config::default(), handle))
        .expect("start")
}

fn accepted(server: &RunningServer) -> u64 {
    server.stats().iter().map(|w| w.accepted).sum()
}

#[test]
fn https_urls_verify_send_sni_and_reuse_connections() {
    let p = pki("client https CA");
    let server = start(&p);
    let port = server.tcp_addr().unwrap().port();
    let client = Client::new().tls(trusting(&p));
    let texts = run_client(async {
        let mut out = Vec::new();
        for i in 0..3 {
            let url = format!("https://localhost:{port}/n{i}");
            let r = client.get_url(&url).await.expect("https GET");
            assert_eq!(r.status().as_u16(), 200);
            out.push(r.text().await.unwrap());
        }
        // A body of 300 KB goes up intact (the server reports its length).
        let peer = Peer::https(server.tcp_addr().unwrap(), "localhost");
        let big = vec![b'x'; 300_000];
        let r = client
            .send_to(&peer, &ClientRequest::post("/up", big))
            .await
            .expect("https POST");
        out.push(r.text().await.unwrap());
        close_idle();
        out
    });
    for t in &texts[..3] {
        assert_eq!(t, &format!("host=localhost:{port} sni=localhost body=0"));
    }
    assert_eq!(
        texts[3],
        format!("host=localhost:{port} sni=localhost body=300000")
    );
    assert_eq!(
        accepted(&server),
        1,
        "one TLS connection served every request"
    );
    server.shutdown().unwrap();
}

#[test]
fn an_untrusted_server_is_a_clear_connect_error_and_the_server_goes_on() {
    let p = pki("client https CA 2");
    let server = start(&p);
    let port = server.tcp_addr().unwrap().port();
    let url = format!("https://localhost:{port}/");
    let (bad, good) = run_client(async {
        // The default client trusts the public roots, not this test's CA.
        let bad = Client::new().get_url(&url).await.map(|_| ());
        let good = Client::new().tls(trusting(&p)).get_url(&url).await;
        let good = good.expect("trusted").text().await.unwrap();
        close_idle();
        (bad, good)
    });
    let e = bad.expect_err("untrusted certificate accepted");
    assert_eq!(e.kind(), ClientErrorKind::Connect);
    let msg = e.to_string();
    assert!(
        msg.contains("localhost") && msg.contains("UnknownIssuer"),
        "error names the server and the reason: {msg}"
    );
    assert!(good.starts_with("host=localhost"));
    server.shutdown().unwrap();
}

#[test]
fn pooled_connections_are_kept_apart_by_tls_configuration() {
    let p = pki("client https CA 3");
    let server = start(&p);
    let port = server.tcp_addr().unwrap().port();
    let url = format!("https://localhost:{port}/");
    let (a, b) = (
        Client::new().tls(trusting(&p)),
        Client::new().tls(trusting(&p)),
    );
    let idle = run_client(async {
        a.get_url(&url).await.unwrap().text().await.unwrap();
        a.get_url(&url).await.unwrap().text().await.unwrap();
        // Another configuration, even with the same roots, gets its own.
        b.get_url(&url).await.unwrap().text().await.unwrap();
        // The same host reached by another name is another peer as well.
        let peer = Peer::https(server.tcp_addr().unwrap(), "example.test");
        let t = b
            .send_to(&peer, &ClientRequest::get("/"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert_eq!(
            t,
            format!("host=example.test:{port} sni=example.test body=0")
        );
        let idle = idle_count();
        close_idle();
        idle
    });
    assert_eq!(accepted(&server), 3);
    assert_eq!(idle, 3);
    server.shutdown().unwrap();
}

/// `openssl s_server -www` on a free port, serving `p`'s certificate.
fn openssl_server(p: &Pki) -> Option<(Child, u16)> {
    if !have_command("openssl") {
        return None;
    }
    for _ in 0..5 {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut child = Command::new("openssl")
            .args(["s_server", "-www", "-quiet", "-accept"])
            .arg(port.to_string())
            .args(["-cert", s(&p.cert), "-key", s(&p.key)])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("openssl s_server");
        // Ready once the port accepts.
        let t0 = std::time::Instant::now();
        while t0.elapsed() < Duration::from_secs(10) {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Some((child, port));
            }
            if let Ok(Some(_)) = child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        let _ = child.wait();
        if let Some(err) = child.stderr.take() {
            for l in BufReader::new(err).lines().map_while(Result::ok).take(5) {
                eprintln!("openssl s_server: {l}");
            }
        }
    }
    panic!("openssl s_server did not start");
}

#[test]
fn the_client_reads_a_response_from_openssl_s_server() {
    let p = pki("client https CA 4");
    let Some((mut child, port)) = openssl_server(&p) else {
        return;
    };
    let client = Client::new().tls(trusting(&p));
    let r = run_client(async {
        let r = client
            .get_url(&format!("https://localhost:{port}/"))
            .await
            .map_err(|e| e.to_string());
        let r = match r {
            Ok(resp) => {
                let status = resp.status().as_u16();
                resp.text()
                    .await
                    .map(|t| (status, t))
                    .map_err(|e| e.to_string())
            }
            Err(e) => Err(e),
        };
        close_idle();
        r
    });
    let _ = child.kill();
    let _ = child.wait();
    let (status, text) = r.expect("response from openssl s_server");
    assert_eq!(status, 200);
    // s_server -www answers with a page describing the session.
    assert!(text.contains("Ciphers"), "unexpected page: {text}");
    assert!(text.contains("TLSv1.3"), "negotiated TLS 1.3: {text}");
}
