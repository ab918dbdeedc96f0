//! Load benchmark: corering's `examples/kv` against Debian's `redis-server` and against
//! `floor`, the least an io_uring server can do, all driven by `redis-benchmark`.
//!
//! ```text
//! apt-get install redis-server redis-tools      # once; this bench installs nothing
//! cargo bench --bench kv_load                   # -- --help lists the options
//! ```
//!
//! All servers run for the whole benchmark, each pinned to the same CPU (they take turns:
//! only the one under load does anything); `redis-benchmark` is pinned to a second CPU.
//! kv runs with one worker (`--workers 1`), redis-server with persistence off
//! (`--save "" --appendonly no`). Before measuring, the keyspaces of kv and redis-server
//! are filled (`SET` with `-P 16` over `-r 100000`), so `GET`s hit.
//!
//! The floor is `echo_floor` of the peer servers' package, `benches/peers` (its own
//! workspace; see `benches/peers/src/bin/echo_floor.rs`): one thread, one io_uring,
//! multishot accept and recv from a provided buffer ring, completions batched like
//! corering's. It echoes every request back, and `redis-benchmark` takes the echo (a RESP
//! array of bulk strings) as the reply: so the floor receives a request and sends a reply
//! of the same size without parsing anything, the least CPU any io_uring server can spend
//! per request. It has no keyspace to fill. The bench builds it with `cargo build
//! --release --manifest-path benches/peers/Cargo.toml --target-dir benches/peers/target`
//! (or takes it from `--peers-dir DIR`); if that fails and `--servers` was not given, it
//! warns and runs without the floor.
//!
//! Loads: `GET` and `SET` (3-byte values, keys from `-r 100000`), 50 clients, each without
//! pipelining and with `-P 16`. Every load runs `--rounds` times (default 3), rotating
//! which server goes first, and medians are reported, because run-to-run noise on a small
//! VM is ±10-15%.
//!
//! Per run: requests/s as `redis-benchmark --csv` reports it, and the server's CPU time per
//! request: the on-CPU time of all its threads (`/proc/PID/task/*/schedstat`, first field)
//! sampled right before and after the `redis-benchmark` process, divided by the requests.
//! Then the kv/redis ratios against the targets (CPU per request ≤ 0.7×, requests/s ≥
//! 1.0×), the kv/floor ratios (no targets), and floor/redis: the least CPU ratio an io_uring
//! server reaches against redis-server. PASS/MISS is informational: the exit status only
//! reflects errors. All traffic stays on 127.0.0.1 and every child process is terminated
//! on exit.

mod support;

use std::fmt::Write as _;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use support::{
    build_example, free_loopback_addr, none_failed, on_path, paired_ratio, parse_flags,
    parse_number, pick_cpus, schedstat_ns, succeeded, verdict, ChildProc, Context, CostMedians,
    Cpus, Res, ServerCost,
};

const USAGE: &str = "\
usage: cargo bench --bench kv_load -- [options]
  --rounds N            runs per load and server, interleaved; medians reported (default 3)
  --requests N          requests per run without pipelining (default 200000)
  --pipelined-requests N  requests per run with -P 16 (default 2000000)
  --clients N           redis-benchmark connections (default 50)
  --keyspace N          redis-benchmark -r (default 100000)
  --only LIST           comma list of loads: get, set, get-p16, set-p16 (default: all)
  --servers LIST        comma list of kv, kv-batch (completion batching on), redis, floor
                        (default: all four; without the floor if benches/peers fails
                        to build)
  --kv-bin PATH         use this kv binary instead of building examples/kv
  --peers-dir DIR       take echo_floor from DIR instead of building benches/peers
  --redis-server PATH   (default: redis-server from PATH)
  --redis-benchmark PATH  (default: redis-benchmark from PATH)
";

/// Target ratios kv/redis.
const CPU_RATIO_TARGET: f64 = 0.7;
const RPS_RATIO_TARGET: f64 = 1.0;

