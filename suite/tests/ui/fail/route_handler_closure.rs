fn serve_it<H: for<'a> corering::http::Handler<'a>>(_h: H) {}

fn main() {
    // Not a function of a request.
    serve_it(42u32);
}
