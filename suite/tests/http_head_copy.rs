//! A long pipelined stream of requests is parsed in place: only heads cut
//! by the end of a receive buffer are copied, so the bytes copied stay a
//! small fraction of the bytes received. (Its own test binary: the count
//! it reads is the whole process's.)

mod common;

use std::io::Write;
use std::thread;

use common::builder;
use common::http::{connect, read_response};
use corering::http::{Http1Config, Request, Response};

async fn handler(req: Request<'_>) -> Response {
    Response::text(req.target().to_owned())
}

#[test]
fn a_pipelined_stream_is_parsed_in_place() {
    const COUNT: usize = 100_000;
    let (_srv, addr) = common::http::start_http(
        builder().workers(1).recv_buffers(256, 4096),
        Http1Config::new(),
        handler,
    );
    let mut stream = Vec::new();
    for i in 0..COUNT {
        stream.extend_from_slice(
            format!("GET /plaintext/{i} HTTP/1.1\r\nHost: localhost\r\nAccept: */*\r\n\r\n")
                .as_bytes(),
        );
    }
    let sent = stream.len();
    let before = corering::http::bytes_assembled();
    let mut s = connect(addr);
    let mut w = s.try_clone().unwrap();
    let writer = thread::spawn(move || {
        let mut at = 0;
        // Odd sizes, so that heads are cut at every offset.
        for &n in [4093, 65521, 8191, 12289, 30011].iter().cycle() {
            if at == stream.len() {
                break;
            }
            let end = (at + n).min(stream.len());
            w.write_all(&stream[at..end]).unwrap();
            at = end;
        }
    });
    let mut buf = Vec::new();
    for i in 0..COUNT {
        let r = read_response(&mut s, &mut buf, false);
        assert_eq!(r.status, 200);
        assert_eq!(r.body, format!("/plaintext/{i}").as_bytes(), "request {i}");
    }
    writer.join().unwrap();
    let copied = corering::http::bytes_assembled() - before;
    // About one head (~60 bytes) per 4 KiB lease that cuts one: ~1.5%.
    // Copying the leases after a cut head whole would be ~100%.
    assert!(
        (copied as f64) < sent as f64 * 0.05,
        "copied {copied} of {sent} bytes received"
    );
    eprintln!("copied {copied} of {sent} bytes received");
}
