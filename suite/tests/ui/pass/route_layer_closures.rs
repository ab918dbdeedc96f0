//! Layers and closures where Rust allows them: a closure fallback whose
//! future does not hold the request, closures in map_request and
//! map_response, and a closure as a whole handler.

use std::time::Duration;

use corering::http::layer::{map_request, map_response, Layered, Timeout};
use corering::http::{Request, Response, Status};
use corering::prelude::*;

#[get("/")]
async fn index() -> &'static str {
    "home"
}

fn serve_it<H: for<'a> corering::http::Handler<'a> + Clone + Send + Sync + 'static>(_h: H) {}

fn main() {
    let app = routes![index]
        .fallback(|req: Request<'_>| {
            let path = req.path().to_owned();
            async move { Response::text(format!("no {path}")).with_status(Status::NOT_FOUND) }
        })
        .layer(Timeout::new(Duration::from_secs(1)))
        .layer(map_request(|req: &mut Request<'_>| {
            (req.path() == "/private").then(|| Response::new(Status::FORBIDDEN))
        }))
        .layer(map_response(|r: Response| r.header("x-frame-options", "DENY")));
    serve_it(app);
    let plain = Layered::new(|_req: Request<'_>| async { Response::text("hi") })
        .layer(Timeout::new(Duration::from_secs(1)));
    serve_it(plain);
}
