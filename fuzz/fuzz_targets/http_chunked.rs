//! Decodes arbitrary bytes as a chunked request body, whole and split at
//! every second position, and checks that:
//! - data ranges lie inside the input and consumption never exceeds it;
//! - the decoded body, the end and errors do not depend on how the input
//!   was split;
//! - with a body limit, no more than the limit is ever passed on, and the
//!   outcome is the unlimited one or `413` (a chunk that declares more
//!   than the limit is refused before its data).
//!
//! Run with `cargo fuzz run http_chunked` from the repository root.

#![no_main]

use corering::http::{ChunkStep, ChunkedDecoder};
use libfuzzer_sys::fuzz_target;

/// Outcome of decoding: the body bytes, whether the body ended (and where),
/// or the error's status.
#[derive(Debug, PartialEq)]
enum Outcome {
    Done(Vec<u8>, usize),
    Partial(Vec<u8>),
    Failed(u16),
}

/// The body limit of the limited runs.
const LIMIT: u64 = 100;

fn decode(data: &[u8], split: usize, max_body: u64) -> Outcome {
    let mut d = ChunkedDecoder::new(256).max_body(max_body);
    let mut body = Vec::new();
    let mut pos = 0;
    let mut limit = split.clamp(1, data.len().max(1)).min(data.len());
    loop {
        let piece = &data[pos..limit];
        let (used, step) = match d.decode(piece) {
            Ok(r) => r,
            Err(e) => return Outcome::Failed(e.status().as_u16()),
        };
        assert!(used <= piece.len());
        match step {
            ChunkStep::Data { start, end } => {
                assert!(start < end && end == used, "{start} {end} {used}");
                body.extend_from_slice(&piece[start..end]);
                assert!(body.len() as u64 <= max_body, "{} > {max_body}", body.len());
            }
            ChunkStep::Done => {
                assert!(d.is_done());
                return Outcome::Done(body, pos + used);
            }
            ChunkStep::NeedMore => assert_eq!(used, piece.len()),
        }
        pos += used;
        if pos == limit {
            if limit == data.len() {
                return Outcome::Partial(body);
            }
            limit = data.len();
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let whole = decode(data, data.len(), u64::MAX);
    for split in (1..data.len()).step_by(2).take(64) {
        assert_eq!(decode(data, split, u64::MAX), whole, "split at {split}");
    }
    let limited = decode(data, data.len(), LIMIT);
    assert!(
        limited == whole || limited == Outcome::Failed(413),
        "limit {LIMIT}: {limited:?} vs {whole:?}"
    );
    for split in (1..data.len()).step_by(5).take(16) {
        assert_eq!(decode(data, split, LIMIT), limited, "limited, split at {split}");
    }
});
