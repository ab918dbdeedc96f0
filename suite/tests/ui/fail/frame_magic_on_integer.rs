use corering::frame::Frame;

#[derive(Frame)]
struct Msg {
    #[frame(magic = b"AB")]
    sig: u16,
}

fn main() {}
