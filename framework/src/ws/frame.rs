//! The frame header (RFC 6455 §5.2): parsed from a byte slice, encoded
//! into a small array. The payload is not touched here: the reader
//! unmasks it in place ([`apply_mask`]).
//!
//! ```text
//!  0               1               2               3
//!  F R R R opcode  M len7          len16 / len64 (if len7 = 126 / 127)
//!  I S S S (4)     A (7)           ...
//!  N V V V         S               masking key (4, if MASK)
//!    1 2 3         K               payload ...
//! ```
//!
//! ```
//! use corering::ws::frame::{encode_header, parse_header, OpCode, Parsed, Rules};
//!
//! let mut head = [0u8; 14];
//! let n = encode_header(&mut head, true, false, OpCode::Text, Some([1, 2, 3, 4]), 300);
//! assert_eq!(n, 2 + 2 + 4);
//! let Parsed::Header(h) = parse_header(&head[..n], Rules::SERVER).unwrap() else { panic!() };
//! assert_eq!((h.opcode, h.payload_len, h.mask), (OpCode::Text, 300, Some([1, 2, 3, 4])));
//! // Cut short: how many bytes the header needs.
//! assert_eq!(parse_header(&head[..3], Rules::SERVER), Ok(Parsed::Incomplete(8)));
//! ```

use std::fmt;

pub use super::mask::apply_mask;

/// Most bytes a header takes: 2 + 8 (length) + 4 (mask).
pub const MAX_HEADER: usize = 14;
/// Largest control frame payload (RFC 6455 §5.5).
pub const MAX_CONTROL_PAYLOAD: usize = 125;

/// A frame's kind (RFC 6455 §5.2; §11.8 lists the registered values).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OpCode {
    /// `0x0`: the next piece of a fragmented message.
    Continuation,
    /// `0x1`: the first (or only) frame of a text message.
    Text,
    /// `0x2`: the first (or only) frame of a binary message.
    Binary,
    /// `0x8`: close.
    Close,
    /// `0x9`: ping.
    Ping,
    /// `0xA`: pong.
    Pong,
}

impl OpCode {
    /// The opcode of a 4-bit value; `None` for the reserved ones
    /// (`0x3`-`0x7`, `0xB`-`0xF`).
    pub fn from_bits(bits: u8) -> Option<OpCode> {
        Some(match bits {
            0x0 => OpCode::Continuation,
            0x1 => OpCode::Text,
            0x2 => OpCode::Binary,
            0x8 => OpCode::Close,
            0x9 => OpCode::Ping,
            0xA => OpCode::Pong,
            _ => return None,
        })
    }

    /// The 4-bit value.
    pub fn bits(self) -> u8 {
        match self {
            OpCode::Continuation => 0x0,
            OpCode::Text => 0x1,
            OpCode::Binary => 0x2,
            OpCode::Close => 0x8,
            OpCode::Ping => 0x9,
            OpCode::Pong => 0xA,
        }
    }

    /// Close, ping and pong: at most 125 bytes, never fragmented, allowed
    /// between the fragments of a message.
    pub fn is_control(self) -> bool {
        self.bits() & 0x8 != 0
    }
}

/// What the receiving end accepts (RFC 6455 §5.1-5.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rules {
    /// Frames must be masked (a server reading a client) or must not be
    /// (a client reading a server).
    pub masked: bool,
    /// RSV1 may be set. Only an extension that defines it may allow it:
    /// permessage-deflate (RFC 7692) sets it on the first frame of a
    /// compressed message. The header parser only checks the bit is
    /// allowed at all; which frames may carry it is the reader's rule.
    pub rsv1_allowed: bool,
}

impl Rules {
    /// A server reading a client, no extension: masked frames, no RSV bits.
    pub const SERVER: Rules = Rules {
        masked: true,
        rsv1_allowed: false,
    };
    /// A client reading a server, no extension: unmasked, no RSV bits.
    pub const CLIENT: Rules = Rules {
        masked: false,
        rsv1_allowed: false,
    };
}

/// A parsed frame header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrameHeader {
    /// The last frame of its message.
    pub fin: bool,
    /// RSV1 (permessage-deflate: "compressed").
    pub rsv1: bool,
    /// The frame's kind.
    pub opcode: OpCode,
    /// The masking key, if the frame is masked.
    pub mask: Option<[u8; 4]>,
    /// The payload's length (below 2^63).
    pub payload_len: u64,
    /// The header's own length (2 to 14 bytes): the payload starts there.
    pub header_len: usize,
}

