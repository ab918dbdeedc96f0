use corering::get;

#[get("/users/{id}")]
async fn user(id: u32) -> String {
    format!("{id}")
}

fn main() {}
