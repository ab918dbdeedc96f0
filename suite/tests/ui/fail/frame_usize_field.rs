use corering::frame::Frame;

#[derive(Frame)]
struct Msg {
    len: usize,
}

fn main() {}