/// The outcome of [`parse_header`] on bytes that break no rule so far.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Parsed {
    /// A whole header.
    Header(FrameHeader),
    /// The bytes are a header's start: it is this many bytes long (2 if
    /// not even that is known yet).
    Incomplete(usize),
}

/// A header that breaks RFC 6455's rules; the connection fails with
/// close code 1002 (protocol error).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FrameError {
    /// RSV2 or RSV3 set, or RSV1 without an extension that defines it.
    ReservedBits,
    /// A reserved opcode.
    ReservedOpcode(u8),
    /// A control frame with more than 125 bytes of payload.
    ControlTooLong,
    /// A control frame without FIN.
    ControlFragmented,
    /// A client frame without a mask, or a server frame with one.
    Masking,
    /// A 64-bit length with its most significant bit set.
    LengthOverflow,
}

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FrameError::ReservedBits => f.write_str("reserved bits set"),
            FrameError::ReservedOpcode(op) => write!(f, "reserved opcode {op:#x}"),
            FrameError::ControlTooLong => f.write_str("control frame longer than 125 bytes"),
            FrameError::ControlFragmented => f.write_str("fragmented control frame"),
            FrameError::Masking => f.write_str("frame masking is wrong for its direction"),
            FrameError::LengthOverflow => f.write_str("64-bit length with the top bit set"),
        }
    }
}

impl std::error::Error for FrameError {}

/// Parses the frame header at the start of `buf` (the payload and
/// anything after it are not looked at). Every rule that the header alone
/// decides is checked as soon as the bytes that decide it are there, so a
/// bad first byte fails before the rest of the header arrives.
pub fn parse_header(buf: &[u8], rules: Rules) -> Result<Parsed, FrameError> {
    let Some(&b0) = buf.first() else {
        return Ok(Parsed::Incomplete(2));
    };
    let fin = b0 & 0x80 != 0;
    let rsv1 = b0 & 0x40 != 0;
    if b0 & 0x30 != 0 || (rsv1 && !rules.rsv1_allowed) {
        return Err(FrameError::ReservedBits);
    }
    let opcode = OpCode::from_bits(b0 & 0x0F).ok_or(FrameError::ReservedOpcode(b0 & 0x0F))?;
    if opcode.is_control() && !fin {
        return Err(FrameError::ControlFragmented);
    }
    let Some(&b1) = buf.get(1) else {
        return Ok(Parsed::Incomplete(2));
    };
    let masked = b1 & 0x80 != 0;
    if masked != rules.masked {
        return Err(FrameError::Masking);
    }
    let len7 = b1 & 0x7F;
    if opcode.is_control() && len7 > MAX_CONTROL_PAYLOAD as u8 {
        return Err(FrameError::ControlTooLong);
    }
    let ext = match len7 {
        126 => 2,
        127 => 8,
        _ => 0,
    };
    let header_len = 2 + ext + if masked { 4 } else { 0 };
    if buf.len() < 2 + ext {
        return Ok(Parsed::Incomplete(header_len));
    }
    let payload_len = match ext {
        0 => u64::from(len7),
        2 => u64::from(u16::from_be_bytes([buf[2], buf[3]])),
        _ => {
            let mut b = [0; 8];
            b.copy_from_slice(&buf[2..10]);
            let n = u64::from_be_bytes(b);
            if n >> 63 != 0 {
                return Err(FrameError::LengthOverflow);
            }
            n
        }
    };
    if buf.len() < header_len {
        return Ok(Parsed::Incomplete(header_len));
    }
    let mask = masked.then(|| {
        let m = &buf[2 + ext..header_len];
        [m[0], m[1], m[2], m[3]]
    });
    Ok(Parsed::Header(FrameHeader {
        fin,
        rsv1,
        opcode,
        mask,
        payload_len,
        header_len,
    }))
}

