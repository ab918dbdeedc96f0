//! WebSocket echo load benchmark: corering's `examples/chat` (its `/echo`), one worker,
//! against WebSocket echo servers on tokio written with tokio-tungstenite and with
//! fastwebsockets, and against `floor`, a byte echo with no WebSocket at all.
//!
//! Run with `cargo bench --bench ws_load`; options go after `--`, for example
//! `cargo bench --bench ws_load -- --secs 2 --rounds 1 --conns 64` (`-- --help` lists them).
//!
//! Every server runs as its own process pinned to one CPU; the load client (a role of this
//! same binary, re-executed with `WS_LOAD_ROLE=client` and pinned to a second CPU) opens
//! `--conns` connections (default 64 and 500, each a load of its own), does the opening
//! handshake on each, then keeps one message in flight per connection: a masked binary
//! frame of `--sizes` bytes (default 512 and 16384), whose echo it reads and compares byte
//! for byte with what it sent before sending the next (a new sequence number and mask key
//! each time). The client is written here (`benches/ws_client/`: frames, masking, the
//! handshake with its own SHA-1), single-threaded on level-triggered epoll, so it costs the
//! same against every server.
//!
//! Each run warms up for `--warmup` seconds, then measures `--secs`; every load runs
//! `--rounds` times (default 3), the servers taking turns in an order that rotates from
//! round to round. Per run: echoed messages/s, and the server's CPU time per message: the
//! on-CPU time of all its threads (`/proc/PID/task/*/schedstat`) sampled by the client at
//! the start and end of the measured window. Reported: medians per load and server, then
//! corering against the better peer of each load (the one with less CPU per message) with
//! the targets (CPU per message ≤ 0.7×, messages/s ≥ 1.0×), and floor against the
//! same peer: the least CPU ratio any server reaches. Ratios are medians of per-round
//! paired ratios. PASS/MISS is informational: the exit status only reflects errors.
//!
//! The servers:
//! * `corering`: `chat --addr ADDR --workers 1` on io_uring (`CORERING_BACKEND=uring`),
//!   path `/echo`, built with `cargo build --release --example chat`. While the example does
//!   not exist the bench says `SKIP: corering (examples/chat does not exist yet)` and runs
//!   the others.
//! * `tungstenite`, `fastwebsockets`: `tungstenite_echo` and `fastwebsockets_echo` of the
//!   peer servers' package, `benches/peers` (tokio current-thread runtime, one thread).
//! * `floor`: `echo_floor` of the same package (one io_uring thread that sends every byte
//!   back): the client skips the handshake and takes its own masked frames back as the echo.
//!   No parsing, no unmasking, no handshake: the least a WebSocket echo can cost, for
//!   small messages. It receives into 4 KiB provided buffers and sends each piece back as
//!   it comes, so a 16 KiB message costs it four receives and sends or more, where a
//!   WebSocket server that reads a whole frame at once may need one of each: at 16 KiB
//!   the floor can cost more than a peer, and is no floor there.
//!
//! * `floor-epoll`: a byte echo on epoll in this binary (one thread, level-triggered,
//!   reads of up to 64 KiB written straight back): the floor for an epoll server, and
//!   for 16 KiB messages too.
//!
//! The peers are built with `cargo build --release --manifest-path benches/peers/Cargo.toml
//! --target-dir benches/peers/target` (or taken from `--peers-dir DIR`).
//!
//! Compression: with `--deflate on` (the default is `off,on`) the client offers
//! permessage-deflate (no parameters: context takeover both ways, 32 KiB windows),
//! compresses every message with flate2 and inflates every compressed echo. Neither peer
//! has the extension, so those loads run against corering alone and the report compares
//! corering with and without it. The messages are text-like (words of a small vocabulary,
//! a different slice of a 1 MiB text each time) so that compression has what a chat would
//! give it, not the same message again.

mod support;
mod ws_client;

use std::fmt::Write as _;
use std::io;
use std::mem::zeroed;
use std::net::{SocketAddr, TcpStream};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use support::backend::{Backend, BackendNotes};
use support::named::{named_enum, Named};
use support::{
    build_example, build_peers, conditions, free_loopback_addr, interleaved_runs,
    median_and_spread, median_of, none_failed, paired_ratio, parse_flags, parse_list, parse_number,
    peer_bin, pick_cpus, schedstat_ns, succeeded, verdict, wait_connectable, wait_for_listen_line,
    ChildProc, Context, Cpus, Res, Run,
};
use ws_client::{handshake, text_pool, EchoConn, Framing};

/// Environment variable selecting the role of a re-executed copy of this binary.
const ROLE_ENV: &str = "WS_LOAD_ROLE";

