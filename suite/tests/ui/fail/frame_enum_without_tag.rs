use corering::frame::Frame;

#[derive(Frame)]
enum Msg {
    #[frame(id = 1)]
    Ping,
}

fn main() {}
