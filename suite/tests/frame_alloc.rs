//! Decoding and encoding derived frames with borrowed fields allocates
//! nothing: a counting global allocator counts allocations made by this
//! test's thread while counting is on.

use std::hint::black_box;

use corering::frame::{Decoded, Frame};

mod counting_alloc;

use counting_alloc::allocations;

#[derive(Frame, Debug, PartialEq)]
struct Header {
    kind: u8,
    #[frame(endian = "little")]
    id: u32,
}

#[derive(Frame, Debug, PartialEq)]
#[frame(tag = u8)]
enum Body<'a> {
    #[frame(id = 1)]
    Text(#[frame(prefix = u16)] &'a str),
    #[frame(id = 2)]
    Bytes {
        n: u32,
        #[frame(len = n, max = 4096)]
        data: &'a [u8],
    },
    #[frame(other)]
    Unknown(u8),
}

#[derive(Frame, Debug, PartialEq)]
#[frame(magic = b"CRNG")]
struct Packet<'a> {
    header: Header,
    flags: u8,
    #[frame(if = flags & 1 != 0)]
    seq: Option<u64>,
    #[frame(prefix = u8)]
    name: &'a str,
    mac: [u8; 6],
    body: Body<'a>,
}

#[derive(Frame, Debug, PartialEq)]
#[frame(line, magic = "SET")]
struct Set<'a> {
    key: &'a str,
    ttl: u32,
    #[frame(rest)]
    value: &'a [u8],
}

fn decode_all<'a, F: Frame<'a>>(mut buf: &'a [u8]) -> usize {
    let mut frames = 0;
    while !buf.is_empty() {
        match F::decode(buf) {
            Ok(Decoded::Complete { frame, consumed }) => {
                black_box(&frame);
                buf = &buf[consumed..];
                frames += 1;
            }
            other => panic!("{:?}", other.map(|_| ()).map_err(|e| e.to_string())),
        }
    }
    frames
}

#[test]
fn borrowed_frames_decode_and_encode_without_allocating() {
    let packets = [
        Packet {
            header: Header { kind: 1, id: 7 },
            flags: 1,
            seq: Some(99),
            name: "héllo",
            mac: [1, 2, 3, 4, 5, 6],
            body: Body::Text("a text body"),
        },
        Packet {
            header: Header { kind: 2, id: 8 },
            flags: 0,
            seq: None,
            name: "",
            mac: [0; 6],
            body: Body::Bytes {
                n: 0,
                data: &[9; 100],
            },
        },
        Packet {
            header: Header { kind: 3, id: 9 },
            flags: 0,
            seq: None,
            name: "x",
            mac: [0; 6],
            body: Body::Unknown(200),
        },
    ];
    let sets = [
        Set {
            key: "k",
            ttl: 60,
            value: b"hello world",
        },
        Set {
            key: "counter",
            ttl: 0,
            value: b"",
        },
    ];

    // Buffers are prepared before counting starts.
    let mut bin = [0u8; 4096];
    let mut text = [0u8; 256];
    let mut scratch = [0u8; 512];

    let n = allocations(|| {
        let mut at = 0;
        for _ in 0..10 {
            for p in &packets {
                let len = p.encoded_len();
                p.encode(&mut bin[at..at + len]);
                at += len;
            }
        }
        assert_eq!(decode_all::<Packet>(&bin[..at]), 30);

        let mut at = 0;
        for _ in 0..5 {
            for s in &sets {
                let len = s.encoded_len();
                s.encode(&mut text[at..at + len]);
                at += len;
            }
        }
        assert_eq!(decode_all::<Set>(&text[..at]), 10);

        // Prefixes and malformed input of a top-level frame allocate nothing
        // either (a nested frame's error allocates to build its path).
        let one = packets[0].encoded_len();
        scratch[..one].copy_from_slice(&bin[..one]);
        for k in 0..one {
            assert!(matches!(
                Packet::decode(&scratch[..k]),
                Ok(Decoded::Incomplete { .. })
            ));
        }
        scratch[0] = b'X';
        assert!(Packet::decode(&scratch[..one]).is_err());
        assert!(Set::decode(b"SET k notanumber v\r\n").is_err());
    });
    assert_eq!(
        n, 0,
        "decoding/encoding borrowed frames allocated {n} times"
    );

    // The counter works: an owned field does allocate.
    #[derive(Frame)]
    struct Owned {
        #[frame(prefix = u8)]
        s: String,
    }
    let n = allocations(|| {
        black_box(Owned::decode(b"\x02hi").unwrap());
    });
    assert!(n > 0);
}
