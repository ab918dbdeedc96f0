//! proxy: a reverse proxy built from the HTTP server (`http::serve`) and
//! the HTTP client (`http::client`), in front of one upstream server.
//!
//! ```text
//! cargo run --release --example hello -- --addr 127.0.0.1:8080 --workers 1
//! cargo run --release --example proxy -- --addr 127.0.0.1:8081 --upstream 127.0.0.1:8080 --workers 1
//! curl -i http://127.0.0.1:8081/plaintext
//!
//! # TLS on both sides: HTTPS in front, an https:// upstream behind it
//! cargo run --release --example hello -- --addr 127.0.0.1:8443 --tls-cert cert.pem --tls-key key.pem
//! cargo run --release --example proxy -- --addr 127.0.0.1:9443 --tls-cert cert.pem --tls-key key.pem \
//!     --upstream https://localhost:8443 --upstream-ca cert.pem
//! curl --cacert cert.pem https://localhost:9443/plaintext
//! curl -i -d 'some bytes' http://127.0.0.1:8081/echo
//! curl -i -H 'Transfer-Encoding: chunked' -d 'streamed' http://127.0.0.1:8081/echo
//! ```
//!
//! Each request is forwarded with its method, target and header fields,
//! minus the hop-by-hop ones (`Connection` and the fields it names,
//! `Keep-Alive`, `Proxy-*`, `TE`, `Trailer`, `Transfer-Encoding`,
//! `Upgrade`), plus `Forwarded: for=...;proto=http;host=...` and
//! `X-Forwarded-For` (appended to any the client sent; `proto=https` when
//! the proxy terminates TLS). The request body
//! is streamed upstream as it arrives, with its `Content-Length` or
//! chunked. A response body of known length up to 1 MiB is buffered and
//! sent with a `Content-Length`; others are streamed back chunked (if the
//! upstream fails mid-body, the client connection is cut so the client
//! sees a truncated body, not a complete one). A response to `HEAD`, and a
//! `304`, carries the `Content-Length` the upstream declared, or none if it
//! declared none (as for a chunked body). Upstream connections are kept
//! alive in each worker's pool.
//!
//! A request asking to switch protocols (`Connection: upgrade`, as a
//! WebSocket handshake does) asks the upstream for the same switch; if
//! the upstream answers `101`, so does the proxy, and from then on it
//! tunnels bytes both ways (one task, two connections, `future::race`)
//! until both sides have closed.
//!
//! With `--tls-cert`/`--tls-key` the proxy serves HTTPS. An upstream given
//! as `https://HOST:PORT` is reached over TLS, its certificate verified for
//! HOST against `--upstream-ca PATH` (only that CA), or else the public
//! webpki roots; `HOST:PORT` or `http://HOST:PORT` is plain HTTP.
//!
//! An unreachable or misbehaving upstream is answered with `502 Bad
//! Gateway`, one that is too slow with `504 Gateway Timeout`. Ctrl-C or
//! SIGTERM stops the proxy.

use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::time::Duration;

use corering::cli::{Cli, Flag, TLS_CERT, TLS_KEY};
use corering::future::{race, Either};
use corering::http::client::ClientResponse;
use corering::http::client::{
    split_url, Client, ClientConfig, ClientError, ClientErrorKind, ClientRequest, Peer,
};
use corering::http::{
    self, Handler, Http1Config, Method, Request, Response, Status, TargetForm, Upgraded,
};
use corering::{Address, Server};

/// Response bodies of a known length up to this are buffered.
const BUFFER_LIMIT: u64 = 1 << 20;

/// The proxy's request handler: forwards every request to `upstream`.
#[derive(Clone, Debug)]
pub struct Proxy {
    upstream: Peer,
    client: Client,
    /// Clients reach the proxy over TLS (`proto=https` in `Forwarded`).
    https: bool,
}

/// Why a request could not be forwarded.
enum Fail {
    /// The client's request body failed: answer with this status.
    Downstream(Status),
    /// The upstream exchange failed.
    Upstream(ClientError),
}

impl Proxy {
    /// A proxy to `upstream` with a client that waits 5 s to connect and
    /// 30 s for a response head.
    pub fn new(upstream: impl Into<Peer>) -> Proxy {
        Proxy::with_client(upstream, Client::with_config(client_config()))
    }

    /// A proxy to `upstream` using `client` (which holds the TLS settings
    /// for an `https` upstream).
    pub fn with_client(upstream: impl Into<Peer>, client: Client) -> Proxy {
        Proxy {
            upstream: upstream.into(),
            client,
            https: false,
        }
    }

    /// Marks the proxy as reached over HTTPS (for `Forwarded`).
    pub fn https(mut self, on: bool) -> Proxy {
        self.https = on;
        self
    }

