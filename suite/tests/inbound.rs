//! `Inbound`, the receive buffer under every protocol reader, from the
//! outside: a length-prefixed protocol written on it directly is read in
//! place, and only messages that span leases are copied; leases a layer
//! hands up from the heap read the same; `need_by` gives up at its
//! deadline; and an upgraded HTTP connection hands its `Inbound` over with
//! the bytes that arrived with the request, uncopied. The peers are plain
//! std sockets; what the server saw comes back over the socket.

mod common;

use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::time::{Duration, Instant};

use common::{builder, connect, random_bytes, read_all, Rng, IO_TIMEOUT};
use corering::http::{Http1Config, Request, Response, Status, Upgraded};
use corering::pipeline::{Middleware, Refused, Side};
use corering::{Connection, Inbound, Layer, LayerIo, Lease};

/// Reads `[u16 length][bytes]` messages with `Inbound::need`, echoes each
/// payload, and at the end of the stream reports the buffer's counters as
/// `STATS received copied\n`.
async fn messages(mut conn: Connection) {
    let mut input = Inbound::new();
    loop {
        if !matches!(input.need(&mut conn, 2).await, Ok(true)) {
            break;
        }
        let b = input.bytes();
        let len = 2 + u16::from_be_bytes([b[0], b[1]]) as usize;
        if !matches!(input.need(&mut conn, len).await, Ok(true)) {
            break;
        }
        if conn.write_all(&input.bytes()[2..len]).await.is_err() {
            return;
        }
        input.consume(len);
    }
    let stats = format!(
        "STATS {} {}\n",
        input.bytes_received(),
        input.bytes_copied()
    );
    let _ = conn.write_all(stats.as_bytes()).await;
    let _ = conn.shutdown_write().await;
}

/// One message on the wire.
fn frame(payload: &[u8]) -> Vec<u8> {
    let mut v = (payload.len() as u16).to_be_bytes().to_vec();
    v.extend_from_slice(payload);
    v
}

fn stats(tail: &[u8]) -> (u64, u64) {
    let text = String::from_utf8_lossy(tail);
    let mut it = text.trim().strip_prefix("STATS ").expect(&text).split(' ');
    let mut n = || it.next().unwrap().parse::<u64>().unwrap();
    (n(), n())
}

#[test]
fn messages_are_read_in_place_and_only_those_spanning_leases_are_copied() {
    let server = builder().build().unwrap().start(messages).unwrap();
    let addr = server.tcp_addr().unwrap();
    let mut rng = Rng::new(91);
    let payloads: Vec<Vec<u8>> = (0..400)
        .map(|i| random_bytes(i, rng.range(1, 1200) as usize))
        .collect();
    let wire: Vec<u8> = payloads.iter().flat_map(|p| frame(p)).collect();
    // Message `i` occupies `starts[i]..starts[i + 1]` of the wire.
    let mut starts = vec![0usize];
    for p in &payloads {
        starts.push(starts.last().unwrap() + 2 + p.len());
    }

    let mut s = connect(addr);
    let mut echoed = Vec::new();
    let mut spanning_bytes = 0usize;
    let mut spanning = 0;
    let mut at = 0;
    while at < wire.len() {
        let end = (at + rng.range(1000, 4000) as usize).min(wire.len());
        s.write_all(&wire[at..end]).unwrap();
        // Messages cut by this write's end (the write boundary is the only
        // place a lease can end: see below).
        if end < wire.len() {
            let i = starts.partition_point(|&x| x <= end) - 1;
            if starts[i] < end {
                spanning += 1;
                spanning_bytes += starts[i + 1] - starts[i];
            }
        }
        // Wait for the echo of every message complete so far, so that the
        // server has read this write before the next is sent (and no read
        // can take part of a write: less than a lease is ever queued).
        let done = starts.partition_point(|&x| x <= end) - 1;
        let want: usize = payloads[..done].iter().map(Vec::len).sum();
        let mut buf = [0u8; 16 << 10];
        while echoed.len() < want {
            let n = s.read(&mut buf).unwrap();
            assert!(n > 0, "server closed early");
            echoed.extend_from_slice(&buf[..n]);
        }
        at = end;
    }
    s.shutdown(Shutdown::Write).unwrap();
    echoed.extend(read_all(&mut s).unwrap());
    let total: usize = payloads.iter().map(Vec::len).sum();
    let (body, tail) = echoed.split_at(total);
    assert!(
        body == payloads.concat(),
        "echoed payloads differ from those sent"
    );
    let (received, copied) = stats(tail);
    eprintln!(
        "received {received} B, copied {copied} B; {spanning} messages ({spanning_bytes} B) spanned writes"
    );
    assert_eq!(received, wire.len() as u64);
    assert!(spanning > 0, "the test cut some messages");
    assert!(
        copied <= spanning_bytes as u64,
        "copied {copied} B, more than the {spanning_bytes} B of messages that spanned leases"
    );
    server.shutdown().unwrap();
}

/// Hands every received lease up in heap leases of 7 bytes, so every
/// message spans leases.
struct Dribble;

impl Layer for Dribble {
    fn name(&self) -> &'static str {
        "dribble"
    }
    fn received(&mut self, data: Lease, io: &mut LayerIo<'_>) -> std::io::Result<()> {
        for part in data.chunks(7) {
            let mut v = Lease::heap_buffer(part.len());
            v.extend_from_slice(part);
            io.deliver(Lease::from_vec(v));
        }
        Ok(())
    }
    fn send(&mut self, data: &[u8], io: &mut LayerIo<'_>) -> std::io::Result<()> {
        io.send(data)
    }
}

struct PushDribble;

