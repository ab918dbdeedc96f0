use corering::get;

#[get("/hello world")]
async fn hello() -> &'static str {
    "hello"
}

fn main() {}
