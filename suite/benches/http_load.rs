//! HTTP load benchmark: corering's `examples/hello`, on io_uring and on epoll, against four
//! peers serving the same `GET /plaintext` → `Hello, World!`, all driven by `wrk`.
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
//!   hello` (or `--hello-bin PATH`), on io_uring (`CORERING_BACKEND=uring`).
//! * `corering-nobatch`: the same with completion batching off (`CORERING_BATCH_WAIT=off`).
//! * `corering-epoll`: the same hello on the epoll backend (`CORERING_BACKEND=epoll`).
//! * `corering-layers`: the same hello (io_uring) with `--layers`: every request through
//!   three layers (request id, a timeout, an access log whose lines are formatted and
//!   dropped). Compared with `corering`, for what the layers cost, and with
//!   `corering-idbytes`, their floor.
//! * `corering-idbytes`: the same hello (io_uring) with `--request-id-bytes`: no layers,
//!   but a `Server` field 33 bytes longer (part of the cached head: no work per request),
//!   so its answers are as long as the layered route's with its `x-request-id` after a
//!   few million requests. wrk parses every answer, and wrk, not the server, is what
//!   limits the pipelined load: longer answers mean fewer requests/s and smaller batches
//!   per system call, which cost the server CPU per request that no layer can save.
//!   `corering-layers`/`corering-idbytes` is what the layers' work costs.
//! * `hyper`: hyper 1.x on tokio's current-thread runtime, HTTP/1.1 keep-alive,
//!   `http1::Builder::pipeline_flush(true)`, `Content-Type: text/plain`, hyper's `Date`.
//! * `may_minihttp`: its hello-world service on one may worker (`set_workers(1)`).
//! * `floor`: a raw io_uring responder with no framework (one thread, one ring, multishot
//!   accept, multishot recv from a provided buffer ring): it counts `\r\n\r\n` and answers
//!   each with one pre-built response (fixed `Date`), all responses due on a connection in
//!   one send. What a server cannot do with less.
//! * `tokio-floor`: its epoll counterpart, a hand-written HTTP/1.1 responder on tokio's
//!   current-thread runtime with no framework: `httparse`, one read buffer per connection,
//!   every complete request of a read answered (hello's answer, `Date` refreshed each
//!   second) and all answers of the read in one write, nothing allocated per request.
//!
//! The answers differ only in small ways: corering adds `Server: corering`, tokio-floor
//! `Server: tokio-floor` and may_minihttp `Server: M`; hyper sends lowercase field names
//! and has no header-read timeout (no timer is set); may_minihttp leaves Nagle on (as it
//! ships). "One thread" means one serving thread: any helper threads a server starts
//! (may's, for one) are counted in its CPU time too.
//!
//! The four peers live in a separate cargo package, `benches/peers/` (its own workspace,
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
//! Reported: medians over the rounds, and the ratios corering/peer, corering-epoll/peer and
//! floor/tokio-floor (the two floors side by side) as medians of per-round paired ratios
//! (one server against the other's run of the same round, which cancels the machine's slow
//! drifts better than a ratio of medians).
//!
//! Targets (PASS/MISS is informational: the exit status only reflects errors):
//! * corering (io_uring), `pipelined`, CPU/request: ≤ 0.5x hyper, ≤ 0.8x may_minihttp,
//!   ≤ 1.25x floor.
//! * corering, `plaintext`, CPU/request: ≤ 1.0x hyper and ≤ 1.0x may_minihttp (≤ the lower
//!   of the two), ≤ 1.1x floor.
//! * corering, requests/s, both loads: ≥ 1.0x hyper and ≥ 1.0x may_minihttp.
//! * corering-epoll, CPU/request: `plaintext` ≤ 1.05x tokio-floor; `pipelined` ≤ 1.15x
//!   tokio-floor and ≤ 0.7x hyper.
//! * corering-layers, CPU/request: ≤ 1.10x corering, both loads; ≤ 1.10x corering-idbytes
//!   (the same answers' bytes), both loads.
//!
//! All traffic stays on 127.0.0.1 and every child process is terminated on exit.

mod support;

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use support::backend::{Backend, BackendNotes};
use support::hello::parse_hello_response;
use support::named::{named_enum, Named};
use support::wrk::{ratios_table, Sample, Script, Section, WrkOptions, WrkRun, WrkScripts};
use support::{
    free_loopback_addr, hello_and_peer_binaries, none_failed, on_path, parse_flags, pick_cpus,
    wait_connectable, wait_for_listen_line, ChildProc, Context, Cpus, Res,
};

const USAGE: &str = "\
usage: cargo bench --bench http_load -- [options]
  --rounds N        runs per load and server, interleaved; medians reported (default 3)
  --duration N      measured seconds per run (default 5)
  --warmup N        warm-up seconds before each measured run, 0 for none (default 1)
  --only LIST       comma list of loads: plaintext, pipelined (default: both)
  --servers LIST    comma list of corering, corering-nobatch (batching off),
                    corering-epoll (epoll backend), corering-layers (hello --layers),
                    corering-idbytes (hello --request-id-bytes),
                    hyper, may_minihttp, floor, tokio-floor (default: all)
  --conns N         wrk connections (default 64)
  --depth N         requests per write in the pipelined load (default 16)
  --hello-bin PATH  use this corering hello binary instead of building examples/hello
  --peers-dir DIR   take hyper_hello, may_hello, uring_floor, tokio_floor from DIR instead
                    of building benches/peers
  --wrk PATH        (default: wrk from PATH)
