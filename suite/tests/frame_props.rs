//! Property tests for derived frames with random values from a seeded
//! xorshift generator (reproducible: the failing seed is in the message).
//!
//! - encode then decode is the identity, consuming exactly `encoded_len`;
//! - every strict prefix of a valid frame is `Incomplete { needed }` with
//!   `1 <= needed <= missing bytes`, never an error;
//! - bytes after a frame are left alone;
//! - oversized, bad-magic, bad-tag and bad-UTF-8 inputs give exactly the
//!   expected error kind, field path and byte offset.

use corering::frame::{DecodeError, DecodeErrorKind, Decoded, Frame};

const ROUNDS: u64 = 500;

struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn bool(&mut self) -> bool {
        self.next() & 1 == 1
    }
    fn bytes(&mut self, max: usize) -> Vec<u8> {
        let n = self.below(max as u64 + 1) as usize;
        (0..n).map(|_| self.next() as u8).collect()
    }
    /// Text of random chars (ASCII and multi-byte), none in `forbid`.
    fn text(&mut self, max_chars: usize, forbid: &[char]) -> String {
        const POOL: &[char] = &[
            'a', 'Z', '0', ' ', '-', 'é', 'ß', '€', '中', '🦀', '\r', '\n', '~',
        ];
        let n = self.below(max_chars as u64 + 1) as usize;
        let mut s = String::new();
        while s.chars().count() < n {
            let c = POOL[self.below(POOL.len() as u64) as usize];
            if !forbid.contains(&c) {
                s.push(c);
            }
        }
        s
    }
}

fn enc<'a, F: Frame<'a>>(f: &F) -> Vec<u8> {
    let mut v = vec![0u8; f.encoded_len()];
    f.encode(&mut v);
    v
}

fn err<'a, F: Frame<'a> + std::fmt::Debug>(b: &'a [u8]) -> DecodeError {
    match F::decode(b) {
        Err(e) => e,
        other => panic!("expected an error, got {other:?}"),
    }
}

fn check(e: &DecodeError, kind: DecodeErrorKind, path: &str, offset: usize, seed: u64) {
    assert_eq!(
        (e.kind(), e.path(), e.offset()),
        (&kind, path, offset),
        "seed {seed}: {e}"
    );
}

/// The three stream properties for one encoded frame.
fn stream_properties<'a, F>(bytes: &'a [u8], expected: &F, seed: u64)
where
    F: Frame<'a> + PartialEq + std::fmt::Debug,
{
    match F::decode(bytes) {
        Ok(Decoded::Complete { frame, consumed }) => {
            assert_eq!(&frame, expected, "seed {seed}");
            assert_eq!(consumed, bytes.len(), "seed {seed}");
        }
        other => panic!("seed {seed}: {other:?} for {bytes:?}"),
    }
    for k in 0..bytes.len() {
        match F::decode(&bytes[..k]) {
            Ok(Decoded::Incomplete { needed }) => assert!(
                needed >= 1 && needed <= bytes.len() - k,
                "seed {seed}: prefix {k}/{}: needed {needed}",
                bytes.len()
            ),
            other => panic!("seed {seed}: prefix {k}/{}: {other:?}", bytes.len()),
        }
    }
}

fn with_junk(bytes: &[u8], rng: &mut Rng) -> Vec<u8> {
    let mut v = bytes.to_vec();
    v.extend(rng.bytes(8));
    v
}

// ---- a binary frame with every kind of field ------------------------------------

#[derive(Frame, Debug, PartialEq, Clone, Copy)]
#[frame(endian = "little")]
struct Point {
    x: i32,
    y: i16,
}

#[derive(Frame, Debug, PartialEq)]
#[frame(tag = u8)]
enum Body<'a> {
    #[frame(id = 0)]
    Empty,
    #[frame(id = 1)]
    Text(#[frame(prefix = u16)] &'a str),
    #[frame(id = 2)]
    Pair { a: u32, b: i64 },
    #[frame(id = 3)]
    Blob {
        n: u8,
        #[frame(len = n)]
        data: &'a [u8],
    },
}

#[derive(Frame, Debug, PartialEq)]
#[frame(magic = b"CRNG")]
struct Packet<'a> {
    version: u8,
    #[frame(endian = "little")]
    flags: u16,
    n: u16,
    #[frame(len = n, max = 64)]
    payload: &'a [u8],
    #[frame(prefix = u8, max = 40)]
    name: &'a str,
    #[frame(if = flags & 1 != 0)]
    seq: Option<u64>,
    #[frame(if = flags & 2 != 0, prefix = u16)]
    note: Option<String>,
    point: Point,
    #[frame(prefix = u8)]
    points: Vec<Point>,
    #[frame(prefix = u8, endian = "little")]
    values: Vec<i32>,
    mac: [u8; 6],
    #[frame(constant = 0x7e)]
    marker: u8,
    ok: bool,
    body: Body<'a>,
}

