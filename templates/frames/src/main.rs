//! frames: a counter service over a small binary protocol defined entirely
//! with `#[derive(Frame)]`; the same binary is the server and the client.
//!
//! ```text
//! cargo run --release --example frames -- --addr 127.0.0.1:7400 --workers 2
//! cargo run --release --example frames -- --client --addr 127.0.0.1:7400 incr hits 5
//! cargo run --release --example frames -- --client --addr 127.0.0.1:7400 get hits
//! cargo run --release --example frames -- --client --addr 127.0.0.1:7400 ping
//! ```
//!
//! Client commands: `incr NAME [BY]` (BY defaults to 1 and may be
//! negative), `get NAME` (0 for a counter never incremented) and `ping`. The
//! client prints the reply (`hits = 5`, `pong 1234 in 80µs`) and exits 0; it
//! exits 1 if the server answers with an error or cannot be reached, 2 on a
//! usage error.
//!
//! # Wire format
//!
//! Numbers are big-endian (network order) unless noted; the frame types
//! below are the specification, the byte layout follows from them.
//!
//! ```text
//!  request   "CNT?" | version=1 | id: u32 | tag: u8 | body
//!               'I'  Incr  name: u8 len + UTF-8 (≤ 64) | by: i64
//!               'G'  Get   name: u8 len + UTF-8 (≤ 64)
//!               'P'  Ping  nonce: u64 little-endian
//!  response  "CNT!" | version=1 | id: u32 | tag: u8 | body
//!               'V'  Value name: u8 len + UTF-8 | value: i64
//!               'P'  Pong  nonce: u64 little-endian
//!               'E'  Error code: u16 | msg: u16 len + UTF-8 (≤ 1024)
//! ```
//!
//! A response carries the id of the request it answers (0 for an error
//! about bytes that were not a request). Requests on one connection may be
//! pipelined; responses come back in order.
//!
//! # Counters
//!
//! Each counter lives on one worker, chosen by a hash of its name, in a
//! thread-local map: no lock is shared. A request for a counter owned by
//! another worker runs there through `corering::call_on`, so every
//! connection sees the same value whichever worker accepted it.
//!
//! ```text
//!  connection on worker 0                 worker 1 (owns "hits")
//!  Incr hits 5 ── owner("hits") = 1 ──► call_on(1, add 5) ──► Value hits 5
//! ```
//!
//! Malformed input (bad magic or version, unknown tag, a name that is too
//! long or not UTF-8) gets an `Error` response with code [`E_MALFORMED`],
//! then that connection is closed; other connections are not affected. A
//! connection closed in the middle of a frame is closed without a reply.

use std::cell::RefCell;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::net::{SocketAddr, ToSocketAddrs};
use std::pin::pin;
use std::process::ExitCode;
use std::time::{Duration, Instant, SystemTime};

use corering::cli::{Cli, Flag, ServeArgs};
use corering::frame::{Frame, FrameReader, FrameWriter, ReadError};
use corering::future::{race, Either};
use corering::{Connection, Connector, Runtime, Server};

/// Default port of the server.
const DEFAULT_PORT: u16 = 7400;
/// Protocol version carried by every frame.
const VERSION: u8 = 1;
/// Longest counter name, in bytes.
const MAX_NAME: usize = 64;
/// Longest error message, in bytes.
const MAX_MSG: usize = 1024;
/// Largest frame the server reads; a valid request is at most 83 bytes, so
/// this only matters if the limits above are raised.
const MAX_FRAME: usize = 4096;
/// Client: how long to wait for the connection and for the reply.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(5);

/// Error code: the request bytes were not a valid request.
const E_MALFORMED: u16 = 1;
/// Error code: the increment would overflow the counter (i64).
const E_OVERFLOW: u16 = 2;
/// Error code: the worker owning the counter is gone (shutting down).
const E_UNAVAILABLE: u16 = 3;

// ---- the protocol --------------------------------------------------------

