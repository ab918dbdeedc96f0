//! Decodes arbitrary bytes as kv's RESP request (`templates/kv/src/resp.rs`) and
//! checks the `Frame` contract on whatever comes out:
//! - `Incomplete` asks for at least one byte; errors point inside the input;
//! - a complete command consumed between 1 and all of the bytes, and every
//!   argument lies inside what it consumed;
//! - re-encoding (always multibulk) decodes to the same arguments;
//! - every strict prefix of a multibulk command's bytes is `Incomplete`.
//!
//! Run with `cargo fuzz run resp_command` from the repository root.

#![no_main]

use corering::frame::{Decoded, Frame};
use libfuzzer_sys::fuzz_target;

#[allow(dead_code)]
#[path = "../../templates/kv/src/resp.rs"]
mod resp;

use resp::Command;

fn args_of(c: &Command<'_>) -> Vec<Vec<u8>> {
    let v: Vec<Vec<u8>> = c.args().map(<[u8]>::to_vec).collect();
    assert_eq!(v.len(), c.argc(), "args() yields argc() arguments");
    for (i, a) in v.iter().enumerate() {
        assert_eq!(c.arg(i), Some(&a[..]), "arg({i}) agrees with args()");
    }
    v
}

fuzz_target!(|data: &[u8]| {
    let (args, consumed) = match Command::decode(data) {
        Err(e) => {
            assert!(e.offset() <= data.len(), "error offset inside the input: {e}");
            return;
        }
        Ok(Decoded::Incomplete { needed }) => {
            assert!(needed >= 1);
            return;
        }
        Ok(Decoded::Complete { frame, consumed }) => {
            assert!(consumed >= 1 && consumed <= data.len());
            (args_of(&frame), consumed)
        }
    };
    if data[0] == b'*' {
        for end in 0..consumed {
            assert!(
                matches!(Command::decode(&data[..end]), Ok(Decoded::Incomplete { .. })),
                "strict prefix of {end} bytes (of {consumed}) must be incomplete"
            );
        }
    }
    let Ok(Decoded::Complete { frame, .. }) = Command::decode(data) else {
        unreachable!()
    };
    let mut out = vec![0u8; frame.encoded_len()];
    frame.encode(&mut out);
    match Command::decode(&out) {
        Ok(Decoded::Complete { frame: again, consumed }) => {
            assert_eq!(consumed, out.len(), "re-encoded command consumed whole");
            assert_eq!(args_of(&again), args, "re-encoding keeps the arguments");
        }
        other => panic!("re-encoded command does not decode: {other:?}"),
    }
});
