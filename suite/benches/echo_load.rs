//! Echo load benchmark: corering's `examples/echo`, on io_uring and on epoll, against an
//! idiomatic tokio echo server and against `floor`, the least an io_uring echo server can
//! do.
//!
//! Run with `cargo bench --bench echo_load`; options go after `--`, for example
//! `cargo bench --bench echo_load -- --secs 5 --only memory` (`-- --help` lists them all).
//!
//! Throughput. Each server runs one worker pinned to one CPU; a load client (pinned to a
//! second CPU) opens 64 connections, warms up for 1 s, then measures for `--secs` (default 5).
//! Every load runs `--rounds` times (default 3) alternating the servers (rotating which goes
//! first), and medians are reported, because run-to-run noise on a small VM is around ±10%.
//! The loads:
//! * `rr64`: 64-byte request/response, exactly one message in flight per connection;
//!   every echoed message is compared with what was sent.
//! * `stream4k`: 4 KiB messages, 16 in flight per connection (64 KiB outstanding); the
//!   echoed byte stream is verified and messages = echoed bytes / 4096.
//!
//! For each load and server it reports messages/s and the server's CPU ns per message: the
//! on-CPU time of all server threads (`/proc/PID/task/*/schedstat`, falling back to
//! `/proc/PID/stat` utime+stime), sampled by the client exactly at the start and end of the
//! measured window. Then the corering/tokio ratios against the targets
//! (rr64 CPU ratio ≤ 0.9, stream4k CPU ratio ≤ 0.7, msgs/s ratio ≥ 1.0), as medians of
//! per-round paired ratios (corering against tokio's run of the same round, which cancels
//! the machine's slow drifts better than a ratio of medians); the corering-epoll/tokio
//! ratios (target: rr64 CPU ratio ≤ 1.0); corering on io_uring against the same with
//! batching off and against itself on epoll, and against the floor (no targets); and
//! floor/tokio, the best ratio any io_uring server could reach.
//!
//! Memory (`memory`). Growth of the server's VmRSS per idle TCP connection, after opening
//! 10,000 connections that never send anything (target for corering: ≤ 2048 bytes), plus
//! the same figure after one 64-byte echo on each connection.
//!
//! The tokio server and the load client are roles of this same binary: it re-executes itself
//! with `ECHO_LOAD_ROLE=tokio-server` or `ECHO_LOAD_ROLE=client`. The corering server is built
//! with `cargo build --release --example echo` and run as
//! `echo --addr 127.0.0.1:PORT --workers 1` with `CORERING_BACKEND=uring` (`corering`,
//! and `corering-nobatch` with `CORERING_BATCH_WAIT=off` too) or `CORERING_BACKEND=epoll`
//! (`corering-epoll`); a corering server whose startup line does not name its backend is
//! warned about and noted in the report. The floor is `echo_floor` of the peer servers'
//! package, `benches/peers` (its own workspace; see `benches/peers/src/bin/echo_floor.rs`):
//! one thread, one io_uring, multishot accept and recv from a provided buffer ring, at
//! most one send per connection in flight, completions batched like corering's. The bench
//! builds it with `cargo build --release --manifest-path benches/peers/Cargo.toml
//! --target-dir benches/peers/target` (or takes it from `--peers-dir DIR`); if that fails
//! and `--servers` was not given, it warns and runs without the floor. PASS/MISS is
//! informational: the exit status only reflects errors. All traffic stays on 127.0.0.1 and
//! every child is terminated on exit.

mod support;

use std::fmt::Write as _;
use std::io::{self, Read, Write};
use std::mem::zeroed;
use std::net::{SocketAddr, TcpStream};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use support::backend::{Backend, BackendNotes};
use support::{
    build_example, free_loopback_addr, median, paired_ratio, parse_flags, parse_number, pick_cpus,
    schedstat_ns, verdict, wait_connectable, wait_for_listen_line, ChildProc, Context, Cpus, Res,
};

/// Environment variable selecting the role of a re-executed copy of this binary.
const ROLE_ENV: &str = "ECHO_LOAD_ROLE";

const USAGE: &str = "\
usage: cargo bench --bench echo_load -- [options]
  --secs N           measured seconds per throughput run (default 5)
  --warmup N         warm-up seconds before each measured window (default 1)
  --rounds N         throughput runs per load and server, interleaved; medians reported (default 3)
  --only LIST        comma list of rr64, stream4k, throughput (= both), memory (default: all)
  --servers LIST     comma list of corering, corering-nobatch (completion batching off),
                     corering-epoll (epoll backend), tokio, floor (default: all five;
                     without the floor if benches/peers fails to build)
  --conns N          load connections (default 64)
  --idle-conns N     idle connections for the memory measurement (default 10000)
  --echo-bin PATH    use this corering echo binary instead of building examples/echo
  --peers-dir DIR    take echo_floor from DIR instead of building benches/peers
  --stand-in-tokio   run the tokio role in the corering slot (tests the bench itself)
";

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let outcome = match std::env::var(ROLE_ENV).ok().as_deref() {
        None => run_parent(&args),
        Some("tokio-server") => run_tokio_server(&args),
        Some("client") => run_client(&args),
        Some(other) => Err(format!("unknown {ROLE_ENV}={other:?}")),
    };
    if let Err(e) = outcome {
        eprintln!("echo_load: error: {e}");
        std::process::exit(1);
    }
}

// ---------------------------------------------------------------------------------------------
// Loads and servers
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Load {
    Rr64,
    Stream4k,
}

impl Load {
    const ALL: [Load; 2] = [Load::Rr64, Load::Stream4k];

