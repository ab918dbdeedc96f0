//! hello: a small HTTP/1.1 server on `corering::http`.
//!
//! ```text
//! cargo run --release --example hello -- --addr 127.0.0.1:8080 --workers 2
//! curl -i http://127.0.0.1:8080/plaintext
//! curl -i http://127.0.0.1:8080/json
//! curl -i -d 'some bytes' http://127.0.0.1:8080/echo
//! curl -i http://127.0.0.1:8080/users/42
//! curl http://127.0.0.1:8080/metrics      # Prometheus text exposition
//! curl -i http://127.0.0.1:8080/ready     # 200, or 503 once shutting down
//! cargo run --release --example hello -- --access-log   # a line per request on stderr
//! cargo run --release --example hello -- --layers       # request id, timeout, access log
//! cargo run --release --example hello -- --request-id-bytes   # answers as long as --layers's
//! cargo run --release --example hello -- --tls-cert cert.pem --tls-key key.pem
//! cargo run --release --example hello -- --static ./public   # files under /static/
//! curl -i http://127.0.0.1:8080/static/index.html
//! curl --cacert cert.pem https://localhost:8080/plaintext   # same routes over HTTPS
//! ```
//!
//! Each route is an annotated async fn; `routes!` builds the router at
//! compile time (a misspelt path parameter or two colliding routes do not
//! compile). An unknown path is `404`, a known path with the wrong method
//! `405` with an `Allow` field, `HEAD` is served by the `GET` route, and a
//! user id that is not a number is `400`. Ctrl-C or SIGTERM stops it.

use corering::cli::{Cli, Flag, TLS_CERT, TLS_KEY};
use std::sync::OnceLock;
use std::time::Duration;

use corering::http::fs::ServeDir;
use corering::http::layer::{RequestId, Timeout};
use corering::http::observe::{self, AccessLog};
use corering::http::route::{Bytes, Path};
use corering::http::{self, Http1Config, Request, Response, Status};
use corering::{get, post, routes, Server};

const INDEX: &str = "<!doctype html>
<html><head><title>corering hello</title></head>
<body>
<h1>corering hello</h1>
<ul>
<li><a href=\"/plaintext\">GET /plaintext</a>: <code>Hello, World!</code></li>
<li><a href=\"/json\">GET /json</a>: <code>{\"message\":\"Hello, World!\"}</code></li>
<li>POST /echo: echoes the request body</li>
<li><a href=\"/users/42\">GET /users/{id}</a>: the user id, a number</li>
<li><a href=\"/metrics\">GET /metrics</a>: counters, Prometheus text format</li>
<li><a href=\"/ready\">GET /ready</a>: 200 while serving, 503 once shutting down</li>
</ul>
</body></html>
";

#[get("/")]
async fn index() -> Response {
    Response::html(INDEX)
}

#[get("/plaintext")]
async fn plaintext() -> Response {
    Response::text("Hello, World!")
}

/// The `Server` field's value under `--request-id-bytes`: 33 bytes longer
/// than `corering`, as many as `--layers` adds with its request id
/// (`x-request-id: c6a6286f-0-1f3a5c` and its CRLF, an id of a few million
/// requests), so the answers are as long, at no cost per request (a
/// server's fields are part of the cached head).
const SERVER_WITH_ID_BYTES: &str = "corering (answers as long as with its id)";
const _: () = assert!(SERVER_WITH_ID_BYTES.len() == "corering".len() + 33);

