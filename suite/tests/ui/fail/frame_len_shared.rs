use corering::frame::Frame;

#[derive(Frame)]
struct Msg<'a> {
    n: u8,
    #[frame(len = n)]
    keys: &'a [u8],
    #[frame(len = n)]
    values: &'a [u8],
}

fn main() {}
