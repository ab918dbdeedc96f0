use corering::get;

#[get("/")]
#[corering::post("/")]
async fn index() -> &'static str {
    "index"
}

fn main() {}
