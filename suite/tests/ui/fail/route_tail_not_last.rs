use corering::get;
use corering::http::route::Path;

#[get("/files/{*rest}/raw")]
async fn files(rest: Path<String>) -> String {
    rest.0
}

fn main() {}