/// Offsets of the fields the malformed-input tests corrupt.
const PAYLOAD_LEN_AT: usize = 4 + 1 + 2;
const PAYLOAD_AT: usize = PAYLOAD_LEN_AT + 2;

struct Owned {
    payload: Vec<u8>,
    name: String,
    text: String,
    blob: Vec<u8>,
}

fn random_owned(rng: &mut Rng) -> Owned {
    Owned {
        payload: rng.bytes(64),
        name: {
            let mut s = rng.text(10, &[]);
            while s.len() > 40 {
                s.pop();
            }
            s
        },
        text: rng.text(20, &[]),
        blob: rng.bytes(30),
    }
}

fn random_packet<'a>(rng: &mut Rng, o: &'a Owned) -> Packet<'a> {
    let flags = rng.next() as u16;
    let point = |rng: &mut Rng| Point {
        x: rng.next() as i32,
        y: rng.next() as i16,
    };
    Packet {
        version: rng.next() as u8,
        flags,
        n: o.payload.len() as u16,
        payload: &o.payload,
        name: &o.name,
        seq: (flags & 1 != 0).then(|| rng.next()),
        note: (flags & 2 != 0).then(|| rng.text(5, &[])),
        point: point(rng),
        points: (0..rng.below(4)).map(|_| point(rng)).collect(),
        values: (0..rng.below(5)).map(|_| rng.next() as i32).collect(),
        mac: (rng.next() ^ 0xfeed).to_be_bytes()[..6].try_into().unwrap(),
        marker: 0x7e,
        ok: rng.bool(),
        body: match rng.below(4) {
            0 => Body::Empty,
            1 => Body::Text(&o.text),
            2 => Body::Pair {
                a: rng.next() as u32,
                b: rng.next() as i64,
            },
            _ => Body::Blob {
                n: o.blob.len() as u8,
                data: &o.blob,
            },
        },
    }
}

#[test]
fn binary_round_trip_prefixes_and_trailing_bytes() {
    for seed in 0..ROUNDS {
        let mut rng = Rng::new(seed);
        let o = random_owned(&mut rng);
        let p = random_packet(&mut rng, &o);
        let bytes = enc(&p);
        assert_eq!(bytes.len(), p.encoded_len());
        stream_properties(&bytes, &p, seed);
        let junk = with_junk(&bytes, &mut rng);
        match Packet::decode(&junk) {
            Ok(Decoded::Complete { frame, consumed }) => {
                assert_eq!(frame, p, "seed {seed}");
                assert_eq!(consumed, bytes.len(), "seed {seed}");
            }
            other => panic!("seed {seed}: {other:?}"),
        }
    }
}

#[test]
fn binary_malformed_inputs_name_field_and_offset() {
    for seed in 0..ROUNDS {
        let mut rng = Rng::new(seed);
        let o = random_owned(&mut rng);
        let p = random_packet(&mut rng, &o);
        let good = enc(&p);

        // Bad magic: any wrong byte among the first four, even before the
        // rest has arrived.
        let mut b = good.clone();
        let i = rng.below(4) as usize;
        b[i] ^= 1 + rng.below(255) as u8;
        check(
            &err::<Packet>(&b),
            DecodeErrorKind::BadMagic,
            "Packet",
            0,
            seed,
        );
        check(
            &err::<Packet>(&b[..=i]),
            DecodeErrorKind::BadMagic,
            "Packet",
            0,
            seed,
        );

        // Oversized length field: TooLong at the length, before the data.
        let mut b = good[..PAYLOAD_AT].to_vec();
        let len = 65 + rng.below(60_000) as u16;
        b[PAYLOAD_LEN_AT..PAYLOAD_AT].copy_from_slice(&len.to_be_bytes());
        let kind = DecodeErrorKind::TooLong {
            len: len.into(),
            max: 64,
        };
        check(
            &err::<Packet>(&b),
            kind,
            "Packet.payload",
            PAYLOAD_LEN_AT,
            seed,
        );

        // Oversized prefix.
        let name_at = PAYLOAD_AT + o.payload.len();
        let mut b = good[..=name_at].to_vec();
        b[name_at] = 41 + rng.below(200) as u8;
        let kind = DecodeErrorKind::TooLong {
            len: b[name_at].into(),
            max: 40,
        };
        check(&err::<Packet>(&b), kind, "Packet.name", name_at, seed);

        // Bad UTF-8 at a random char boundary of the name.
        if !o.name.is_empty() {
            let bounds: Vec<usize> = o.name.char_indices().map(|(i, _)| i).collect();
            let i = bounds[rng.below(bounds.len() as u64) as usize];
            let mut b = good.clone();
            b[name_at + 1 + i] = 0xff;
            check(
                &err::<Packet>(&b),
                DecodeErrorKind::BadUtf8,
                "Packet.name",
                name_at + 1 + i,
                seed,
            );
        }

        // Bad tag of the nested enum: the last field.
        let body_at = good.len() - p.body.encoded_len();
        let mut b = good.clone();
        let tag = 4 + rng.below(252) as u8;
        b[body_at] = tag;
        check(
            &err::<Packet>(&b),
            DecodeErrorKind::BadTag(tag.into()),
            "Packet.body",
            body_at,
            seed,
        );

        // Bad UTF-8 inside the nested enum's text: offset from the start
        // of the outer frame.
        if let Body::Text(t) = p.body {
            if !t.is_empty() {
                let mut b = good.clone();
                b[body_at + 3] = 0xc0;
                check(
                    &err::<Packet>(&b),
                    DecodeErrorKind::BadUtf8,
                    "Packet.body.Text.0",
                    body_at + 3,
                    seed,
                );
            }
        }

        // Constant and bool just before the body.
        let mut b = good.clone();
        b[body_at - 2] = 0x7f;
        check(
            &err::<Packet>(&b),
            DecodeErrorKind::BadMagic,
            "Packet.marker",
            body_at - 2,
            seed,
        );
        let mut b = good.clone();
        b[body_at - 1] = 2 + rng.below(250) as u8;
        check(
            &err::<Packet>(&b),
            DecodeErrorKind::Invalid("expected a bool (0 or 1)"),
            "Packet.ok",
            body_at - 1,
            seed,
        );
    }
}

