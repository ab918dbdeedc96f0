use corering::frame::Frame;

#[derive(Frame)]
struct Msg<'a> {
    count: u16,
    #[frame(len = cnt)]
    data: &'a [u8],
}

fn main() {}
