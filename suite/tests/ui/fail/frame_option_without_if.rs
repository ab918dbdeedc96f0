use corering::frame::Frame;

#[derive(Frame)]
struct Msg {
    flags: u8,
    seq: Option<u32>,
    #[frame(if = flags & 2 != 0)]
    ack: u32,
}

fn main() {}
