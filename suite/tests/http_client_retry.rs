//! When the HTTP client resends a request whose pooled keep-alive
//! connection turned out to be closed: only an idempotent request
//! (RFC 9110 §9.2.2), or one that provably never left. The server is a raw
//! `std::net::TcpListener` in this process that counts every request it
//! receives, so the tests see from the server's side what was resent.

mod common;

use common::http::{run_client as run, test_client};

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::thread;
use std::time::Duration;

use corering::http::client::{self, Client, ClientErrorKind, ClientRequest};
use corering::http::{Method, Status};

/// What the server does with a kept-alive connection.
#[derive(Clone, Copy)]
enum Mode {
    /// Answers the first request of each connection; reads the second,
    /// counts it and closes without answering (as a server whose
    /// keep-alive timeout fires just as the request arrives).
    DropSecond,
    /// Answers each connection's first request, then closes it at once
    /// (without saying `Connection: close`) and reports that on a channel.
    CloseAfterResponse,
}

/// The counting server.
struct Counting {
    addr: SocketAddr,
    /// Connections accepted.
    accepted: Arc<AtomicUsize>,
    /// Requests received, by `"METHOD target"`.
    arrivals: Arc<Mutex<HashMap<String, usize>>>,
    /// One message per connection closed in `CloseAfterResponse` mode.
    closed: mpsc::Receiver<()>,
}

impl Counting {
    fn start(mode: Mode) -> Counting {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        let accepted = Arc::new(AtomicUsize::new(0));
        let arrivals = Arc::new(Mutex::new(HashMap::new()));
        let (tx, closed) = mpsc::channel();
        let (count, seen) = (accepted.clone(), arrivals.clone());
        thread::spawn(move || {
            for s in l.incoming() {
                let Ok(s) = s else { return };
                count.fetch_add(1, Ordering::SeqCst);
                let (seen, tx) = (seen.clone(), tx.clone());
                thread::spawn(move || serve(s, mode, &seen, &tx));
            }
        });
        Counting {
            addr,
            accepted,
            arrivals,
            closed,
        }
    }

    /// How many times `"METHOD target"` arrived.
    fn arrivals(&self, request: &str) -> usize {
        self.arrivals
            .lock()
            .unwrap()
            .get(request)
            .copied()
            .unwrap_or(0)
    }
}

/// Serves one connection in `mode`.
fn serve(
    mut s: TcpStream,
    mode: Mode,
    seen: &Mutex<HashMap<String, usize>>,
    closed: &mpsc::Sender<()>,
) {
    s.set_read_timeout(Some(common::IO_TIMEOUT)).unwrap();
    let mut buf = Vec::new();
    let mut nth = 0;
    while let Some(line) = read_request(&mut s, &mut buf) {
        let head_request = line.starts_with("HEAD ");
        *seen.lock().unwrap().entry(line).or_default() += 1;
        if nth > 0 {
            // DropSecond: the second request is read and never answered.
            return;
        }
        let body = if head_request { "" } else { "ok" };
        let resp = format!("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{body}");
        if s.write_all(resp.as_bytes()).is_err() {
            return;
        }
        if let Mode::CloseAfterResponse = mode {
            let _ = s.shutdown(Shutdown::Both);
            drop(s);
            let _ = closed.send(());
            return;
        }
        nth += 1;
    }
}

/// Reads one request (head and `Content-Length` body); returns its
/// `"METHOD target"`, or `None` at the end of the connection.
fn read_request(s: &mut TcpStream, buf: &mut Vec<u8>) -> Option<String> {
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end + 4]).into_owned();
            let len = head
                .lines()
                .find_map(|l| {
                    let (n, v) = l.split_once(':')?;
                    n.eq_ignore_ascii_case("content-length")
                        .then(|| v.trim().parse::<usize>().ok())?
                })
                .unwrap_or(0);
            while buf.len() < end + 4 + len {
                let n = s.read(&mut chunk).ok().filter(|&n| n > 0)?;
                buf.extend_from_slice(&chunk[..n]);
            }
            buf.drain(..end + 4 + len);
            let mut words = head.split(' ');
            let method = words.next()?;
            let target = words.next()?;
            return Some(format!("{method} {target}"));
        }
        let n = s.read(&mut chunk).ok().filter(|&n| n > 0)?;
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// Sends `method target` with a small body; the status or the error kind.
async fn send(
    c: &Client,
    addr: SocketAddr,
    method: Method,
    target: &str,
) -> Result<Status, ClientErrorKind> {
    let req = ClientRequest::new(method, target).body("payload");
    match c.send(addr, &req).await {
        Ok(r) => {
            let status = r.status();
            r.text().await.map_err(|e| e.kind())?;
            Ok(status)
        }
        Err(e) => Err(e.kind()),
    }
}

