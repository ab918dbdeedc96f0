use corering::get;
use corering::http::route::Path;

#[get("/users/{id}")]
async fn user(id: Path<u32>, name: Path<String>) -> String {
    format!("{} {}", id.0, name.0)
}

fn main() {}
