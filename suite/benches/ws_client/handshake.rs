//! The client side of the WebSocket opening handshake (RFC 6455 §4.1), blocking: send
//! `GET PATH` with `Upgrade: websocket` and a fresh `Sec-WebSocket-Key`, read the answer's
//! head, and accept only `101` with the right `Sec-WebSocket-Accept` (SHA-1 and base64
//! written here, checked against the RFC's example in `ws_load`'s own self-check).

use std::io::{Read, Write};
use std::net::TcpStream;

/// The GUID the server appends to the key before hashing (RFC 6455 §1.3).
const GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// Most bytes of an answer head this client reads.
const MAX_HEAD: usize = 8192;

/// Performs the handshake for `path` on the connected, blocking `stream`, offering no
/// subprotocol and the extensions of `extensions` if any (a `Sec-WebSocket-Extensions`
/// value). `nonce` makes the key (16 bytes, base64). Returns the extensions the server's
/// answer names (its `Sec-WebSocket-Extensions`); an error says what the server answered
/// instead of accepting.
pub fn open(
    stream: &mut TcpStream,
    host: &str,
    path: &str,
    nonce: u64,
    extensions: Option<&str>,
) -> Result<Option<String>, String> {
    let mut raw = [0u8; 16];
    raw[..8].copy_from_slice(&nonce.to_le_bytes());
    raw[8..].copy_from_slice(
        &nonce
            .rotate_left(29)
            .wrapping_mul(0x9e37_79b9_7f4a_7c15)
            .to_le_bytes(),
    );
    let key = base64(&raw);
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n{}\r\n",
        extensions.map_or(String::new(), |e| format!(
            "Sec-WebSocket-Extensions: {e}\r\n"
        ))
    );
    stream
        .write_all(request.as_bytes())
        .map_err(|e| format!("sending the handshake: {e}"))?;
    // Byte by byte up to the blank line, so that nothing after the head is consumed.
    let mut head = Vec::with_capacity(256);
    while !head.ends_with(b"\r\n\r\n") {
        if head.len() >= MAX_HEAD {
            return Err("handshake answer head too long".into());
        }
        let mut byte = [0u8];
        match stream.read(&mut byte) {
            Ok(0) => return Err(format!("closed during the handshake after {head:?}")),
            Ok(_) => head.push(byte[0]),
            Err(e) => return Err(format!("reading the handshake answer: {e}")),
        }
    }
    let head = String::from_utf8_lossy(&head);
    let status = head.split("\r\n").next().unwrap_or_default();
    if status.split_whitespace().nth(1) != Some("101") {
        return Err(format!("handshake refused: {status:?}"));
    }
    let want = accept_for(&key);
    let field = |wanted: &str| {
        head.split("\r\n").skip(1).find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.trim()
                .eq_ignore_ascii_case(wanted)
                .then(|| value.trim().to_string())
        })
    };
    match field("sec-websocket-accept") {
        Some(got) if got == want => Ok(field("sec-websocket-extensions")),
        other => Err(format!(
            "wrong Sec-WebSocket-Accept {other:?} (want {want:?})"
        )),
    }
}

/// The `Sec-WebSocket-Accept` a server must answer to `key`.
pub fn accept_for(key: &str) -> String {
    let mut input = key.as_bytes().to_vec();
    input.extend_from_slice(GUID.as_bytes());
    base64(&sha1(&input))
}

/// Standard base64 with padding.
pub fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = u32::from_be_bytes([0, b[0], b[1], b[2]]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// SHA-1 (FIPS 180-4) of `data`: what the handshake needs, nothing else.
pub fn sha1(data: &[u8]) -> [u8; 20] {
    let mut h: [u32; 5] = [
        0x6745_2301,
        0xefcd_ab89,
        0x98ba_dcfe,
        0x1032_5476,
        0xc3d2_e1f0,
    ];
    let mut message = data.to_vec();
    message.push(0x80);
    while message.len() % 64 != 56 {
        message.push(0);
    }
    message.extend_from_slice(&(data.len() as u64 * 8).to_be_bytes());
    for block in message.chunks(64) {
        let mut w = [0u32; 80];
        for (i, word) in block.chunks(4).enumerate() {
            w[i] = u32::from_be_bytes([word[0], word[1], word[2], word[3]]);
        }
        for i in 16..80 {
            w[i] = (w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16]).rotate_left(1);
        }
        let [mut a, mut b, mut c, mut d, mut e] = h;
        for (i, &wi) in w.iter().enumerate() {
            let (f, k) = match i {
                0..=19 => ((b & c) | (!b & d), 0x5a82_7999),
                20..=39 => (b ^ c ^ d, 0x6ed9_eba1),
                40..=59 => ((b & c) | (b & d) | (c & d), 0x8f1b_bcdc),
                _ => (b ^ c ^ d, 0xca62_c1d6),
            };
            let t = a
                .rotate_left(5)
                .wrapping_add(f)
                .wrapping_add(e)
                .wrapping_add(k)
                .wrapping_add(wi);
            e = d;
            d = c;
            c = b.rotate_left(30);
            b = a;
            a = t;
        }
        for (hi, v) in h.iter_mut().zip([a, b, c, d, e]) {
            *hi = hi.wrapping_add(v);
        }
    }
    let mut out = [0u8; 20];
    for (chunk, v) in out.chunks_mut(4).zip(h) {
        chunk.copy_from_slice(&v.to_be_bytes());
    }
    out
}
