use corering::frame::{Decoded, Frame};

#[derive(Frame, Debug, PartialEq)]
#[frame(magic = b"CRNG", endian = "big")]
struct Packet<'a> {
    version: u8,
    #[frame(endian = "little")]
    flags: u16,
    n: u16,
    #[frame(len = n, max = 1024)]
    payload: &'a [u8],
    #[frame(prefix = u8)]
    name: &'a str,
    #[frame(if = flags & 1 != 0)]
    seq: Option<u64>,
    body: Body<'a>,
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
    #[frame(other)]
    Unknown(u8),
}

fn main() {
    let p = Packet {
        version: 1,
        flags: 1,
        n: 0,
        payload: b"abc",
        name: "x",
        seq: Some(7),
        body: Body::Text("hi"),
    };
    let mut buf = [0u8; 64];
    let n = p.encoded_len();
    p.encode(&mut buf[..n]);
    assert_eq!(
        Packet::decode(&buf[..n]).unwrap(),
        Decoded::Complete {
            frame: Packet { n: 3, ..p },
            consumed: n
        }
    );
}
