use corering::get;
use corering::http::route::Path;

struct Database;

#[get("/users/{id}")]
async fn user(id: Path<u32>, db: Database) -> String {
    let _ = db;
    format!("{}", id.0)
}

fn main() {}
