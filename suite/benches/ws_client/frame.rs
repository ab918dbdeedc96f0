//! WebSocket frames as the load client needs them (RFC 6455 §5.2): a masked binary
//! frame to send, and the head of a frame from the server to read.

/// Opcodes the client sends or accepts.
pub const OP_CONTINUATION: u8 = 0x0;
pub const OP_BINARY: u8 = 0x2;

/// RSV1: the message is compressed (permessage-deflate).
pub const RSV1: u8 = 0x40;

/// Writes into `out` (cleared first) one final binary frame carrying `payload`, masked
/// with `mask` as a client must; with RSV1 set if `compressed`.
pub fn masked_binary(out: &mut Vec<u8>, payload: &[u8], mask: [u8; 4], compressed: bool) {
    out.clear();
    out.push(0x80 | OP_BINARY | if compressed { RSV1 } else { 0 });
    let len = payload.len();
    if len < 126 {
        out.push(0x80 | len as u8);
    } else if len <= u16::MAX as usize {
        out.push(0x80 | 126);
        out.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        out.push(0x80 | 127);
        out.extend_from_slice(&(len as u64).to_be_bytes());
    }
    out.extend_from_slice(&mask);
    let start = out.len();
    out.extend_from_slice(payload);
    apply_mask(&mut out[start..], mask);
}

/// XORs `data` with the repeated `mask` (masking and unmasking are the same), eight
/// bytes at a time.
pub fn apply_mask(data: &mut [u8], mask: [u8; 4]) {
    let wide = u64::from_ne_bytes([
        mask[0], mask[1], mask[2], mask[3], mask[0], mask[1], mask[2], mask[3],
    ]);
    let mut chunks = data.chunks_exact_mut(8);
    for chunk in &mut chunks {
        let v = u64::from_ne_bytes(chunk.try_into().unwrap()) ^ wide;
        chunk.copy_from_slice(&v.to_ne_bytes());
    }
    // The remainder starts at a multiple of 8, so at mask byte 0.
    for (i, byte) in chunks.into_remainder().iter_mut().enumerate() {
        *byte ^= mask[i % 4];
    }
}

/// The head of a frame: where its payload starts and how long it is.
#[derive(Debug, PartialEq, Eq)]
pub struct Head {
    pub fin: bool,
    /// RSV1: a compressed message (permessage-deflate), on its first frame.
    pub rsv1: bool,
    pub opcode: u8,
    /// Bytes of the head (payload offset).
    pub len: usize,
    pub payload_len: usize,
}

/// Parses the head of a server frame at the start of `buf`: `Ok(None)` if `buf` holds
/// only part of it; an error for what a server must not send (a mask, reserved bits other
/// than RSV1 where `rsv1_allowed`, i.e. permessage-deflate was negotiated).
pub fn parse_server_head(buf: &[u8], rsv1_allowed: bool) -> Result<Option<Head>, String> {
    if buf.len() < 2 {
        return Ok(None);
    }
    let (b0, b1) = (buf[0], buf[1]);
    let allowed = if rsv1_allowed { RSV1 } else { 0 };
    if b0 & 0x70 & !allowed != 0 {
        return Err(format!("reserved bits set in a server frame: {b0:#04x}"));
    }
    if b1 & 0x80 != 0 {
        return Err("masked server frame".into());
    }
    let (len, payload_len) = match b1 & 0x7f {
        126 if buf.len() >= 4 => (4, u16::from_be_bytes([buf[2], buf[3]]) as usize),
        127 if buf.len() >= 10 => {
            let n = u64::from_be_bytes(buf[2..10].try_into().unwrap());
            (10, usize::try_from(n).map_err(|_| "frame too long")?)
        }
        126 | 127 => return Ok(None),
        n => (2, n as usize),
    };
    Ok(Some(Head {
        fin: b0 & 0x80 != 0,
        rsv1: b0 & RSV1 != 0,
        opcode: b0 & 0x0f,
        len,
        payload_len,
    }))
}