    fn name(self) -> &'static str {
        match self {
            Load::Rr64 => "rr64",
            Load::Stream4k => "stream4k",
        }
    }

    fn parse(s: &str) -> Res<Self> {
        Load::ALL
            .into_iter()
            .find(|l| l.name() == s)
            .ok_or_else(|| format!("unknown load {s:?}"))
    }

    /// Bytes per message.
    fn msg_size(self) -> u64 {
        match self {
            Load::Rr64 => RR_MSG as u64,
            Load::Stream4k => STREAM_MSG as u64,
        }
    }

    /// Target ratio of server CPU per message, corering/tokio.
    fn cpu_ratio_target(self) -> f64 {
        match self {
            Load::Rr64 => 0.9,
            Load::Stream4k => 0.7,
        }
    }

    /// Target ratio of server CPU per message, corering-epoll/tokio, where there is one.
    fn epoll_cpu_ratio_target(self) -> Option<f64> {
        match self {
            Load::Rr64 => Some(1.0),
            Load::Stream4k => None,
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Server {
    Corering,
    /// corering with completion batching off (`CORERING_BATCH_WAIT=off`).
    CoreringNoBatch,
    /// corering on the epoll backend (`CORERING_BACKEND=epoll`).
    CoreringEpoll,
    Tokio,
    Floor,
}

impl Server {
    const ALL: [Server; 5] = [
        Server::Corering,
        Server::CoreringNoBatch,
        Server::CoreringEpoll,
        Server::Tokio,
        Server::Floor,
    ];

    fn name(self) -> &'static str {
        match self {
            Server::Corering => "corering",
            Server::CoreringNoBatch => "corering-nobatch",
            Server::CoreringEpoll => "corering-epoll",
            Server::Tokio => "tokio",
            Server::Floor => "floor",
        }
    }

    fn parse(s: &str) -> Res<Self> {
        match s {
            "corering" => Ok(Server::Corering),
            "corering-nobatch" => Ok(Server::CoreringNoBatch),
            "corering-epoll" | "epoll" => Ok(Server::CoreringEpoll),
            "tokio" => Ok(Server::Tokio),
            "floor" | "echo_floor" => Ok(Server::Floor),
            _ => Err(format!(
                "unknown server {s:?} (corering, corering-nobatch, corering-epoll, tokio, floor)"
            )),
        }
    }

    /// The backend a corering server is forced onto; `None` for the others.
    fn backend(self) -> Option<Backend> {
        match self {
            Server::Corering | Server::CoreringNoBatch => Some(Backend::Uring),
            Server::CoreringEpoll => Some(Backend::Epoll),
            Server::Tokio | Server::Floor => None,
        }
    }
}

/// The floor's binary in benches/peers.
const FLOOR_BIN: &str = "echo_floor";

/// How to start a server process.
#[derive(Clone, Debug)]
enum Launch {
    /// The corering echo example binary, run with `--workers 1` on the server's backend.
    Corering(PathBuf),
    /// This binary in the `tokio-server` role.
    TokioRole,
    /// The floor's binary.
    Floor(PathBuf),
}

// ---------------------------------------------------------------------------------------------
// Parent: options
// ---------------------------------------------------------------------------------------------

struct Options {
    secs: f64,
    warmup: f64,
    rounds: usize,
    conns: usize,
    idle_conns: usize,
    loads: Vec<Load>,
    memory: bool,
    servers: Vec<Server>,
    /// `--servers` was given (else a floor that fails to build is left out).
    servers_given: bool,
    echo_bin: Option<PathBuf>,
    peers_dir: Option<PathBuf>,
    stand_in_tokio: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            secs: 5.0,
            warmup: 1.0,
            rounds: 3,
            conns: 64,
            idle_conns: 10_000,
            loads: Load::ALL.to_vec(),
            memory: true,
            servers: Server::ALL.to_vec(),
            servers_given: false,
            echo_bin: None,
            peers_dir: None,
            stand_in_tokio: false,
        }
    }
}

/// Splits `--flag=value` into `--flag value`.
fn normalize_args(args: &[String]) -> Vec<String> {
    let mut out = Vec::with_capacity(args.len());
    for arg in args {
        match arg.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => {
                out.push(flag.to_string());
                out.push(value.to_string());
            }
            _ => out.push(arg.clone()),
        }
    }
    out
}

fn parse_options(args: &[String]) -> Res<Options> {
    let mut opts = Options::default();
    let args = normalize_args(args);
    parse_flags(&args, USAGE, |flag, value| {
        match flag {
            "--secs" => opts.secs = parse_number(flag, value()?)?,
            "--warmup" => opts.warmup = parse_number(flag, value()?)?,
            "--rounds" => opts.rounds = parse_number(flag, value()?)?,
            "--conns" => opts.conns = parse_number(flag, value()?)?,
            "--idle-conns" => opts.idle_conns = parse_number(flag, value()?)?,
            "--echo-bin" => opts.echo_bin = Some(PathBuf::from(value()?)),
            "--peers-dir" => opts.peers_dir = Some(PathBuf::from(value()?)),
            "--stand-in-tokio" => opts.stand_in_tokio = true,
            "--only" => parse_only(value()?, &mut opts)?,
            "--servers" => {
                opts.servers.clear();
                for server in value()?.split(',').filter(|s| !s.is_empty()) {
                    let server = Server::parse(server)?;
                    if !opts.servers.contains(&server) {
                        opts.servers.push(server);
                    }
                }
                opts.servers_given = true;
            }
            _ => return Ok(false),
        }
        Ok(true)
    })?;
    if opts.secs <= 0.0
        || opts.warmup < 0.0
        || opts.conns == 0
        || opts.idle_conns == 0
        || opts.rounds == 0
    {
        return Err("--secs, --rounds, --conns and --idle-conns must be positive".into());
    }
    if opts.servers.is_empty() {
        return Err("--servers needs at least one server".into());
    }
    Ok(opts)
}

