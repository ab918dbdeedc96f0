use corering::frame::Frame;

#[derive(Frame)]
struct Msg<'a> {
    n: u8,
    #[frame(len = n, prefix = u16)]
    data: &'a [u8],
}

fn main() {}
