use corering::route;

#[route(method = "FETCH", path = "/")]
async fn index() -> &'static str {
    "index"
}

fn main() {}
