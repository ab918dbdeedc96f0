//! HTTP load benchmark: corering's `examples/hello` against three peers serving the same
//! `GET /plaintext` → `Hello, World!`, all driven by `wrk`.
//!
//! ```text
//! apt-get install wrk                              # once; this bench installs nothing
//! cargo bench --bench http_load                    # -- --help lists the options
//! cargo bench --bench http_load -- --rounds 5 --only pipelined --servers corering,hyper
//! ```
//!
//! Servers (each one thread, pinned to the same CPU; they take turns, only the one under
//! load does anything; all run for the whole benchmark):
//! * `corering`: `examples/hello --workers 1`, built with `cargo build --release --example
//!   hello` (or `--hello-bin PATH`).
//! * `hyper`: hyper 1.x on tokio's current-thread runtime, HTTP/1.1 keep-alive,
//!   `http1::Builder::pipeline_flush(true)`, `Content-Type: text/plain`, hyper's `Date`.
//! * `may_minihttp`: its hello-world service on one may worker (`set_workers(1)`).
//! * `floor`: a raw io_uring responder with no framework (one thread, one ring, multishot
//!   accept, multishot recv from a provided buffer ring): it counts `\r\n\r\n` and answers
//!   each with one pre-built response (fixed `Date`), all responses due on a connection in
//!   one send. What a server cannot do with less.
//!
//! The answers differ only in small ways: corering adds `Server: corering` and may_minihttp
//! `Server: M`; hyper sends lowercase field names and has no header-read timeout (no timer
//! is set); may_minihttp leaves Nagle on (as it ships). "One thread" means one serving
//! thread: any helper threads a server starts (may's, for one) are counted in its CPU
//! time too.
//!
//! The three peers live in a separate cargo package, `benches/peers/` (its own workspace,
//! excluded from corering's, so building or testing corering never compiles hyper or may).
//! This bench builds it with `cargo build --release --manifest-path benches/peers/Cargo.toml
//! --target-dir benches/peers/target` (or takes the binaries from `--peers-dir DIR`); each
//! binary takes `--addr HOST:PORT` and prints `listening on ADDR` once bound.
//!
//! Before loading a server, the bench sends it 16 pipelined `GET /plaintext` in one write
//! and checks the 16 answers: status 200, `Content-Type: text/plain`, a `Date` field,
//! body `Hello, World!`.
//!
//! Loads, each `wrk -t 1 -c 64 -s SCRIPT` (`wrk` pinned to a second CPU; the Lua scripts
//! are written to temporary files and removed at the end):
//! * `plaintext`: one request per write, the next after the answer.
//! * `pipelined`: 16 requests per write, as TechEmpower does it: the script builds 16
//!   requests in `init` and returns them from `request()`.
//!
//! Every load and server runs `--rounds` times (default 3), servers in an order that
//! rotates from round to round; each run is a `--warmup` s wrk run (default 1, not
//! measured) followed by the measured `--duration` s run (default 5). A run fails if wrk
//! reports any socket error (connect, read, write, timeout) or any non-2xx/3xx response.
//!
//! Per run: requests/s as wrk reports it (responses / run time); p99 latency, which the
//! scripts' `done()` computes from wrk's latency histogram with wrk's coordinated-omission
//! correction undone (wrk 4.1 adds synthetic samples computed from the mean interval per
//! connection, which with pipelining is 1/16 of a batch's, and then prints 0 for its
//! upper percentiles); with `pipelined`, wrk records one latency per batch of 16, from
//! writing it to reading its last answer. And the server's CPU time per request: the
//! on-CPU time of all its threads (`/proc/PID/task/*/schedstat`, first field) sampled
//! right before wrk starts and right after it exits, divided by the responses wrk counted.
//! Reported: medians over the rounds, and the ratios corering/peer as medians of per-round
//! paired ratios (corering against the peer's run of the same round, which cancels the
//! machine's slow drifts better than a ratio of medians).
//!
//! Targets (PASS/MISS is informational: the exit status only reflects errors):
//! * `pipelined`, CPU/request: ≤ 0.5x hyper, ≤ 0.8x may_minihttp, ≤ 1.25x floor.
//! * `plaintext`, CPU/request: ≤ 1.0x hyper and ≤ 1.0x may_minihttp (≤ the lower of the
//!   two), ≤ 1.1x floor.
//! * requests/s, both loads: ≥ 1.0x hyper and ≥ 1.0x may_minihttp.
//!
//! All traffic stays on 127.0.0.1 and every child process is terminated on exit.

