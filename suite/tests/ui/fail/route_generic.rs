use corering::get;

#[get("/")]
async fn index<T: Default>() -> &'static str {
    "index"
}

fn main() {}