";

fn main() {
    support::main_with(run);
}

// ---------------------------------------------------------------------------------------------
// Loads, servers, options
// ---------------------------------------------------------------------------------------------

named_enum! {
    enum Load: "load" {
        Plaintext = "plaintext" | "plain",
        Pipelined = "pipelined" | "pipeline",
    }
}

named_enum! {
    enum ServerKind: "server" {
        Corering = "corering" | "hello",
        /// corering with completion batching off (`CORERING_BATCH_WAIT=off`).
        CoreringNoBatch = "corering-nobatch",
        /// corering on the epoll backend (`CORERING_BACKEND=epoll`).
        CoreringEpoll = "corering-epoll" | "epoll",
        /// corering with three layers round the routes (`hello --layers`).
        CoreringLayers = "corering-layers" | "layers",
        /// corering answering with as many bytes as the layered route, without layers
        /// (`hello --request-id-bytes`).
        CoreringIdBytes = "corering-idbytes" | "idbytes",
        Hyper = "hyper",
        May = "may_minihttp" | "may",
        Floor = "floor" | "uring_floor",
        /// The hand-written responder on tokio: the floor's epoll counterpart.
        TokioFloor = "tokio-floor" | "tokio_floor",
    }
}

impl ServerKind {
    /// What corering (on io_uring) is compared with.
    const PEERS: [ServerKind; 6] = [
        ServerKind::CoreringNoBatch,
        ServerKind::CoreringEpoll,
        ServerKind::Hyper,
        ServerKind::May,
        ServerKind::Floor,
        ServerKind::TokioFloor,
    ];
    /// What corering on epoll is compared with.
    const EPOLL_PEERS: [ServerKind; 3] =
        [ServerKind::TokioFloor, ServerKind::Hyper, ServerKind::May];

    /// The backend a corering server is forced onto; `None` for a peer.
    fn backend(self) -> Option<Backend> {
        match self {
            ServerKind::Corering
            | ServerKind::CoreringNoBatch
            | ServerKind::CoreringLayers
            | ServerKind::CoreringIdBytes => Some(Backend::Uring),
            ServerKind::CoreringEpoll => Some(Backend::Epoll),
            ServerKind::Hyper | ServerKind::May | ServerKind::Floor | ServerKind::TokioFloor => {
                None
            }
        }
    }

    /// The binary of a peer in benches/peers.
    fn peer_bin(self) -> Option<&'static str> {
        match self {
            ServerKind::Corering
            | ServerKind::CoreringNoBatch
            | ServerKind::CoreringEpoll
            | ServerKind::CoreringLayers
            | ServerKind::CoreringIdBytes => None,
            ServerKind::Hyper => Some("hyper_hello"),
            ServerKind::May => Some("may_hello"),
            ServerKind::Floor => Some("uring_floor"),
            ServerKind::TokioFloor => Some("tokio_floor"),
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
        _ => (None, None),
    }
}

/// Targets for corering-epoll/`peer` under `load`, as [`targets`] gives them for corering.
fn epoll_targets(load: Load, peer: ServerKind) -> (Option<f64>, Option<f64>) {
    match (load, peer) {
        (Load::Plaintext, ServerKind::TokioFloor) => (None, Some(1.05)),
        (Load::Pipelined, ServerKind::TokioFloor) => (None, Some(1.15)),
        (Load::Pipelined, ServerKind::Hyper) => (None, Some(0.7)),
        _ => (None, None),
    }
}

/// The target for corering-layers against corering and against corering-idbytes (the
/// same answers' bytes without layers): the three layers cost at most a tenth more CPU
/// per request.
fn layers_targets(_: Load, _: ServerKind) -> (Option<f64>, Option<f64>) {
    (None, Some(1.10))
}

/// No targets: floor/tokio-floor is there to be read, not to pass.
fn no_targets(_: Load, _: ServerKind) -> (Option<f64>, Option<f64>) {
    (None, None)
}

type Options = WrkOptions<Load, ServerKind>;

fn parse_options(args: &[String]) -> Res<Options> {
    let mut opts = Options::new(5, Load::ALL.to_vec(), ServerKind::ALL.to_vec());
    parse_flags(args, USAGE, |flag, value| opts.flag(flag, value))?;
    opts.check()?;
    Ok(opts)
}

