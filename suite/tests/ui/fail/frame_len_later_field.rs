use corering::frame::Frame;

#[derive(Frame)]
struct Msg<'a> {
    #[frame(len = n)]
    data: &'a [u8],
    n: u16,
}

fn main() {}