fn main() {
    support::main_with(run);
}

// ---------------------------------------------------------------------------------------------
// Loads, servers, options
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
struct Load {
    /// `get` or `set` (the `redis-benchmark -t` name).
    test: &'static str,
    /// Requests per pipeline (`-P`).
    pipeline: u32,
}

impl Load {
    const ALL: [Load; 4] = [
        Load {
            test: "get",
            pipeline: 1,
        },
        Load {
            test: "set",
            pipeline: 1,
        },
        Load {
            test: "get",
            pipeline: 16,
        },
        Load {
            test: "set",
            pipeline: 16,
        },
    ];

    fn name(self) -> String {
        if self.pipeline == 1 {
            self.test.to_uppercase()
        } else {
            format!("{} -P {}", self.test.to_uppercase(), self.pipeline)
        }
    }

    fn parse(s: &str) -> Res<Load> {
        let (test, pipeline) = match s.split_once("-p") {
            Some((t, p)) => (t, parse_number::<u32>("--only", p)?),
            None => (s, 1),
        };
        Load::ALL
            .into_iter()
            .find(|l| l.test == test && l.pipeline == pipeline)
            .ok_or_else(|| format!("unknown load {s:?} (get, set, get-p16, set-p16)"))
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum ServerKind {
    Kv,
    /// kv with completion batching on (`CORERING_BATCH_WAIT=64:50`, the
    /// engine's default; kv's own default is off).
    KvBatch,
    Redis,
    Floor,
}

impl ServerKind {
    const ALL: [ServerKind; 4] = [
        ServerKind::Kv,
        ServerKind::KvBatch,
        ServerKind::Redis,
        ServerKind::Floor,
    ];

    fn name(self) -> &'static str {
        match self {
            ServerKind::Kv => "kv",
            ServerKind::KvBatch => "kv-batch",
            ServerKind::Redis => "redis-server",
            ServerKind::Floor => "floor",
        }
    }

    fn parse(s: &str) -> Res<Self> {
        match s {
            "kv" => Ok(ServerKind::Kv),
            "kv-batch" => Ok(ServerKind::KvBatch),
            "redis" | "redis-server" => Ok(ServerKind::Redis),
            "floor" | "echo_floor" => Ok(ServerKind::Floor),
            _ => Err(format!("unknown server {s:?} (kv, kv-batch, redis, floor)")),
        }
    }

    /// Whether its keyspace is filled before measuring (the floor has none).
    fn has_keyspace(self) -> bool {
        self != ServerKind::Floor
    }
}

/// The floor's binary in benches/peers.
const FLOOR_BIN: &str = "echo_floor";

struct Options {
    rounds: usize,
    requests: u64,
    pipelined_requests: u64,
    clients: u32,
    keyspace: u64,
    loads: Vec<Load>,
    servers: Vec<ServerKind>,
    /// `--servers` was given (else a floor that fails to build is left out).
    servers_given: bool,
    kv_bin: Option<PathBuf>,
    peers_dir: Option<PathBuf>,
    redis_server: PathBuf,
    redis_benchmark: PathBuf,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            rounds: 3,
            requests: 200_000,
            pipelined_requests: 2_000_000,
            clients: 50,
            keyspace: 100_000,
            loads: Load::ALL.to_vec(),
            servers: ServerKind::ALL.to_vec(),
            servers_given: false,
            kv_bin: None,
            peers_dir: None,
            redis_server: "redis-server".into(),
            redis_benchmark: "redis-benchmark".into(),
        }
    }
}

impl Options {
    fn requests_for(&self, load: Load) -> u64 {
        if load.pipeline > 1 {
            self.pipelined_requests
        } else {
            self.requests
        }
    }
}

