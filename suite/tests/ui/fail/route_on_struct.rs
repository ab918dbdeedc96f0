use corering::get;

#[get("/")]
struct Index;

fn main() {}
