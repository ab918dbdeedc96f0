//! permessage-deflate allocates nothing per message once warm: a counting
//! global allocator counts the allocations this thread makes while a
//! `Deflater` and an `Inflater` handle messages, whole and fragment by
//! fragment, with and without context takeover, into reused buffers.

use corering::ws::deflate::{Deflater, Inflater};

mod counting_alloc;

use counting_alloc::allocations;

fn json(n: usize, seed: usize) -> Vec<u8> {
    let mut s = String::new();
    let mut i = seed;
    while s.len() < n {
        s.push_str(&format!(
            "{{\"id\":{i},\"user\":\"user{}\",\"text\":\"hello number {}\"}},",
            i % 97,
            i * 7
        ));
        i += 1;
    }
    let mut v = s.into_bytes();
    v.truncate(n);
    v
}

/// Sends every message through `tx` and `rx`, fragments of `frag` bytes
/// (0: whole), checking each comes back.
fn run(
    tx: &mut Deflater,
    rx: &mut Inflater,
    msgs: &[Vec<u8>],
    frag: usize,
    bufs: &mut [Vec<u8>; 2],
) {
    let [wire, back] = bufs;
    for m in msgs {
        wire.clear();
        back.clear();
        tx.compress_message(m, wire);
        if frag == 0 {
            rx.decompress(wire, back, 1 << 20).unwrap();
        } else {
            for piece in wire.chunks(frag) {
                rx.push(piece, back, 1 << 20).unwrap();
            }
            rx.finish(back, 1 << 20).unwrap();
        }
        assert!(back == m);
    }
}

#[test]
fn no_allocation_per_message_once_warm() {
    for size in [512, 16 << 10] {
        let msgs: Vec<Vec<u8>> = (0..16).map(|i| json(size, i * 13)).collect();
        for bits in [9, 15] {
            for nct in [false, true] {
                for frag in [0, 700] {
                    let mut tx = Deflater::new(1, bits, nct);
                    let mut rx = Inflater::new(bits);
                    let mut bufs = [Vec::new(), Vec::new()];
                    run(&mut tx, &mut rx, &msgs, frag, &mut bufs);
                    let n = allocations(|| {
                        for _ in 0..10 {
                            run(&mut tx, &mut rx, &msgs, frag, &mut bufs);
                        }
                    });
                    assert_eq!(
                        n, 0,
                        "{n} allocations for 160 messages of {size} B \
                         (bits {bits}, no context takeover {nct}, fragments {frag})"
                    );
                }
            }
        }
    }
}
