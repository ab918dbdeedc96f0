use corering::frame::Frame;

#[derive(Frame)]
#[frame(tag = u8)]
enum Msg {
    #[frame(id = 1)]
    Ping,
    #[frame(id = 2)]
    Pong,
    #[frame(id = 1)]
    Close,
}

fn main() {}
