use corering::frame::Frame;

struct NotAFrame;

#[derive(Frame)]
struct Msg {
    id: u8,
    body: NotAFrame,
}

fn main() {}
