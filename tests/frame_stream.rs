//! `FrameReader` under long pipelined streams over a real socket: memory
//! stays bounded by the frame limit however long the stream, and only the
//! frames that span receive buffers are copied.
//!
//! The client writes hundreds of megabytes of frames of uneven sizes (some
//! larger than a receive buffer) in pieces of uneven sizes, so frames
//! straddle the server's 4 KiB receive buffers at every offset, then shuts
//! its side down. The server checks every frame against what its sequence
//! number says it must hold, watches the reader's
//! [`capacity`](FrameReader::capacity) after every frame, and answers the
//! end of the stream with a `Summary` frame that the client checks.

mod common;

use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::time::Duration;

use common::*;
use corering::frame::{Decoded, Frame, FrameReader};
use corering::Connection;

/// Largest frame the server's reader accepts.
const MAX_FRAME: usize = 16 << 10;
/// The server's receive buffer size.
const RECV_BUF: u32 = 4096;

/// A binary frame: sequence number, u16-prefixed payload.
#[derive(Frame, Debug)]
struct Data<'a> {
    seq: u64,
    #[frame(prefix = u16)]
    payload: &'a [u8],
}

/// A text frame: `<seq> <text>\r\n`.
#[derive(Frame, Debug)]
#[frame(line, max = 16000)]
struct Line<'a> {
    seq: u64,
    #[frame(rest)]
    text: &'a [u8],
}

/// The server's answer at the end of the stream.
#[derive(Frame, Debug, PartialEq)]
struct Summary<'a> {
    frames: u64,
    /// Frames whose sequence number or contents were wrong.
    bad: u64,
    /// Largest `FrameReader::capacity()` seen after any frame.
    peak_capacity: u64,
    received: u64,
    copied: u64,
    /// Why reading stopped, if not a clean end of stream.
    #[frame(prefix = u16)]
    error: &'a str,
}

/// Payload length of binary frame `seq`: 0..1000 bytes, and every 500th
/// frame 10,000 (over two receive buffers).
fn data_len(seq: u64) -> usize {
    if seq % 500 == 499 {
        10_000
    } else {
        (seq * 7919 % 1000) as usize
    }
}

/// Text length of line frame `seq`: 0..300 bytes, and every 200th line
/// 15,000 (nearly four receive buffers).
fn line_len(seq: u64) -> usize {
    if seq % 200 == 199 {
        15_000
    } else {
        (seq * 7919 % 300) as usize
    }
}

/// Byte `j` of frame `seq`'s contents (a letter, so lines stay lines).
fn content(seq: u64, j: usize) -> u8 {
    b'a' + ((seq as usize * 31 + j) % 26) as u8
}

fn is_content(seq: u64, bytes: &[u8]) -> bool {
    bytes.iter().enumerate().all(|(j, &b)| b == content(seq, j))
}

/// What the server counted while reading.
#[derive(Default)]
struct Tally {
    frames: u64,
    bad: u64,
    peak: usize,
}

impl Tally {
    fn frame(&mut self, ok: bool) {
        self.bad += u64::from(!ok);
        self.frames += 1;
    }

    async fn answer(&self, conn: &mut Connection, reader: &FrameReader, error: &str) {
        let summary = Summary {
            frames: self.frames,
            bad: self.bad,
            peak_capacity: self.peak as u64,
            received: reader.bytes_received(),
            copied: reader.bytes_copied(),
            error,
        };
        let _ = conn.write_frame(&summary).await;
        let _ = conn.flush().await;
    }
}

/// Reads `Data` frames to the end of the stream, then answers.
async fn serve_data(mut conn: Connection) {
    let mut reader = FrameReader::new().max_frame(MAX_FRAME);
    let mut tally = Tally::default();
    let error = loop {
        let ok = match reader.read::<Data>(&mut conn).await {
            Ok(Some(d)) => {
                d.seq == tally.frames
                    && d.payload.len() == data_len(d.seq)
                    && is_content(d.seq, d.payload)
            }
            Ok(None) => break String::new(),
            Err(e) => break e.to_string(),
        };
        tally.frame(ok);
        tally.peak = tally.peak.max(reader.capacity());
    };
    tally.answer(&mut conn, &reader, &error).await;
}

/// Reads `Line` frames to the end of the stream, then answers.
async fn serve_lines(mut conn: Connection) {
    let mut reader = FrameReader::new().max_frame(MAX_FRAME);
    let mut tally = Tally::default();
    let error = loop {
        let ok = match reader.read::<Line>(&mut conn).await {
            Ok(Some(l)) => {
                l.seq == tally.frames
                    && l.text.len() == line_len(l.seq)
                    && is_content(l.seq, l.text)
            }
            Ok(None) => break String::new(),
            Err(e) => break e.to_string(),
        };
        tally.frame(ok);
        tally.peak = tally.peak.max(reader.capacity());
    };
    tally.answer(&mut conn, &reader, &error).await;
}

