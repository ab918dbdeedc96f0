use corering::http::route::{BodyStream, Path, Upgrade};
use corering::http::{Request, Response};
use corering::{get, post, routes};

#[get("/a/{id}")]
async fn whole(id: Path<u32>, req: &Request<'_>) -> String {
    format!("{} {}", id.0, req.path())
}

#[post("/b")]
async fn raw(body: &[u8]) -> Vec<u8> {
    body.to_vec()
}

#[post("/c")]
async fn text(body: &str) -> String {
    body.to_owned()
}

#[post("/d")]
async fn mutable(req: &mut Request<'_>) -> String {
    match req.body().await {
        Ok(b) => b.len().to_string(),
        Err(e) => e.to_string(),
    }
}

#[post("/e/{name}")]
async fn streamed(name: Path<String>, mut body: BodyStream<'_, '_>) -> String {
    let mut n = 0;
    while let Ok(Some(p)) = body.next().await {
        n += p.len();
    }
    format!("{} {n}", name.0)
}

#[get("/f")]
async fn switch(up: Upgrade) -> Response {
    up.accept("x", |_| async {})
}

fn main() {
    let _ = routes![whole, raw, text, mutable, streamed, switch];
}
