use corering::http::route::Path;
use corering::{get, post, routes};

#[get("/users/{id}")]
async fn by_id(id: Path<u32>) -> String {
    format!("{}", id.0)
}

#[get("/users/{name}")]
async fn by_name(name: Path<String>) -> String {
    name.0
}

// Same shape, other method: fine.
#[post("/users/{name}")]
async fn create(name: Path<String>) -> String {
    name.0
}

// A literal ranks before a parameter: fine.
#[get("/users/me")]
async fn me() -> &'static str {
    "me"
}

fn main() {
    let _ = routes![by_id, create, me, by_name];
}
