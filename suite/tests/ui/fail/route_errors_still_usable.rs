use corering::http::route::Path;
use corering::{get, routes};

// Only this route's own error is reported: `routes!` below still compiles.
#[get("/users/{id}")]
async fn user(user_id: Path<u32>) -> String {
    format!("{}", user_id.0)
}

#[get("/")]
async fn index() -> &'static str {
    "index"
}

fn main() {
    let _ = routes![index, user];
}
