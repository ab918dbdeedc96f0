use corering::get;
use corering::http::route::Path;

#[get("/pair/{id}/{id}")]
async fn pair(id: Path<u32>) -> String {
    format!("{}", id.0)
}

fn main() {}
