//! `FrameReader` under long pipelined streams over a real socket: memory
//! stays bounded by the frame limit however long the stream, only the
//! frames that span receive buffers are copied, the assembly buffer is
//! reused (its capacity never changes once warm), and it is freed after an
//! unusually large frame.
//!
//! The client writes hundreds of megabytes of frames of uneven sizes (some
//! larger than a receive buffer) in pieces of uneven sizes, so frames
//! straddle the server's 4 KiB receive buffers at every offset, then shuts
//! its side down. The server checks every frame against what its sequence
//! number says it must hold, watches the reader's
//! [`capacity`](FrameReader::capacity) after every frame, and answers the
//! end of the stream with a `Summary` frame that the client checks. (The
//! capacity is watched rather than allocations counted on the worker: the
//! runtime's own queues may grow once when a stream backs up.)

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
    #[frame(prefix = u32)]
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
    /// Bytes of payload or text in all frames.
    contents: u64,
    /// Largest `FrameReader::capacity()` seen after any frame.
    peak_capacity: u64,
    /// `FrameReader::capacity()` after the last frame.
    last_capacity: u64,
    received: u64,
    copied: u64,
    /// Times the capacity changed after the first [`WARMUP`] frames
    /// (each change is an allocation).
    regrown: u64,
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

/// Frames read before capacity changes are counted.
const WARMUP: u64 = 1000;

/// What the server counted while reading.
#[derive(Default)]
struct Tally {
    frames: u64,
    bad: u64,
    contents: u64,
    peak: usize,
    last: usize,
    regrown: u64,
}

impl Tally {
    /// One frame read: whether it was right, its contents' length.
    fn frame(&mut self, ok: bool, len: usize, reader: &FrameReader) {
        self.bad += u64::from(!ok);
        self.frames += 1;
        self.contents += len as u64;
        let cap = reader.capacity();
        if self.frames > WARMUP && cap != self.last {
            self.regrown += 1;
        }
        self.last = cap;
        self.peak = self.peak.max(self.last);
    }

    async fn answer(&self, conn: &mut Connection, reader: &FrameReader, error: &str) {
        let summary = Summary {
            frames: self.frames,
            bad: self.bad,
            contents: self.contents,
            peak_capacity: self.peak as u64,
            last_capacity: self.last as u64,
            received: reader.bytes_received(),
            copied: reader.bytes_copied(),
            regrown: self.regrown,
            error,
        };
        let _ = conn.write_frame(&summary).await;
        let _ = conn.flush().await;
    }
}

/// Reads `Data` frames to the end of the stream, then answers.
async fn serve_data(mut conn: Connection, max: usize) {
    let mut reader = FrameReader::new().max_frame(max);
    let mut tally = Tally::default();
    let error = loop {
        let (ok, len) = match reader.read::<Data>(&mut conn).await {
            Ok(Some(d)) => (
                d.seq == tally.frames && is_content(d.seq, d.payload),
                d.payload.len(),
            ),
            Ok(None) => break String::new(),
            Err(e) => break e.to_string(),
        };
        tally.frame(ok, len, &reader);
    };
    tally.answer(&mut conn, &reader, &error).await;
}

/// Reads `Line` frames to the end of the stream, then answers.
async fn serve_lines(mut conn: Connection, max: usize) {
    let mut reader = FrameReader::new().max_frame(max);
    let mut tally = Tally::default();
    let error = loop {
        let (ok, len) = match reader.read::<Line>(&mut conn).await {
            Ok(Some(l)) => (
                l.seq == tally.frames && is_content(l.seq, l.text),
                l.text.len(),
            ),
            Ok(None) => break String::new(),
            Err(e) => break e.to_string(),
        };
        tally.frame(ok, len, &reader);
    };
    tally.answer(&mut conn, &reader, &error).await;
}

/// What the client sent.
#[derive(Debug)]
struct Sent {
    frames: u64,
    bytes: u64,
    contents: u64,
}

/// Writes frames from `encode` (frame `seq` appended to the buffer; returns
/// its contents' length) until at least `total` bytes are sent, in pieces
/// of uneven sizes; then shuts the write side.
fn write_stream(
    s: &mut TcpStream,
    total: usize,
    encode: impl Fn(u64, &mut Vec<u8>) -> usize,
) -> Sent {
    let mut batch = Vec::with_capacity(2 << 20);
    let mut sent = Sent {
        frames: 0,
        bytes: 0,
        contents: 0,
    };
    let mut piece = 1usize;
    while (sent.bytes as usize) < total {
        batch.clear();
        while batch.len() < 1 << 20 {
            sent.contents += encode(sent.frames, &mut batch) as u64;
            sent.frames += 1;
        }
        let mut off = 0;
        while off < batch.len() {
            let end = (off + piece).min(batch.len());
            if let Err(e) = s.write_all(&batch[off..end]) {
                // The server stopped reading: its summary says why.
                eprintln!("writing frames: {e}");
                return sent;
            }
            off = end;
            piece = (piece * 7 + 13) % 9000 + 1;
        }
        sent.bytes += batch.len() as u64;
    }
    s.shutdown(Shutdown::Write).unwrap();
    sent
}

