use corering::frame::Frame;

#[derive(Frame)]
#[frame(line)]
struct Cmd<'a> {
    #[frame(rest)]
    text: &'a str,
    n: u32,
}

fn main() {}