const USAGE: &str = "\
usage: cargo bench --bench ws_load -- [options]
  --secs N          measured seconds per run (default 5)
  --warmup N        warm-up seconds before each measured window (default 1)
  --rounds N        runs per load and server, interleaved; medians reported (default 3)
  --conns LIST      comma list of connection counts, one load each (default 64,500)
  --sizes LIST      comma list of message sizes in bytes, one load each (default 512,16384)
  --deflate LIST    comma list of off, on: without and with permessage-deflate (default
                    off,on; the deflate loads run against corering only: no peer has it)
  --servers LIST    comma list of corering, tungstenite, fastwebsockets, floor, floor-epoll
                    (default: all;
                    corering is skipped while examples/chat does not exist)
  --path PATH       the WebSocket echo path (default /echo)
  --chat-bin PATH   use this corering chat binary instead of building examples/chat
  --peers-dir DIR   take the peers from DIR instead of building benches/peers
";

/// Targets of corering against the better peer.
const CPU_RATIO_TARGET: f64 = 0.7;
const RATE_RATIO_TARGET: f64 = 1.0;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let outcome = match std::env::var(ROLE_ENV).ok().as_deref() {
        None => run_parent(&args),
        Some("client") => run_client(&args),
        Some("floor-epoll") => run_floor_epoll(&args),
        Some(other) => Err(format!("unknown {ROLE_ENV}={other:?}")),
    };
    if let Err(e) = outcome {
        eprintln!("ws_load: error: {e}");
        std::process::exit(1);
    }
}

// ---------------------------------------------------------------------------------------------
// Loads and servers
// ---------------------------------------------------------------------------------------------

/// One load: message size, number of connections, and whether the client negotiates
/// permessage-deflate.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
struct Load {
    size: usize,
    conns: usize,
    deflate: bool,
}

impl Load {
    fn name(self) -> String {
        let size = match self.size {
            s if s >= 1024 && s % 1024 == 0 => format!("{} KiB", s / 1024),
            s => format!("{s} B"),
        };
        let deflate = if self.deflate { ", deflate" } else { "" };
        format!("{size} × {} conns{deflate}", self.conns)
    }
}

named_enum! {
    enum Server: "server" {
        Corering = "corering",
        Tungstenite = "tungstenite",
        Fastwebsockets = "fastwebsockets",
        Floor = "floor",
        /// A byte echo on epoll with 64 KiB reads, a role of this binary.
        FloorEpoll = "floor-epoll",
    }
}

impl Server {
    const PEERS: [Server; 2] = [Server::Tungstenite, Server::Fastwebsockets];

