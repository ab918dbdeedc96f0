use corering::http::layer::Layered;
use corering::http::{Request, Response};

fn serve_it<H: for<'a> corering::http::Handler<'a>>(_h: H) {}

fn main() {
    // The future holds the request: Rust cannot type this closure.
    serve_it(Layered::new(|req: Request<'_>| async move { Response::text(req.path().to_owned()) }));
}