/// Writes frames from `encode` (one per sequence number, appended to the
/// buffer) until at least `total` bytes are sent, in pieces of uneven sizes;
/// then shuts the write side. Returns (frames, bytes).
fn write_stream(s: &mut TcpStream, total: usize, encode: impl Fn(u64, &mut Vec<u8>)) -> (u64, u64) {
    let mut batch = Vec::with_capacity(1 << 20);
    let (mut seq, mut sent) = (0u64, 0usize);
    let mut piece = 1usize;
    while sent < total {
        batch.clear();
        while batch.len() < 1 << 20 {
            encode(seq, &mut batch);
            seq += 1;
        }
        let mut off = 0;
        while off < batch.len() {
            let end = (off + piece).min(batch.len());
            if let Err(e) = s.write_all(&batch[off..end]) {
                // The server stopped reading: its summary says why.
                eprintln!("writing frames: {e}");
                return (seq, sent as u64);
            }
            off = end;
            piece = (piece * 7 + 13) % 9000 + 1;
        }
        sent += batch.len();
    }
    s.shutdown(Shutdown::Write).unwrap();
    (seq, sent as u64)
}

/// Reads the server's `Summary` and checks it against what was sent.
fn check_summary(s: &mut TcpStream, frames: u64, bytes: u64) -> (u64, u64) {
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).expect("read the summary");
    let Ok(Decoded::Complete { frame: sum, .. }) = Summary::decode(&buf) else {
        panic!("no summary from the server: {buf:?}");
    };
    eprintln!(
        "{frames} frames, {bytes} bytes: peak capacity {} B, copied {} B",
        sum.peak_capacity, sum.copied
    );
    assert_eq!(sum.error, "", "the reader failed");
    assert_eq!((sum.frames, sum.bad), (frames, 0), "frames decoded, wrong");
    assert_eq!(sum.received, bytes, "bytes the reader received");
    // Memory: never more than the frame limit besides the one lease, and
    // used at all (frames did span buffers).
    assert!(
        sum.peak_capacity > 0 && sum.peak_capacity <= MAX_FRAME as u64,
        "assembly buffer capacity {} (frame limit {MAX_FRAME})",
        sum.peak_capacity
    );
    (sum.copied, sum.received)
}

fn stream_client(f: &corering::RunningServer) -> TcpStream {
    let s = connect(tcp_addr(f));
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    s.set_write_timeout(Some(Duration::from_secs(60))).unwrap();
    s
}

/// One worker with 4 KiB receive buffers.
fn server<H, F>(handler: H) -> corering::RunningServer
where
    H: Fn(Connection) -> F + Send + Sync + 'static,
    F: std::future::Future<Output = ()> + 'static,
{
    builder()
        .workers(1)
        .recv_buffers(256, RECV_BUF)
        .build()
        .expect("build")
        .start(handler)
        .expect("start")
}

#[test]
fn a_210_mb_stream_of_binary_frames_stays_within_the_frame_limit() {
    let srv = server(serve_data);
    let mut s = stream_client(&srv);
    let (frames, bytes) = write_stream(&mut s, 210_000_000, |seq, out| {
        let payload: Vec<u8> = (0..data_len(seq)).map(|j| content(seq, j)).collect();
        let d = Data {
            seq,
            payload: &payload,
        };
        let at = out.len();
        out.resize(at + d.encoded_len(), 0);
        d.encode(&mut out[at..]);
    });
    let (copied, received) = check_summary(&mut s, frames, bytes);
    // With full buffers, the frames spanning one are about one 500-byte
    // frame per 4 KiB buffer plus every 10,000-byte frame: a fifth of the
    // stream (more if the server keeps up and buffers are partly filled).
    // An assembly buffer that never empties copies all of it.
    assert!(copied * 2 < received, "copied {copied} of {received} bytes");
    srv.shutdown().unwrap();
}

#[test]
fn a_50_mb_stream_of_text_lines_stays_within_the_frame_limit() {
    let srv = server(serve_lines);
    let mut s = stream_client(&srv);
    let (frames, bytes) = write_stream(&mut s, 50_000_000, |seq, out| {
        out.extend_from_slice(format!("{seq} ").as_bytes());
        out.extend((0..line_len(seq)).map(|j| content(seq, j)));
        out.extend_from_slice(b"\r\n");
    });
    let (copied, received) = check_summary(&mut s, frames, bytes);
    // A third of the stream is long lines, which span buffers and are all
    // copied. A line decoder asks for one more byte at a time; the reader
    // gives it geometrically more, so a little past each is copied too.
    assert!(
        copied * 4 < received * 3,
        "copied {copied} of {received} bytes"
    );
    srv.shutdown().unwrap();
}