mod support;

use std::fmt::Write as _;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use support::{
    build_example, build_peers, free_loopback_addr, median, on_path, paired_ratio, parse_flags,
    parse_number, pick_cpus, schedstat_ns, verdict, ChildProc, Context, Cpus, Res,
};

const USAGE: &str = "\
usage: cargo bench --bench http_load -- [options]
  --rounds N        runs per load and server, interleaved; medians reported (default 3)
  --duration N      measured seconds per run (default 5)
  --warmup N        warm-up seconds before each measured run, 0 for none (default 1)
  --only LIST       comma list of loads: plaintext, pipelined (default: both)
  --servers LIST    comma list of corering, corering-nobatch (batching off), hyper,
                    may_minihttp, floor (default: all)
  --conns N         wrk connections (default 64)
  --depth N         requests per write in the pipelined load (default 16)
  --hello-bin PATH  use this corering hello binary instead of building examples/hello
  --peers-dir DIR   take hyper_hello, may_hello, uring_floor from DIR instead of building
                    benches/peers
  --wrk PATH        (default: wrk from PATH)
";

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Err(e) = run(&args) {
        eprintln!("http_load: error: {e}");
        std::process::exit(1);
    }
}

// ---------------------------------------------------------------------------------------------
// Loads, servers, options
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Load {
    Plaintext,
    Pipelined,
}

impl Load {
    const ALL: [Load; 2] = [Load::Plaintext, Load::Pipelined];

    fn name(self) -> &'static str {
        match self {
            Load::Plaintext => "plaintext",
            Load::Pipelined => "pipelined",
        }
    }

    fn parse(s: &str) -> Res<Load> {
        match s {
            "plaintext" | "plain" => Ok(Load::Plaintext),
            "pipelined" | "pipeline" => Ok(Load::Pipelined),
            _ => Err(format!("unknown load {s:?} (plaintext, pipelined)")),
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum ServerKind {
    Corering,
    /// corering with completion batching off (`CORERING_BATCH_WAIT=off`).
    CoreringNoBatch,
    Hyper,
    May,
    Floor,
}

impl ServerKind {
    const ALL: [ServerKind; 5] = [
        ServerKind::Corering,
        ServerKind::CoreringNoBatch,
        ServerKind::Hyper,
        ServerKind::May,
        ServerKind::Floor,
    ];
    const PEERS: [ServerKind; 4] = [
        ServerKind::CoreringNoBatch,
        ServerKind::Hyper,
        ServerKind::May,
        ServerKind::Floor,
    ];

    fn name(self) -> &'static str {
        match self {
            ServerKind::Corering => "corering",
            ServerKind::CoreringNoBatch => "corering-nobatch",
            ServerKind::Hyper => "hyper",
            ServerKind::May => "may_minihttp",
            ServerKind::Floor => "floor",
        }
    }

    fn parse(s: &str) -> Res<ServerKind> {
        match s {
            "corering" | "hello" => Ok(ServerKind::Corering),
            "corering-nobatch" => Ok(ServerKind::CoreringNoBatch),
            "hyper" => Ok(ServerKind::Hyper),
            "may_minihttp" | "may" => Ok(ServerKind::May),
            "floor" | "uring_floor" => Ok(ServerKind::Floor),
            _ => Err(format!(
                "unknown server {s:?} (corering, corering-nobatch, hyper, may_minihttp, floor)"
            )),
        }
    }

    /// The binary of a peer in benches/peers.
    fn peer_bin(self) -> Option<&'static str> {
        match self {
            ServerKind::Corering | ServerKind::CoreringNoBatch => None,
            ServerKind::Hyper => Some("hyper_hello"),
            ServerKind::May => Some("may_hello"),
            ServerKind::Floor => Some("uring_floor"),
        }
    }
}

