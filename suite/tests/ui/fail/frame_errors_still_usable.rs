// A misuse is reported once; the type still implements `Frame`, so code
// using it reports no follow-on errors.
use corering::frame::Frame;

#[derive(Frame)]
struct Msg {
    #[frame(endian = "little")]
    flag: bool,
}

fn use_it(m: &Msg) -> usize {
    m.encoded_len()
}

fn main() {
    let _ = use_it;
    let _ = Msg::decode(b"");
}
