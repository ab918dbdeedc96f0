use corering::get;

#[get("/users/{id}/posts/{post}")]
async fn post(id: corering::http::route::Path<u32>) -> String {
    format!("{}", id.0)
}

fn main() {}