#[get("/json")]
async fn json() -> Response {
    Response::json(r#"{"message":"Hello, World!"}"#)
}

/// Echoes the body, whatever its framing (Content-Length or chunked).
#[post("/echo")]
async fn echo(body: Bytes) -> Response {
    Response::new(http::Status::OK)
        .content_type("application/octet-stream")
        .body(body.0)
}

/// `Path<u64>`: anything but a number is answered with `400`.
#[get("/users/{id}")]
async fn user(id: Path<u64>) -> Response {
    Response::json(format!("{{\"id\":{}}}", id.0))
}

/// The server's counters, for Prometheus to scrape.
#[get("/metrics")]
async fn metrics() -> Response {
    observe::metrics()
}

/// Readiness for a load balancer: `503` from the moment shutdown begins.
#[get("/ready")]
async fn ready() -> Response {
    observe::ready()
}

/// The directory `--static` serves under `/static/`, if given.
static STATIC: OnceLock<ServeDir> = OnceLock::new();

/// A file under `/static/` from the `--static` directory (validators,
/// ranges, `HEAD`; see `ServeDir`), else `404`. A route of its own (not
/// the router's fallback), so the other routes' requests never pass a
/// fallback stage.
#[get("/static/{*path}")]
async fn static_files(path: Path<String>, req: &mut Request<'_>) -> Response {
    match STATIC.get() {
        Some(dir) => dir.serve(req, &path.0).await,
        None => Response::new(Status::NOT_FOUND).body("Not Found\n"),
    }
}

/// The command line: `--addr`, `--workers`, `--access-log`, `--layers`,
/// `--request-id-bytes`, `--static`, and `--tls-cert`/`--tls-key` for
/// HTTPS.
const CLI: Cli = Cli::new("hello", "HTTP/1.1 example server", 8080).flags(&[
    Flag::switch("--access-log", "write one line per request to stderr"),
    Flag::switch(
        "--layers",
        "wrap the routes in a request id, a 30 s timeout and an access log (lines \
         formatted, then dropped unless --access-log): what a usual stack of layers costs",
    ),
    Flag::switch(
        "--request-id-bytes",
        "a Server field 33 bytes longer, so answers are as long as with --layers's request \
         id, without its work (what http_load measures --layers against)",
    ),
    Flag::value("--static", "DIR", "serve the files under DIR at /static/"),
    TLS_CERT,
    TLS_KEY,
]);

fn main() {
    let args = CLI.parse();
    let access_log = args.flag("--access-log");
    let layers = args.flag("--layers");
    let id_bytes = args.flag("--request-id-bytes");
    if let Some(dir) = args.value("--static") {
        let _ = STATIC.set(ServeDir::new(dir));
    }
    let cfg = Http1Config::new().server_name(Some(if id_bytes {
        SERVER_WITH_ID_BYTES
    } else {
        "corering"
    }));
    let tls = args.tls_files().unwrap_or_else(|e| CLI.fail(e));
    let mut builder = Server::builder()
        .bind(args.addr.as_str())
        .workers(args.workers);
    if let Some((cert, key)) = tls {
        // HTTPS: the same routes, behind a TLS handshake.
        match corering::tls::server_config_from_pem(cert, key) {
            Ok(config) => builder = builder.tls(config),
            Err(e) => {
                eprintln!("hello: {e}");
                std::process::exit(1);
            }
        }
    }
    let result = builder.build().and_then(|server| {
        // One line per request on stderr with `--access-log`: a layer
        // (`Layered` forwards to it inline, so this costs what wrapping the
        // router by hand does; off, one branch a request).
        let routes = routes![
            index,
            plaintext,
            json,
            echo,
            user,
            metrics,
            ready,
            static_files
        ];
        if layers {
            // The stack a service usually runs: an `X-Request-Id` on every
            // answer, a deadline, and an access log (formatted every time;
            // written to stderr only with `--access-log`).
            let log = if access_log {
                AccessLog::layer()
            } else {
                AccessLog::layer().discard()
            };
            let app = routes
                .layer(Timeout::new(Duration::from_secs(30)))
                .layer(RequestId::new())
                .layer(log);
            server.serve(move |conn| http::serve(conn, cfg, app.clone()))
        } else {
            let app = routes.layer(AccessLog::layer().enabled(access_log));
            server.serve(move |conn| http::serve(conn, cfg, app.clone()))
        }
    });
    if let Err(e) = result {
        eprintln!("hello: {e}");
        std::process::exit(1);
    }
}