/// A request: magic, version and id, then the operation.
#[derive(Frame, Debug, PartialEq)]
#[frame(magic = b"CNT?")]
struct Request<'a> {
    /// Always [`VERSION`]; another value is a `BadMagic` error.
    #[frame(constant = VERSION)]
    version: u8,
    /// Chosen by the client, echoed in the response.
    id: u32,
    /// What to do.
    op: Op<'a>,
}

/// The operation of a request, selected by one tag byte.
#[derive(Frame, Debug, PartialEq)]
#[frame(tag = u8)]
enum Op<'a> {
    /// Adds `by` to counter `name` (creating it at 0) and returns the result.
    #[frame(id = b'I')]
    Incr {
        /// The counter, borrowed from the receive buffer.
        #[frame(prefix = u8, max = MAX_NAME)]
        name: &'a str,
        /// The amount to add (may be negative).
        by: i64,
    },
    /// Returns counter `name` (0 if it does not exist).
    #[frame(id = b'G')]
    Get {
        /// The counter.
        #[frame(prefix = u8, max = MAX_NAME)]
        name: &'a str,
    },
    /// Asks for a [`Reply::Pong`] carrying the same nonce.
    #[frame(id = b'P')]
    Ping(#[frame(endian = "little")] u64),
}

/// A response: magic, version and the id of the request it answers.
#[derive(Frame, Debug, PartialEq)]
#[frame(magic = b"CNT!")]
struct Response<'a> {
    /// Always [`VERSION`].
    #[frame(constant = VERSION)]
    version: u8,
    /// The request's id (0 for an error about bytes that were no request).
    id: u32,
    /// The answer.
    reply: Reply<'a>,
}

/// The answer to a request, selected by one tag byte.
#[derive(Frame, Debug, PartialEq)]
#[frame(tag = u8)]
enum Reply<'a> {
    /// The value of a counter after an `Incr`, or as read by a `Get`.
    #[frame(id = b'V')]
    Value {
        /// The counter.
        #[frame(prefix = u8, max = MAX_NAME)]
        name: &'a str,
        /// Its value.
        value: i64,
    },
    /// The answer to a `Ping`.
    #[frame(id = b'P')]
    Pong(#[frame(endian = "little")] u64),
    /// The request failed; see the `E_*` codes.
    #[frame(id = b'E')]
    Error {
        /// One of the `E_*` constants.
        code: u16,
        /// A human-readable explanation.
        #[frame(prefix = u16, max = MAX_MSG)]
        msg: &'a str,
    },
    /// A reply type this client does not know (a newer server). Only the
    /// tag is consumed, so the connection cannot be read further.
    #[frame(other)]
    Unknown(u8),
}

impl<'a> Response<'a> {
    /// A response to request `id`.
    fn new(id: u32, reply: Reply<'a>) -> Response<'a> {
        Response {
            version: VERSION,
            id,
            reply,
        }
    }
}

// ---- counters, sharded by name ------------------------------------------

thread_local! {
    /// The counters this worker owns.
    static COUNTERS: RefCell<HashMap<String, i64>> = RefCell::new(HashMap::new());
}

/// The worker that owns counter `name`: its hash modulo the worker count.
/// `DefaultHasher::new()` has fixed keys, so every worker agrees.
fn owner(name: &str) -> usize {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    name.hash(&mut h);
    (h.finish() % corering::worker_count() as u64) as usize
}

/// Why a counter operation failed: an `E_*` code and a message.
type Failure = (u16, &'static str);

/// Adds `by` to counter `name` on this worker's map (`None`: just reads it).
fn apply_local(name: &str, by: Option<i64>) -> Result<i64, Failure> {
    const OVERFLOW: Failure = (E_OVERFLOW, "the counter would overflow");
    COUNTERS.with(|c| {
        let mut c = c.borrow_mut();
        match (c.get_mut(name), by) {
            (None, None) => Ok(0),
            (Some(v), None) => Ok(*v),
            (Some(v), Some(by)) => {
                *v = v.checked_add(by).ok_or(OVERFLOW)?;
                Ok(*v)
            }
            // The name is copied only when a counter is created.
            (None, Some(by)) => {
                c.insert(name.to_owned(), by);
                Ok(by)
            }
        }
    })
}

/// Runs [`apply_local`] on the worker owning `name`: inline if that is
/// this worker, else as a cross-worker call (the name is copied for it).
async fn apply(name: &str, by: Option<i64>) -> Result<i64, Failure> {
    let shard = owner(name);
    if shard == corering::worker_index() {
        return apply_local(name, by);
    }
    let name = name.to_owned();
    corering::call_on(shard, move || async move { apply_local(&name, by) })
        .await
        .unwrap_or(Err((
            E_UNAVAILABLE,
            "the counter's worker is shutting down",
        )))
}

/// Executes one operation; the reply may borrow the request's name.
async fn execute<'a>(op: &Op<'a>) -> Reply<'a> {
    let (name, by) = match *op {
        Op::Ping(nonce) => return Reply::Pong(nonce),
        Op::Incr { name, by } => (name, Some(by)),
        Op::Get { name } => (name, None),
    };
    match apply(name, by).await {
        Ok(value) => Reply::Value { name, value },
        Err((code, msg)) => Reply::Error { code, msg },
    }
}