fn parse_options(args: &[String]) -> Res<Options> {
    let mut opts = Options::default();
    parse_flags(args, USAGE, |flag, value| {
        match flag {
            "--rounds" => opts.rounds = parse_number(flag, value()?)?,
            "--requests" => opts.requests = parse_number(flag, value()?)?,
            "--pipelined-requests" => opts.pipelined_requests = parse_number(flag, value()?)?,
            "--clients" => opts.clients = parse_number(flag, value()?)?,
            "--keyspace" => opts.keyspace = parse_number(flag, value()?)?,
            "--only" => {
                opts.loads = value()?.split(',').map(Load::parse).collect::<Res<_>>()?;
            }
            "--servers" => {
                opts.servers.clear();
                for server in value()?.split(',').filter(|s| !s.is_empty()) {
                    let server = ServerKind::parse(server)?;
                    if !opts.servers.contains(&server) {
                        opts.servers.push(server);
                    }
                }
                opts.servers_given = true;
            }
            "--kv-bin" => opts.kv_bin = Some(value()?.into()),
            "--peers-dir" => opts.peers_dir = Some(value()?.into()),
            "--redis-server" => opts.redis_server = value()?.into(),
            "--redis-benchmark" => opts.redis_benchmark = value()?.into(),
            _ => return Ok(false),
        }
        Ok(true)
    })?;
    if opts.rounds == 0 || opts.requests == 0 || opts.pipelined_requests == 0 || opts.clients == 0 {
        return Err(
            "--rounds, --requests, --pipelined-requests and --clients must be positive".into(),
        );
    }
    if opts.servers.is_empty() {
        return Err("--servers needs at least one server".into());
    }
    Ok(opts)
}

// ---------------------------------------------------------------------------------------------
// Orchestration
// ---------------------------------------------------------------------------------------------

/// One measured run (redis-benchmark gives no latency percentile here).
type Sample = ServerCost;

type Run = support::Run<Load, ServerKind, Sample>;

fn run(args: &[String]) -> Res<()> {
    let mut opts = parse_options(args)?;
    let mut tools = vec![&opts.redis_benchmark];
    if opts.servers.contains(&ServerKind::Redis) {
        tools.push(&opts.redis_server);
    }
    for tool in tools {
        if !on_path(tool) {
            return Err(format!(
                "{} not found; install Debian's redis-server and redis-tools \
                 (apt-get install redis-server redis-tools) or pass its path",
                tool.display()
            ));
        }
    }
    let cpus = pick_cpus("servers and client");
    let bins = resolve_bins(&opts)?;
    // The report covers the servers that run (the floor may have been left out).
    opts.servers = bins.iter().map(|(kind, _)| *kind).collect();

    let mut servers = Vec::new();
    for (kind, bin) in &bins {
        servers.push(RunningServer::start(*kind, bin, &opts, cpus.server)?);
    }
    for s in servers.iter().filter(|s| s.kind.has_keyspace()) {
        eprintln!("kv_load: filling the keyspace of {}...", s.kind.name());
        fill_keyspace(s, &opts, cpus)?;
    }

    let runs = support::interleaved_runs(
        opts.rounds,
        &opts.loads,
        &servers,
        Load::name,
        |s| (s.kind, s.kind.name()),
        |server, load| measure(server, load, &opts, cpus),
        |s| {
            format!(
                "{:.0} requests/s, {:.0} ns CPU/request",
                s.rps,
                s.cpu_ns_per_request()
            )
        },
    );
    for server in servers {
        server.stop()?;
    }

    print!("{}", report(&opts, cpus, &runs));
    none_failed(&runs)
}

// ---------------------------------------------------------------------------------------------
// Servers
// ---------------------------------------------------------------------------------------------

