use corering::{get, routes};

#[get("/")]
async fn index() -> &'static str {
    "index"
}

fn main() {
    let _ = routes![index, index];
}
