use corering::frame::Frame;

#[derive(Frame)]
struct Msg<'a> {
    #[frame(prefix = u8)]
    name: &'a str,
    #[frame(len = name)]
    data: &'a [u8],
}

fn main() {}
