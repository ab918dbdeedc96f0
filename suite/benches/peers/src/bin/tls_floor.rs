//! The floor of the `tls_load` bench: the least a TLS server with userspace rustls does on
//! this machine, with no HTTP. tokio's current-thread runtime (one thread), tokio-rustls
//! with the same configuration as `hyper_tls_hello` (ring provider, rustls' defaults, ALPN
//! `http/1.1`).
//!
//! As `uring_floor` does over plain TCP, it does not parse HTTP: it counts `\r\n\r\n`
//! request terminators in the decrypted bytes (across reads) and answers all requests
//! that one read completed with one write of pre-built responses (`200 OK`,
//! `Content-Length: 13`, `Content-Type: text/plain`, a `Date` fixed at start, `Hello,
//! World!`), then a flush. A read holding `Connection: close` (the handshake load) is
//! answered with `Connection: close` on its last response, then `close_notify` and the
//! socket is shut down.
//!
//! `tls_floor --addr 127.0.0.1:8443 --cert CERT.pem --key KEY.pem` prints
//! `listening on ADDR` once bound.

use std::rc::Rc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_rustls::TlsAcceptor;

use corering_http_peers::tls::tls_args_and_acceptor;
use corering_http_peers::tokio_serve::serve_tcp;
use corering_http_peers::{exit_on_sigterm, BODY};

/// Most responses one write carries.
const MAX_BATCH: usize = 256;

/// The pre-built answers: `MAX_BATCH` keep-alive responses, and one with
/// `Connection: close`.
struct Answers {
    keep_alive: Vec<u8>,
    one: usize,
    close: Vec<u8>,
}

impl Answers {
    fn new() -> Answers {
        let date = httpdate::fmt_http_date(std::time::SystemTime::now());
        let head = |extra: &str| {
            format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nContent-Type: text/plain\r\n\
                 Date: {date}\r\n{extra}\r\n",
                BODY.len()
            )
        };
        let mut one = head("").into_bytes();
        one.extend_from_slice(BODY);
        let mut close = head("Connection: close\r\n").into_bytes();
        close.extend_from_slice(BODY);
        Answers {
            keep_alive: one.repeat(MAX_BATCH),
            one: one.len(),
            close,
        }
    }
}

/// Counts request terminators in `data`; `matched` carries a partial `\r\n\r\n` across
/// reads.
fn count_requests(data: &[u8], matched: &mut u8) -> usize {
    const END: &[u8; 4] = b"\r\n\r\n";
    let mut n = 0;
    for &b in data {
        if b == END[*matched as usize] {
            *matched += 1;
            if *matched == 4 {
                n += 1;
                *matched = 0;
            }
        } else {
            *matched = u8::from(b == b'\r');
        }
    }
    n
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

async fn serve(
    acceptor: TlsAcceptor,
    stream: tokio::net::TcpStream,
    answers: Rc<Answers>,
) -> std::io::Result<()> {
    let mut tls = acceptor.accept(stream).await?;
    let mut buf = vec![0u8; 64 << 10];
    let mut matched = 0u8;
    loop {
        let n = tls.read(&mut buf).await?;
        if n == 0 {
            return Ok(());
        }
        let mut owed = count_requests(&buf[..n], &mut matched);
        let close = owed > 0 && contains(&buf[..n], b"\r\nConnection: close\r\n");
        if close {
            owed -= 1;
        }
        while owed > 0 {
            let k = owed.min(MAX_BATCH);
            tls.write_all(&answers.keep_alive[..k * answers.one])
                .await?;
            owed -= k;
        }
        if close {
            tls.write_all(&answers.close).await?;
            return tls.shutdown().await;
        }
        tls.flush().await?;
    }
}

fn main() {
    let (addr, acceptor) = tls_args_and_acceptor("tls_floor");
    exit_on_sigterm();
    let answers = Rc::new(Answers::new());
    serve_tcp("tls_floor", addr, |stream| {
        let (acceptor, answers) = (acceptor.clone(), answers.clone());
        tokio::task::spawn_local(async move {
            let _ = serve(acceptor, stream, answers).await;
        });
    });
}
