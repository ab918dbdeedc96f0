use corering::frame::Frame;

#[derive(Frame)]
struct Point {
    x: u8,
}

#[derive(Frame)]
#[frame(line)]
struct Cmd<'a> {
    verb: &'a str,
    at: Point,
    #[frame(prefix = u8)]
    arg: &'a str,
}

fn main() {}
