use corering::frame::Frame;

#[derive(Frame)]
struct Msg<'a> {
    a: u8,
    b: u8,
    #[frame(len = a, len = b)]
    data: &'a [u8],
}

fn main() {}
