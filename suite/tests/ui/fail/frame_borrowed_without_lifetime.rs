use corering::frame::Frame;

#[derive(Frame)]
struct NoLifetime {
    #[frame(prefix = u8)]
    name: &str,
}

#[derive(Frame)]
struct Static {
    #[frame(prefix = u8)]
    name: &'static str,
}

#[derive(Frame)]
struct Elided<'a> {
    #[frame(prefix = u8)]
    name: &'a str,
    #[frame(prefix = u8)]
    data: &[u8],
}

fn main() {}
