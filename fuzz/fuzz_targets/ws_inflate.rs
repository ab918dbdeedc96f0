//! Feeds arbitrary bytes to permessage-deflate's `Inflater` as a stream of
//! messages, fragment by fragment, and checks:
//! - it never panics, hangs, or produces more than the limit per message
//!   (the output stops at `limit + 1` with `TooLarge`);
//! - after an error and a reset, a message the `Deflater` compressed comes
//!   back exactly, whatever came before it;
//! - what the `Deflater` compresses from the input inflates back to it.
//!
//! The first byte picks the window bits, the fragment size and the limit;
//! the rest is split into messages at each `0xff 0x00` pair.
//!
//! Run with `cargo fuzz run ws_inflate` from the repository root.

#![no_main]

use corering::ws::deflate::{DeflateError, Deflater, Inflater};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&knobs, rest)) = data.split_first() else {
        return;
    };
    let bits = 8 + (knobs & 7);
    let frag = 1 + usize::from(knobs >> 3 & 7) * 37;
    let limit = if knobs & 0x40 != 0 { 64 } else { 1 << 16 };
    let no_context_takeover = knobs & 0x80 != 0;

    let mut rx = Inflater::new(bits);
    let mut out = Vec::new();
    for msg in rest.split(|&b| b == 0xff) {
        out.clear();
        let mut failed = false;
        for piece in msg.chunks(frag) {
            match rx.push(piece, &mut out, limit) {
                Ok(()) => assert!(out.len() <= limit),
                Err(e) => {
                    assert!(out.len() <= limit + 1);
                    if let DeflateError::TooLarge { limit: l } = e {
                        assert_eq!(l, limit);
                    }
                    failed = true;
                    break;
                }
            }
        }
        if !failed && rx.finish(&mut out, limit).is_ok() {
            assert!(out.len() <= limit);
        }
        assert!(out.len() <= limit + 1);
    }

    // A clean message after whatever came before.
    rx.reset();
    let mut tx = Deflater::new(knobs % 10, bits, no_context_takeover);
    let mut wire = Vec::new();
    for msg in rest.split(|&b| b == 0xff) {
        wire.clear();
        out.clear();
        tx.compress_message(msg, &mut wire);
        rx.decompress(&wire, &mut out, msg.len()).unwrap();
        assert_eq!(out, msg);
    }
});
