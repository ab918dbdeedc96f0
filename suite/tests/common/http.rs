//! Raw HTTP/1.1 on a blocking socket, for tests that must see exact bytes
//! (malformed input, pipelining, protocol switches): no HTTP client crate
//! would send or accept them.

use std::io::Read;
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// Connects to `addr` with a 5 s read timeout and `TCP_NODELAY`.
pub fn connect(addr: SocketAddr) -> TcpStream {
    let s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.set_nodelay(true).unwrap();
    s
}

/// One response as read: status code, head as text, body.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub head: String,
    pub body: Vec<u8>,
}

impl Resp {
    /// The first field named `name` (case-insensitive), trimmed.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().skip(1).find_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }
}

/// Reads one response (with a Content-Length or no body) from `s`,
/// keeping bytes past it in `buf`.
pub fn read_response(s: &mut TcpStream, buf: &mut Vec<u8>, head_request: bool) -> Resp {
    let end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        fill(s, buf);
    };
    let head = String::from_utf8(buf[..end].to_vec()).unwrap();
    let status: u16 = head[9..12].parse().unwrap();
    let mut r = Resp {
        status,
        head,
        body: Vec::new(),
    };
    let len: usize = if head_request {
        0
    } else {
        r.header("content-length").map_or(0, |v| v.parse().unwrap())
    };
    while buf.len() < end + len {
        fill(s, buf);
    }
    r.body = buf[end..end + len].to_vec();
    buf.drain(..end + len);
    r
}

/// Reads more bytes into `buf`; panics at EOF.
pub fn fill(s: &mut TcpStream, buf: &mut Vec<u8>) {
    let mut tmp = [0u8; 4096];
    let n = s.read(&mut tmp).expect("read response");
    assert!(
        n > 0,
        "connection closed mid-response; got {:?}",
        String::from_utf8_lossy(buf)
    );
    buf.extend_from_slice(&tmp[..n]);
}

/// Asserts the server closes the connection (EOF or reset) soon.
#[track_caller]
pub fn assert_closed(s: &mut TcpStream, buf: &[u8]) {
    assert!(
        buf.is_empty(),
        "unexpected bytes: {:?}",
        String::from_utf8_lossy(buf)
    );
    let mut tmp = [0u8; 256];
    match s.read(&mut tmp) {
        Ok(0) => {}
        Ok(n) => panic!(
            "expected close, got {:?}",
            String::from_utf8_lossy(&tmp[..n])
        ),
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {}
        Err(e) => panic!("expected close, got {e}"),
    }
}

/// A ureq agent for the HTTP tests: statuses are answers, not errors, and
/// no exchange takes longer than `limit`.
pub fn ureq_agent(limit: Duration) -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(limit))
        .build()
        .into()
}

/// Starts `b` serving HTTP/1.1 with `cfg` and `handler` (a router or a
/// handler function); returns the server and its TCP address.
pub fn start_http<H>(
    b: corering::ServerBuilder,
    cfg: corering::http::Http1Config,
    handler: H,
) -> (corering::RunningServer, SocketAddr)
where
    H: for<'a> corering::http::Handler<'a> + Clone + Send + Sync + 'static,
{
    let s = b
        .build()
        .expect("build")
        .start(move |conn| corering::http::serve(conn, cfg, handler.clone()))
        .expect("start");
    let a = super::tcp_addr(&s);
    (s, a)
}

/// Streams `n` lines `line 0\n`, `line 1\n`, ... as a chunked response
/// (what the tests of streamed responses read back).
pub async fn stream_lines(
    req: &mut corering::http::Request<'_>,
    n: u32,
) -> corering::http::Response {
    use corering::http::{Response, Status};
    let Ok(mut out) = req.stream(Response::text("")).await else {
        return Response::new(Status::INTERNAL_SERVER_ERROR);
    };
    for i in 0..n {
        if out.write(format!("line {i}\n").as_bytes()).await.is_err() {
            break;
        }
    }
    out.finish().await
}

/// Runs `f` on a fresh client `Runtime`, closing idle pooled connections at
/// the end so the runtime stops at once.
#[allow(dead_code)]
pub fn run_client<T>(f: impl std::future::Future<Output = T>) -> T {
    corering::Runtime::new().expect("runtime").block_on(async {
        let v = f.await;
        corering::http::client::close_idle();
        v
    })
}

/// A corering HTTP client with generous test timeouts (connect 5 s, head
/// 10 s, whole request 20 s).
#[allow(dead_code)]
pub fn test_client() -> corering::http::client::Client {
    use corering::http::client::{Client, ClientConfig};
    Client::with_config(
        ClientConfig::new()
            .connect_timeout(Duration::from_secs(5))
            .head_timeout(Duration::from_secs(10))
            .request_timeout(Duration::from_secs(20)),
    )
}
