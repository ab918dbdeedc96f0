use corering::frame::Frame;

#[derive(Frame)]
struct Msg<'a, 'b> {
    #[frame(prefix = u8)]
    a: &'a [u8],
    #[frame(prefix = u8)]
    b: &'b [u8],
}

fn main() {}
