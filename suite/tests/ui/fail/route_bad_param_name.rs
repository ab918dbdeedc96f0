use corering::get;

#[get("/users/{user-id}")]
async fn users() -> &'static str {
    "users"
}

fn main() {}