    /// The binary of benches/peers that plays this server.
    fn peer_bin(self) -> Option<&'static str> {
        match self {
            Server::Corering | Server::FloorEpoll => None,
            Server::Tungstenite => Some("tungstenite_echo"),
            Server::Fastwebsockets => Some("fastwebsockets_echo"),
            Server::Floor => Some("echo_floor"),
        }
    }

    /// Whether the server speaks permessage-deflate (the peers do not).
    fn deflate(self) -> bool {
        self == Server::Corering
    }

    fn framing(self) -> Framing {
        match self {
            Server::Floor | Server::FloorEpoll => Framing::Raw,
            _ => Framing::WebSocket,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Parent
// ---------------------------------------------------------------------------------------------

struct Options {
    secs: f64,
    warmup: f64,
    rounds: usize,
    conns: Vec<usize>,
    sizes: Vec<usize>,
    deflate: Vec<bool>,
    servers: Vec<Server>,
    path: String,
    chat_bin: Option<PathBuf>,
    peers_dir: Option<PathBuf>,
}

fn parse_options(args: &[String]) -> Res<Options> {
    let mut opts = Options {
        secs: 5.0,
        warmup: 1.0,
        rounds: 3,
        conns: vec![64, 500],
        sizes: vec![512, 16384],
        deflate: vec![false, true],
        servers: Server::ALL.to_vec(),
        path: "/echo".into(),
        chat_bin: None,
        peers_dir: None,
    };
    let number = |s: &str| parse_number::<usize>("a list", s);
    parse_flags(args, USAGE, |flag, value| {
        match flag {
            "--secs" => opts.secs = parse_number(flag, value()?)?,
            "--warmup" => opts.warmup = parse_number(flag, value()?)?,
            "--rounds" => opts.rounds = parse_number(flag, value()?)?,
            "--conns" => opts.conns = parse_list(value()?, number)?,
            "--sizes" => opts.sizes = parse_list(value()?, number)?,
            "--servers" => opts.servers = parse_list(value()?, Server::parse)?,
            "--deflate" => opts.deflate = parse_list(value()?, parse_on_off)?,
            "--path" => opts.path = value()?.to_string(),
            "--chat-bin" => opts.chat_bin = Some(PathBuf::from(value()?)),
            "--peers-dir" => opts.peers_dir = Some(PathBuf::from(value()?)),
            _ => return Ok(false),
        }
        Ok(true)
    })?;
    if opts.secs <= 0.0 || opts.warmup < 0.0 || opts.rounds == 0 {
        return Err("--secs and --rounds must be positive".into());
    }
    if opts.conns.contains(&0) || opts.sizes.iter().any(|&s| s < 12) {
        return Err("connections must be positive and sizes at least 12 bytes".into());
    }
    if opts.servers.is_empty()
        || opts.conns.is_empty()
        || opts.sizes.is_empty()
        || opts.deflate.is_empty()
    {
        return Err("--servers, --conns, --sizes and --deflate need at least one value".into());
    }
    Ok(opts)
}

fn parse_on_off(s: &str) -> Res<bool> {
    match s {
        "on" => Ok(true),
        "off" => Ok(false),
        _ => Err(format!("--deflate takes on and off, not {s:?}")),
    }
}

/// A server to run: which, its binary, and the role to run it in if it is this one.
struct Launch {
    server: Server,
    bin: PathBuf,
    role: Option<&'static str>,
}

type LoadRun = Run<Load, Server, LoadStats>;

fn run_parent(args: &[String]) -> Res<()> {
    self_check()?;
    let mut opts = parse_options(args)?;
    raise_nofile_limit(4 * opts.conns.iter().max().copied().unwrap_or(0) as u64 + 1000);
    let launches = resolve_launches(&opts)?;
    opts.servers = launches.iter().map(|l| l.server).collect();
    if launches.is_empty() {
        return Err("no server to run".into());
    }
    let cpus = pick_cpus("servers and the load client");
    let mut notes = BackendNotes::default();
    let mut loads = Vec::new();
    let mut runs = Vec::new();
    // Loads without compression against every server, then those with it against the
    // servers that speak permessage-deflate.
    for deflate in [false, true] {
        if !opts.deflate.contains(&deflate) {
            continue;
        }
        let servers: Vec<&Launch> = launches
            .iter()
            .filter(|l| !deflate || l.server.deflate())
            .collect();
        if servers.is_empty() {
            eprintln!("SKIP: the deflate loads (no server here speaks permessage-deflate)");
            continue;
        }
        let these: Vec<Load> = opts
            .sizes
            .iter()
            .flat_map(|&size| {
                let conns = opts.conns.iter();
                conns.map(move |&conns| Load {
                    size,
                    conns,
                    deflate,
                })
            })
            .collect();
        runs.extend(interleaved_runs(
            opts.rounds,
            &these,
            &servers,
            Load::name,
            |l: &&Launch| (l.server, l.server.name()),
            |launch, load| run_load(launch, load, &opts, cpus, &mut notes),
            |s: &LoadStats| {
                format!(
                    "{:.0} msgs/s, {:.0} ns server CPU/msg, server CPU {:.0}%, client CPU {:.0}%",
                    s.msgs_per_sec(),
                    s.cpu_ns_per_msg(),
                    s.server_util() * 100.0,
                    s.client_util() * 100.0
                )
            },
        ));
        loads.extend(these);
    }
    print!("{}", report(&opts, cpus, &loads, &runs, &notes));
    none_failed(&runs)
}

/// Checks the client's SHA-1 and base64 against RFC 6455's own handshake example.
fn self_check() -> Res<()> {
    let accept = handshake::accept_for("dGhlIHNhbXBsZSBub25jZQ==");
    if accept != "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" {
        return Err(format!(
            "the client's Sec-WebSocket-Accept is wrong: {accept}"
        ));
    }
    Ok(())
}

/// The binaries of the selected servers: the peers from one build of benches/peers (or
/// `--peers-dir`), corering's from `--chat-bin` or a build of examples/chat, skipped with a
/// notice while that example does not exist.
fn resolve_launches(opts: &Options) -> Res<Vec<Launch>> {
    let needs_peers = opts.servers.iter().any(|s| s.peer_bin().is_some());
    let peers_dir = match (&opts.peers_dir, needs_peers) {
        (_, false) => None,
        (Some(dir), true) => Some(dir.clone()),
        (None, true) => Some(build_peers()?),
    };
    let mut launches = Vec::new();
    for &server in &opts.servers {
        if server == Server::FloorEpoll {
            let bin = std::env::current_exe().context(|| "locating the bench binary".into())?;
            let role = Some("floor-epoll");
            launches.push(Launch { server, bin, role });
            continue;
        }
        let bin = match (server.peer_bin(), &opts.chat_bin) {
            (Some(name), _) => peer_bin(peers_dir.as_deref(), name)?,
            (None, Some(bin)) => bin.clone(),
            (None, None) if chat_example_exists() => build_example("chat")?,
            (None, None) => {
                eprintln!("SKIP: corering (examples/chat does not exist yet)");
                continue;
            }
        };
        launches.push(Launch {
            server,
            bin,
            role: None,
        });
    }
    Ok(launches)
}

fn chat_example_exists() -> bool {
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples");
    examples.join("chat.rs").is_file() || examples.join("chat/main.rs").is_file()
}

/// Raises the soft open-file limit to `want` if the hard limit allows; children inherit it.
fn raise_nofile_limit(want: u64) {
    // SAFETY: getrlimit/setrlimit only read/write the rlimit struct passed to them.
    unsafe {
        let mut lim: libc::rlimit = zeroed();
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) != 0 || lim.rlim_cur >= want {
            return;
        }
        lim.rlim_cur = want.min(lim.rlim_max);
        libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
    }
}

/// Starts `launch`'s server pinned to the server CPU, runs the client role against it
/// pinned to the client CPU, and stops the server.
fn run_load(
    launch: &Launch,
    load: Load,
    opts: &Options,
    cpus: Cpus,
    notes: &mut BackendNotes,
) -> Res<LoadStats> {
    let requested = free_loopback_addr()?;
    let mut cmd = Command::new(&launch.bin);
    cmd.args(["--addr", &requested.to_string()]);
    if let Some(role) = launch.role {
        cmd.env(ROLE_ENV, role);
    }
    if launch.server == Server::Corering {
        cmd.args(["--workers", "1"]);
        Backend::Uring.force(&mut cmd);
    }
    let name = format!("{} server", launch.server.name());
    let mut server = ChildProc::spawn(&name, cmd, cpus.server)?;
    let (addr, lines) = wait_for_listen_line(&mut server, requested)?;
    if launch.server == Server::Corering {
        notes.check(launch.server.name(), Backend::Uring, &lines);
    }
    wait_connectable(addr, Duration::from_secs(5))?;

    let exe = std::env::current_exe().context(|| "locating the bench binary".into())?;
    let mut cmd = Command::new(exe);
    let framing = match launch.server.framing() {
        Framing::WebSocket => "ws",
        Framing::Raw => "raw",
    };
    cmd.env(ROLE_ENV, "client")
        .args(["--addr", &addr.to_string()])
        .args(["--path", &opts.path])
        .args(["--framing", framing])
        .args(["--size", &load.size.to_string()])
        .args(["--deflate", if load.deflate { "1" } else { "0" }])
        .args(["--conns", &load.conns.to_string()])
        .args(["--warmup", &opts.warmup.to_string()])
        .args(["--secs", &opts.secs.to_string()])
        .args(["--server-pid", &server.pid().to_string()]);
    let mut client = ChildProc::spawn("load client", cmd, cpus.client)?;
    let limit = Duration::from_secs_f64(opts.warmup + opts.secs) + Duration::from_secs(60);
    let deadline = Instant::now() + limit;
    let stats = loop {
        match client.next_line(deadline)? {
            Some(line) => {
                if let Some(result) = line.strip_prefix("RESULT ") {
                    break LoadStats::parse(result)?;
                }
            }
            None => {
                let status = client.wait_exit(Instant::now() + Duration::from_secs(5))?;
                return Err(format!(
                    "load client exited with {status} before its result"
                ));
            }
        }
    };
    let status = client.wait_exit(Instant::now() + Duration::from_secs(10))?;
    if !status.success() {
        return Err(format!("load client exited with {status}"));
    }
    server.stop()?;
    if stats.msgs == 0 {
        return Err("no messages echoed in the measured window".into());
    }
    Ok(stats)
}

// ---------------------------------------------------------------------------------------------
// What a run measured
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug)]
struct LoadStats {
    msgs: u64,
    window_ns: u64,
    server_cpu_ns: u64,
    client_cpu_ns: u64,
}

