use corering::frame::Frame;

#[derive(Frame)]
struct Msg<'a> {
    n: u16,
    #[frame(lenght = n)]
    data: &'a [u8],
    #[frame(when = n > 0)]
    extra: Option<u8>,
    #[frame(bogus)]
    other: u8,
}

fn main() {}