/// Targets for corering/`peer` under `load`: the least requests/s ratio and the most
/// CPU/request ratio, where there is one.
fn targets(load: Load, peer: ServerKind) -> (Option<f64>, Option<f64>) {
    match (load, peer) {
        (Load::Pipelined, ServerKind::Hyper) => (Some(1.0), Some(0.5)),
        (Load::Pipelined, ServerKind::May) => (Some(1.0), Some(0.8)),
        (Load::Pipelined, ServerKind::Floor) => (None, Some(1.25)),
        (Load::Plaintext, ServerKind::Hyper | ServerKind::May) => (Some(1.0), Some(1.0)),
        (Load::Plaintext, ServerKind::Floor) => (None, Some(1.1)),
        (_, ServerKind::Corering | ServerKind::CoreringNoBatch) => (None, None),
    }
}

struct Options {
    rounds: usize,
    duration: u64,
    warmup: u64,
    conns: usize,
    depth: usize,
    loads: Vec<Load>,
    servers: Vec<ServerKind>,
    hello_bin: Option<PathBuf>,
    peers_dir: Option<PathBuf>,
    wrk: PathBuf,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            rounds: 3,
            duration: 5,
            warmup: 1,
            conns: 64,
            depth: 16,
            loads: Load::ALL.to_vec(),
            servers: ServerKind::ALL.to_vec(),
            hello_bin: None,
            peers_dir: None,
            wrk: "wrk".into(),
        }
    }
}

/// Parses a comma list, dropping repeats.
fn parse_list<T: PartialEq>(list: &str, parse: fn(&str) -> Res<T>) -> Res<Vec<T>> {
    let mut out = Vec::new();
    for item in list.split(',').filter(|s| !s.is_empty()) {
        let v = parse(item)?;
        if !out.contains(&v) {
            out.push(v);
        }
    }
    Ok(out)
}

fn parse_options(args: &[String]) -> Res<Options> {
    let mut opts = Options::default();
    parse_flags(args, USAGE, |flag, value| {
        match flag {
            "--rounds" => opts.rounds = parse_number(flag, value()?)?,
            "--duration" => opts.duration = parse_number(flag, value()?)?,
            "--warmup" => opts.warmup = parse_number(flag, value()?)?,
            "--conns" => opts.conns = parse_number(flag, value()?)?,
            "--depth" => opts.depth = parse_number(flag, value()?)?,
            "--only" => opts.loads = parse_list(value()?, Load::parse)?,
            "--servers" => opts.servers = parse_list(value()?, ServerKind::parse)?,
            "--hello-bin" => opts.hello_bin = Some(value()?.into()),
            "--peers-dir" => opts.peers_dir = Some(value()?.into()),
            "--wrk" => opts.wrk = value()?.into(),
            _ => return Ok(false),
        }
        Ok(true)
    })?;
    if opts.rounds == 0 || opts.duration == 0 || opts.conns == 0 || opts.depth == 0 {
        return Err("--rounds, --duration, --conns and --depth must be positive".into());
    }
    if opts.loads.is_empty() || opts.servers.is_empty() {
        return Err("--only and --servers need at least one entry".into());
    }
    Ok(opts)
}

// ---------------------------------------------------------------------------------------------
// Orchestration
// ---------------------------------------------------------------------------------------------

/// One measured run.
#[derive(Clone, Copy, Debug)]
struct Sample {
    rps: f64,
    requests: u64,
    p99_us: f64,
    server_cpu_ns: u64,
    wall_ns: u64,
}

impl Sample {
    fn cpu_ns_per_request(&self) -> f64 {
        self.server_cpu_ns as f64 / self.requests as f64
    }

    fn server_util(&self) -> f64 {
        self.server_cpu_ns as f64 / self.wall_ns.max(1) as f64
    }
}

type Run = support::Run<Load, ServerKind, Sample>;