#[test]
fn post_and_patch_that_reached_a_closing_connection_are_not_resent() {
    let srv = Counting::start(Mode::DropSecond);
    let addr = srv.addr;
    run(async {
        let c = test_client();
        for (method, first, second) in [
            (Method::Post, "/post-1", "/post-2"),
            (Method::Patch, "/patch-1", "/patch-2"),
        ] {
            assert_eq!(send(&c, addr, method, first).await, Ok(Status::OK));
            assert_eq!(
                client::idle_count(),
                1,
                "the connection went back to the pool"
            );
            // Sent on the pooled connection, which the server closes
            // without answering: the request may have been processed.
            let req = ClientRequest::new(method, second).body("payload");
            let e = c.send(addr, &req).await.unwrap_err();
            assert_eq!(e.kind(), ClientErrorKind::MaybeProcessed, "{e}");
            assert!(e.may_have_been_processed());
            assert!(e.to_string().contains("not resent"), "{e}");
        }
    });
    assert_eq!(srv.arrivals("POST /post-2"), 1, "the POST was resent");
    assert_eq!(srv.arrivals("PATCH /patch-2"), 1, "the PATCH was resent");
    assert_eq!(srv.accepted.load(Ordering::SeqCst), 2);
}

#[test]
fn idempotent_requests_on_a_closing_connection_are_resent() {
    let srv = Counting::start(Mode::DropSecond);
    let addr = srv.addr;
    let methods = [
        Method::Get,
        Method::Head,
        Method::Put,
        Method::Delete,
        Method::Options,
        Method::Trace,
    ];
    run(async {
        let c = test_client();
        for m in methods {
            // Each method starts on a new connection.
            client::close_idle();
            let first = format!("/{m}-1");
            let second = format!("/{m}-2");
            assert_eq!(send(&c, addr, m, &first).await, Ok(Status::OK), "{m}");
            assert_eq!(client::idle_count(), 1, "{m}: pooled");
            // The pooled connection is dropped by the server: sent again
            // on a new connection, where it is answered.
            assert_eq!(send(&c, addr, m, &second).await, Ok(Status::OK), "{m}");
        }
    });
    for m in methods {
        assert_eq!(srv.arrivals(&format!("{m} /{m}-1")), 1, "{m}");
        assert_eq!(srv.arrivals(&format!("{m} /{m}-2")), 2, "{m} not resent");
    }
    // One connection per method for the first two requests, one more for
    // each resend.
    assert_eq!(srv.accepted.load(Ordering::SeqCst), 2 * methods.len());
}

#[test]
fn a_post_whose_pooled_connection_is_found_closed_goes_on_a_new_one() {
    let srv = Counting::start(Mode::CloseAfterResponse);
    let addr = srv.addr;
    run(async {
        let c = test_client();
        assert_eq!(send(&c, addr, Method::Post, "/a").await, Ok(Status::OK));
        // The server closed right after its response; once the client's
        // worker has seen the end of the stream, the pooled connection is
        // known closed before anything is written, and the POST goes
        // out once, on a new connection.
        srv.closed
            .recv_timeout(common::IO_TIMEOUT)
            .expect("server closed");
        corering::time::sleep(Duration::from_millis(200)).await;
        assert_eq!(send(&c, addr, Method::Post, "/b").await, Ok(Status::OK));
    });
    assert_eq!(srv.arrivals("POST /a"), 1);
    assert_eq!(srv.arrivals("POST /b"), 1);
    assert_eq!(srv.accepted.load(Ordering::SeqCst), 2);
}

#[test]
fn a_post_racing_a_close_after_response_arrives_at_most_once() {
    // The server closes right after each response, and the next POST
    // follows at once: whether the client notices the close before
    // writing is a race, but either way the POST is never sent twice.
    let srv = Counting::start(Mode::CloseAfterResponse);
    let addr = srv.addr;
    let rounds = 20;
    run(async {
        let c = test_client();
        for i in 0..rounds {
            match send(&c, addr, Method::Post, &format!("/r{i}")).await {
                Ok(s) => assert_eq!(s, Status::OK),
                Err(k) => assert_eq!(k, ClientErrorKind::MaybeProcessed, "round {i}"),
            }
        }
    });
    for i in 0..rounds {
        assert!(
            srv.arrivals(&format!("POST /r{i}")) <= 1,
            "round {i} resent"
        );
    }
}