// ---- server ----------------------------------------------------------------

/// Serves one connection until the peer closes it or sends a bad frame.
///
/// At shutdown a connection waiting for its next request (nothing of one
/// received) is closed at once, so idle clients do not hold the server up
/// for its grace period; a request under way is answered first.
async fn serve(mut conn: Connection) {
    let mut reader = FrameReader::new().max_frame(MAX_FRAME);
    let mut shutdown = pin!(corering::shutdown_requested());
    loop {
        let next = if reader.buffered() == 0 {
            match race(reader.read::<Request>(&mut conn), shutdown.as_mut()).await {
                Either::Left(r) => r,
                Either::Right(()) => {
                    let _ = conn.close().await;
                    return;
                }
            }
        } else {
            reader.read::<Request>(&mut conn).await
        };
        let req = match next {
            Ok(Some(req)) => req,
            // Closed between frames, mid-frame, or reset: nobody to answer.
            Ok(None) | Err(ReadError::Io(_) | ReadError::Truncated { .. }) => return,
            // Bad bytes (or a frame over MAX_FRAME): say why, then hang up.
            Err(e) => {
                let mut msg = e.to_string();
                truncate(&mut msg, MAX_MSG);
                let reply = Reply::Error {
                    code: E_MALFORMED,
                    msg: &msg,
                };
                let _ = conn.write_frame(&Response::new(0, reply)).await;
                let _ = conn.close().await;
                return;
            }
        };
        let reply = execute(&req.op).await;
        // Queued, not yet sent: replies to pipelined requests leave together.
        if conn
            .write_frame(&Response::new(req.id, reply))
            .await
            .is_err()
        {
            return;
        }
    }
}

/// Shortens `s` to at most `max` bytes, at a character boundary.
fn truncate(s: &mut String, max: usize) {
    if s.len() > max {
        let mut end = max;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
    }
}

/// Runs the server until Ctrl-C or SIGTERM.
fn server(args: &ServeArgs) -> ExitCode {
    let result = Server::builder()
        .bind(args.addr.as_str())
        .workers(args.workers)
        .build()
        // Prints "corering: listening on ADDR with N workers ...".
        .and_then(|server| server.serve(serve));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("frames: {e}");
            ExitCode::FAILURE
        }
    }
}

// ---- client ----------------------------------------------------------------

