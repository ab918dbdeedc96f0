//! kv: a Redis-compatible (RESP2) in-memory key-value server.
//!
//! ```text
//! cargo run --release --example kv -- --addr 127.0.0.1:6380 --workers 2
//! redis-cli -p 6380 set greeting hello && redis-cli -p 6380 get greeting
//! redis-benchmark -p 6380 -t get,set -q
//! ```
//!
//! Commands: PING, ECHO, GET, SET (EX/PX, NX/XX, GET, KEEPTTL), DEL,
//! EXISTS, INCR, DECR, INCRBY, DECRBY, MGET, MSET, EXPIRE, PEXPIRE (NX, XX,
//! GT, LT), TTL, PTTL, PERSIST, KEYS, DBSIZE, FLUSHALL/FLUSHDB, and enough of
//! COMMAND, CONFIG GET, CLIENT, SELECT, INFO and QUIT for redis-cli,
//! redis-benchmark and client libraries. Values are strings only.
//!
//! ```text
//!  connection ── FrameReader ── Command (RESP, borrowed) ── commands ── reply bytes
//!                                                              │
//!                  key hash ──► shard = worker; other workers via call_on
//! ```
//!
//! Each worker owns the keys that hash to it (`shard`), in a thread-local
//! store (`store`); no lock is shared. Requests are decoded in place from
//! the receive buffers (`resp`); replies are encoded into a per-connection
//! buffer and queued, so a pipelined batch leaves in one send. Malformed
//! input gets `-ERR Protocol error: ...` and closes only that connection.
//! `INFO` reports the readers' memory and copying (`reader_stats`).

use std::pin::pin;
use std::time::Duration;

use corering::cli::{Cli, Flag, ServeArgs};
use corering::frame::{FrameReader, ReadError};
use corering::future::{race, Either};
use corering::{Connection, Server, ServerBuilder};

mod commands;
mod glob;
mod hash;
mod reader_stats;
mod resp;
mod shard;
mod store;

use commands::Flow;
use reader_stats::Tracker;
use resp::Command;

/// Largest request (all arguments together), as redis's 1 GiB
/// `client-query-buffer-limit`; one argument is capped at `resp::MAX_BULK`.
const MAX_REQUEST: usize = 1 << 30;
/// Replies at least this large are handed over as they are instead of being
/// copied into the connection's send buffers.
const HAND_OVER: usize = 64 << 10;
/// Initial capacity of a connection's reply buffer.
const REPLY_CAPACITY: usize = 512;

/// Serves one client connection until it closes, quits or misbehaves.
async fn serve(mut conn: Connection) {
    let mut reader = FrameReader::new().max_frame(MAX_REQUEST);
    let mut tracker = Tracker::default();
    let close = session(&mut conn, &mut reader, &mut tracker).await;
    tracker.finish(&reader);
    if close {
        let _ = conn.close().await;
    }
}

/// Answers requests until the connection ends; true if it should then be
/// closed (after a protocol error or QUIT, or at shutdown between requests)
/// rather than just dropped.
///
/// At shutdown a connection waiting for its next request (nothing of one
/// received) is closed at once, so idle clients (pools) do not hold the
/// server up for its grace period; a request under way is answered first.
async fn session(conn: &mut Connection, reader: &mut FrameReader, tracker: &mut Tracker) -> bool {
    let mut out = Vec::with_capacity(REPLY_CAPACITY);
    let mut shutdown = pin!(corering::shutdown_requested());
    loop {
        tracker.observe(reader);
        let next = if reader.buffered() == 0 {
            match race(reader.read::<Command>(conn), shutdown.as_mut()).await {
                Either::Left(r) => r,
                Either::Right(()) => return true,
            }
        } else {
            reader.read::<Command>(conn).await
        };
        let cmd = match next {
            Ok(Some(cmd)) => cmd,
            // Closed between requests, or mid-request / reset: nobody to answer.
            Ok(None) | Err(ReadError::Io(_) | ReadError::Truncated { .. }) => return false,
            Err(e) => {
                let why = match &e {
                    ReadError::Decode(d) => resp::protocol_error(d),
                    other => other.to_string(),
                };
                let msg = format!("ERR Protocol error: {why}");
                resp::error(&mut out, msg.as_bytes());
                let _ = send(conn, &mut out).await;
                return true;
            }
        };
        if cmd.argc() == 0 {
            continue;
        }
        let flow = commands::execute(&cmd, &mut out).await;
        if send(conn, &mut out).await.is_err() {
            return false;
        }
        if flow == Flow::Close {
            return true;
        }
    }
}

/// Queues the replies in `out` for sending and empties it.
async fn send(conn: &mut Connection, out: &mut Vec<u8>) -> std::io::Result<()> {
    if out.len() >= HAND_OVER {
        let big = std::mem::replace(out, Vec::with_capacity(REPLY_CAPACITY));
        conn.write_owned(big).await
    } else {
        let r = conn.write_all(out).await;
        out.clear();
        r
    }
}

/// The command line: `--addr`, `--workers` and these.
const CLI: Cli = Cli::new(
    "kv",
    "Redis-compatible (RESP2) in-memory key-value server",
    6380,
)
.flags(&[Flag::value(
    "--batch-wait",
    "EVENTS:MICROS|off",
    "completion batching (ServerBuilder::batch_wait); kv measured faster without it",
)
.default("off")]);

/// `--batch-wait EVENTS:MICROS` (or `off`): completion batching, see
/// `ServerBuilder::batch_wait`; `off` unless given (see BENCHMARKS.md:
/// with batching, kv served 20-25% fewer pipelined requests per second).
/// `None` if not given; exits on a malformed value.
fn batch_wait(args: &ServeArgs) -> Option<Option<(u32, Duration)>> {
    let v = args.value("--batch-wait")?;
    match ServerBuilder::parse_batch_wait(v) {
        Some(b) => Some(b),
        None => CLI.fail(format_args!(
            "--batch-wait: expected EVENTS:MICROS or off, got {v:?}"
        )),
    }
}

fn main() {
    let args = CLI.parse();
    let mut builder = Server::builder()
        .bind(args.addr.as_str())
        .workers(args.workers);
    if let Some(b) = batch_wait(&args) {
        builder = builder.batch_wait(b);
    }
    let result = builder.build().and_then(|server| server.serve(serve));
    if let Err(e) = result {
        eprintln!("kv: {e}");
        std::process::exit(1);
    }
}