fn run(args: &[String]) -> Res<()> {
    let opts = parse_options(args)?;
    if !on_path(&opts.wrk) {
        return Err(format!(
            "{} not found; install Debian's wrk (apt-get install wrk) or pass --wrk PATH",
            opts.wrk.display()
        ));
    }
    let cpus = pick_cpus("servers and wrk");
    let bins = resolve_binaries(&opts)?;
    let scripts = WrkScripts::write(&opts)?;

    let mut servers = Vec::new();
    for (kind, bin) in &bins {
        let server = RunningServer::start(*kind, bin, cpus.server)?;
        check_responses(server.addr, opts.depth)
            .context(|| format!("checking the answers of {}", kind.name()))?;
        servers.push(server);
    }

    let mut runs = Vec::new();
    for round in 1..=opts.rounds {
        for &load in &opts.loads {
            // Rotate who goes first so slow drifts of the machine hit all alike.
            let mut order: Vec<&RunningServer> = servers.iter().collect();
            let len = order.len();
            order.rotate_left((round - 1) % len);
            for server in order {
                let what = format!(
                    "{} against {} (round {round})",
                    load.name(),
                    server.kind.name()
                );
                eprintln!("http_load: {what}...");
                let outcome = measure(server, load, &opts, cpus, &scripts);
                match &outcome {
                    Ok(s) => eprintln!(
                        "http_load:   {:.0} requests/s, p99 {}, {:.0} ns CPU/request",
                        s.rps,
                        format_us(s.p99_us),
                        s.cpu_ns_per_request()
                    ),
                    Err(e) => eprintln!("http_load: {what} failed: {e}"),
                }
                runs.push(Run {
                    load,
                    round,
                    server: server.kind,
                    outcome,
                });
            }
        }
    }
    for server in servers {
        server.stop()?;
    }
    drop(scripts);

    print!("{}", report(&opts, cpus, &runs));
    let failures = runs.iter().filter(|r| r.outcome.is_err()).count();
    if failures > 0 {
        return Err(format!("{failures} run(s) failed (see above)"));
    }
    Ok(())
}

/// The binary of every selected server, building corering's hello and the peers if needed.
fn resolve_binaries(opts: &Options) -> Res<Vec<(ServerKind, PathBuf)>> {
    let needs_peers = opts.servers.iter().any(|s| s.peer_bin().is_some());
    let peers_dir = match (&opts.peers_dir, needs_peers) {
        (_, false) => None,
        (Some(dir), true) => Some(dir.clone()),
        (None, true) => Some(build_peers()?),
    };
    let mut bins = Vec::new();
    for &kind in &opts.servers {
        let bin = match (kind.peer_bin(), &peers_dir) {
            (Some(name), Some(dir)) => support::peer_bin(Some(dir), name)?,
            _ => match &opts.hello_bin {
                Some(bin) => bin.clone(),
                None => build_example("hello")?,
            },
        };
        bins.push((kind, bin));
    }
    Ok(bins)
}

/// The wrk Lua scripts of the two loads, in temporary files removed on drop.
struct WrkScripts {
    plaintext: PathBuf,
    pipelined: PathBuf,
}

/// Lua `done` for both loads: prints the p99 of the latencies wrk recorded, with wrk's
/// coordinated-omission correction undone. wrk 4.1 (`stats_correct`) adds, for every
/// recorded latency n ≥ 2e, synthetic samples at n - e, n - 2e, ... (> e), where
/// e = runtime / (responses / connections); with pipelining e is 1/depth of a batch's
/// interval, and the synthetic samples below the real minimum make its own percentiles
/// come out as 0. Since it reads each bucket before adding to lower ones, the real count
/// of bucket m > e is data[m] - data[m + e] (data after the correction).
const WRK_DONE: &str = r#"
done = function(summary, latency, requests)
  local data, values = {}, {}
  for i = 1, #latency do
    local v, c = latency(i)
    data[v] = c
    values[i] = v
  end
  local per_conn = math.floor(summary.requests / CONNS)
  local e = 0
  if per_conn > 0 then e = math.floor(summary.duration / per_conn) end
  local real, total = {}, 0
  for i, v in ipairs(values) do
    local r = data[v]
    if e > 0 and v > e then r = r - (data[v + e] or 0) end
    real[i] = r
    total = total + r
  end
  local rank = math.floor(0.99 * total + 1)
  local acc, p99 = 0, 0
  for i, v in ipairs(values) do
    acc = acc + real[i]
    if acc >= rank then p99 = v; break end
  end
  io.write(string.format("http_load: p99_us %d samples %d\n", p99, total))