/// Parses the client's command words into an operation.
fn parse_command<'a>(words: &[&'a str]) -> Result<Op<'a>, String> {
    let name = |n: &'a str| {
        if n.len() > MAX_NAME {
            Err(format!("a counter name is at most {MAX_NAME} bytes"))
        } else {
            Ok(n)
        }
    };
    match words {
        ["ping"] => {
            let nonce = SystemTime::now()
                .duration_since(SystemTime::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos() as u64);
            Ok(Op::Ping(nonce))
        }
        ["get", n] => Ok(Op::Get { name: name(n)? }),
        ["incr", n] => Ok(Op::Incr {
            name: name(n)?,
            by: 1,
        }),
        ["incr", n, by] => Ok(Op::Incr {
            name: name(n)?,
            by: by.parse().map_err(|_| format!("not an i64: {by}"))?,
        }),
        _ => Err("expected `incr NAME [BY]`, `get NAME` or `ping`".into()),
    }
}

/// Sends one request, waits for its response and prints it.
async fn request(addr: SocketAddr, op: Op<'_>) -> Result<ExitCode, String> {
    let mut conn = Connector::new()
        .timeout(CLIENT_TIMEOUT)
        .connect(addr)
        .await
        .map_err(|e| e.to_string())?;
    // A server that never answers fails the read instead of hanging.
    conn.set_idle_timeout(Some(CLIENT_TIMEOUT));
    let id = std::process::id();
    let started = Instant::now();
    let mut writer = FrameWriter::new(&mut conn);
    let req = Request {
        version: VERSION,
        id,
        op,
    };
    writer.write(&req).await.map_err(|e| e.to_string())?;
    writer.flush().await.map_err(|e| e.to_string())?;
    let mut reader = FrameReader::new().max_frame(MAX_FRAME);
    let resp = match reader.read::<Response>(&mut conn).await {
        Ok(Some(resp)) => resp,
        Ok(None) => return Err("the server closed the connection without replying".into()),
        Err(e) => return Err(e.to_string()),
    };
    if resp.id != id && !matches!(resp.reply, Reply::Error { .. }) {
        return Err(format!("reply to request {} instead of {id}", resp.id));
    }
    match (resp.reply, req.op) {
        (Reply::Value { name, value }, _) => println!("{name} = {value}"),
        (Reply::Pong(got), Op::Ping(sent)) if got == sent => {
            println!("pong {got} in {:?}", started.elapsed());
        }
        (Reply::Error { code, msg }, _) => {
            eprintln!("error {code}: {msg}");
            return Ok(ExitCode::FAILURE);
        }
        (other, _) => return Err(format!("unexpected reply {other:?}")),
    }
    Ok(ExitCode::SUCCESS)
}

/// Client mode: one request from the command line, on a corering runtime.
fn client(args: &ServeArgs) -> ExitCode {
    let words: Vec<&str> = args.words.iter().map(String::as_str).collect();
    let op = match parse_command(&words) {
        Ok(op) => op,
        Err(e) => {
            eprintln!("frames --client: {e}");
            return ExitCode::from(2);
        }
    };
    let addr = match args.addr.to_socket_addrs().map(|mut a| a.next()) {
        Ok(Some(a)) => a,
        Ok(None) => {
            eprintln!("frames --client: {} resolves to no address", args.addr);
            return ExitCode::from(2);
        }
        Err(e) => {
            eprintln!("frames --client: {}: {e}", args.addr);
            return ExitCode::from(2);
        }
    };
    let rt = match Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("frames --client: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(request(addr, op)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("frames --client: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The command line: `--addr`, `--workers`, and the client mode with its
/// command words.
const CLI: Cli = Cli::new(
    "frames",
    "counter service over a binary protocol; also its client",
    DEFAULT_PORT,
)
.flags(&[Flag::switch(
    "--client",
    "send COMMAND to the server at --addr, print the reply and exit",
)])
.words(
    "COMMAND",
    "with --client: `incr NAME [BY]`, `get NAME` or `ping`",
);

fn main() -> ExitCode {
    let args = CLI.parse();
    if !args.flag("--client") && !args.words.is_empty() {
        CLI.fail(format_args!(
            "unexpected argument {:?} (commands need --client)",
            args.words[0]
        ));
    }
    if args.flag("--client") {
        client(&args)
    } else {
        server(&args)
    }
}
