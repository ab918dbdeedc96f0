use corering::frame::Frame;

#[derive(Frame)]
union Msg {
    a: u32,
    b: f32,
}

fn main() {}
