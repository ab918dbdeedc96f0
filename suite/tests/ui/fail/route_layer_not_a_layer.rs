use corering::prelude::*;

#[get("/")]
async fn index() -> &'static str {
    "home"
}

fn main() {
    let _ = routes![index].layer(42u32);
}
