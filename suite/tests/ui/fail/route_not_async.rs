use corering::get;

#[get("/")]
fn index() -> &'static str {
    "index"
}

fn main() {}