/// Encodes a header into `out`; returns its length. Lengths use the
/// shortest form (RFC 6455 §5.2: "the minimal number of bytes").
pub fn encode_header(
    out: &mut [u8; MAX_HEADER],
    fin: bool,
    rsv1: bool,
    opcode: OpCode,
    mask: Option<[u8; 4]>,
    payload_len: u64,
) -> usize {
    out[0] = u8::from(fin) << 7 | u8::from(rsv1) << 6 | opcode.bits();
    let m = if mask.is_some() { 0x80 } else { 0 };
    let mut n = match payload_len {
        0..=125 => {
            out[1] = m | payload_len as u8;
            2
        }
        126..=0xFFFF => {
            out[1] = m | 126;
            out[2..4].copy_from_slice(&(payload_len as u16).to_be_bytes());
            4
        }
        _ => {
            out[1] = m | 127;
            out[2..10].copy_from_slice(&payload_len.to_be_bytes());
            10
        }
    };
    if let Some(k) = mask {
        out[n..n + 4].copy_from_slice(&k);
        n += 4;
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(buf: &[u8]) -> Result<Parsed, FrameError> {
        parse_header(buf, Rules::SERVER)
    }

    #[test]
    fn every_length_form_round_trips_and_prefixes_are_incomplete() {
        for len in [
            0u64,
            1,
            125,
            126,
            127,
            0xFFFF,
            0x1_0000,
            1 << 40,
            (1 << 63) - 1,
        ] {
            for mask in [None, Some([9, 8, 7, 6])] {
                let mut out = [0; MAX_HEADER];
                let n = encode_header(&mut out, true, false, OpCode::Binary, mask, len);
                let rules = Rules {
                    masked: mask.is_some(),
                    rsv1_allowed: false,
                };
                let Ok(Parsed::Header(h)) = parse_header(&out[..n], rules) else {
                    panic!("len {len}");
                };
                assert_eq!((h.payload_len, h.mask, h.header_len), (len, mask, n));
                for cut in 0..n {
                    match parse_header(&out[..cut], rules) {
                        Ok(Parsed::Incomplete(need)) => {
                            assert!(need > cut && need <= n, "len {len} cut {cut}")
                        }
                        other => panic!("len {len} cut {cut}: {other:?}"),
                    }
                }
            }
        }
    }

    #[test]
    fn rfc_examples() {
        // RFC 6455 §5.7: a masked "Hello".
        let frame = [
            0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
        ];
        let Ok(Parsed::Header(h)) = parse(&frame) else {
            panic!()
        };
        assert_eq!(
            (h.fin, h.opcode, h.payload_len, h.header_len),
            (true, OpCode::Text, 5, 6)
        );
        let mut payload = frame[6..].to_vec();
        apply_mask(&mut payload, h.mask.unwrap(), 0);
        assert_eq!(payload, b"Hello");
        // A fragmented unmasked text message, read as a client.
        let first = [0x01, 0x03, b'H', b'e', b'l'];
        let Ok(Parsed::Header(h)) = parse_header(&first, Rules::CLIENT) else {
            panic!()
        };
        assert!(!h.fin && h.opcode == OpCode::Text && h.mask.is_none());
    }

    #[test]
    fn rule_breakers() {
        assert_eq!(parse(&[0x81, 0x05]), Err(FrameError::Masking));
        assert_eq!(
            parse_header(&[0x81, 0x85], Rules::CLIENT),
            Err(FrameError::Masking)
        );
        assert_eq!(parse(&[0xC1]), Err(FrameError::ReservedBits));
        assert_eq!(parse(&[0xA1]), Err(FrameError::ReservedBits));
        assert_eq!(parse(&[0x91]), Err(FrameError::ReservedBits));
        let deflate = Rules {
            masked: true,
            rsv1_allowed: true,
        };
        assert!(matches!(
            parse_header(&[0xC1, 0x80, 0, 0, 0, 0], deflate),
            Ok(Parsed::Header(FrameHeader { rsv1: true, .. }))
        ));
        for op in [3, 7, 0xB, 0xF] {
            assert_eq!(parse(&[0x80 | op]), Err(FrameError::ReservedOpcode(op)));
        }
        assert_eq!(parse(&[0x09]), Err(FrameError::ControlFragmented));
        assert_eq!(parse(&[0x89, 0xFE]), Err(FrameError::ControlTooLong));
        let mut huge = [0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 0];
        assert_eq!(parse(&huge), Err(FrameError::LengthOverflow));
        huge[2] = 0x7F;
        assert_eq!(parse(&huge), Ok(Parsed::Incomplete(14)));
    }
}
