//! Hostile and broken WebSocket clients on raw sockets: each gets the
//! close code RFC 6455 asks for and its connection ends, while a
//! well-behaved client (tungstenite) on the same worker keeps talking.

mod ws_common;

use std::io::Write;
use std::time::{Duration, Instant};

use ws_common::{assert_echoes, client, expect_close, frame, raw, read_frame, start};

/// Sends `bytes` after the handshake on `path` and returns the close code
/// the server answers with; a bystander on the same worker must still be
/// served afterwards.
#[track_caller]
fn close_code_for(path: &str, bytes: &[u8]) -> Option<u16> {
    let (_s, addr) = start();
    let mut bystander = client(addr, "/echo");
    assert_echoes(&mut bystander, "before");
    let (mut s, mut buf) = raw(addr, path);
    s.write_all(bytes).unwrap();
    let code = expect_close(&mut s, &mut buf);
    assert_echoes(&mut bystander, "after");
    code
}

#[test]
fn unmasked_client_frame_is_a_protocol_error() {
    assert_eq!(
        close_code_for("/echo", &frame(0x81, b"hello", false)),
        Some(1002)
    );
}

#[test]
fn reserved_bits_are_a_protocol_error() {
    for first in [0xC1u8, 0xA1, 0x91] {
        assert_eq!(
            close_code_for("/echo", &frame(first, b"hi", true)),
            Some(1002),
            "first byte {first:#x}"
        );
    }
}

#[test]
fn reserved_opcodes_are_a_protocol_error() {
    for op in [0x3u8, 0x7, 0xB, 0xF] {
        assert_eq!(
            close_code_for("/echo", &frame(0x80 | op, b"", true)),
            Some(1002),
            "opcode {op:#x}"
        );
    }
}

#[test]
fn control_frame_rules() {
    // A ping with 126 bytes of payload.
    let mut f = frame(0x89, &[b'p'; 126], true);
    f.truncate(4); // the header alone decides
    assert_eq!(close_code_for("/echo", &f), Some(1002));
    // A fragmented ping.
    assert_eq!(
        close_code_for("/echo", &frame(0x09, b"x", true)),
        Some(1002)
    );
    // A close frame with a one-byte payload, and with a code never sent.
    assert_eq!(
        close_code_for("/echo", &frame(0x88, b"\x03", true)),
        Some(1002)
    );
    assert_eq!(
        close_code_for("/echo", &frame(0x88, &1005u16.to_be_bytes(), true)),
        Some(1002)
    );
    // A close reason that is not UTF-8.
    assert_eq!(
        close_code_for("/echo", &frame(0x88, b"\x03\xe8\xff\xfe", true)),
        Some(1007)
    );
}

#[test]
fn continuation_rules() {
    // A continuation with no message started.
    assert_eq!(
        close_code_for("/echo", &frame(0x80, b"x", true)),
        Some(1002)
    );
    // A new message while a fragmented one is open.
    let mut bytes = frame(0x01, b"part", true);
    bytes.extend(frame(0x81, b"new", true));
    assert_eq!(close_code_for("/echo", &bytes), Some(1002));
}

#[test]
fn invalid_utf8_fails_fast_even_split_across_fragments() {
    // A valid code point split across fragments is fine.
    let (_s, addr) = start();
    let (mut s, mut buf) = raw(addr, "/echo");
    let euro = "€".as_bytes();
    s.write_all(&frame(0x01, &euro[..1], true)).unwrap();
    s.write_all(&frame(0x80, &euro[1..], true)).unwrap();
    let (first, payload) = read_frame(&mut s, &mut buf).unwrap();
    assert_eq!((first, payload.as_slice()), (0x81, euro));

    // An invalid sequence split across fragments: the close comes as soon
    // as the second fragment arrives, with the message still open.
    let (mut s, mut buf) = raw(addr, "/echo");
    s.write_all(&frame(0x01, b"ok \xed", true)).unwrap();
    s.write_all(&frame(0x00, b"\xa0\x80 more", true)).unwrap();
    assert_eq!(expect_close(&mut s, &mut buf), Some(1007));

    // Invalid bytes at the start of a large frame whose rest never comes:
    // closed at once, not when the frame would end.
    let (mut s, mut buf) = raw(addr, "/echo");
    let mut big = frame(0x81, &[b'a'; 100_000], true);
    let key = [0xA1, 0xB2, 0xC3, 0xD4];
    big[14] = 0xFF ^ key[0];
    big.truncate(14 + 1000);
    s.write_all(&big).unwrap();
    let started = Instant::now();
    assert_eq!(expect_close(&mut s, &mut buf), Some(1007));
    assert!(started.elapsed() < Duration::from_secs(5));

    // And a plain invalid text frame.
    assert_eq!(
        close_code_for("/echo", &frame(0x81, b"\xc0\xaf", true)),
        Some(1007)
    );
}

#[test]
fn huge_lengths_close_before_any_payload() {
    // A 64-bit length with the top bit set: never valid.
    let mut f = vec![0x82, 0xFF];
    f.extend_from_slice(&(1u64 << 63).to_be_bytes());
    f.extend_from_slice(&[1, 2, 3, 4]);
    assert_eq!(close_code_for("/echo", &f), Some(1002));
    // 2^62: valid on the wire, over the 16 MiB limit.
    let mut f = vec![0x82, 0xFF];
    f.extend_from_slice(&(1u64 << 62).to_be_bytes());
    f.extend_from_slice(&[1, 2, 3, 4]);
    assert_eq!(close_code_for("/echo", &f), Some(1009));
    // Over a route's 1 KiB message limit, in two fragments.
    let mut f = frame(0x02, &[0; 600], true);
    f.extend(frame(0x80, &[0; 600], true));
    assert_eq!(close_code_for("/small", &f), Some(1009));
}

#[test]
fn a_stalled_half_frame_is_closed_by_the_idle_timeout() {
    let (_s, addr) = start();
    let mut bystander = client(addr, "/echo");
    let (mut s, mut buf) = raw(addr, "/small");
    let f = frame(0x81, b"this frame never ends", true);
    s.write_all(&f[..9]).unwrap();
    let started = Instant::now();
    // /small's idle timeout is 300 ms: closed with 1001 well before 5 s.
    assert_eq!(expect_close(&mut s, &mut buf), Some(1001));
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_echoes(&mut bystander, "unaffected");
}

#[test]
fn early_frames_sent_with_the_handshake_are_read() {
    // Frames that arrive in the same packet as the request.
    let (_s, addr) = start();
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut req = b"GET /echo HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        .to_vec();
    req.extend(frame(0x81, b"early", true));
    s.write_all(&req).unwrap();
    let mut buf = Vec::new();
    let end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let mut tmp = [0; 1024];
        let n = std::io::Read::read(&mut s, &mut tmp).unwrap();
        assert!(n > 0);
        buf.extend_from_slice(&tmp[..n]);
    };
    buf.drain(..end);
    let (first, payload) = read_frame(&mut s, &mut buf).unwrap();
    assert_eq!((first, payload.as_slice()), (0x81, &b"early"[..]));
}

#[test]
fn a_peer_that_never_answers_a_close_is_dropped_after_the_close_timeout() {
    let (_s, addr) = start();
    let mut bystander = client(addr, "/echo");
    let (mut s, mut buf) = raw(addr, "/bye");
    // The close frame, then (no answer from us) the end of the connection
    // once the route's 300 ms close timeout passes.
    assert_eq!(expect_close(&mut s, &mut buf), Some(1000));
    assert_echoes(&mut bystander, "unaffected");
}