/// The binary of each selected server, building kv and the floor if needed. Without
/// `--servers`, a floor that fails to build is left out with a warning.
fn resolve_bins(opts: &Options) -> Res<Vec<(ServerKind, PathBuf)>> {
    let mut bins = Vec::new();
    for &kind in &opts.servers {
        let bin = match kind {
            ServerKind::Kv | ServerKind::KvBatch => match &opts.kv_bin {
                Some(bin) => bin.clone(),
                None => build_example("kv")?,
            },
            ServerKind::Redis => opts.redis_server.clone(),
            ServerKind::Floor => match floor_bin(opts) {
                Ok(bin) => bin,
                Err(e) if !opts.servers_given => {
                    eprintln!("kv_load: warning: running without the floor: {e}");
                    continue;
                }
                Err(e) => return Err(e),
            },
        };
        bins.push((kind, bin));
    }
    Ok(bins)
}

/// The floor's binary: from `--peers-dir`, or built in benches/peers.
fn floor_bin(opts: &Options) -> Res<PathBuf> {
    support::peer_bin(opts.peers_dir.as_deref(), FLOOR_BIN)
}

/// A server under test, terminated when dropped.
struct RunningServer {
    kind: ServerKind,
    proc: ChildProc,
    addr: SocketAddr,
}

impl RunningServer {
    /// Starts the server pinned to `cpu` and waits until it answers PING (the floor echoes
    /// it).
    fn start(kind: ServerKind, bin: &Path, _opts: &Options, cpu: usize) -> Res<Self> {
        let addr = free_loopback_addr()?;
        let port = addr.port().to_string();
        let mut cmd = Command::new(bin);
        match kind {
            ServerKind::Kv | ServerKind::KvBatch => {
                // The io_uring figures, whatever CORERING_BACKEND says.
                support::backend::Backend::Uring.force(&mut cmd);
                cmd.args(["--addr", &addr.to_string(), "--workers", "1"]);
                if kind == ServerKind::KvBatch {
                    cmd.env("CORERING_BATCH_WAIT", "64:50");
                }
            }
            ServerKind::Redis => {
                cmd.args(["--port", &port, "--bind", "127.0.0.1", "--save", ""])
                    .args(["--appendonly", "no", "--daemonize", "no"]);
            }
            ServerKind::Floor => {
                cmd.args(["--addr", &addr.to_string()]);
            }
        }
        let proc = ChildProc::spawn(kind.name(), cmd, cpu)?;
        let server = RunningServer { kind, proc, addr };
        server.wait_ready(Duration::from_secs(15))?;
        Ok(server)
    }

    fn pid(&self) -> u32 {
        self.proc.pid()
    }

    /// Waits until a `PING` gets `+PONG` (or, from the floor, itself).
    fn wait_ready(&self, limit: Duration) -> Res<()> {
        let deadline = Instant::now() + limit;
        let reply: &[u8] = match self.kind {
            ServerKind::Floor => PING,
            ServerKind::Kv | ServerKind::KvBatch | ServerKind::Redis => b"+PONG\r\n",
        };
        loop {
            match ping(self.addr, reply) {
                Ok(()) => return Ok(()),
                Err(e) if Instant::now() >= deadline => {
                    return Err(format!(
                        "{} at {} is not ready: {e}",
                        self.kind.name(),
                        self.addr
                    ))
                }
                Err(_) => std::thread::sleep(Duration::from_millis(20)),
            }
        }
    }

    /// Stops the server with SIGTERM, warning if it does not exit with status 0.
    fn stop(self) -> Res<()> {
        self.proc.stop()
    }
}

const PING: &[u8] = b"PING\r\n";

