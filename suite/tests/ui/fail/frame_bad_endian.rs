use corering::frame::Frame;

#[derive(Frame)]
#[frame(endian = "middle")]
struct Msg {
    a: u32,
}

fn main() {}