    /// Forwards `req` and returns the upstream's response (or a `502` /
    /// `504` of our own).
    pub async fn forward(&self, mut req: Request<'_>) -> Response {
        let head = self.upstream_request(&req);
        let sent = match req.content_length() {
            Some(0) => self
                .client
                .send_to(&self.upstream, &head)
                .await
                .map_err(Fail::Upstream),
            Some(n) => self.stream_body(&mut req, head.content_length(n)).await,
            None => self.stream_body(&mut req, head).await,
        };
        let up = match sent {
            Ok(r) => r,
            Err(Fail::Downstream(s)) => return Response::new(s),
            Err(Fail::Upstream(e)) => return gateway_error(&e),
        };
        if up.status() == Status::SWITCHING_PROTOCOLS {
            return switch(&req, up);
        }
        let resp = copy_fields(Response::new(up.status()), &up);
        if req.method() == Method::Head || up.status() == Status::NOT_MODIFIED {
            // No body, but the length upstream declared is the one a GET
            // would get (RFC 9110 §9.3.2, §8.6). Upstream sent none, or was
            // chunked (Transfer-Encoding is hop-by-hop and not relayed):
            // send no length rather than a wrong `Content-Length: 0`.
            return resp.omitted_body(up.content_length());
        }
        if up.is_done() {
            return resp;
        }
        if up.content_length().is_some_and(|n| n <= BUFFER_LIMIT) {
            return match up.bytes().await {
                Ok(body) => resp.body(body),
                Err(e) => gateway_error(&e),
            };
        }
        self.stream_response(&mut req, resp, up).await
    }

    /// The request to send upstream: same method, target and fields, minus
    /// hop-by-hop ones, plus the forwarding fields.
    fn upstream_request(&self, req: &Request<'_>) -> ClientRequest {
        // An absolute-form target (`http://host/path`) goes upstream in
        // origin-form; the host is in the Host field already.
        let target = match (req.target_form(), req.query()) {
            (TargetForm::Absolute, Some(q)) => format!("{}?{q}", req.path()),
            (TargetForm::Absolute, None) => req.path().to_owned(),
            _ => req.target().to_owned(),
        };
        let mut out = ClientRequest::new(req.method(), target);
        let named = connection_options(req.header_all("connection"));
        let mut xff = String::new();
        let mut forwarded = String::new();
        for (name, value) in req.headers() {
            if name.eq_ignore_ascii_case("x-forwarded-for") {
                append_list(&mut xff, value);
            } else if name.eq_ignore_ascii_case("forwarded") {
                append_list(&mut forwarded, value);
            } else if !is_hop_by_hop(name)
                // This proxy answers `Expect: 100-continue` itself.
                && !name.eq_ignore_ascii_case("expect")
                && !named.iter().any(|n| n.eq_ignore_ascii_case(name))
            {
                out.push_header(name, value);
            }
        }
        let ip = match req.connection().peer_addr() {
            Ok(Address::Tcp(a)) => Some(a.ip()),
            _ => None,
        };
        let ip_text = ip.map_or_else(|| "unknown".to_owned(), |ip| ip.to_string());
        append_list(&mut xff, ip_text.as_bytes());
        let node = match ip {
            Some(IpAddr::V6(v6)) => format!("\"[{v6}]\""),
            Some(IpAddr::V4(v4)) => v4.to_string(),
            None => "unknown".to_owned(),
        };
        let host = req.host().replace(['"', '\\'], "");
        let proto = if self.https { "https" } else { "http" };
        let mut element = format!("for={node};proto={proto}");
        if !host.is_empty() {
            element.push_str(&format!(";host=\"{host}\""));
        }
        append_list(&mut forwarded, element.as_bytes());
        out.push_header("X-Forwarded-For", xff.as_bytes());
        out.push_header("Forwarded", forwarded.as_bytes());
        if let Some(offer) = req.upgrade() {
            // `Upgrade` is hop-by-hop, but a switch through the proxy is
            // one the upstream must agree to: ask it for the same one.
            out.push_header("Connection", b"upgrade");
            out.push_header("Upgrade", offer.as_bytes());
        }
        out
    }

    /// Sends `head` and then the request body piece by piece as it arrives.
    async fn stream_body(
        &self,
        req: &mut Request<'_>,
        head: ClientRequest,
    ) -> Result<ClientResponse, Fail> {
        let mut w = self
            .client
            .start_to(&self.upstream, &head)
            .await
            .map_err(Fail::Upstream)?;
        loop {
            match req.chunk().await {
                Ok(Some(piece)) => w.write(piece).await.map_err(Fail::Upstream)?,
                Ok(None) => break,
                Err(e) => return Err(Fail::Downstream(e.status())),
            }
        }
        w.finish().await.map_err(Fail::Upstream)
    }

