use corering::get;
use corering::http::route::Path;
use corering::http::Request;

#[get("/users/{id}")]
async fn user(req: &Request<'_>, id: Path<u32>) -> String {
    format!("{} {}", req.path(), id.0)
}

fn main() {}
