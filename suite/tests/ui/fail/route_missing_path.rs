use corering::get;

#[get]
async fn index() -> &'static str {
    "index"
}

fn main() {}
