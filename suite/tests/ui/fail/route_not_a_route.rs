use corering::routes;

async fn plain() -> &'static str {
    "not a route"
}

fn main() {
    let _ = routes![plain];
}
