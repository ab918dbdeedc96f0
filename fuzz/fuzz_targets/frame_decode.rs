//! Decodes arbitrary bytes as derived frames and checks the `Frame`
//! contract on whatever comes out:
//! - `Incomplete` asks for at least one byte; errors point inside the input;
//! - a binary frame re-encodes to exactly the bytes it consumed;
//! - a text frame re-encodes to a line that decodes to the same frame (its
//!   numbers may have had leading zeros, and those are not kept);
//! - every strict prefix of the consumed bytes is `Incomplete`.
//!
//! Run with `cargo fuzz run frame_decode` from the repository root.

#![no_main]

use corering::frame::{Decoded, Frame};
use libfuzzer_sys::fuzz_target;

#[derive(Frame, Debug, PartialEq)]
#[frame(endian = "little")]
struct Point {
    x: i32,
    y: f32,
}

#[derive(Frame, Debug, PartialEq)]
#[frame(tag = u16)]
enum Body<'a> {
    #[frame(id = 1)]
    Empty,
    #[frame(id = 2)]
    Text(#[frame(prefix = u8)] &'a str),
    #[frame(id = 3)]
    Points {
        n: u8,
        #[frame(len = n)]
        points: Vec<Point>,
    },
    #[frame(other)]
    Unknown(u16),
}

#[derive(Frame, Debug, PartialEq)]
#[frame(magic = b"C")]
struct Packet<'a> {
    flags: u8,
    n: u16,
    #[frame(len = n, max = 512)]
    payload: &'a [u8],
    #[frame(if = flags & 1 != 0)]
    seq: Option<u64>,
    #[frame(if = flags & 2 != 0, prefix = u8)]
    name: Option<String>,
    #[frame(constant = 1)]
    one: u8,
    ok: bool,
    mac: [u8; 3],
    body: Body<'a>,
}

#[derive(Frame, Debug, PartialEq)]
#[frame(line, max = 128)]
struct Cmd<'a> {
    verb: &'a str,
    n: i32,
    #[frame(rest)]
    rest: &'a [u8],
}

/// Checks the contract for one type; returns the frame if complete.
/// `exact`: the frame re-encodes to exactly the bytes it consumed.
fn check<'a, F>(data: &'a [u8], exact: bool) -> Option<F>
where
    F: Frame<'a> + std::fmt::Debug,
{
    let (frame, consumed) = match F::decode(data) {
        Ok(Decoded::Complete { frame, consumed }) => (frame, consumed),
        Ok(Decoded::Incomplete { needed }) => {
            assert!(needed >= 1);
            return None;
        }
        Err(e) => {
            assert!(e.offset() <= data.len(), "{e}");
            let _ = e.to_string();
            return None;
        }
    };
    assert!(consumed >= 1 && consumed <= data.len());
    if exact {
        let mut out = vec![0u8; frame.encoded_len()];
        frame.encode(&mut out);
        assert_eq!(out, &data[..consumed], "{frame:?}");
    }
    if consumed <= 512 {
        for k in 0..consumed {
            match F::decode(&data[..k]) {
                Ok(Decoded::Incomplete { needed }) => {
                    assert!(needed >= 1 && needed <= consumed - k)
                }
                other => panic!("prefix {k} of a {consumed}-byte frame: {other:?}"),
            }
        }
    }
    Some(frame)
}

fuzz_target!(|data: &[u8]| {
    check::<Packet>(data, true);
    check::<Body>(data, true);
    if let Some(cmd) = check::<Cmd>(data, false) {
        let mut out = vec![0u8; cmd.encoded_len()];
        cmd.encode(&mut out);
        match Cmd::decode(&out) {
            Ok(Decoded::Complete { frame, consumed }) => {
                assert_eq!(frame, cmd);
                assert_eq!(consumed, out.len());
            }
            other => panic!("{cmd:?} re-encoded does not decode: {other:?}"),
        }
    }
});