end
"#;

/// As TechEmpower's pipeline.lua: `DEPTH` requests, built once, sent in one write.
const WRK_PIPELINE: &str = r#"
init = function(args)
  local r = {}
  for i = 1, DEPTH do
    r[i] = wrk.format()
  end
  req = table.concat(r)
end

request = function()
  return req
end
"#;

impl WrkScripts {
    fn write(opts: &Options) -> Res<Self> {
        let dir = std::env::temp_dir();
        let pid = std::process::id();
        let done = WRK_DONE.replace("CONNS", &opts.conns.to_string());
        let pipeline = WRK_PIPELINE.replace("DEPTH", &opts.depth.to_string());
        let scripts = WrkScripts {
            plaintext: dir.join(format!("http_load-plaintext-{pid}.lua")),
            pipelined: dir.join(format!("http_load-pipelined-{pid}.lua")),
        };
        let header = "-- written by corering's http_load bench; removed when it ends\n";
        for (path, text) in [
            (&scripts.plaintext, format!("{header}{done}")),
            (&scripts.pipelined, format!("{header}{pipeline}{done}")),
        ] {
            std::fs::write(path, text).context(|| format!("writing {}", path.display()))?;
        }
        Ok(scripts)
    }

    fn path(&self, load: Load) -> &Path {
        match load {
            Load::Plaintext => &self.plaintext,
            Load::Pipelined => &self.pipelined,
        }
    }
}

impl Drop for WrkScripts {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.plaintext);
        let _ = std::fs::remove_file(&self.pipelined);
    }
}

// ---------------------------------------------------------------------------------------------
// Servers
// ---------------------------------------------------------------------------------------------

/// A server under test, terminated when dropped.
struct RunningServer {
    kind: ServerKind,
    proc: ChildProc,
    addr: SocketAddr,
}

impl RunningServer {
    /// Starts the server pinned to `cpu` and waits until it accepts connections.
    fn start(kind: ServerKind, bin: &Path, cpu: usize) -> Res<Self> {
        let requested = free_loopback_addr()?;
        let mut cmd = Command::new(bin);
        cmd.args(["--addr", &requested.to_string()]);
        if matches!(kind, ServerKind::Corering | ServerKind::CoreringNoBatch) {
            cmd.args(["--workers", "1"]);
        }
        if kind == ServerKind::CoreringNoBatch {
            cmd.env("CORERING_BATCH_WAIT", "off");
        }
        let mut proc = ChildProc::spawn(kind.name(), cmd, cpu)?;
        let addr = wait_for_listen_line(&mut proc, requested)?;
        wait_connectable(addr, Duration::from_secs(5))?;
        Ok(RunningServer { kind, proc, addr })
    }

    fn pid(&self) -> u32 {
        self.proc.pid()
    }

    /// Stops the server with SIGTERM, warning if it does not exit with status 0.
    fn stop(self) -> Res<()> {
        self.proc.stop()
    }
}

/// Waits for the stdout line that says where the server listens; returns that address
/// (or `requested` when the line names the port but no parseable address).
fn wait_for_listen_line(proc: &mut ChildProc, requested: SocketAddr) -> Res<SocketAddr> {
    let deadline = Instant::now() + Duration::from_secs(15);
    let port = requested.port().to_string();
    loop {
        let Some(line) = proc.next_line(deadline)? else {
            let exit = match proc.wait_exit(Instant::now() + Duration::from_secs(2)) {
                Ok(status) => status.to_string(),
                Err(e) => e,
            };
            return Err(format!(
                "{} exited before saying where it listens ({exit})",
                proc.name
            ));
        };
        let addr = line
            .split(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '.' | ':' | '[' | ']')))
            .find_map(|token| token.parse::<SocketAddr>().ok());
        if let Some(addr) = addr {
            return Ok(addr);
        }
        if line.contains(&port) {
            return Ok(requested);
        }
    }
}