fn parse_only(list: &str, opts: &mut Options) -> Res<()> {
    opts.loads.clear();
    opts.memory = false;
    for item in list.split(',') {
        match item {
            "memory" => opts.memory = true,
            "throughput" => opts.loads = Load::ALL.to_vec(),
            load => {
                let load = Load::parse(load)?;
                if !opts.loads.contains(&load) {
                    opts.loads.push(load);
                }
            }
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Parent: orchestration
// ---------------------------------------------------------------------------------------------

type LoadRun = support::Run<Load, Server, LoadStats>;

struct MemoryRun {
    server: Server,
    outcome: Res<MemoryStats>,
}

fn run_parent(args: &[String]) -> Res<()> {
    let mut opts = parse_options(args)?;
    raise_nofile_limit(opts.idle_conns as u64 + 1_000);
    let cpus = pick_cpus("server and client");
    let launches = resolve_launches(&opts)?;
    // The report covers the servers that run (the floor may have been left out).
    opts.servers = launches.iter().map(|(server, _)| *server).collect();

    // Rounds interleave the servers, rotating who goes first, so that slow drifts of the
    // machine hit both alike; the report pairs the runs of each round.
    let mut load_runs = Vec::new();
    let mut notes = BackendNotes::default();
    for &load in &opts.loads {
        for round in 1..=opts.rounds {
            let mut order: Vec<&(Server, Launch)> = launches.iter().collect();
            let len = order.len().max(1);
            order.rotate_left((round - 1) % len);
            for entry @ (server, _) in order {
                let what = format!("{} against {} (round {round})", load.name(), server.name());
                eprintln!("echo_load: {what}...");
                let outcome = run_load(entry, load, &opts, cpus, &mut notes);
                match &outcome {
                    Ok(s) => eprintln!(
                        "echo_load:   {:.0} msgs/s, {:.0} ns server CPU/msg, server CPU {:.0}%",
                        s.msgs_per_sec(),
                        s.cpu_ns_per_msg(),
                        s.server_util() * 100.0
                    ),
                    Err(e) => eprintln!("echo_load: {what} failed: {e}"),
                }
                load_runs.push(LoadRun {
                    load,
                    round,
                    server: *server,
                    outcome,
                });
            }
        }
    }

    let mut memory_runs = Vec::new();
    if opts.memory {
        // Batching changes nothing at rest: one corering memory run per backend is enough.
        let at_rest = launches
            .iter()
            .filter(|(server, _)| *server != Server::CoreringNoBatch);
        for entry @ (server, _) in at_rest {
            eprintln!("echo_load: idle memory of {}...", server.name());
            let outcome = run_memory(entry, &opts, cpus, &mut notes);
            if let Err(e) = &outcome {
                eprintln!("echo_load: memory of {} failed: {e}", server.name());
            }
            memory_runs.push(MemoryRun {
                server: *server,
                outcome,
            });
        }
    }

    print!("{}", report(&opts, cpus, &load_runs, &memory_runs, &notes));
    let failures = load_runs.iter().filter(|r| r.outcome.is_err()).count()
        + memory_runs.iter().filter(|r| r.outcome.is_err()).count();
    if failures > 0 {
        return Err(format!("{failures} run(s) failed (see above)"));
    }
    Ok(())
}

/// Decides how each selected server is started, building the corering echo and the floor
/// if needed. Without `--servers`, a floor that fails to build is left out with a warning.
fn resolve_launches(opts: &Options) -> Res<Vec<(Server, Launch)>> {
    let mut launches = Vec::new();
    for &server in &opts.servers {
        let launch = match server {
            Server::Tokio => Launch::TokioRole,
            Server::Corering | Server::CoreringNoBatch | Server::CoreringEpoll
                if opts.stand_in_tokio =>
            {
                Launch::TokioRole
            }
            Server::Corering | Server::CoreringNoBatch | Server::CoreringEpoll => {
                match (&opts.echo_bin, launches.iter().find_map(corering_bin)) {
                    (Some(bin), _) | (None, Some(bin)) => Launch::Corering(bin.clone()),
                    (None, None) => Launch::Corering(build_example("echo")?),
                }
            }
            Server::Floor => match floor_bin(opts) {
                Ok(bin) => Launch::Floor(bin),
                Err(e) if !opts.servers_given => {
                    eprintln!("echo_load: warning: running without the floor: {e}");
                    continue;
                }
                Err(e) => return Err(e),
            },
        };
        launches.push((server, launch));
    }
    Ok(launches)
}

/// The corering echo binary of a launch, if it runs one.
fn corering_bin((_, launch): &(Server, Launch)) -> Option<&PathBuf> {
    match launch {
        Launch::Corering(bin) => Some(bin),
        Launch::TokioRole | Launch::Floor(_) => None,
    }
}

/// The floor's binary: from `--peers-dir`, or built in benches/peers.
fn floor_bin(opts: &Options) -> Res<PathBuf> {
    support::peer_bin(opts.peers_dir.as_deref(), FLOOR_BIN)
}

/// Raises the soft (and if permitted the hard) open-file limit to at least 30,000, and
/// warns if it stays below `needed`; children inherit it.
fn raise_nofile_limit(needed: u64) {
    let want = needed.max(30_000);
    // SAFETY: getrlimit/setrlimit only read/write the rlimit struct passed to them.
    unsafe {
        let mut lim: libc::rlimit = zeroed();
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) != 0 || lim.rlim_cur >= want {
            return;
        }
        let raised = libc::rlimit {
            rlim_cur: want,
            rlim_max: lim.rlim_max.max(want),
        };
        if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
            return;
        }
        let capped = libc::rlimit {
            rlim_cur: want.min(lim.rlim_max),
            rlim_max: lim.rlim_max,
        };
        libc::setrlimit(libc::RLIMIT_NOFILE, &capped);
        if capped.rlim_cur < needed {
            let cur = capped.rlim_cur;
            eprintln!("echo_load: warning: open-file limit capped at {cur}");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Parent: child processes
// ---------------------------------------------------------------------------------------------

/// The next stdout line, waiting until `deadline`; an error (with the exit status) once
/// stdout is closed.
fn expect_line(proc: &mut ChildProc, deadline: Instant) -> Res<String> {
    match proc.next_line(deadline)? {
        Some(line) => Ok(line),
        None => {
            let exit = match proc.wait_exit(Instant::now() + Duration::from_secs(2)) {
                Ok(status) => status.to_string(),
                Err(e) => e,
            };
            Err(format!("{} closed its stdout ({exit})", proc.name))
        }
    }
}

/// A command that runs this binary in `role`.
fn self_command(role: &str) -> Res<Command> {
    let exe = std::env::current_exe().context(|| "locating the bench binary".into())?;
    let mut cmd = Command::new(exe);
    cmd.env(ROLE_ENV, role);
    Ok(cmd)
}

/// A running echo server, terminated when dropped.
struct RunningServer {
    proc: ChildProc,
    addr: SocketAddr,
}

impl RunningServer {
    /// Starts the server pinned to `cpu` and waits until it accepts connections; a
    /// corering server whose startup line does not name its backend goes into `notes`.
    fn start(server: Server, launch: &Launch, cpu: usize, notes: &mut BackendNotes) -> Res<Self> {
        let addr = free_loopback_addr()?;
        let addr_arg = addr.to_string();
        let mut backend = None;
        let cmd = match launch {
            Launch::Corering(bin) => {
                let mut cmd = Command::new(bin);
                cmd.args(["--addr", &addr_arg, "--workers", "1"]);
                backend = server.backend();
                if let Some(backend) = backend {
                    backend.force(&mut cmd);
                }
                if server == Server::CoreringNoBatch {
                    cmd.env("CORERING_BATCH_WAIT", "off");
                }
                cmd
            }
            Launch::TokioRole => {
                let mut cmd = self_command("tokio-server")?;
                cmd.args(["--addr", &addr_arg]);
                cmd
            }
            Launch::Floor(bin) => {
                let mut cmd = Command::new(bin);
                cmd.args(["--addr", &addr_arg]);
                cmd
            }
        };
        let mut proc = ChildProc::spawn(&format!("{} server", server.name()), cmd, cpu)?;
        let (addr, lines) = wait_for_listen_line(&mut proc, addr)?;
        if let Some(backend) = backend {
            notes.check(server.name(), backend, &lines);
        }
        wait_connectable(addr, Duration::from_secs(5))?;
        Ok(RunningServer { proc, addr })
    }

    fn pid(&self) -> u32 {
        self.proc.pid()
    }

    /// Stops the server with SIGTERM, warning if it does not exit with status 0.
    fn stop(self) -> Res<()> {
        self.proc.stop()
    }
}

// ---------------------------------------------------------------------------------------------
// Parent: throughput runs
// ---------------------------------------------------------------------------------------------

/// What the load client reports for its measured window.
#[derive(Clone, Debug)]
struct LoadStats {
    msgs: u64,
    window_ns: u64,
    server_cpu_ns: u64,
    client_cpu_ns: u64,
    cpu_source: String,
}

impl LoadStats {
    fn to_line(&self) -> String {
        format!(
            "RESULT msgs={} window_ns={} server_cpu_ns={} client_cpu_ns={} cpu_source={}",
            self.msgs, self.window_ns, self.server_cpu_ns, self.client_cpu_ns, self.cpu_source
        )
    }

    fn parse(line: &str) -> Res<Self> {
        let field = |key: &str| {
            line.split_whitespace()
                .find_map(|kv| kv.strip_prefix(key)?.strip_prefix('='))
                .ok_or_else(|| format!("client result {line:?} lacks {key}"))
        };
        let number = |key: &str| {
            field(key)?
                .parse::<u64>()
                .context(|| format!("client {key}"))
        };
        Ok(LoadStats {
            msgs: number("msgs")?,
            window_ns: number("window_ns")?,
            server_cpu_ns: number("server_cpu_ns")?,
            client_cpu_ns: number("client_cpu_ns")?,
            cpu_source: field("cpu_source")?.to_string(),
        })
    }

    fn msgs_per_sec(&self) -> f64 {
        self.msgs as f64 * 1e9 / self.window_ns as f64
    }

    fn cpu_ns_per_msg(&self) -> f64 {
        self.server_cpu_ns as f64 / self.msgs.max(1) as f64
    }

    fn server_util(&self) -> f64 {
        self.server_cpu_ns as f64 / self.window_ns as f64
    }

    fn client_util(&self) -> f64 {
        self.client_cpu_ns as f64 / self.window_ns as f64
    }
}

fn run_load(
    (server, launch): &(Server, Launch),
    load: Load,
    opts: &Options,
    cpus: Cpus,
    notes: &mut BackendNotes,
) -> Res<LoadStats> {
    let server = RunningServer::start(*server, launch, cpus.server, notes)?;
    let mut cmd = self_command("client")?;
    cmd.args(["--addr", &server.addr.to_string()])
        .args(["--load", load.name()])
        .args(["--conns", &opts.conns.to_string()])
        .args(["--warmup", &opts.warmup.to_string()])
        .args(["--secs", &opts.secs.to_string()])
        .args(["--server-pid", &server.pid().to_string()]);
    let mut client = ChildProc::spawn("load client", cmd, cpus.client)?;
    let limit = Duration::from_secs_f64(opts.warmup + opts.secs) + Duration::from_secs(30);
    let deadline = Instant::now() + limit;
    let stats = loop {
        let line = expect_line(&mut client, deadline)?;
        if let Some(result) = line.strip_prefix("RESULT ") {
            break LoadStats::parse(result)?;
        }
    };
    let status = client.wait_exit(Instant::now() + Duration::from_secs(5))?;
    if !status.success() {
        return Err(format!("load client exited with {status}"));
    }
    server.stop()?;
    if stats.msgs == 0 {
        return Err("no messages completed in the measured window".into());
    }
    Ok(stats)
}

// ---------------------------------------------------------------------------------------------
// Parent: idle memory
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug)]
struct MemoryStats {
    conns: usize,
    rss_before: u64,
    rss_idle: u64,
    /// RSS after one 64-byte echo on every connection, if that step worked.
    rss_echoed: Option<u64>,
}

impl MemoryStats {
    fn per_conn(&self, rss: u64) -> f64 {
        (rss as f64 - self.rss_before as f64) / self.conns as f64
    }
}

fn run_memory(
    (server, launch): &(Server, Launch),
    opts: &Options,
    cpus: Cpus,
    notes: &mut BackendNotes,
) -> Res<MemoryStats> {
    let server = RunningServer::start(*server, launch, cpus.server, notes)?;
    let pid = server.pid();
    let rss_before = settled_rss(pid, Duration::from_millis(500))?;
    let conns = open_idle_connections(server.addr, opts.idle_conns)?;
    let rss_idle = settled_rss(pid, Duration::from_secs(1))?;
    let rss_echoed = match echo_once_each(&conns) {
        Ok(()) => Some(settled_rss(pid, Duration::from_secs(1))?),
        Err(e) => {
            eprintln!("echo_load: one echo per idle connection failed: {e}");
            None
        }
    };
    drop(conns);
    server.stop()?;
    Ok(MemoryStats {
        conns: opts.idle_conns,
        rss_before,
        rss_idle,
        rss_echoed,
    })
}

/// VmRSS of `pid` in bytes.
fn rss_bytes(pid: u32) -> Res<u64> {
    let path = format!("/proc/{pid}/status");
    let status = std::fs::read_to_string(&path).context(|| format!("reading {path}"))?;
    let kib = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .ok_or_else(|| format!("no VmRSS in {path}"))?;
    Ok(kib * 1024)
}

/// Polls RSS every 100 ms for at least `min_wait` until it is unchanged for 500 ms
/// (at most 5 s), and returns the last value.
fn settled_rss(pid: u32, min_wait: Duration) -> Res<u64> {
    let start = Instant::now();
    let mut last = rss_bytes(pid)?;
    let mut unchanged_since = Instant::now();
    loop {
        std::thread::sleep(Duration::from_millis(100));
        let now_rss = rss_bytes(pid)?;
        if now_rss != last {
            last = now_rss;
            unchanged_since = Instant::now();
        }
        let waited = start.elapsed();
        let stable = unchanged_since.elapsed() >= Duration::from_millis(500);
        if (waited >= min_wait && stable) || waited >= Duration::from_secs(5) {
            return Ok(last);
        }
    }
}

fn open_idle_connections(addr: SocketAddr, count: usize) -> Res<Vec<TcpStream>> {
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut conns = Vec::with_capacity(count);
    for i in 0..count {
        if Instant::now() > deadline {
            return Err(format!("opening idle connections timed out after {i}"));
        }
        let stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5))
            .context(|| format!("idle connection {i} to {addr}"))?;
        conns.push(stream);
    }
    Ok(conns)
}

