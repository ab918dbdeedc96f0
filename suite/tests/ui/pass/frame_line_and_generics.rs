use std::marker::PhantomData;

use corering::frame::Frame;

#[derive(Frame)]
#[frame(line = "any", magic = "GET", max = 1024)]
struct Get<'a> {
    key: &'a str,
    #[frame(rest)]
    opts: String,
}

#[derive(Frame)]
struct List<T> {
    #[frame(prefix = u32)]
    items: Vec<T>,
    #[frame(skip)]
    cached: usize,
    _marker: PhantomData<T>,
}

#[derive(Frame)]
struct Empty;

#[derive(Frame)]
#[frame(tag = u64, endian = "little")]
enum NoVariants {}

fn takes_frame<'a, F: Frame<'a>>(_: &F) {}

fn main() {
    takes_frame(&Get {
        key: "k",
        opts: String::new(),
    });
    takes_frame(&List::<Empty> {
        items: vec![Empty],
        cached: 0,
        _marker: PhantomData,
    });
    let _ = NoVariants::decode(&[]);
}
