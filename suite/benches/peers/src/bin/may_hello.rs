//! may_minihttp "Hello, World!" server for the `http_load` bench, on one may worker
//! (`may::config().set_workers(1)`). `GET /plaintext` gets `Hello, World!` with
//! `Content-Type: text/plain` (may_minihttp adds `Date`, `Server` and `Content-Length`);
//! other paths get 404. Pipelined requests are answered with one write per read.
//!
//! `may_hello --addr 127.0.0.1:8080` prints `listening on ADDR` once bound.

use std::io;

use may_minihttp::{HttpServer, HttpService, Request, Response};

use corering_http_peers::{exit_on_sigterm, parse_addr};

#[derive(Clone)]
struct Hello;

impl HttpService for Hello {
    fn call(&mut self, req: Request, rsp: &mut Response) -> io::Result<()> {
        match req.path() {
            "/plaintext" => {
                rsp.header("Content-Type: text/plain").body("Hello, World!");
            }
            _ => {
                rsp.status_code(404, "Not Found");
            }
        }
        Ok(())
    }
}

fn main() {
    let addr = parse_addr("may_hello");
    exit_on_sigterm();
    may::config().set_workers(1);
    let server = match HttpServer(Hello).start(addr) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("may_hello: binding {addr}: {e}");
            std::process::exit(1);
        }
    };
    // `start` binds before it returns.
    println!("listening on {addr}");
    server.join().ok();
}
