use corering::get;

#[get("users")]
async fn users() -> &'static str {
    "users"
}

fn main() {}