impl LoadStats {
    fn to_line(self) -> String {
        format!(
            "RESULT msgs={} window_ns={} server_cpu_ns={} client_cpu_ns={}",
            self.msgs, self.window_ns, self.server_cpu_ns, self.client_cpu_ns
        )
    }

    fn parse(line: &str) -> Res<Self> {
        let number = |key: &str| -> Res<u64> {
            line.split_whitespace()
                .find_map(|kv| kv.strip_prefix(key)?.strip_prefix('='))
                .ok_or_else(|| format!("client result {line:?} lacks {key}"))?
                .parse()
                .context(|| format!("client {key}"))
        };
        Ok(LoadStats {
            msgs: number("msgs")?,
            window_ns: number("window_ns")?,
            server_cpu_ns: number("server_cpu_ns")?,
            client_cpu_ns: number("client_cpu_ns")?,
        })
    }

    fn msgs_per_sec(&self) -> f64 {
        self.msgs as f64 * 1e9 / self.window_ns.max(1) as f64
    }

    fn cpu_ns_per_msg(&self) -> f64 {
        self.server_cpu_ns as f64 / self.msgs.max(1) as f64
    }

    fn server_util(&self) -> f64 {
        self.server_cpu_ns as f64 / self.window_ns.max(1) as f64
    }

