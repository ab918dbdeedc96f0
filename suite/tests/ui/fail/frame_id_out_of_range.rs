use corering::frame::Frame;

#[derive(Frame)]
#[frame(tag = u8)]
enum Msg {
    #[frame(id = 256)]
    Ping,
}

fn main() {}
