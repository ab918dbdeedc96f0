//! Parses arbitrary bytes as a WebSocket frame header under each set of
//! rules (server, client, with and without RSV1 allowed) and checks what
//! comes out:
//! - `Incomplete` asks for more bytes than were given, at most 14;
//! - a header is 2 to 14 bytes, no longer than the input, and re-encodes
//!   (shortest length form) to a header that parses the same;
//! - every strict prefix of a header's bytes is `Incomplete` or the same
//!   error the whole would give, never a different header;
//! - unmasking the rest of the input in two pieces equals unmasking it
//!   whole.
//!
//! Run with `cargo fuzz run ws_frame` from the repository root.

#![no_main]

use corering::ws::frame::{apply_mask, encode_header, parse_header, Parsed, Rules, MAX_HEADER};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for masked in [true, false] {
        for rsv1_allowed in [false, true] {
            let rules = Rules {
                masked,
                rsv1_allowed,
            };
            check(data, rules);
        }
    }
});

fn check(data: &[u8], rules: Rules) {
    match parse_header(data, rules) {
        Ok(Parsed::Incomplete(n)) => assert!(n > data.len() && n <= MAX_HEADER),
        Err(e) => {
            // A longer input fails the same way.
            let mut more = data.to_vec();
            more.extend_from_slice(&[0; MAX_HEADER]);
            assert_eq!(parse_header(&more, rules), Err(e));
        }
        Ok(Parsed::Header(h)) => {
            assert!((2..=MAX_HEADER).contains(&h.header_len) && h.header_len <= data.len());
            assert_eq!(h.mask.is_some(), rules.masked);
            assert!(h.payload_len < 1 << 63);
            assert!(!h.opcode.is_control() || (h.fin && h.payload_len <= 125));
            for cut in 0..h.header_len {
                match parse_header(&data[..cut], rules) {
                    Ok(Parsed::Incomplete(n)) => assert!(n > cut && n <= h.header_len),
                    other => panic!("prefix {cut} of a header: {other:?}"),
                }
            }
            let mut out = [0; MAX_HEADER];
            let n = encode_header(&mut out, h.fin, h.rsv1, h.opcode, h.mask, h.payload_len);
            assert!(n <= h.header_len);
            let Ok(Parsed::Header(again)) = parse_header(&out[..n], rules) else {
                panic!("re-encoded header does not parse");
            };
            assert_eq!((again.fin, again.rsv1, again.opcode), (h.fin, h.rsv1, h.opcode));
            assert_eq!((again.mask, again.payload_len), (h.mask, h.payload_len));
            if let Some(key) = h.mask {
                let rest = &data[h.header_len..];
                let mut whole = rest.to_vec();
                apply_mask(&mut whole, key, 0);
                let mut pieces = rest.to_vec();
                let at = pieces.len() / 3;
                apply_mask(&mut pieces[..at], key, 0);
                apply_mask(&mut pieces[at..], key, at);
                assert_eq!(whole, pieces);
            }
        }
    }
}