    fn client_util(&self) -> f64 {
        self.client_cpu_ns as f64 / self.window_ns.max(1) as f64
    }
}

// ---------------------------------------------------------------------------------------------
// Report
// ---------------------------------------------------------------------------------------------

fn report(
    opts: &Options,
    cpus: Cpus,
    loads: &[Load],
    runs: &[LoadRun],
    notes: &BackendNotes,
) -> String {
    let mut out = String::new();
    notes.write(&mut out);
    let _ = writeln!(
        out,
        "\n## WebSocket echo (one message in flight per connection; {})\n",
        conditions(cpus, "client", opts.warmup, opts.secs)
    );
    out.push_str(
        "| load | server | msgs/s | server CPU ns/msg | CPU/msg spread | server CPU | client CPU |\n",
    );
    out.push_str("|---|---|---:|---:|---:|---:|---:|\n");
    for &load in loads {
        for &server in &opts.servers {
            if load.deflate && !server.deflate() {
                // Not run: this server has no permessage-deflate.
                continue;
            }
            let stats = succeeded(runs, load, server);
            let (load_name, server_name) = (load.name(), server.name());
            let Some((cpu, spread)) = median_and_spread(&stats, LoadStats::cpu_ns_per_msg) else {
                let _ = writeln!(
                    out,
                    "| {load_name} | {server_name} | failed | failed | - | - | - |"
                );
                continue;
            };
            let median = |f: fn(&LoadStats) -> f64| median_of(&stats, f).unwrap_or(f64::NAN);
            let _ = writeln!(
                out,
                "| {load_name} | {server_name} | {:.0} | {cpu:.0} | ±{:.0}% | {:.0}% | {:.0}% |",
                median(LoadStats::msgs_per_sec),
                spread * 100.0,
                median(LoadStats::server_util) * 100.0,
                median(LoadStats::client_util) * 100.0
            );
        }
    }
    let _ = writeln!(
        out,
        "\nMedians over {} interleaved round(s); spread = half the min-max range of CPU/msg \
         relative to its median.",
        opts.rounds
    );
    let plain: Vec<Load> = loads.iter().copied().filter(|l| !l.deflate).collect();
    ratio_table(&mut out, opts, &plain, runs, Server::Corering, true);
    ratio_table(&mut out, opts, &plain, runs, Server::Floor, false);
    ratio_table(&mut out, opts, &plain, runs, Server::FloorEpoll, false);
    deflate_table(&mut out, loads, runs);
    out
}

/// corering with permessage-deflate against itself without, per size and connections
/// (ratios of medians: the two loads do not run back to back).
fn deflate_table(out: &mut String, loads: &[Load], runs: &[LoadRun]) {
    let pairs: Vec<(Load, Load)> = loads
        .iter()
        .filter(|l| l.deflate)
        .filter_map(|&on| {
            let off = Load {
                deflate: false,
                ..on
            };
            loads.contains(&off).then_some((on, off))
        })
        .collect();
    if pairs.is_empty() {
        return;
    }
    out.push_str("\n### corering, permessage-deflate on / off\n\n");
    out.push_str("| load | msgs/s ratio | CPU/msg ratio |\n|---|---:|---:|\n");
    for (on, off) in pairs {
        let of =
            |load, f: fn(&LoadStats) -> f64| median_of(&succeeded(runs, load, Server::Corering), f);
        let rate = of(on, LoadStats::msgs_per_sec).zip(of(off, LoadStats::msgs_per_sec));
        let cpu = of(on, LoadStats::cpu_ns_per_msg).zip(of(off, LoadStats::cpu_ns_per_msg));
        let name = Load {
            deflate: false,
            ..on
        }
        .name();
        let _ = match (rate, cpu) {
            (Some((r_on, r_off)), Some((c_on, c_off))) => writeln!(
                out,
                "| {name} | {:.2} | {:.2} |",
                r_on / r_off,
                c_on / c_off
            ),
            _ => writeln!(out, "| {name} | failed | failed |"),
        };
    }
    out.push_str(
        "\nRatios of medians. The messages are text-like (words of a 16-word vocabulary, a \
         different slice of a 1 MiB text each time), compressed by the client with flate2 \
         at level 1 (fast), with context takeover both ways.\n",
    );
}