/// Sends one 64-byte message on every connection and reads each echo back.
fn echo_once_each(conns: &[TcpStream]) -> Res<()> {
    let message = |i: usize| -> [u8; RR_MSG] { std::array::from_fn(|j| (i + j) as u8) };
    for (i, mut conn) in conns.iter().enumerate() {
        conn.set_write_timeout(Some(Duration::from_secs(5)))
            .and_then(|()| conn.write_all(&message(i)))
            .context(|| format!("writing on idle connection {i}"))?;
    }
    for (i, mut conn) in conns.iter().enumerate() {
        let mut buf = [0u8; RR_MSG];
        conn.set_read_timeout(Some(Duration::from_secs(5)))
            .and_then(|()| conn.read_exact(&mut buf))
            .context(|| format!("reading the echo on idle connection {i}"))?;
        if buf != message(i) {
            return Err(format!("wrong echo on idle connection {i}"));
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Parent: report
// ---------------------------------------------------------------------------------------------

fn report(
    opts: &Options,
    cpus: Cpus,
    loads: &[LoadRun],
    memory: &[MemoryRun],
    notes: &BackendNotes,
) -> String {
    let mut out = String::new();
    if opts.stand_in_tokio {
        out.push_str("\n> NOTE: --stand-in-tokio: the `corering` rows run the tokio server.\n");
    }
    notes.write(&mut out);
    if !loads.is_empty() {
        throughput_tables(&mut out, opts, cpus, loads);
    }
    if !memory.is_empty() {
        memory_table(&mut out, opts, memory);
    }
    out
}

fn throughput_tables(out: &mut String, opts: &Options, cpus: Cpus, runs: &[LoadRun]) {
    let source = runs
        .iter()
        .find_map(|r| r.outcome.as_ref().ok())
        .map_or("-", |s| s.cpu_source.as_str());
    let _ = writeln!(
        out,
        "\n## Echo throughput ({} conns, server on CPU {}, client on CPU {}, \
         {} s warm-up + {} s measured per run, server CPU from {source})\n",
        opts.conns, cpus.server, cpus.client, opts.warmup, opts.secs
    );
    out.push_str(
        "| load | server | msgs/s | server CPU ns/msg | CPU/msg spread | server CPU | client CPU |\n",
    );
    out.push_str("|---|---|---:|---:|---:|---:|---:|\n");
    for &load in &opts.loads {
        for &server in &opts.servers {
            let stats: Vec<&LoadStats> = runs
                .iter()
                .filter(|r| r.load == load && r.server == server)
                .filter_map(|r| r.outcome.as_ref().ok())
                .collect();
            let (load_name, server_name) = (load.name(), server.name());
            let Some(m) = Medians::of(&stats) else {
                let _ = writeln!(
                    out,
                    "| {load_name} | {server_name} | failed | failed | - | - | - |"
                );
                continue;
            };
            let _ = writeln!(
                out,
                "| {load_name} | {server_name} | {:.0} | {:.0} | ±{:.0}% | {:.0}% | {:.0}% |",
                m.msgs_per_sec,
                m.cpu_ns_per_msg,
                m.cpu_spread * 100.0,
                m.server_util * 100.0,
                m.client_util * 100.0
            );
        }
    }
    let _ = writeln!(
        out,
        "\nMedians over {} interleaved round(s); spread = half the min-max range of \
         CPU/msg relative to its median.",
        opts.rounds
    );

    ratio_tables(out, opts, runs);
}

/// The paired msgs/s and CPU/msg ratios of `ours` against `peer` under `load`.
fn ratios(runs: &[LoadRun], load: Load, ours: Server, peer: Server) -> Option<(f64, f64)> {
    let paired = |f| paired_ratio(runs, load, ours, peer, f);
    Some((
        paired(LoadStats::msgs_per_sec)?,
        paired(LoadStats::cpu_ns_per_msg)?,
    ))
}

/// corering/tokio (with targets), corering/floor, and floor/tokio: the best CPU ratio an
/// io_uring server reached against tokio.
fn ratio_tables(out: &mut String, opts: &Options, runs: &[LoadRun]) {
    let has = |server| opts.servers.contains(&server);
    let loads = || Load::ALL.into_iter().filter(|l| opts.loads.contains(l));
    const PAIRED_NOTE: &str = "\nRatios are medians of per-round ratios (one server against \
        the other's run of the same round), which cancels the machine's slow drifts better \
        than a ratio of medians.\n";

    if has(Server::Corering) && has(Server::Tokio) {
        out.push_str("\n### corering / tokio\n\n");
        out.push_str("| load | msgs/s ratio | target | | CPU/msg ratio | target | |\n");
        out.push_str("|---|---:|---|---|---:|---|---|\n");
        for load in loads() {
            let Some((rate, cpu)) = ratios(runs, load, Server::Corering, Server::Tokio) else {
                let _ = writeln!(out, "| {} | failed | | | failed | | |", load.name());
                continue;
            };
            let cpu_target = load.cpu_ratio_target();
            let _ = writeln!(
                out,
                "| {} | {rate:.2} | ≥ 1.00 | {} | {cpu:.2} | ≤ {cpu_target:.2} | {} |",
                load.name(),
                verdict(rate >= 1.0),
                verdict(cpu <= cpu_target)
            );
        }
    }

    if has(Server::CoreringEpoll) && has(Server::Tokio) {
        out.push_str("\n### corering-epoll / tokio\n\n");
        out.push_str("| load | msgs/s ratio | CPU/msg ratio | target | |\n");
        out.push_str("|---|---:|---:|---|---|\n");
        for load in loads() {
            let ratios = ratios(runs, load, Server::CoreringEpoll, Server::Tokio);
            let Some((rate, cpu)) = ratios else {
                let _ = writeln!(out, "| {} | failed | failed | | |", load.name());
                continue;
            };
            let (target, pass) = match load.epoll_cpu_ratio_target() {
                Some(t) => (format!("≤ {t:.2}"), verdict(cpu <= t)),
                None => ("-".to_string(), ""),
            };
            let _ = writeln!(
                out,
                "| {} | {rate:.2} | {cpu:.2} | {target} | {pass} |",
                load.name()
            );
        }
    }

    let pairs = [
        (
            Server::CoreringNoBatch,
            "corering, completion batching on / off",
        ),
        (Server::CoreringEpoll, "corering, io_uring / epoll"),
        (Server::Floor, "corering / floor"),
    ];
    for (other, title) in pairs {
        if !(has(Server::Corering) && has(other)) {
            continue;
        }
        let _ = write!(out, "\n### {title}\n\n");
        out.push_str("| load | msgs/s ratio | CPU/msg ratio |\n");
        out.push_str("|---|---:|---:|\n");
        for load in loads() {
            let _ = match ratios(runs, load, Server::Corering, other) {
                Some((rate, cpu)) => writeln!(out, "| {} | {rate:.2} | {cpu:.2} |", load.name()),
                None => writeln!(out, "| {} | failed | failed |", load.name()),
            };
        }
    }

    if has(Server::Floor) && has(Server::Tokio) {
        out.push('\n');
        for load in loads() {
            let figures = match ratios(runs, load, Server::Floor, Server::Tokio) {
                Some((rate, cpu)) => format!("CPU/msg {cpu:.2} (msgs/s {rate:.2})"),
                None => "failed".to_string(),
            };
            let _ = writeln!(
                out,
                "floor / tokio, {}: {figures}; the least CPU/msg ratio an io_uring server \
                 reaches against tokio (target for corering: ≤ {:.2}).",
                load.name(),
                load.cpu_ratio_target()
            );
        }
    }

    let compared = [Server::Corering, Server::CoreringEpoll, Server::Floor];
    if compared.into_iter().any(has) && opts.servers.len() > 1 {
        out.push_str(PAIRED_NOTE);
    }
}

/// Per-metric medians over the rounds of one load and server.
struct Medians {
    msgs_per_sec: f64,
    cpu_ns_per_msg: f64,
    cpu_spread: f64,
    server_util: f64,
    client_util: f64,
}

impl Medians {
    fn of(stats: &[&LoadStats]) -> Option<Self> {
        let metric = |f: fn(&LoadStats) -> f64| -> Vec<f64> {
            let mut values: Vec<f64> = stats.iter().map(|s| f(s)).collect();
            values.sort_by(f64::total_cmp);
            values
        };
        let cpu = metric(LoadStats::cpu_ns_per_msg);
        let cpu_median = median(&cpu)?;
        Some(Medians {
            msgs_per_sec: median(&metric(LoadStats::msgs_per_sec))?,
            cpu_ns_per_msg: cpu_median,
            cpu_spread: (cpu[cpu.len() - 1] - cpu[0]) / 2.0 / cpu_median,
            server_util: median(&metric(LoadStats::server_util))?,
            client_util: median(&metric(LoadStats::client_util))?,
        })
    }
}

fn memory_table(out: &mut String, opts: &Options, runs: &[MemoryRun]) {
    let n = opts.idle_conns;
    let _ = writeln!(
        out,
        "\n## Idle connection memory ({n} connections, server VmRSS)\n"
    );
    out.push_str(
        "| server | RSS before | RSS idle | bytes/idle conn | bytes/conn after one echo |\n",
    );
    out.push_str("|---|---:|---:|---:|---:|\n");
    for run in runs {
        let server = run.server.name();
        let _ = match &run.outcome {
            Ok(m) => writeln!(
                out,
                "| {server} | {} KiB | {} KiB | {:.0} | {} |",
                m.rss_before / 1024,
                m.rss_idle / 1024,
                m.per_conn(m.rss_idle),
                m.rss_echoed
                    .map_or("-".to_string(), |rss| format!("{:.0}", m.per_conn(rss)))
            ),
            Err(_) => writeln!(out, "| {server} | failed | failed | failed | - |"),
        };
    }
    let corering = runs
        .iter()
        .find(|r| r.server == Server::Corering)
        .and_then(|r| r.outcome.as_ref().ok());
    if let Some(m) = corering {
        let per_conn = m.per_conn(m.rss_idle);
        let _ = writeln!(
            out,
            "\ncorering idle bytes/conn ≤ 2048: {per_conn:.0} → {}",
            verdict(per_conn <= 2048.0)
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Roles: argument parsing and CPU sampling
// ---------------------------------------------------------------------------------------------

/// `--key value` pairs given to a role.
struct RoleArgs(Vec<(String, String)>);

impl RoleArgs {
    fn parse(args: &[String]) -> Res<Self> {
        let args = normalize_args(args);
        let mut pairs = Vec::new();
        let mut it = args.into_iter();
        while let Some(key) = it.next() {
            let value = it.next().ok_or_else(|| format!("{key} needs a value"))?;
            pairs.push((key, value));
        }
        Ok(RoleArgs(pairs))
    }

    fn get<T: std::str::FromStr>(&self, key: &str) -> Res<T>
    where
        T::Err: std::fmt::Display,
    {
        let value = self
            .0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .ok_or_else(|| format!("missing {key}"))?;
        parse_number(key, value)
    }
}

/// A process's accumulated CPU time and where it was read from.
#[derive(Clone, Copy, Debug)]
struct CpuSample {
    ns: u64,
    source: &'static str,
}

/// Total on-CPU time of all threads of `pid`: the sum of the first field of
/// `/proc/PID/task/*/schedstat` (ns), or utime+stime from `/proc/PID/stat` (clock ticks)
/// when schedstat is unavailable.
fn process_cpu(pid: u32) -> Res<CpuSample> {
    match schedstat_ns(pid) {
        Ok(ns) => Ok(CpuSample {
            ns,
            source: "schedstat",
        }),
        Err(_) => Ok(CpuSample {
            ns: stat_ns(pid)?,
            source: "stat",
        }),
    }
}

fn stat_ns(pid: u32) -> Res<u64> {
    let path = format!("/proc/{pid}/stat");
    let text = std::fs::read_to_string(&path).context(|| format!("reading {path}"))?;
    // Fields after the parenthesised command name start at field 3 (state).
    let rest = text.rsplit_once(')').map(|(_, r)| r).unwrap_or_default();
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |field: usize| -> Res<u64> {
        fields
            .get(field - 3)
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| format!("malformed {path}"))
    };
    let total_ticks = ticks(14)? + ticks(15)?;
    // SAFETY: sysconf has no memory-safety preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as u64;
    Ok(total_ticks * 1_000_000_000 / hz)
}

/// CPU time consumed so far by this process, in ns.
fn own_cpu_ns() -> u64 {
    // SAFETY: clock_gettime writes into the zeroed timespec.
    unsafe {
        let mut ts: libc::timespec = zeroed();
        libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts);
        ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
    }
}

// ---------------------------------------------------------------------------------------------
// Role: tokio echo server
// ---------------------------------------------------------------------------------------------

extern "C" fn exit_on_sigterm(_signal: libc::c_int) {
    // SAFETY: _exit is async-signal-safe.
    unsafe { libc::_exit(0) }
}

/// The idiomatic tokio echo: current-thread runtime, TCP_NODELAY, and per connection a task
/// that reads into an 8 KiB buffer and `write_all`s it back. Exits 0 on SIGTERM.
fn run_tokio_server(args: &[String]) -> Res<()> {
    let addr: SocketAddr = RoleArgs::parse(args)?.get("--addr")?;
    let handler = exit_on_sigterm as extern "C" fn(libc::c_int);
    // SAFETY: installs a handler that only calls the async-signal-safe _exit.
    unsafe { libc::signal(libc::SIGTERM, handler as libc::sighandler_t) };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context(|| "building the tokio runtime".into())?;
    runtime.block_on(tokio_accept_loop(addr))
}

async fn tokio_accept_loop(addr: SocketAddr) -> Res<()> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .context(|| format!("binding {addr}"))?;
    let local = listener.local_addr().context(|| "local address".into())?;
    println!("tokio echo listening on {local}");
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                let _ = stream.set_nodelay(true);
                tokio::spawn(tokio_echo(stream));
            }
            Err(e) => {
                eprintln!("tokio echo: accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    }
}

async fn tokio_echo(mut stream: tokio::net::TcpStream) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut buf = [0u8; 8192];
    loop {
        let n = match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        if stream.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Role: load client (single-threaded, level-triggered epoll over non-blocking sockets)
// ---------------------------------------------------------------------------------------------

const RR_MSG: usize = 64;
const STREAM_MSG: usize = 4096;
const STREAM_DEPTH: usize = 16;
const STREAM_WINDOW: usize = STREAM_MSG * STREAM_DEPTH;
/// Period of the stream4k byte pattern (prime, so it does not line up with messages).
const PATTERN_PERIOD: usize = 4093;

fn run_client(args: &[String]) -> Res<()> {
    let args = RoleArgs::parse(args)?;
    let addr: SocketAddr = args.get("--addr")?;
    let load = Load::parse(&args.get::<String>("--load")?)?;
    let conns: usize = args.get("--conns")?;
    let window = Window {
        warmup: Duration::from_secs_f64(args.get("--warmup")?),
        measure: Duration::from_secs_f64(args.get("--secs")?),
    };
    let server_pid: u32 = args.get("--server-pid")?;

    let streams = connect_all(addr, conns)?;
    let (first, last) = match load {
        Load::Rr64 => {
            let conns = (0..conns).map(|i| RequestResponse::new(i as u32)).collect();
            drive(&streams, conns, server_pid, window)?
        }
        Load::Stream4k => {
            let conns = (0..conns).map(|_| Streaming::default()).collect();
            drive(&streams, conns, server_pid, window)?
        }
    };
    if first.server_cpu.source != last.server_cpu.source {
        return Err("server CPU source changed during the window".into());
    }
    let stats = LoadStats {
        msgs: (last.echoed - first.echoed) / load.msg_size(),
        window_ns: (last.at - first.at).as_nanos() as u64,
        server_cpu_ns: last.server_cpu.ns.saturating_sub(first.server_cpu.ns),
        client_cpu_ns: last.client_cpu_ns - first.client_cpu_ns,
        cpu_source: last.server_cpu.source.to_string(),
    };
    println!("{}", stats.to_line());
    Ok(())
}

fn connect_all(addr: SocketAddr, count: usize) -> Res<Vec<TcpStream>> {
    (0..count)
        .map(|i| {
            let stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5))
                .context(|| format!("load connection {i} to {addr}"))?;
            stream
                .set_nodelay(true)
                .and_then(|()| stream.set_nonblocking(true))
                .context(|| format!("configuring load connection {i}"))?;
            Ok(stream)
        })
        .collect()
}

#[derive(Clone, Copy)]
struct Window {
    warmup: Duration,
    measure: Duration,
}

/// Counters at one instant of the run.
struct Snapshot {
    at: Instant,
    echoed: u64,
    server_cpu: CpuSample,
    client_cpu_ns: u64,
}

impl Snapshot {
    fn take(echoed: u64, server_pid: u32) -> Res<Self> {
        Ok(Snapshot {
            server_cpu: process_cpu(server_pid)?,
            client_cpu_ns: own_cpu_ns(),
            at: Instant::now(),
            echoed,
        })
    }
}

/// Per-connection traffic generator driven by readiness events.
trait ConnLoad {
    /// Makes progress on a ready (or newly opened) connection. Returns the number of echoed
    /// bytes it verified and whether it must wait for the socket to become writable.
    fn on_ready(&mut self, stream: &TcpStream, scratch: &mut Scratch) -> io::Result<Progress>;
}

struct Progress {
    echoed: u64,
    want_write: bool,
}

/// Buffers shared by all connections of the stream load.
struct Scratch {
    read_buf: Vec<u8>,
    pattern: Vec<u8>,
}

impl Scratch {
    fn new() -> Self {
        Scratch {
            read_buf: vec![0; STREAM_WINDOW],
            pattern: (0..PATTERN_PERIOD + STREAM_WINDOW)
                .map(|i| (i % PATTERN_PERIOD) as u8 ^ 0x5a)
                .collect(),
        }
    }
}

/// Runs the event loop: warm-up, then the measured window; returns the snapshots taken
/// at its start and end. Prints `START` when the window opens.
fn drive<L: ConnLoad>(
    streams: &[TcpStream],
    mut conns: Vec<L>,
    server_pid: u32,
    window: Window,
) -> Res<(Snapshot, Snapshot)> {
    let epoll = Epoll::new().context(|| "epoll_create1".into())?;
    let mut scratch = Scratch::new();
    let mut armed = vec![false; streams.len()];
    let mut echoed = 0u64;
    let mut step = |i: usize, armed: &mut [bool], echoed: &mut u64, first: bool| -> Res<()> {
        let progress = conns[i]
            .on_ready(&streams[i], &mut scratch)
            .context(|| format!("load connection {i}"))?;
        *echoed += progress.echoed;
        let fd = streams[i].as_raw_fd();
        let registered = if first {
            epoll.add(fd, i, progress.want_write)
        } else if progress.want_write != armed[i] {
            epoll.modify(fd, i, progress.want_write)
        } else {
            return Ok(());
        };
        registered.context(|| "epoll_ctl".into())?;
        armed[i] = progress.want_write;
        Ok(())
    };
    for i in 0..streams.len() {
        step(i, &mut armed, &mut echoed, true)?;
    }

    let warm_end = Instant::now() + window.warmup;
    let end = warm_end + window.measure;
    let mut start: Option<Snapshot> = None;
    let mut events = vec![libc::epoll_event { events: 0, u64: 0 }; 256];
    loop {
        let now = Instant::now();
        if start.is_none() && now >= warm_end {
            start = Some(Snapshot::take(echoed, server_pid)?);
            println!("START");
        }
        if now >= end {
            break;
        }
        let until = if start.is_none() { warm_end } else { end };
        let timeout_ms = (until - now).as_millis().clamp(1, 1000) as i32;
        let ready = epoll
            .wait(&mut events, timeout_ms)
            .context(|| "epoll_wait".into())?;
        for event in &events[..ready] {
            let token = event.u64;
            step(token as usize, &mut armed, &mut echoed, false)?;
        }
    }
    let last = Snapshot::take(echoed, server_pid)?;
    Ok((start.expect("window start is taken before the end"), last))
}

/// rr64: one 64-byte message in flight; each echo must equal the message sent.
struct RequestResponse {
    id: u32,
    seq: u64,
    msg: [u8; RR_MSG],
    reply: [u8; RR_MSG],
    written: usize,
    received: usize,
}

impl RequestResponse {
    fn new(id: u32) -> Self {
        let mut conn = RequestResponse {
            id,
            seq: 0,
            msg: [0; RR_MSG],
            reply: [0; RR_MSG],
            written: 0,
            received: 0,
        };
        conn.fill_message();
        conn
    }

    fn fill_message(&mut self) {
        self.msg[..4].copy_from_slice(&self.id.to_le_bytes());
        self.msg[4..12].copy_from_slice(&self.seq.to_le_bytes());
        for (i, byte) in self.msg[12..].iter_mut().enumerate() {
            *byte = (self.seq as u8).wrapping_add(i as u8);
        }
        self.written = 0;
        self.received = 0;
    }
}

impl ConnLoad for RequestResponse {
    fn on_ready(&mut self, stream: &TcpStream, _: &mut Scratch) -> io::Result<Progress> {
        let mut echoed = 0;
        if self.received < self.written {
            if let Some(n) = read_nonblocking(stream, &mut self.reply[self.received..self.written])?
            {
                self.received += n;
                if self.received == RR_MSG {
                    if self.reply != self.msg {
                        return Err(mismatch("rr64 echo differs from the request"));
                    }
                    echoed = RR_MSG as u64;
                    self.seq += 1;
                    self.fill_message();
                }
            }
        }
        if self.written < RR_MSG {
            self.written += write_nonblocking(stream, &self.msg[self.written..])?;
        }
        Ok(Progress {
            echoed,
            want_write: self.written < RR_MSG,
        })
    }
}

/// stream4k: keeps `STREAM_WINDOW` bytes outstanding; verifies the echoed byte stream.
#[derive(Default)]
struct Streaming {
    sent: u64,
    received: u64,
}

impl ConnLoad for Streaming {
    fn on_ready(&mut self, stream: &TcpStream, scratch: &mut Scratch) -> io::Result<Progress> {
        let mut echoed = 0;
        let in_flight = (self.sent - self.received) as usize;
        if in_flight > 0 {
            let buf = &mut scratch.read_buf[..in_flight];
            if let Some(n) = read_nonblocking(stream, buf)? {
                let offset = (self.received % PATTERN_PERIOD as u64) as usize;
                if buf[..n] != scratch.pattern[offset..offset + n] {
                    return Err(mismatch("stream4k echo differs from the stream sent"));
                }
                self.received += n as u64;
                echoed = n as u64;
            }
        }
        let room = STREAM_WINDOW - (self.sent - self.received) as usize;
        let mut want_write = false;
        if room > 0 {
            let offset = (self.sent % PATTERN_PERIOD as u64) as usize;
            let n = write_nonblocking(stream, &scratch.pattern[offset..offset + room])?;
            self.sent += n as u64;
            want_write = n < room;
        }
        Ok(Progress { echoed, want_write })
    }
}

fn mismatch(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what)
}

/// One read; `None` if it would block, an error on EOF.
fn read_nonblocking(mut stream: &TcpStream, buf: &mut [u8]) -> io::Result<Option<usize>> {
    match stream.read(buf) {
        Ok(0) => Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "server closed the connection",
        )),
        Ok(n) => Ok(Some(n)),
        Err(e)
            if matches!(
                e.kind(),
                io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
            ) =>
        {
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

/// One write; 0 if it would block.
fn write_nonblocking(mut stream: &TcpStream, buf: &[u8]) -> io::Result<usize> {
    match stream.write(buf) {
        Ok(n) => Ok(n),
        Err(e)
            if matches!(
                e.kind(),
                io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
            ) =>
        {
            Ok(0)
        }
        Err(e) => Err(e),
    }
}

/// Minimal level-triggered epoll wrapper; the event token is the connection index.
struct Epoll(OwnedFd);

impl Epoll {
    fn new() -> io::Result<Self> {
        // SAFETY: epoll_create1 returns a new fd we take ownership of, or -1.
        let fd = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: fd is a freshly created, owned descriptor.
        Ok(Epoll(unsafe { OwnedFd::from_raw_fd(fd) }))
    }

    fn add(&self, fd: RawFd, token: usize, want_write: bool) -> io::Result<()> {
        self.ctl(libc::EPOLL_CTL_ADD, fd, token, want_write)
    }

    fn modify(&self, fd: RawFd, token: usize, want_write: bool) -> io::Result<()> {
        self.ctl(libc::EPOLL_CTL_MOD, fd, token, want_write)
    }

    fn ctl(&self, op: libc::c_int, fd: RawFd, token: usize, want_write: bool) -> io::Result<()> {
        let mut events = libc::EPOLLIN as u32;
        if want_write {
            events |= libc::EPOLLOUT as u32;
        }
        let mut event = libc::epoll_event {
            events,
            u64: token as u64,
        };
        // SAFETY: valid epoll fd and event struct; fd stays open while registered.
        if unsafe { libc::epoll_ctl(self.0.as_raw_fd(), op, fd, &mut event) } != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    fn wait(&self, events: &mut [libc::epoll_event], timeout_ms: i32) -> io::Result<usize> {
        let max = events.len().min(i32::MAX as usize) as i32;
        // SAFETY: events is a valid buffer of `max` entries.
        let n =
            unsafe { libc::epoll_wait(self.0.as_raw_fd(), events.as_mut_ptr(), max, timeout_ms) };
        if n < 0 {
            let err = io::Error::last_os_error();
            return if err.kind() == io::ErrorKind::Interrupted {
                Ok(0)
            } else {
                Err(err)
            };
        }
        Ok(n as usize)
    }
}