// ---- a line frame -------------------------------------------------------------------

#[derive(Frame, Debug, PartialEq)]
#[frame(line, max = 200)]
struct Cmd<'a> {
    verb: &'a str,
    key: &'a [u8],
    n: i64,
    count: u16,
    #[frame(rest)]
    text: &'a str,
}

#[test]
fn line_round_trip_prefixes_and_errors() {
    for seed in 0..ROUNDS {
        let mut rng = Rng::new(seed);
        let verb = rng.text(6, &[' ', '\r', '\n']);
        let key = rng.text(6, &[' ', '\r', '\n']).into_bytes();
        let text = rng.text(20, &['\r', '\n']);
        let c = Cmd {
            verb: &verb,
            key: &key,
            n: rng.next() as i64 >> rng.below(64),
            count: rng.next() as u16,
            text: &text,
        };
        let bytes = enc(&c);
        assert!(bytes.ends_with(b"\r\n"));
        stream_properties(&bytes, &c, seed);
        let junk = with_junk(&bytes, &mut rng);
        match Cmd::decode(&junk) {
            Ok(Decoded::Complete { consumed, .. }) => assert_eq!(consumed, bytes.len()),
            other => panic!("seed {seed}: {other:?}"),
        }

        // Bad UTF-8 in the first field.
        if !verb.is_empty() {
            let mut b = bytes.clone();
            b[0] = 0xff;
            check(
                &err::<Cmd>(&b),
                DecodeErrorKind::BadUtf8,
                "Cmd.verb",
                0,
                seed,
            );
        }
        // A bare LF.
        let mut b = bytes[..bytes.len() - 2].to_vec();
        b.push(b'\n');
        let at = b.len() - 1;
        check(
            &err::<Cmd>(&b),
            DecodeErrorKind::Invalid("line ends with a bare LF instead of CRLF"),
            "Cmd",
            at,
            seed,
        );
        // Over `max` without a terminator.
        let mut b = bytes[..bytes.len() - 2].to_vec();
        b.resize(202, b'x');
        check(
            &err::<Cmd>(&b),
            DecodeErrorKind::TooLong { len: 201, max: 200 },
            "Cmd",
            0,
            seed,
        );
    }
}

// ---- arbitrary bytes (what the fuzz target checks, in miniature) --------------------

/// The contract on any input: no panic; `Incomplete` asks for at least one
/// byte; errors point inside the input; a binary frame re-encodes to the
/// bytes it consumed.
fn contract<'a, F: Frame<'a> + std::fmt::Debug>(data: &'a [u8], exact: bool, seed: u64) {
    match F::decode(data) {
        Ok(Decoded::Incomplete { needed }) => assert!(needed >= 1, "seed {seed}"),
        Err(e) => assert!(e.offset() <= data.len(), "seed {seed}: {e}"),
        Ok(Decoded::Complete { frame, consumed }) => {
            assert!(consumed >= 1 && consumed <= data.len(), "seed {seed}");
            if exact {
                assert_eq!(enc(&frame), &data[..consumed], "seed {seed}: {frame:?}");
            }
        }
    }
}

#[test]
fn random_and_mutated_bytes_keep_the_contract() {
    for seed in 0..ROUNDS * 4 {
        let mut rng = Rng::new(seed);
        let o = random_owned(&mut rng);
        let mut b = enc(&random_packet(&mut rng, &o));
        for _ in 0..1 + rng.below(3) {
            let i = rng.below(b.len() as u64) as usize;
            b[i] = rng.next() as u8;
        }
        contract::<Packet>(&b, true, seed);
        contract::<Body>(&b[4..], true, seed);
        let noise = rng.bytes(64);
        contract::<Packet>(&noise, true, seed);
        contract::<Body>(&noise, true, seed);
        contract::<Cmd>(&noise, false, seed);
    }
}
