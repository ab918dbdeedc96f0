use corering::frame::Frame;

#[derive(Frame)]
#[frame(tag = u16)]
enum Msg {
    #[frame(id = 1)]
    Ping,
    #[frame(other)]
    Unknown(u8),
}

fn main() {}