    /// Streams the upstream body back as it arrives (chunked).
    async fn stream_response(
        &self,
        req: &mut Request<'_>,
        head: Response,
        mut up: ClientResponse,
    ) -> Response {
        let status = head.status();
        let Ok(mut out) = req.stream(head).await else {
            return Response::new(status);
        };
        loop {
            match up.chunk().await {
                Ok(Some(piece)) => {
                    if out.write(piece).await.is_err() {
                        break;
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    // The head is out: cut the connection so the client
                    // sees the body end early, not a complete body.
                    eprintln!("proxy: upstream body failed: {e}");
                    return out.abort();
                }
            }
        }
        out.finish().await
    }
}

impl<'a> Handler<'a> for Proxy {
    type Future = Pin<Box<dyn Future<Output = Response> + 'a>>;
    fn call(&self, req: Request<'a>) -> Self::Future {
        let p = self.clone();
        Box::pin(async move { p.forward(req).await })
    }
}

/// The server settings the proxy runs with: bodies up to 64 MiB.
pub fn config() -> Http1Config {
    Http1Config::new().max_body(64 << 20)
}

/// `resp` with the upstream response's fields, minus hop-by-hop ones and
/// those the server writes itself (framing, `Date`).
fn copy_fields(mut resp: Response, up: &ClientResponse) -> Response {
    for (name, value) in end_to_end_fields(up) {
        resp = resp.header_dynamic(name, value);
    }
    resp
}

/// The upstream response's fields that are passed on.
fn end_to_end_fields(up: &ClientResponse) -> Vec<(String, String)> {
    let named = connection_options(up.header_all("connection"));
    up.headers()
        .filter(|(name, _)| {
            !(is_hop_by_hop(name)
                || named.iter().any(|n| n.eq_ignore_ascii_case(name))
                // The server writes its own framing and date.
                || name.eq_ignore_ascii_case("content-length")
                || name.eq_ignore_ascii_case("date"))
        })
        .map(|(name, value)| (name.to_owned(), String::from_utf8_lossy(value).into_owned()))
        .collect()
}

/// The upstream switched protocols (the client asked it to): answer the
/// client's request with the same switch and then tunnel bytes both ways.
/// A protocol the client did not offer, or an upstream switch to a
/// request that asked for none, is a bad gateway.
fn switch(req: &Request<'_>, up: ClientResponse) -> Response {
    let proto = up.header_str("upgrade").unwrap_or("").trim().to_owned();
    // One of the offered protocols, exactly (a bare name does not stand
    // for an offered `name/version` here, as it may for a handler), and a
    // valid protocol name.
    let listed = req.upgrade().is_some_and(|offer| {
        offer
            .split(',')
            .any(|o| o.trim().eq_ignore_ascii_case(&proto))
    });
    if !listed || !req.offers_upgrade(&proto) {
        return Response::new(Status::BAD_GATEWAY)
            .content_type("text/plain; charset=utf-8")
            .body(format!(
                "upstream switched to {proto:?}, which was not asked for\n"
            ));
    }
    let fields = end_to_end_fields(&up);
    let Ok(up) = up.into_upgraded() else {
        return Response::new(Status::BAD_GATEWAY);
    };
    let mut resp = Response::upgrade(&proto, move |down| tunnel(down, up));
    for (name, value) in fields {
        resp = resp.header_dynamic(name, value);
    }
    resp
}

/// Copies bytes both ways between the client and the upstream, starting
/// with what each side sent along with the switch; when one side ends its
/// stream, the other is told (FIN) and the copy continues the other way
/// until it ends too.
async fn tunnel(down: Upgraded, up: Upgraded) {
    let (mut client, client_early) = down.into_parts();
    let (mut upstream, upstream_early) = up.into_parts();
    if upstream.write_all(client_early.bytes()).await.is_err()
        || client.write_all(upstream_early.bytes()).await.is_err()
    {
        return;
    }
    let (mut from_client, mut from_upstream) = (true, true);
    while from_client || from_upstream {
        let step = match (from_client, from_upstream) {
            (true, true) => race(client.read(), upstream.read()).await,
            (true, false) => Either::Left(client.read().await),
            _ => Either::Right(upstream.read().await),
        };
        let ok = match step {
            Either::Left(Ok(Some(data))) => upstream.write_all(&data).await.is_ok(),
            Either::Right(Ok(Some(data))) => client.write_all(&data).await.is_ok(),
            Either::Left(_) => {
                from_client = false;
                upstream.shutdown_write().await.is_ok()
            }
            Either::Right(_) => {
                from_upstream = false;
                client.shutdown_write().await.is_ok()
            }
        };
        if !ok {
            return;
        }
    }
}

/// `502` for a failed upstream, `504` for a slow one.
fn gateway_error(e: &ClientError) -> Response {
    let status = if e.kind() == ClientErrorKind::Timeout {
        Status::from_u16(504).expect("valid status")
    } else {
        Status::BAD_GATEWAY
    };
    Response::new(status)
        .content_type("text/plain; charset=utf-8")
        .body(format!("upstream: {e}\n"))
}

/// Fields that apply to one connection only (RFC 9110 §7.6.1).
fn is_hop_by_hop(name: &str) -> bool {
    const HOP: [&str; 7] = [
        "connection",
        "keep-alive",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "proxy-connection",
    ];
    HOP.iter().any(|h| h.eq_ignore_ascii_case(name))
        || name
            .get(..6)
            .is_some_and(|p| p.eq_ignore_ascii_case("proxy-"))
}

/// The field names listed in `Connection` fields.
fn connection_options<'v>(values: impl Iterator<Item = &'v [u8]>) -> Vec<String> {
    values
        .flat_map(|v| v.split(|&b| b == b','))
        .map(|o| String::from_utf8_lossy(o.trim_ascii()).into_owned())
        .filter(|o| !o.is_empty())
        .collect()
}