fn wait_connectable(addr: SocketAddr, limit: Duration) -> Res<()> {
    let deadline = Instant::now() + limit;
    loop {
        match TcpStream::connect_timeout(&addr, Duration::from_secs(1)) {
            Ok(_) => return Ok(()),
            Err(e) if Instant::now() >= deadline => {
                return Err(format!("server at {addr} does not accept connections: {e}"))
            }
            Err(_) => std::thread::sleep(Duration::from_millis(20)),
        }
    }
}

/// Sends `depth` pipelined `GET /plaintext` in one write and checks every answer: status
/// 200, `Content-Type: text/plain`, a `Date` field, body `Hello, World!`.
fn check_responses(addr: SocketAddr, depth: usize) -> Res<()> {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(2))
        .context(|| format!("connecting to {addr}"))?;
    s.set_read_timeout(Some(Duration::from_secs(2)))
        .context(|| "setting a read timeout".into())?;
    let request = format!("GET /plaintext HTTP/1.1\r\nHost: {addr}\r\n\r\n");
    s.write_all(request.repeat(depth).as_bytes())
        .context(|| "sending the requests".into())?;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    for i in 1..=depth {
        loop {
            match parse_response(&buf) {
                Ok(Some(len)) => {
                    buf.drain(..len);
                    break;
                }
                Ok(None) => {}
                Err(e) => return Err(format!("answer {i} of {depth}: {e}")),
            }
            let n = match s.read(&mut chunk) {
                Ok(0) => Err(io::Error::from(io::ErrorKind::UnexpectedEof)),
                r => r,
            }
            .context(|| format!("reading answer {i} of {depth}"))?;
            buf.extend_from_slice(&chunk[..n]);
        }
    }
    if !buf.is_empty() {
        return Err(format!("{} bytes after the last answer", buf.len()));
    }
    Ok(())
}

/// Checks the response at the start of `buf`; its length once complete.
fn parse_response(buf: &[u8]) -> Res<Option<usize>> {
    let Some(head_end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
        return Ok(None);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]);
    let mut lines = head.split("\r\n");
    let status = lines.next().unwrap_or_default();
    if !status.starts_with("HTTP/1.1 200 ") {
        return Err(format!("status line {status:?}, not 200"));
    }
    let (mut length, mut content_type, mut date) = (None, None, false);
    for line in lines {
        let (name, value) = line.split_once(':').unwrap_or((line, ""));
        let value = value.trim();
        match name.to_ascii_lowercase().as_str() {
            "content-length" => length = value.parse::<usize>().ok(),
            "content-type" => content_type = Some(value.to_string()),
            "date" => date = !value.is_empty(),
            _ => {}
        }
    }
    let length = length.ok_or("no Content-Length")?;
    if !content_type.is_some_and(|t| t.starts_with("text/plain")) {
        return Err("no Content-Type: text/plain".into());
    }
    if !date {
        return Err("no Date".into());
    }
    let total = head_end + 4 + length;
    if buf.len() < total {
        return Ok(None);
    }
    let body = &buf[head_end + 4..total];
    if body != b"Hello, World!" {
        return Err(format!("body {:?}", String::from_utf8_lossy(body)));
    }
    Ok(Some(total))
}

// ---------------------------------------------------------------------------------------------
// wrk runs
// ---------------------------------------------------------------------------------------------