impl Middleware for PushDribble {
    fn on_open(&self, conn: &mut Connection, _: Side) -> Result<(), Refused> {
        conn.push_layer(Dribble);
        Ok(())
    }
}

#[test]
fn heap_leases_from_a_layer_are_read_the_same() {
    let server = builder()
        .middleware(PushDribble)
        .build()
        .unwrap()
        .start(messages)
        .unwrap();
    let addr = server.tcp_addr().unwrap();
    let mut rng = Rng::new(17);
    let payloads: Vec<Vec<u8>> = (0..200)
        .map(|i| random_bytes(100 + i, rng.range(1, 3000) as usize))
        .collect();
    let wire: Vec<u8> = payloads.iter().flat_map(|p| frame(p)).collect();
    let mut s = connect(addr);
    let writer = {
        let mut s = s.try_clone().unwrap();
        let wire = wire.clone();
        std::thread::spawn(move || {
            s.write_all(&wire).unwrap();
            s.shutdown(Shutdown::Write).unwrap();
        })
    };
    let echoed = read_all(&mut s).unwrap();
    writer.join().unwrap();
    let total: usize = payloads.iter().map(Vec::len).sum();
    assert!(echoed.len() > total, "no stats line");
    let (body, tail) = echoed.split_at(total);
    assert!(
        body == payloads.concat(),
        "echoed payloads differ from those sent"
    );
    let (received, copied) = stats(tail);
    assert_eq!(received, wire.len() as u64);
    // Every message but the 7-byte-aligned small ones spans leases: copied
    // at most once each.
    assert!(copied > 0 && copied <= wire.len() as u64, "copied {copied}");
    server.shutdown().unwrap();
}

#[test]
fn need_by_gives_up_at_its_deadline() {
    let server = builder()
        .build()
        .unwrap()
        .start(|mut conn: Connection| async move {
            let mut input = Inbound::new();
            let by = Instant::now() + Duration::from_millis(200);
            let answer: &[u8] = match input.need_by(&mut conn, 10, by).await {
                Err(e) if e.kind() == std::io::ErrorKind::TimedOut => b"timed out",
                Ok(true) => b"got 10",
                Ok(false) => b"closed",
                Err(_) => b"error",
            };
            let _ = conn.write_all(answer).await;
            let _ = conn.write_all(input.bytes()).await;
            let _ = conn.shutdown_write().await;
        })
        .unwrap();
    let addr = server.tcp_addr().unwrap();
    let mut s = connect(addr);
    let t0 = Instant::now();
    s.write_all(b"abc").unwrap();
    let got = read_all(&mut s).unwrap();
    assert_eq!(got, b"timed outabc", "{:?}", String::from_utf8_lossy(&got));
    assert!(t0.elapsed() < IO_TIMEOUT / 2);
    server.shutdown().unwrap();
}

/// After the switch: answers each line with `line N: TEXT (copied C)`,
/// reading lines with the `Inbound` the upgrade handed over.
async fn lines(up: Upgraded) {
    let (mut conn, mut input) = up.into_parts();
    for n in 1.. {
        let end = loop {
            if let Some(i) = input.bytes().iter().position(|&b| b == b'\n') {
                break i;
            }
            let want = input.bytes().len() + 1;
            if !matches!(input.need(&mut conn, want).await, Ok(true)) {
                let _ = conn.shutdown_write().await;
                return;
            }
        };
        let line = String::from_utf8_lossy(&input.bytes()[..end]).into_owned();
        input.consume(end + 1);
        let reply = format!("line {n}: {line} (copied {})\n", input.bytes_copied());
        if conn.write_all(reply.as_bytes()).await.is_err() {
            return;
        }
    }
}

async fn upgrade(req: Request<'_>) -> Response {
    if req.offers_upgrade("lines") {
        Response::upgrade("lines", lines)
    } else {
        Response::new(Status::BAD_REQUEST)
    }
}

#[test]
fn an_upgrade_hands_over_the_inbound_with_the_early_bytes_uncopied() {
    let server = builder()
        .build()
        .unwrap()
        .start(|conn| corering::http::serve(conn, Http1Config::default(), upgrade))
        .unwrap();
    let addr = server.tcp_addr().unwrap();
    let mut s: TcpStream = connect(addr);
    // The request and the new protocol's first bytes in one write.
    s.write_all(
        b"GET /up HTTP/1.1\r\nHost: x\r\nConnection: upgrade\r\nUpgrade: lines\r\n\r\nfirst\nsec",
    )
    .unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while !String::from_utf8_lossy(&got).contains("line 1:") {
        let n = s.read(&mut buf).unwrap();
        assert!(n > 0, "closed: {:?}", String::from_utf8_lossy(&got));
        got.extend_from_slice(&buf[..n]);
    }
    // The rest of the second line, in a lease of its own.
    s.write_all(b"ond\n").unwrap();
    s.shutdown(Shutdown::Write).unwrap();
    got.extend(read_all(&mut s).unwrap());
    let text = String::from_utf8_lossy(&got);
    assert!(
        text.starts_with("HTTP/1.1 101 Switching Protocols\r\n"),
        "{text}"
    );
    let body = &text[text.find("\r\n\r\n").expect("head") + 4..];
    let mut lines = body.lines();
    assert_eq!(lines.next(), Some("line 1: first (copied 0)"), "{text}");
    // Only the line cut by the lease's end was assembled: its 3 early
    // bytes and the 4 that completed it, at most.
    let second = lines.next().expect("second line");
    let copied: u64 = second
        .strip_prefix("line 2: second (copied ")
        .and_then(|r| r.strip_suffix(')'))
        .expect(second)
        .parse()
        .unwrap();
    assert!(copied > 0 && copied <= 7, "{second}");
    server.shutdown().unwrap();
}