/// The peer with the least median CPU per message under `load`.
fn better_peer(opts: &Options, runs: &[LoadRun], load: Load) -> Option<Server> {
    Server::PEERS
        .into_iter()
        .filter(|peer| opts.servers.contains(peer))
        .filter_map(|peer| {
            let cpu = median_of(&succeeded(runs, load, peer), LoadStats::cpu_ns_per_msg)?;
            Some((peer, cpu))
        })
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(peer, _)| peer)
}

/// `ours` against the better peer of each load: paired msgs/s and CPU/msg ratios, with the
/// targets if `targets`.
fn ratio_table(
    out: &mut String,
    opts: &Options,
    loads: &[Load],
    runs: &[LoadRun],
    ours: Server,
    targets: bool,
) {
    if !opts.servers.contains(&ours) {
        return;
    }
    let _ = write!(out, "\n### {} / the better peer\n\n", ours.name());
    if targets {
        out.push_str("| load | peer | msgs/s ratio | target | | CPU/msg ratio | target | |\n");
        out.push_str("|---|---|---:|---|---|---:|---|---|\n");
    } else {
        out.push_str("| load | peer | msgs/s ratio | CPU/msg ratio |\n");
        out.push_str("|---|---|---:|---:|\n");
    }
    for &load in loads {
        let Some(peer) = better_peer(opts, runs, load) else {
            let _ = writeln!(out, "| {} | no peer ran | | |", load.name());
            continue;
        };
        let rate = paired_ratio(runs, load, ours, peer, LoadStats::msgs_per_sec);
        let cpu = paired_ratio(runs, load, ours, peer, LoadStats::cpu_ns_per_msg);
        let (Some(rate), Some(cpu)) = (rate, cpu) else {
            let _ = writeln!(
                out,
                "| {} | {} | failed | failed |",
                load.name(),
                peer.name()
            );
            continue;
        };
        if targets {
            let _ = writeln!(
                out,
                "| {} | {} | {rate:.2} | ≥ {RATE_RATIO_TARGET:.2} | {} | {cpu:.2} | \
                 ≤ {CPU_RATIO_TARGET:.2} | {} |",
                load.name(),
                peer.name(),
                verdict(rate >= RATE_RATIO_TARGET),
                verdict(cpu <= CPU_RATIO_TARGET)
            );
        } else {
            let _ = writeln!(
                out,
                "| {} | {} | {rate:.2} | {cpu:.2} |",
                load.name(),
                peer.name()
            );
        }
    }
    if ours == Server::FloorEpoll {
        out.push_str(
            "\nfloor-epoll echoes bytes on epoll, reading up to 64 KiB at a time: the least \
             an epoll server can spend on a message of either size.\n",
        );
    }
    if ours == Server::Floor {
        out.push_str(
            "\nThe floor echoes bytes without any WebSocket work: for small messages its \
             CPU/msg ratio is the least any WebSocket server could reach against that peer. \
             It echoes in 4 KiB pieces, so for larger messages it is no floor.\n",
        );
    }
    out.push_str(
        "\nRatios are medians of per-round ratios (one server against the other's run of the \
         same round).\n",
    );
}

// ---------------------------------------------------------------------------------------------
// Role: load client
// ---------------------------------------------------------------------------------------------

/// `--key value` pairs given to the client role.
fn role_arg<T: std::str::FromStr>(args: &[String], key: &str) -> Res<T>
where
    T::Err: std::fmt::Display,
{
    let value = args
        .windows(2)
        .find(|pair| pair[0] == key)
        .map(|pair| pair[1].as_str())
        .ok_or_else(|| format!("client: missing {key}"))?;
    parse_number(key, value)
}