/// Appends `value` to a comma-separated list.
fn append_list(list: &mut String, value: &[u8]) {
    if value.is_empty() {
        return;
    }
    if !list.is_empty() {
        list.push_str(", ");
    }
    list.push_str(&String::from_utf8_lossy(value));
}

/// The upstream client's limits: 5 s to connect, 30 s for a response
/// head, 120 s for a whole exchange.
fn client_config() -> ClientConfig {
    ClientConfig::new()
        .connect_timeout(Duration::from_secs(5))
        .head_timeout(Duration::from_secs(30))
        .request_timeout(Duration::from_secs(120))
}

/// The command line: `--addr`, `--workers`, the upstream and its CA, and
/// `--tls-cert`/`--tls-key` to serve HTTPS.
const CLI: Cli = Cli::new("proxy", "HTTP reverse proxy in front of one server", 8081).flags(&[
    Flag::value(
        "--upstream",
        "URL",
        "the server requests are forwarded to: HOST:PORT, http://HOST:PORT or https://HOST:PORT",
    )
    .default("127.0.0.1:8080"),
    Flag::value(
        "--upstream-ca",
        "PATH",
        "trust only this PEM CA for an https:// upstream (default: the webpki roots)",
    ),
    TLS_CERT,
    TLS_KEY,
]);

/// The upstream peer from `--upstream` (a bare `HOST:PORT` is plain HTTP).
fn upstream_peer(arg: &str) -> Peer {
    let url = if arg.contains("://") {
        arg.to_string()
    } else {
        format!("http://{arg}")
    };
    match split_url(&url) {
        Ok((peer, target)) if target == "/" => peer,
        Ok(_) => CLI.fail(format_args!("--upstream: {arg}: give no path")),
        Err(e) => CLI.fail(format_args!("--upstream: {e}")),
    }
}

/// The upstream client, with `--upstream-ca` as its only root if given.
fn upstream_client(ca: Option<&str>) -> Client {
    let client = Client::with_config(client_config());
    let Some(ca) = ca else {
        return client;
    };
    match corering::tls::TlsConnector::builder()
        .no_default_roots()
        .ca_file(ca)
    {
        Ok(b) => client.tls(b.build()),
        Err(e) => CLI.fail(format_args!("--upstream-ca: {e}")),
    }
}

fn main() {
    let args = CLI.parse();
    let upstream = upstream_peer(args.value("--upstream").unwrap_or_default());
    let ca = args.value("--upstream-ca");
    if ca.is_some() && !upstream.is_tls() {
        CLI.fail("--upstream-ca needs an https:// upstream");
    }
    let tls = args.tls_files().unwrap_or_else(|e| CLI.fail(e));
    let proxy = Proxy::with_client(upstream.clone(), upstream_client(ca)).https(tls.is_some());
    let cfg = config();
    eprintln!("proxy: forwarding to {upstream}");
    let mut builder = Server::builder()
        .bind(args.addr.as_str())
        .workers(args.workers);
    if let Some((cert, key)) = tls {
        match corering::tls::server_config_from_pem(cert, key) {
            Ok(config) => builder = builder.tls(config),
            Err(e) => {
                eprintln!("proxy: {e}");
                std::process::exit(1);
            }
        }
    }
    let result = builder
        .build()
        .and_then(|server| server.serve(move |conn| http::serve(conn, cfg, proxy.clone())));
    if let Err(e) = result {
        eprintln!("proxy: {e}");
        std::process::exit(1);
    }
}
