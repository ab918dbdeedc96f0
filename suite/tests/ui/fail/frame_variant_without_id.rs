use corering::frame::Frame;

#[derive(Frame)]
#[frame(tag = u8)]
enum Msg {
    #[frame(id = 1)]
    Ping,
    Pong(u32),
}

fn main() {}