// ---------------------------------------------------------------------------------------------
// Orchestration
// ---------------------------------------------------------------------------------------------

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
    let scripts = write_scripts(&opts)?;

    let mut servers = Vec::new();
    let mut notes = BackendNotes::default();
    for (kind, bin) in &bins {
        let server = RunningServer::start(*kind, bin, cpus.server, &mut notes)?;
        check_responses(server.addr, opts.depth)
            .context(|| format!("checking the answers of {}", kind.name()))?;
        servers.push(server);
    }

    let runs = support::interleaved_runs(
        opts.rounds,
        &opts.loads,
        &servers,
        |l| l.name().to_string(),
        |s| (s.kind, s.kind.name()),
        |server, load| measure(server, load, &opts, cpus, &scripts),
        Sample::summary,
    );
    for server in servers {
        server.stop()?;
    }
    drop(scripts);

    print!("{}", report(&opts, cpus, &runs, &notes));
    none_failed(&runs)
}

/// The binary of every selected server, building corering's hello and the peers if needed.
fn resolve_binaries(opts: &Options) -> Res<Vec<(ServerKind, PathBuf)>> {
    hello_and_peer_binaries(
        &opts.servers,
        ServerKind::peer_bin,
        opts.peers_dir.as_deref(),
        opts.hello_bin.as_deref(),
    )
}

/// The wrk Lua scripts of the two loads.
fn write_scripts(opts: &Options) -> Res<WrkScripts> {
    WrkScripts::write(&[
        Script::plain(Load::Plaintext.name(), opts.conns),
        Script::pipelined(Load::Pipelined.name(), opts.conns, opts.depth),
    ])
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
    /// Starts the server pinned to `cpu` and waits until it accepts connections; a
    /// corering server whose startup line does not name its backend goes into `notes`.
    fn start(kind: ServerKind, bin: &Path, cpu: usize, notes: &mut BackendNotes) -> Res<Self> {
        let requested = free_loopback_addr()?;
        let mut cmd = Command::new(bin);
        cmd.args(["--addr", &requested.to_string()]);
        if let Some(backend) = kind.backend() {
            cmd.args(["--workers", "1"]);
            backend.force(&mut cmd);
        }
        if kind == ServerKind::CoreringNoBatch {
            cmd.env("CORERING_BATCH_WAIT", "off");
        }
        if kind == ServerKind::CoreringLayers {
            cmd.arg("--layers");
        }
        if kind == ServerKind::CoreringIdBytes {
            cmd.arg("--request-id-bytes");
        }
        let mut proc = ChildProc::spawn(kind.name(), cmd, cpu)?;
        let (addr, lines) = wait_for_listen_line(&mut proc, requested)?;
        if let Some(backend) = kind.backend() {
            notes.check(kind.name(), backend, &lines);
        }
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
            match parse_hello_response(&buf) {
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

// ---------------------------------------------------------------------------------------------
// wrk runs
// ---------------------------------------------------------------------------------------------

/// A warm-up and a measured wrk run of `load` against `server`.
fn measure(
    server: &RunningServer,
    load: Load,
    opts: &Options,
    cpus: Cpus,
    scripts: &WrkScripts,
) -> Res<Sample> {
    WrkRun {
        wrk: &opts.wrk,
        script: scripts.path(load.name()),
        conns: opts.conns,
        headers: &[],
        url: format!("http://{}/plaintext", server.addr),
        server_pid: server.pid(),
        cpu: cpus.client,
    }
    .measure(opts.warmup, opts.duration)
}

// ---------------------------------------------------------------------------------------------
// Report
// ---------------------------------------------------------------------------------------------

fn report(opts: &Options, cpus: Cpus, runs: &[Run], notes: &BackendNotes) -> String {
    let mut out = String::new();
    notes.write(&mut out);
    Section {
        title: "HTTP GET /plaintext",
        how: format!(
            "wrk -t 1 -c {}, pipelined = {} requests per write",
            opts.conns, opts.depth
        ),
        pipelined: Some(opts.depth),
        more: "",
    }
    .write(&mut out, opts, cpus, runs);

    ratios_table(
        &mut out,
        &opts.loads,
        &opts.servers,
        ServerKind::Corering,
        &ServerKind::PEERS,
        runs,
        targets,
    );
    ratios_table(
        &mut out,
        &opts.loads,
        &opts.servers,
        ServerKind::CoreringEpoll,
        &ServerKind::EPOLL_PEERS,
        runs,
        epoll_targets,
    );
    // What three layers (request id, timeout, discarded access log) cost, against the
    // bare route and against its answers with the layered route's bytes.
    ratios_table(
        &mut out,
        &opts.loads,
        &opts.servers,
        ServerKind::CoreringLayers,
        &[ServerKind::Corering, ServerKind::CoreringIdBytes],
        runs,
        layers_targets,
    );
    // The floor of that: the bare route with the layered route's bytes.
    ratios_table(
        &mut out,
        &opts.loads,
        &opts.servers,
        ServerKind::CoreringIdBytes,
        &[ServerKind::Corering],
        runs,
        no_targets,
    );
    // The two floors side by side: what io_uring saves against epoll with no framework.
    ratios_table(
        &mut out,
        &opts.loads,
        &opts.servers,
        ServerKind::Floor,
        &[ServerKind::TokioFloor],
        runs,
        no_targets,
    );
    out
}