/// Runs wrk for `secs` against `server`, sampling the server's CPU time around it.
fn wrk(
    server: &RunningServer,
    load: Load,
    secs: u64,
    opts: &Options,
    cpus: Cpus,
    scripts: &WrkScripts,
) -> Res<Sample> {
    let mut cmd = Command::new(&opts.wrk);
    cmd.args(["-t", "1", "-c", &opts.conns.to_string()])
        .args(["-d", &format!("{secs}s"), "-s"])
        .arg(scripts.path(load))
        .arg(format!("http://{}/plaintext", server.addr));
    let cpu_before = schedstat_ns(server.pid())?;
    let start = Instant::now();
    let mut proc = ChildProc::spawn("wrk", cmd, cpus.client)?;
    let deadline = start + Duration::from_secs(secs + 30);
    let mut lines = Vec::new();
    while let Some(line) = proc.next_line(deadline)? {
        lines.push(line);
    }
    let status = proc.wait_exit(deadline)?;
    let wall_ns = start.elapsed().as_nanos() as u64;
    let server_cpu_ns = schedstat_ns(server.pid())?.saturating_sub(cpu_before);
    let output = lines.join("\n");
    let fail = |what: String| format!("{what}; wrk said:\n{output}");
    if !status.success() {
        return Err(fail(format!("wrk exited with {status}")));
    }
    let (requests, rps, p99_us) = parse_wrk(&lines).map_err(fail)?;
    Ok(Sample {
        rps,
        requests,
        p99_us,
        server_cpu_ns,
        wall_ns,
    })
}

/// Requests, requests/s and p99 latency (µs) from wrk's output; an error for socket
/// errors, non-2xx/3xx answers or no completed request.
fn parse_wrk(lines: &[String]) -> Res<(u64, f64, f64)> {
    let (mut requests, mut rps, mut p99) = (None, None, None);
    for line in lines.iter().map(|l| l.trim()) {
        if let Some(rest) = line.strip_prefix("Socket errors:") {
            // "connect 0, read 0, write 0, timeout 0"
            let any = rest
                .split(',')
                .any(|kv| kv.split_whitespace().nth(1).is_some_and(|n| n != "0"));
            if any {
                return Err(format!("socket errors ({})", rest.trim()));
            }
        } else if let Some(rest) = line.strip_prefix("Non-2xx or 3xx responses:") {
            return Err(format!("{} non-2xx/3xx responses", rest.trim()));
        } else if let Some(rest) = line.strip_prefix("Requests/sec:") {
            rps = rest.trim().parse::<f64>().ok();
        } else if let Some(rest) = line.strip_prefix("http_load: p99_us ") {
            p99 = rest
                .split_whitespace()
                .next()
                .and_then(|v| v.parse::<f64>().ok());
        } else if line.contains(" requests in ") {
            requests = line.split_whitespace().next().and_then(|n| n.parse().ok());
        }
    }
    let requests: u64 = requests.ok_or("no \"N requests in\" line")?;
    let rps = rps.ok_or("no Requests/sec line")?;
    let p99 = p99.ok_or("no p99 line from the done() of the script")?;
    if requests == 0 {
        return Err("no request completed".into());
    }
    Ok((requests, rps, p99))
}

fn format_us(us: f64) -> String {
    if us >= 1000.0 {
        format!("{:.2} ms", us / 1000.0)
    } else {
        format!("{us:.0} µs")
    }
}

fn measure(
    server: &RunningServer,
    load: Load,
    opts: &Options,
    cpus: Cpus,
    scripts: &WrkScripts,
) -> Res<Sample> {
    if opts.warmup > 0 {
        wrk(server, load, opts.warmup, opts, cpus, scripts).context(|| "warm-up".into())?;
    }
    wrk(server, load, opts.duration, opts, cpus, scripts)
}

// ---------------------------------------------------------------------------------------------
// Report
// ---------------------------------------------------------------------------------------------

/// Medians over the rounds of one load and server.
struct Medians {
    rps: f64,
    p99_us: f64,
    cpu_ns: f64,
    cpu_spread: f64,
    util: f64,
}

impl Medians {
    fn of(samples: &[Sample]) -> Option<Medians> {
        let sorted = |f: fn(&Sample) -> f64| {
            let mut v: Vec<f64> = samples.iter().map(f).collect();
            v.sort_by(f64::total_cmp);
            v
        };
        let cpu = sorted(Sample::cpu_ns_per_request);
        let cpu_ns = median(&cpu)?;
        Some(Medians {
            rps: median(&sorted(|s| s.rps))?,
            p99_us: median(&sorted(|s| s.p99_us))?,
            cpu_ns,
            cpu_spread: (cpu[cpu.len() - 1] - cpu[0]) / 2.0 / cpu_ns,
            util: median(&sorted(Sample::server_util))?,
        })
    }
}

