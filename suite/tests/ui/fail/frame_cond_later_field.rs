use corering::frame::Frame;

#[derive(Frame)]
struct Msg {
    #[frame(if = flags & 1 != 0)]
    seq: Option<u32>,
    flags: u8,
}

fn main() {}