/// Appends `Data` frame `seq` with a payload of `len` bytes.
fn encode_data(seq: u64, len: usize, out: &mut Vec<u8>) -> usize {
    let payload: Vec<u8> = (0..len).map(|j| content(seq, j)).collect();
    let d = Data {
        seq,
        payload: &payload,
    };
    let at = out.len();
    out.resize(at + d.encoded_len(), 0);
    d.encode(&mut out[at..]);
    len
}

/// The server's `Summary`, checked against what was sent: no reader error,
/// every frame decoded and right, every byte received.
fn summary(s: &mut TcpStream, sent: &Sent) -> Vec<u8> {
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).expect("read the summary");
    let Ok(Decoded::Complete { frame: sum, .. }) = Summary::decode(&buf) else {
        panic!("no summary from the server: {buf:?}");
    };
    eprintln!("sent {sent:?}; server: {sum:?}");
    assert_eq!(sum.error, "", "the reader failed");
    assert_eq!(
        (sum.frames, sum.bad),
        (sent.frames, 0),
        "frames decoded, wrong"
    );
    assert_eq!(sum.contents, sent.contents, "bytes of frame contents");
    assert_eq!(sum.received, sent.bytes, "bytes the reader received");
    buf
}

fn decode_summary(buf: &[u8]) -> Summary<'_> {
    match Summary::decode(buf) {
        Ok(Decoded::Complete { frame, .. }) => frame,
        _ => unreachable!("checked by summary()"),
    }
}

/// The reader's memory stayed within the frame limit besides the one lease
/// and was used at all (frames did span buffers), and once warm the
/// assembly buffer was reused, never regrown.
fn assert_bounded_and_reused(sum: &Summary<'_>) {
    assert!(
        sum.peak_capacity > 0 && sum.peak_capacity <= MAX_FRAME as u64,
        "assembly buffer capacity {} (frame limit {MAX_FRAME})",
        sum.peak_capacity
    );
    assert_eq!(sum.regrown, 0, "capacity changes once warm");
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
    let srv = server(|c| serve_data(c, MAX_FRAME));
    let mut s = stream_client(&srv);
    let sent = write_stream(&mut s, 210_000_000, |seq, out| {
        encode_data(seq, data_len(seq), out)
    });
    let buf = summary(&mut s, &sent);
    let sum = decode_summary(&buf);
    assert_bounded_and_reused(&sum);
    // With full buffers, the frames spanning one are about one 500-byte
    // frame per 4 KiB buffer plus every 10,000-byte frame: a fifth of the
    // stream (more if the server keeps up and buffers are partly filled).
    // An assembly buffer that never empties copies all of it.
    assert!(
        sum.copied * 2 < sum.received,
        "copied {} of {} bytes",
        sum.copied,
        sum.received
    );
    srv.shutdown().unwrap();
}

#[test]
fn a_50_mb_stream_of_text_lines_stays_within_the_frame_limit() {
    let srv = server(|c| serve_lines(c, MAX_FRAME));
    let mut s = stream_client(&srv);
    let sent = write_stream(&mut s, 50_000_000, |seq, out| {
        out.extend_from_slice(format!("{seq} ").as_bytes());
        let len = line_len(seq);
        out.extend((0..len).map(|j| content(seq, j)));
        out.extend_from_slice(b"\r\n");
        len
    });
    let buf = summary(&mut s, &sent);
    let sum = decode_summary(&buf);
    assert_bounded_and_reused(&sum);
    // A third of the stream is long lines, which span buffers and are all
    // copied. A line decoder asks for one more byte at a time; the reader
    // gives it geometrically more, so a little past each is copied too.
    assert!(
        sum.copied * 4 < sum.received * 3,
        "copied {} of {} bytes",
        sum.copied,
        sum.received
    );
    srv.shutdown().unwrap();
}

#[test]
fn the_buffer_of_an_unusually_large_frame_is_given_back() {
    const BIG: usize = 400_000;
    let srv = server(|c| serve_data(c, 1 << 20));
    let mut s = stream_client(&srv);
    // One 400 KB frame first, then 20 MB of the usual ones.
    let sent = write_stream(&mut s, 20_000_000, |seq, out| {
        let len = if seq == 0 { BIG } else { data_len(seq) };
        encode_data(seq, len, out)
    });
    let buf = summary(&mut s, &sent);
    let sum = decode_summary(&buf);
    assert!(
        sum.peak_capacity >= BIG as u64 && sum.peak_capacity <= 1 << 20,
        "peak capacity {} for a {BIG}-byte frame (limit 1 MiB)",
        sum.peak_capacity
    );
    // After it, the buffer went back to what the usual frames need
    // (at most 32 KiB is kept).
    assert!(
        sum.last_capacity > 0 && sum.last_capacity <= 32 << 10,
        "capacity {} after the large frame",
        sum.last_capacity
    );
    srv.shutdown().unwrap();
}