fn run_client(args: &[String]) -> Res<()> {
    let addr: SocketAddr = role_arg(args, "--addr")?;
    let path: String = role_arg(args, "--path")?;
    let framing = match role_arg::<String>(args, "--framing")?.as_str() {
        "ws" => Framing::WebSocket,
        "raw" => Framing::Raw,
        other => return Err(format!("client: unknown framing {other:?}")),
    };
    let size: usize = role_arg(args, "--size")?;
    let deflate = role_arg::<u8>(args, "--deflate")? == 1;
    let conns: usize = role_arg(args, "--conns")?;
    let warmup = Duration::from_secs_f64(role_arg(args, "--warmup")?);
    let measure = Duration::from_secs_f64(role_arg(args, "--secs")?);
    let server_pid: u32 = role_arg(args, "--server-pid")?;

    let (streams, params) = connect_all(addr, &path, conns, framing, deflate)?;
    let pool = text_pool();
    let mut echoes: Vec<EchoConn> = params
        .into_iter()
        .enumerate()
        .map(|(i, params)| EchoConn::new(i as u32, size, framing, pool, params))
        .collect();
    let epoll = Epoll::new().context(|| "epoll_create1".into())?;
    let mut armed = vec![false; conns];
    // Serves connection `i` (registering it the first time); the echoes it completed.
    let mut step = |i: usize, first: bool| -> Res<u64> {
        let progress = echoes[i]
            .on_ready(&streams[i])
            .context(|| format!("load connection {i}"))?;
        let fd = streams[i].as_raw_fd();
        let registered = if first {
            epoll.ctl(libc::EPOLL_CTL_ADD, fd, i, progress.want_write)
        } else if progress.want_write != armed[i] {
            epoll.ctl(libc::EPOLL_CTL_MOD, fd, i, progress.want_write)
        } else {
            return Ok(progress.msgs);
        };
        registered.context(|| "epoll_ctl".into())?;
        armed[i] = progress.want_write;
        Ok(progress.msgs)
    };
    let mut msgs = 0u64;
    for i in 0..conns {
        msgs += step(i, true)?;
    }

    let warm_end = Instant::now() + warmup;
    let end = warm_end + measure;
    // At the window's start: when, messages so far, server and client CPU time.
    let mut start: Option<(Instant, u64, u64, u64)> = None;
    let mut events = vec![libc::epoll_event { events: 0, u64: 0 }; 256];
    loop {
        let now = Instant::now();
        if start.is_none() && now >= warm_end {
            start = Some((now, msgs, schedstat_ns(server_pid)?, own_cpu_ns()));
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
            msgs += step(event.u64 as usize, false)?;
        }
    }
    let server_end = schedstat_ns(server_pid)?;
    let client_end = own_cpu_ns();
    let (at, msgs_start, server_start, client_start) = start.ok_or("the window never opened")?;
    let stats = LoadStats {
        msgs: msgs - msgs_start,
        window_ns: at.elapsed().as_nanos() as u64,
        server_cpu_ns: server_end.saturating_sub(server_start),
        client_cpu_ns: client_end - client_start,
    };
    println!("{}", stats.to_line());
    Ok(())
}

/// Opens `count` connections and does the handshake on each (blocking, 10 s timeouts),
/// offering permessage-deflate if `deflate` (the server must accept it), then makes them
/// non-blocking; each with the deflate parameters it negotiated.
fn connect_all(
    addr: SocketAddr,
    path: &str,
    count: usize,
    framing: Framing,
    deflate: bool,
) -> Res<ConnsAndParams> {
    let host = addr.to_string();
    let offer = deflate.then_some(ws_client::deflate::OFFER);
    let mut streams = Vec::with_capacity(count);
    let mut params = Vec::with_capacity(count);
    for i in 0..count {
        let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(10))
            .context(|| format!("load connection {i} to {addr}"))?;
        stream
            .set_nodelay(true)
            .and_then(|()| stream.set_read_timeout(Some(Duration::from_secs(10))))
            .context(|| format!("configuring load connection {i}"))?;
        let mut negotiated = None;
        if framing == Framing::WebSocket {
            let nonce = (std::process::id() as u64) << 32 | i as u64;
            let answer = handshake::open(&mut stream, &host, path, nonce, offer)
                .map_err(|e| format!("load connection {i}: {e}"))?;
            negotiated = match (deflate, answer) {
                (false, None) => None,
                (false, Some(ext)) => {
                    return Err(format!("load connection {i}: unoffered extension {ext:?}"))
                }
                (true, answer) => Some(
                    ws_client::deflate::check_answer(answer.as_deref().unwrap_or_default())
                        .map_err(|e| format!("load connection {i}: {e}"))?,
                ),
            };
        }
        stream
            .set_nonblocking(true)
            .context(|| format!("configuring load connection {i}"))?;
        streams.push(stream);
        params.push(negotiated);
    }
    Ok((streams, params))
}

/// The load's connections and the permessage-deflate parameters each negotiated.
type ConnsAndParams = (Vec<TcpStream>, Vec<Option<ws_client::deflate::Params>>);

/// CPU time consumed so far by this process, in ns.
fn own_cpu_ns() -> u64 {
    // SAFETY: clock_gettime writes into the zeroed timespec.
    unsafe {
        let mut ts: libc::timespec = zeroed();
        libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts);
        ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
    }
}

/// Minimal level-triggered epoll; the event token is the connection index.
struct Epoll(OwnedFd);

impl Epoll {
    fn new() -> io::Result<Self> {
        // SAFETY: epoll_create1 returns a new fd we take ownership of, or -1.
        let fd = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: fd is a freshly created descriptor nobody else owns.
        Ok(Epoll(unsafe { OwnedFd::from_raw_fd(fd) }))
    }

    /// Registers (or changes) `fd` for reading, and writing too if `want_write`.
    fn ctl(&self, op: libc::c_int, fd: RawFd, token: usize, want_write: bool) -> io::Result<()> {
        let mut events = libc::EPOLLIN as u32;
        if want_write {
            events |= libc::EPOLLOUT as u32;
        }
        self.ctl_events(op, fd, token, events)
    }

