use corering::get;

#[get("/users/{id")]
async fn users() -> &'static str {
    "users"
}

fn main() {}