fn report(opts: &Options, cpus: Cpus, runs: &[Run]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "\n### HTTP GET /plaintext (wrk -t 1 -c {}, pipelined = {} requests per write, servers \
         on CPU {}, wrk on CPU {}, {} s warm-up + {} s measured per run, server CPU from \
         schedstat)\n",
        opts.conns, opts.depth, cpus.server, cpus.client, opts.warmup, opts.duration
    );
    out.push_str(
        "| load | server | requests/s | p99 latency | server CPU ns/request | CPU/req spread \
         | server CPU |\n",
    );
    out.push_str("|---|---|---:|---:|---:|---:|---:|\n");
    for &load in &opts.loads {
        for &server in &opts.servers {
            let samples: Vec<Sample> = runs
                .iter()
                .filter(|r| r.load == load && r.server == server)
                .filter_map(|r| r.outcome.as_ref().ok().copied())
                .collect();
            match Medians::of(&samples) {
                Some(m) => {
                    let _ = writeln!(
                        out,
                        "| {} | {} | {:.0} | {} | {:.0} | ±{:.0}% | {:.0}% |",
                        load.name(),
                        server.name(),
                        m.rps,
                        format_us(m.p99_us),
                        m.cpu_ns,
                        m.cpu_spread * 100.0,
                        m.util * 100.0
                    );
                }
                None => {
                    let _ = writeln!(
                        out,
                        "| {} | {} | failed | failed | failed | - | - |",
                        load.name(),
                        server.name()
                    );
                }
            }
        }
    }
    let _ = writeln!(
        out,
        "\nMedians over {} interleaved round(s); p99 latency of wrk's recorded latencies \
         without its coordinated-omission correction (pipelined: per batch of {}); spread = half the min-max range of CPU/request relative to its \
         median; server CPU = CPU time / wall time of the wrk run.",
        opts.rounds, opts.depth
    );

    let mut ratios = String::new();
    if opts.servers.contains(&ServerKind::Corering) {
        for &load in &opts.loads {
            for peer in ServerKind::PEERS {
                if !opts.servers.contains(&peer) {
                    continue;
                }
                let rps = paired_ratio(runs, load, ServerKind::Corering, peer, |s| s.rps);
                let cpu = paired_ratio(
                    runs,
                    load,
                    ServerKind::Corering,
                    peer,
                    Sample::cpu_ns_per_request,
                );
                let (Some(rps), Some(cpu)) = (rps, cpu) else {
                    let _ = writeln!(
                        ratios,
                        "| {} | {} | failed | | | failed | | |",
                        load.name(),
                        peer.name()
                    );
                    continue;
                };
                let (rps_target, cpu_target) = targets(load, peer);
                let (rps_t, rps_v) = match rps_target {
                    Some(t) => (format!("≥ {t:.2}"), verdict(rps >= t)),
                    None => ("-".to_string(), ""),
                };
                let (cpu_t, cpu_v) = match cpu_target {
                    Some(t) => (format!("≤ {t:.2}"), verdict(cpu <= t)),
                    None => ("-".to_string(), ""),
                };
                let _ = writeln!(
                    ratios,
                    "| {} | {} | {rps:.2} | {rps_t} | {rps_v} | {cpu:.2} | {cpu_t} | {cpu_v} |",
                    load.name(),
                    peer.name()
                );
            }
        }
    }
    if !ratios.is_empty() {
        out.push_str("\n#### corering / peer\n\n");
        out.push_str(
            "| load | peer | requests/s ratio | target | | CPU/request ratio | target | |\n",
        );
        out.push_str("|---|---|---:|---|---|---:|---|---|\n");
        out.push_str(&ratios);
        out.push_str(
            "\nRatios are medians of per-round ratios (corering against the peer's run of the \
             same round), which cancels the machine's slow drifts better than a ratio of \
             medians.\n",
        );
    }
    out
}