    /// Registers (or changes) `fd` for `events`.
    fn ctl_events(&self, op: libc::c_int, fd: RawFd, token: usize, events: u32) -> io::Result<()> {
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

// ---------------------------------------------------------------------------------------------
// Role: floor-epoll, a byte echo
// ---------------------------------------------------------------------------------------------

extern "C" fn exit_now(_signal: libc::c_int) {
    // SAFETY: _exit is async-signal-safe.
    unsafe { libc::_exit(0) }
}

/// Bytes read at a time by floor-epoll.
const FLOOR_READ: usize = 64 * 1024;

/// floor-epoll's connection: its socket and what it could not write yet.
struct FloorConn {
    stream: TcpStream,
    pending: Vec<u8>,
}

/// A byte echo: one thread, level-triggered epoll, `TCP_NODELAY`; per readable
/// connection one read of up to 64 KiB, written straight back; what the socket does not
/// take waits (reading stops) until it is writable. Prints `listening on ADDR`, exits 0 on
/// SIGTERM.
fn run_floor_epoll(args: &[String]) -> Res<()> {
    let addr: SocketAddr = role_arg(args, "--addr")?;
    let handler = exit_now as extern "C" fn(libc::c_int);
    // SAFETY: installs a handler that only calls the async-signal-safe _exit.
    unsafe { libc::signal(libc::SIGTERM, handler as libc::sighandler_t) };
    let listener = std::net::TcpListener::bind(addr).context(|| format!("binding {addr}"))?;
    listener
        .set_nonblocking(true)
        .context(|| "listener".into())?;
    let local = listener.local_addr().context(|| "local address".into())?;
    println!("floor-epoll listening on {local}");
    let epoll = Epoll::new().context(|| "epoll_create1".into())?;
    const LISTENER: usize = usize::MAX;
    epoll
        .ctl(libc::EPOLL_CTL_ADD, listener.as_raw_fd(), LISTENER, false)
        .context(|| "epoll_ctl".into())?;
    let mut conns: Vec<Option<FloorConn>> = Vec::new();
    let mut buf = vec![0u8; FLOOR_READ];
    let mut events = vec![libc::epoll_event { events: 0, u64: 0 }; 256];
    loop {
        let ready = epoll
            .wait(&mut events, -1)
            .context(|| "epoll_wait".into())?;
        for event in &events[..ready] {
            let token = event.u64 as usize;
            if token == LISTENER {
                while let Ok((stream, _)) = listener.accept() {
                    let _ = stream.set_nodelay(true);
                    let _ = stream.set_nonblocking(true);
                    let slot = conns.iter().position(Option::is_none).unwrap_or_else(|| {
                        conns.push(None);
                        conns.len() - 1
                    });
                    if epoll
                        .ctl(libc::EPOLL_CTL_ADD, stream.as_raw_fd(), slot, false)
                        .is_ok()
                    {
                        conns[slot] = Some(FloorConn {
                            stream,
                            pending: Vec::new(),
                        });
                    }
                }
                continue;
            }
            let Some(conn) = conns.get_mut(token).and_then(Option::as_mut) else {
                continue;
            };
            if !floor_serve(conn, &mut buf, &epoll, token) {
                // Closing the socket takes it out of the epoll set.
                conns[token] = None;
            }
        }
    }
}

/// Serves one ready floor-epoll connection; false once it is to be closed.
fn floor_serve(conn: &mut FloorConn, buf: &mut [u8], epoll: &Epoll, token: usize) -> bool {
    use std::io::{Read, Write};
    let fd = conn.stream.as_raw_fd();
    if !conn.pending.is_empty() {
        match (&conn.stream).write(&conn.pending) {
            Ok(n) => {
                conn.pending.drain(..n);
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return true,
            Err(_) => return false,
        }
        if !conn.pending.is_empty() {
            return true;
        }
        // All written: read again.
        return epoll.ctl(libc::EPOLL_CTL_MOD, fd, token, false).is_ok();
    }
    let n = match (&conn.stream).read(buf) {
        Ok(0) => return false,
        Ok(n) => n,
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => return true,
        Err(_) => return false,
    };
    let written = match (&conn.stream).write(&buf[..n]) {
        Ok(w) => w,
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => 0,
        Err(_) => return false,
    };
    if written < n {
        conn.pending.extend_from_slice(&buf[written..n]);
        // Wait until writable; no reading meanwhile.
        let writable = libc::EPOLLOUT as u32;
        return epoll
            .ctl_events(libc::EPOLL_CTL_MOD, fd, token, writable)
            .is_ok();
    }
    true
}
