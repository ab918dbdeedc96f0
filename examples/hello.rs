//! hello: a small HTTP/1.1 server on `corering::http`.
//!
//! ```text
//! cargo run --release --example hello -- --addr 127.0.0.1:8080 --workers 2
//! curl -i http://127.0.0.1:8080/plaintext
//! curl -i http://127.0.0.1:8080/json
//! curl -i -d 'some bytes' http://127.0.0.1:8080/echo
//! curl -i http://127.0.0.1:8080/users/42
//! ```
//!
//! Routing is a hand-written `match` on the path, then on the method: an
//! unknown path is `404`, a known path with the wrong method `405` with an
//! `Allow` field, and `HEAD` is served by the `GET` route (the server
//! sends the headers without the body). Ctrl-C or SIGTERM stops it.

use std::time::Duration;

use corering::cli::ServeArgs;
use corering::http::{self, Http1Config, Method, Request, Response, Status};
use corering::Server;

const INDEX: &str = "<!doctype html>
<html><head><title>corering hello</title></head>
<body>
<h1>corering hello</h1>
<ul>
<li><a href=\"/plaintext\">GET /plaintext</a>: <code>Hello, World!</code></li>
<li><a href=\"/json\">GET /json</a>: <code>{\"message\":\"Hello, World!\"}</code></li>
<li>POST /echo: echoes the request body</li>
<li><a href=\"/users/42\">GET /users/{id}</a>: the user id, a number</li>
</ul>
</body></html>
";

/// The methods a route answers; `HEAD` goes with `GET`.
fn allows(allowed: &[Method], m: Method) -> bool {
    allowed.contains(&m) || (m == Method::Head && allowed.contains(&Method::Get))
}

fn not_allowed(allow: &'static str) -> Response {
    Response::new(Status::METHOD_NOT_ALLOWED)
        .header("Allow", allow)
        .content_type("text/plain; charset=utf-8")
        .body("method not allowed\n")
}

async fn route(mut req: Request<'_>) -> Response {
    const GET: &[Method] = &[Method::Get];
    const GET_ALLOW: &str = "GET, HEAD";
    let m = req.method();
    match req.path() {
        "/" if allows(GET, m) => Response::html(INDEX),
        "/plaintext" if allows(GET, m) => Response::text("Hello, World!"),
        "/json" if allows(GET, m) => Response::json(r#"{"message":"Hello, World!"}"#),
        "/" | "/plaintext" | "/json" => not_allowed(GET_ALLOW),
        "/echo" if m == Method::Post => match req.body().await {
            Ok(body) => {
                let body = body.to_vec();
                Response::new(Status::OK)
                    .content_type("application/octet-stream")
                    .body(body)
            }
            // The server answers with the error's status and closes.
            Err(e) => Response::new(e.status()),
        },
        "/echo" => not_allowed("POST"),
        p => match p.strip_prefix("/users/") {
            Some(id) if allows(GET, m) => user(id),
            Some(_) => not_allowed(GET_ALLOW),
            None => Response::new(Status::NOT_FOUND)
                .content_type("text/plain; charset=utf-8")
                .body("not found\n"),
        },
    }
}

fn user(id: &str) -> Response {
    match id.parse::<u64>() {
        Ok(id) => Response::json(format!("{{\"id\":{id}}}")),
        Err(_) => Response::new(Status::BAD_REQUEST)
            .content_type("text/plain; charset=utf-8")
            .body("user id must be a number\n"),
    }
}

fn main() {
    let args = ServeArgs::parse(8080);
    let cfg = Http1Config::new().server_name(Some("corering"));
    let result = Server::builder()
        .bind(args.addr.as_str())
        .workers(args.workers)
        .shutdown_timeout(Duration::from_secs(2))
        .build()
        .and_then(|server| server.serve(move |conn| http::serve(conn, cfg, route)));
    if let Err(e) = result {
        eprintln!("hello: {e}");
        std::process::exit(1);
    }
}
