use corering::get;

struct Page;

#[get("/")]
async fn index() -> Page {
    Page
}

fn main() {}
