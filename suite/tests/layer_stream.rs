//! Byte-stream layers under unchanged protocols: a toy cipher (XOR) layer,
//! a byte counter stacked on it, and a regrouping layer that hands up heap
//! leases, pushed by a middleware's `on_open`. The clients are plain std
//! sockets that apply the same XOR, so what the server's protocol saw is
//! judged by bytes that crossed a real socket.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use common::xor::{xor, Xor};
use common::{builder, connect, echo_then_shutdown, random_bytes, IO_TIMEOUT};
use corering::http::{Http1Config, Request, Response};
use corering::pipeline::{Middleware, Refused, Side};
use corering::{Connection, Layer, LayerIo, Lease, ServerBuilder};

/// Counts plaintext bytes each way.
struct Count(Arc<Counts>);

#[derive(Default)]
struct Counts {
    read: AtomicU64,
    written: AtomicU64,
}

impl Layer for Count {
    fn name(&self) -> &'static str {
        "count"
    }
    fn received(&mut self, data: Lease, io: &mut LayerIo<'_>) -> std::io::Result<()> {
        self.0.read.fetch_add(data.len() as u64, Ordering::Relaxed);
        io.deliver(data);
        Ok(())
    }
    fn send(&mut self, data: &[u8], io: &mut LayerIo<'_>) -> std::io::Result<()> {
        self.0
            .written
            .fetch_add(data.len() as u64, Ordering::Relaxed);
        io.send(data)
    }
}

/// Hands up whole lines only, each in a heap lease of its own; the rest
/// waits for its newline (or the end of the stream).
#[derive(Default)]
struct Lines {
    partial: Vec<u8>,
}

impl Layer for Lines {
    fn name(&self) -> &'static str {
        "lines"
    }
    fn received(&mut self, data: Lease, io: &mut LayerIo<'_>) -> std::io::Result<()> {
        for &b in data.iter() {
            self.partial.push(b);
            if b == b'\n' {
                let mut line = Lease::heap_buffer(self.partial.len());
                line.extend_from_slice(&self.partial);
                self.partial.clear();
                io.deliver(Lease::from_vec(line));
            }
        }
        Ok(())
    }
    fn send(&mut self, data: &[u8], io: &mut LayerIo<'_>) -> std::io::Result<()> {
        io.send(data)
    }
    fn end_of_stream(&mut self, io: &mut LayerIo<'_>) -> std::io::Result<()> {
        if !self.partial.is_empty() {
            io.deliver(Lease::from_vec(std::mem::take(&mut self.partial)));
        }
        Ok(())
    }
}

/// Pushes XOR, then optionally a counter and the line regrouper, on every
/// server connection.
struct Stack {
    counts: Arc<Counts>,
    lines: bool,
}

impl Middleware for Stack {
    fn on_open(&self, conn: &mut Connection, _: Side) -> Result<(), Refused> {
        conn.push_layer(Xor::with_end_marker(b"<bye>"));
        conn.push_layer(Count(self.counts.clone()));
        if self.lines {
            conn.push_layer(Lines::default());
        }
        Ok(())
    }
}

/// A server builder whose connections get [`Stack`].
fn layered(counts: Arc<Counts>, lines: bool) -> ServerBuilder<((), Stack)> {
    builder().middleware(Stack { counts, lines })
}

fn send_xor(s: &mut TcpStream, data: &[u8]) {
    let mut v = data.to_vec();
    xor(&mut v);
    s.write_all(&v).unwrap();
}

fn read_xor_to_end(s: &mut TcpStream) -> Vec<u8> {
    let mut v = Vec::new();
    s.read_to_end(&mut v).unwrap();
    xor(&mut v);
    v
}

#[test]
fn echo_through_xor_and_counter_is_byte_exact() {
    let counts = Arc::new(Counts::default());
    let server = layered(counts.clone(), false)
        .build()
        .unwrap()
        .start(echo_then_shutdown)
        .unwrap();
    let addr = server.tcp_addr().unwrap();
    let data = random_bytes(7, 1 << 20);
    let mut s = connect(addr);
    let writer = {
        let mut s = s.try_clone().unwrap();
        let data = data.clone();
        std::thread::spawn(move || {
            for part in data.chunks(10_000) {
                send_xor(&mut s, part);
            }
            s.shutdown(std::net::Shutdown::Write).unwrap();
        })
    };
    let got = read_xor_to_end(&mut s);
    writer.join().unwrap();
    let (body, marker) = got.split_at(got.len() - 5);
    assert!(body == &data[..], "echo differs from what was sent");
    assert_eq!(
        marker, b"<bye>",
        "the layer's shutdown marker ends the stream"
    );
    server.shutdown().unwrap();
    assert_eq!(counts.read.load(Ordering::Relaxed), 1 << 20);
    assert_eq!(counts.written.load(Ordering::Relaxed), 1 << 20);
}

#[test]
fn heap_leases_from_a_regrouping_layer_reach_the_protocol_and_go_back_out() {
    let counts = Arc::new(Counts::default());
    let server = layered(counts, true)
        .build()
        .unwrap()
        .start(|mut conn: Connection| async move {
            // Each read is exactly one line, however the bytes arrived.
            while let Ok(Some(line)) = conn.read().await {
                let ok = line.is_heap() && (line.ends_with(b"\n") || !line.contains(&b'\n'));
                let tag: &'static [u8] = if ok { b"ok " } else { b"BAD " };
                if conn.write_all(tag).await.is_err() || conn.write_owned(line).await.is_err() {
                    return;
                }
            }
            let _ = conn.shutdown_write().await;
        })
        .unwrap();
    let addr = server.tcp_addr().unwrap();
    let mut s = connect(addr);
    send_xor(&mut s, b"one\ntw");
    std::thread::sleep(std::time::Duration::from_millis(50));
    send_xor(&mut s, b"o\nthree\nand a tail");
    s.shutdown(std::net::Shutdown::Write).unwrap();
    let got = read_xor_to_end(&mut s);
    assert_eq!(
        String::from_utf8_lossy(&got),
        "ok one\nok two\nok three\nok and a tail<bye>"
    );
    server.shutdown().unwrap();
}

async fn hello(req: Request<'_>) -> Response {
    Response::text(format!("hello {}", req.path()))
}

#[test]
fn the_http_server_runs_unchanged_over_a_layer() {
    let counts = Arc::new(Counts::default());
    let server = layered(counts.clone(), false)
        .build()
        .unwrap()
        .start(|conn| corering::http::serve(conn, Http1Config::default(), hello))
        .unwrap();
    let addr = server.tcp_addr().unwrap();
    let mut s = connect(addr);
    s.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
    // Two pipelined requests in one write, the second asking to close.
    let reqs = b"GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    send_xor(&mut s, reqs);
    let got = read_xor_to_end(&mut s);
    let text = String::from_utf8_lossy(&got);
    assert_eq!(text.matches("HTTP/1.1 200 OK\r\n").count(), 2, "{text}");
    let a = text.find("hello /a").expect("first body");
    let b = text.find("hello /b").expect("second body");
    assert!(a < b, "responses in order: {text}");
    assert!(text.ends_with("<bye>"), "closed through the layer: {text}");
    server.shutdown().unwrap();
    assert_eq!(counts.read.load(Ordering::Relaxed), reqs.len() as u64);
    assert_eq!(
        counts.written.load(Ordering::Relaxed) + 5,
        got.len() as u64,
        "everything written went through the counter"
    );
}
