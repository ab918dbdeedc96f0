use corering::frame::Frame;

#[derive(Frame)]
struct Msg<'a> {
    id: u32,
    data: &'a [u8],
}

fn main() {}
