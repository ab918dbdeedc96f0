//! Routes that share a shape but differ in method, or a literal and a
//! parameter at the same position, coexist; every macro form compiles.

use corering::http::route::{Bytes, Form, Headers, Json, Path, Query, State};
use corering::http::{self, Http1Config, Method, Response, Status};
use corering::{delete, get, head, options, patch, post, put, route, routes};

#[get("/a/{x}")]
async fn a_param(x: Path<String>) -> String {
    x.0
}

#[get("/a/b")]
async fn a_lit() -> &'static str {
    "b"
}

#[post("/a/{y}")]
async fn a_post(_y: Path<String>, body: Bytes) -> Vec<u8> {
    body.0
}

#[get("/a/{x}/{*rest}")]
async fn a_tail(x: Path<String>, rest: Path<String>) -> String {
    format!("{} {}", x.0, rest.0)
}

#[put("/q")]
async fn q(Query(v): Query<Vec<(String, String)>>, h: Headers) -> Json<usize> {
    Json(v.len() + h.iter().count())
}

#[delete("/d")]
async fn d(m: Method) -> Result<Status, Response> {
    Ok(if m == Method::Delete {
        Status::NO_CONTENT
    } else {
        Status::OK
    })
}

#[patch("/p")]
async fn p(Form(f): Form<Vec<(String, String)>>, s: String) -> (Status, String) {
    (Status::OK, format!("{} {s}", f.len()))
}

#[head("/h")]
async fn h() {}

#[options("/o")]
async fn o(State(n): State<u32>) -> String {
    n.to_string()
}

#[route(method = "TRACE", path = "/t/")]
async fn t() -> &'static str {
    "t"
}

mod nested {
    #[corering::get("/nested/{type}")]
    pub async fn typed(r#type: corering::http::route::Path<u8>) -> String {
        r#type.0.to_string()
    }
}

fn main() {
    let router = routes![
        a_param,
        a_lit,
        a_post,
        a_tail,
        q,
        d,
        p,
        h,
        o,
        t,
        nested::typed,
    ]
    .with_state(7u32);
    let cfg = Http1Config::new();
    let _server = move |conn: corering::Connection| http::serve(conn, cfg, router.clone());
    // Built in place for each connection: no state, nothing to clone.
    let _direct = move |conn: corering::Connection| http::serve(conn, cfg, routes![a_lit, h]);
}