/// Sends `PING` and expects `reply`.
fn ping(addr: SocketAddr, reply: &[u8]) -> io::Result<()> {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(1))?;
    s.set_read_timeout(Some(Duration::from_secs(1)))?;
    s.write_all(PING)?;
    let mut buf = vec![0u8; reply.len()];
    s.read_exact(&mut buf)?;
    if buf != reply {
        let want = String::from_utf8_lossy(reply);
        let msg = format!("PING got no {:?}", want.trim_end());
        return Err(io::Error::new(io::ErrorKind::InvalidData, msg));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// redis-benchmark runs
// ---------------------------------------------------------------------------------------------

/// Runs `redis-benchmark` against `server` with `extra` arguments; returns the CSV row of
/// the test and the server CPU time it took.
fn redis_benchmark(
    server: &RunningServer,
    opts: &Options,
    cpus: Cpus,
    extra: &[String],
    limit: Duration,
) -> Res<(String, u64, u64)> {
    let mut cmd = Command::new(&opts.redis_benchmark);
    cmd.args(["-h", "127.0.0.1", "-p", &server.addr.port().to_string()])
        .args(["-c", &opts.clients.to_string()])
        .args(["-r", &opts.keyspace.to_string()])
        .args(["-q", "--csv"])
        .args(extra);
    let cpu_before = schedstat_ns(server.pid())?;
    let start = Instant::now();
    let mut bench = ChildProc::spawn("redis-benchmark", cmd, cpus.client)?;
    let deadline = start + limit;
    let mut row = None;
    while let Some(line) = bench.next_line(deadline)? {
        if !line.starts_with("\"test\"") && line.starts_with('"') {
            row = Some(line);
        }
    }
    let status = bench.wait_exit(deadline)?;
    let wall_ns = start.elapsed().as_nanos() as u64;
    let cpu_ns = schedstat_ns(server.pid())?.saturating_sub(cpu_before);
    if !status.success() {
        return Err(format!("redis-benchmark exited with {status}"));
    }
    let row = row.ok_or("redis-benchmark printed no result row")?;
    Ok((row, cpu_ns, wall_ns))
}

/// Fills the keyspace with `SET`s so that the `GET` loads hit: `-r N` picks keys at
/// random, so 10 N requests leave about e^-10 of the keys unset.
fn fill_keyspace(server: &RunningServer, opts: &Options, cpus: Cpus) -> Res<()> {
    let n = (opts.keyspace * 10).to_string();
    let extra = ["-t", "set", "-n", &n, "-P", "16"].map(String::from);
    redis_benchmark(server, opts, cpus, &extra, Duration::from_secs(300))
        .map(|_| ())
        .context(|| format!("filling {}", server.kind.name()))
}

fn measure(server: &RunningServer, load: Load, opts: &Options, cpus: Cpus) -> Res<Sample> {
    let requests = opts.requests_for(load);
    let extra = [
        "-t".to_string(),
        load.test.to_string(),
        "-n".to_string(),
        requests.to_string(),
        "-P".to_string(),
        load.pipeline.to_string(),
    ];
    let (row, server_cpu_ns, wall_ns) =
        redis_benchmark(server, opts, cpus, &extra, Duration::from_secs(300))?;
    // "GET","61728.39","0.532",...
    let rps = row
        .split(',')
        .nth(1)
        .map(|f| f.trim_matches('"'))
        .and_then(|f| f.parse::<f64>().ok())
        .ok_or_else(|| format!("cannot read requests/s from {row:?}"))?;
    if rps <= 0.0 {
        return Err(format!("no requests completed ({row})"));
    }
    Ok(Sample {
        rps,
        requests,
        server_cpu_ns,
        wall_ns,
    })
}

// ---------------------------------------------------------------------------------------------
// Report
// ---------------------------------------------------------------------------------------------

fn report(opts: &Options, cpus: Cpus, runs: &[Run]) -> String {
    let has = |server| opts.servers.contains(&server);
    let names: Vec<&str> = opts.servers.iter().map(|s| s.name()).collect();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "\n### {} ({} clients, -r {}, servers on CPU {}, redis-benchmark on CPU {}, {} / {} \
         requests per run without / with pipelining)\n",
        names.join(" vs "),
        opts.clients,
        opts.keyspace,
        cpus.server,
        cpus.client,
        opts.requests,
        opts.pipelined_requests
    );
    out.push_str(
        "| load | server | requests/s | server CPU ns/request | CPU/req spread | server CPU |\n",
    );
    out.push_str("|---|---|---:|---:|---:|---:|\n");
    for &load in &opts.loads {
        for &server in &opts.servers {
            let _ = match CostMedians::of(&succeeded(runs, load, server)) {
                Some(m) => writeln!(
                    out,
                    "| {} | {} | {:.0} | {:.0} | ±{:.0}% | {:.0}% |",
                    load.name(),
                    server.name(),
                    m.rps,
                    m.cpu_ns,
                    m.cpu_spread * 100.0,
                    m.util * 100.0
                ),
                None => writeln!(
                    out,
                    "| {} | {} | failed | failed | - | - |",
                    load.name(),
                    server.name()
                ),
            };
        }
    }
    let _ = writeln!(
        out,
        "\nMedians over {} interleaved round(s); spread = half the min-max range of CPU/request \
         relative to its median; server CPU = CPU time / wall time of the redis-benchmark run.",
        opts.rounds
    );
    if opts.servers.len() > 1 {
        out.push_str(
            "Ratios are medians of per-round ratios (one server against the other's run of \
             the same round), which cancels the machine's slow drifts better than a ratio of \
             medians.\n",
        );
    }

    if has(ServerKind::Kv) && has(ServerKind::Redis) {
        out.push_str("\n#### kv / redis-server\n\n");
        out.push_str("| load | requests/s ratio | target | | CPU/request ratio | target | |\n");
        out.push_str("|---|---:|---|---|---:|---|---|\n");
        for &load in &opts.loads {
            let _ = match ratios(runs, load, ServerKind::Kv, ServerKind::Redis) {
                Some((rps, cpu)) => writeln!(
                    out,
                    "| {} | {rps:.2} | ≥ {RPS_RATIO_TARGET:.1} | {} | {cpu:.2} | \
                     ≤ {CPU_RATIO_TARGET:.1} | {} |",
                    load.name(),
                    verdict(rps >= RPS_RATIO_TARGET),
                    verdict(cpu <= CPU_RATIO_TARGET)
                ),
                None => writeln!(out, "| {} | failed | | | failed | | |", load.name()),
            };
        }
    }

    let pairs = [
        (
            ServerKind::KvBatch,
            "kv, completion batching off (kv's default) / on",
        ),
        (ServerKind::Floor, "kv / floor"),
    ];
    for (other, title) in pairs {
        if !(has(ServerKind::Kv) && has(other)) {
            continue;
        }
        let _ = write!(out, "\n#### {title}\n\n");
        out.push_str("| load | requests/s ratio | CPU/request ratio |\n");
        out.push_str("|---|---:|---:|\n");
        for &load in &opts.loads {
            let _ = match ratios(runs, load, ServerKind::Kv, other) {
                Some((rps, cpu)) => writeln!(out, "| {} | {rps:.2} | {cpu:.2} |", load.name()),
                None => writeln!(out, "| {} | failed | failed |", load.name()),
            };
        }
    }

    if has(ServerKind::Floor) && has(ServerKind::Redis) {
        out.push('\n');
        for &load in &opts.loads {
            let figures = match ratios(runs, load, ServerKind::Floor, ServerKind::Redis) {
                Some((rps, cpu)) => format!("CPU/request {cpu:.2} (requests/s {rps:.2})"),
                None => "failed".to_string(),
            };
            let _ = writeln!(
                out,
                "floor / redis-server, {}: {figures}; the least CPU/request ratio an io_uring \
                 server reaches against redis-server (target for kv: ≤ {CPU_RATIO_TARGET:.1}).",
                load.name()
            );
        }
    }
    out
}

/// The paired requests/s and CPU/request ratios of `ours` against `peer` under `load`.
fn ratios(runs: &[Run], load: Load, ours: ServerKind, peer: ServerKind) -> Option<(f64, f64)> {
    let paired = |f| paired_ratio(runs, load, ours, peer, f);
    Some((paired(|s| s.rps)?, paired(Sample::cpu_ns_per_request)?))
}
