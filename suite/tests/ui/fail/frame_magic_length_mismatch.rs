use corering::frame::Frame;

#[derive(Frame)]
struct Msg {
    #[frame(magic = b"ABC")]
    sig: [u8; 2],
}

fn main() {}
