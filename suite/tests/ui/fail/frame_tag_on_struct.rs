use corering::frame::Frame;

#[derive(Frame)]
#[frame(tag = u8)]
struct Msg {
    a: u8,
}

fn main() {}
