//! An in-process test client: start a handler (a router) on an ephemeral
//! loopback port and send it requests from a test, in a few lines.
//!
//! ```no_run
//! use corering::test::TestServer;
//! use corering::{get, routes};
//!
//! #[get("/users/{id}")]
//! async fn user(id: corering::http::route::Path<u32>) -> String {
//!     format!("user {}", id.0)
//! }
//!
//! #[test]
//! fn shows_a_user() {
//!     let app = TestServer::new(routes![user]);
//!     app.get("/users/7").send().assert_status(200).assert_text("user 7");
//!     app.get("/users/x").send().assert_status(400);
//! }
//! # fn main() {}
//! ```
//!
//! The server is a real one: one worker (on the backend `CORERING_BACKEND`
//! picks, io_uring by default) listening on `127.0.0.1:0`, stopped when
//! the [`TestServer`] is dropped. Requests go over real sockets, each on a
//! new connection, sent by corering's HTTP client on a [`Runtime`] of its
//! own on a short-lived thread (not the test's: the kernel interrupts a
//! thread's blocking socket calls with `EINTR` after an io_uring that
//! thread used is torn down, and tests often go on to use blocking
//! clients); each [`send`](TestRequest::send) returns the whole response.
//! For bytes no client would send (malformed requests, pipelining), talk
//! to [`TestServer::addr`] with a `TcpStream`.

use std::net::SocketAddr;
use std::time::Duration;

use crate::http::client::{Client, ClientConfig, ClientRequest};
use crate::http::{Handler, Http1Config, Method};
use crate::{RunningServer, Runtime, Server, ServerBuilder};

/// A handler served on a loopback port for the length of a test.
///
/// Dropping it shuts the server down (in-flight requests finish first).
pub struct TestServer {
    server: Option<RunningServer>,
    addr: SocketAddr,
    timeout: Duration,
}

impl TestServer {
    /// Serves `handler` (typically `routes![...]`, with its state and
    /// layers) with the default [`Http1Config`] on one worker.
    ///
    /// # Panics
    /// If the server cannot start (no usable backend, no free port): a
    /// test cannot go on without it.
    pub fn new<H>(handler: H) -> TestServer
    where
        H: for<'a> Handler<'a> + Clone + Send + Sync + 'static,
    {
        TestServer::with_config(Server::builder(), Http1Config::new(), handler)
    }

    /// Serves `handler` with `cfg` on a server made from `builder`, which
    /// gets a listener on `127.0.0.1:0` (give it no address of its own)
    /// and one worker unless it sets another count.
    ///
    /// ```no_run
    /// use corering::http::Http1Config;
    /// use corering::test::TestServer;
    /// use corering::{get, routes, Server};
    ///
    /// #[get("/")]
    /// async fn index() -> &'static str {
    ///     "hi"
    /// }
    ///
    /// let cfg = Http1Config::new().max_body(1024);
    /// let app = TestServer::with_config(Server::builder().workers(2), cfg, routes![index]);
    /// app.get("/").send().assert_text("hi");
    /// ```
    pub fn with_config<H>(builder: ServerBuilder, cfg: Http1Config, handler: H) -> TestServer
    where
        H: for<'a> Handler<'a> + Clone + Send + Sync + 'static,
    {
        let started = builder
            .workers_if_unset(1)
            .bind("127.0.0.1:0")
            .build()
            .and_then(|s| s.start(move |conn| crate::http::serve(conn, cfg, handler.clone())));
        let server = started.unwrap_or_else(|e| panic!("corering::test: cannot start: {e}"));
        let addr = server
            .tcp_addr()
            .expect("corering::test: the server listens on TCP");
        TestServer {
            server: Some(server),
            addr,
            timeout: Duration::from_secs(30),
        }
    }

    /// Where the server listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT` followed by `path`, for clients of your own.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// How long a request may take in all before [`TestRequest::send`]
    /// panics (default 30 s).
    pub fn timeout(mut self, t: Duration) -> TestServer {
        self.timeout = t;
        self
    }

    /// A request with `method` for `target` (a path with an optional
    /// query).
    pub fn request(&self, method: Method, target: &str) -> TestRequest<'_> {
        TestRequest {
            server: self,
            req: ClientRequest::new(method, target),
        }
    }

    /// A `GET` request.
    pub fn get(&self, target: &str) -> TestRequest<'_> {
        self.request(Method::Get, target)
    }

    /// A `HEAD` request.
    pub fn head(&self, target: &str) -> TestRequest<'_> {
        self.request(Method::Head, target)
    }

    /// A `POST` request (add a body with [`TestRequest::body`],
    /// [`text`](TestRequest::text) or [`json`](TestRequest::json)).
    pub fn post(&self, target: &str) -> TestRequest<'_> {
        self.request(Method::Post, target)
    }

    /// A `PUT` request.
    pub fn put(&self, target: &str) -> TestRequest<'_> {
        self.request(Method::Put, target)
    }

    /// A `PATCH` request.
    pub fn patch(&self, target: &str) -> TestRequest<'_> {
        self.request(Method::Patch, target)
    }

    /// A `DELETE` request.
    pub fn delete(&self, target: &str) -> TestRequest<'_> {
        self.request(Method::Delete, target)
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(server) = self.server.take() {
            let result = server.shutdown();
            if let Err(e) = result {
                if !std::thread::panicking() {
                    panic!("corering::test: the server did not shut down cleanly: {e}");
                }
            }
        }
    }
}

/// A request being built; [`send`](TestRequest::send) sends it.
#[must_use = "a request does nothing until sent"]
pub struct TestRequest<'s> {
    server: &'s TestServer,
    req: ClientRequest,
}

impl TestRequest<'_> {
    /// Adds a header field.
    pub fn header(mut self, name: &str, value: impl AsRef<[u8]>) -> Self {
        self.req = self.req.header(name, value);
        self
    }

    /// Sets the body (with its `Content-Length`).
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.req = self.req.body(body.into());
        self
    }

    /// Sets a text body, `Content-Type: text/plain; charset=utf-8`.
    pub fn text(self, text: impl Into<String>) -> Self {
        self.header("content-type", "text/plain; charset=utf-8")
            .body(text.into())
    }

    /// Sets a JSON body, `Content-Type: application/json`.
    ///
    /// ```no_run
    /// # use corering::test::TestServer;
    /// # fn f(app: &TestServer) {
    /// let created = app.post("/todos").json(&serde_json::json!({"title": "milk"})).send();
    /// created.assert_status(201);
    /// # }
    /// ```
    #[cfg(feature = "serde")]
    pub fn json<T: serde::Serialize + ?Sized>(self, value: &T) -> Self {
        let body = serde_json::to_vec(value).expect("corering::test: the value serializes");
        self.header("content-type", "application/json").body(body)
    }

    /// Sends the request on a new connection and reads the whole
    /// response.
    ///
    /// # Panics
    /// If there is no response (refused, reset, timed out, malformed):
    /// the test fails with the client's error.
    pub fn send(self) -> TestResponse {
        let TestRequest { server, req } = self;
        let (addr, timeout) = (server.addr, server.timeout);
        let method = req.method();
        let target = req.target().to_string();
        let exchange = move || async move {
            let cfg = ClientConfig::new().request_timeout(timeout);
            let client = Client::with_config(cfg);
            let resp = client.send(addr, &req.close()).await?;
            let status = resp.status().as_u16();
            let headers = resp
                .headers()
                .map(|(n, v)| (n.to_ascii_lowercase(), v.to_vec()))
                .collect();
            let body = resp.bytes().await?;
            Ok::<_, crate::http::client::ClientError>(TestResponse {
                status,
                headers,
                body,
            })
        };
        let got = std::thread::scope(|scope| {
            let client = scope.spawn(|| {
                let rt =
                    Runtime::new().unwrap_or_else(|e| panic!("corering::test: no runtime: {e}"));
                rt.block_on(exchange())
            });
            client
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
        });
        got.unwrap_or_else(|e| panic!("corering::test: {method:?} {target}: {e}"))
    }
}

/// A whole response: status, header fields, body.
#[derive(Debug, Clone)]
pub struct TestResponse {
    status: u16,
    /// Names in lower case, in the order received.
    headers: Vec<(String, Vec<u8>)>,
    body: Vec<u8>,
}

impl TestResponse {
    /// The status code.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The first field named `name` (any case), as text (`None` if absent
    /// or not UTF-8).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .and_then(|(_, v)| std::str::from_utf8(v).ok())
    }

    /// Every field named `name` (any case), as bytes.
    pub fn header_all<'s>(&'s self, name: &str) -> impl Iterator<Item = &'s [u8]> + 's {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .filter(move |(n, _)| *n == name)
            .map(|(_, v)| v.as_slice())
    }

    /// The body.
    pub fn bytes(&self) -> &[u8] {
        &self.body
    }

    /// The body as text.
    ///
    /// # Panics
    /// If it is not UTF-8.
    pub fn text(&self) -> &str {
        std::str::from_utf8(&self.body).expect("corering::test: the body is not UTF-8")
    }

    /// The body parsed as JSON.
    ///
    /// # Panics
    /// If it does not parse as a `T`.
    #[cfg(feature = "serde")]
    pub fn json<T: serde::de::DeserializeOwned>(&self) -> T {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "corering::test: the body is not the JSON expected ({e}): {}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    /// Asserts the status code.
    #[track_caller]
    pub fn assert_status(&self, want: u16) -> &Self {
        assert_eq!(
            self.status,
            want,
            "status; the body was: {}",
            String::from_utf8_lossy(&self.body)
        );
        self
    }

    /// Asserts a header field's value (the first of that name).
    #[track_caller]
    pub fn assert_header(&self, name: &str, want: &str) -> &Self {
        assert_eq!(self.header(name), Some(want), "header {name}");
        self
    }

    /// Asserts the body, as text.
    #[track_caller]
    pub fn assert_text(&self, want: &str) -> &Self {
        assert_eq!(self.text(), want, "body");
        self
    }

    /// Asserts the body contains `part`.
    #[track_caller]
    pub fn assert_contains(&self, part: &str) -> &Self {
        let body = String::from_utf8_lossy(&self.body);
        assert!(
            body.contains(part),
            "the body does not contain {part:?}: {body}"
        );
        self
    }

    /// Asserts the body is this JSON value (compared as values, so field
    /// order and spacing do not matter).
    #[cfg(feature = "serde")]
    #[track_caller]
    pub fn assert_json(&self, want: &serde_json::Value) -> &Self {
        assert_eq!(&self.json::<serde_json::Value>(), want, "JSON body");
        self
    }
}
