//! HTTPS load benchmark: corering's `examples/hello` over TLS against hyper on
//! tokio-rustls and a no-HTTP rustls floor, all serving `GET /plaintext` → `Hello,
//! World!` to `wrk` over `https://`.
//!
//! ```text
//! apt-get install wrk openssl                      # once; this bench installs nothing
//! cargo bench --bench tls_load                     # -- --help lists the options
//! cargo bench --bench tls_load -- --servers hyper,floor --only handshake
//! ```
//!
//! A self-signed ECDSA P-256 certificate for `localhost` / `127.0.0.1` is made with the
//! `openssl` command line in a temporary folder (removed at the end), unless `--cert` and
//! `--key` name PEM files. Every server gets the same pair.
//!
//! Servers (each one serving thread, pinned to the same CPU; they take turns, only the
//! one under load does anything; all run for the whole benchmark):
//! * `corering`: `examples/hello --workers 1 --tls-cert CERT --tls-key KEY` (plus
//!   `--hello-args`), built with `cargo build --release --example hello` (or
//!   `--hello-bin PATH`). What hello prints at startup (where it says whether kTLS is
//!   used) is shown.
//! * `corering-ktls`: the same with `--ktls-args` added (opt-in: name it in `--servers`
//!   and say how hello switches kTLS on), so userspace rustls and kTLS are measured in the
//!   same run.
//! * `hyper`: `hyper_tls_hello`, hyper 1.x on tokio's current-thread runtime over
//!   tokio-rustls (ring provider, rustls' defaults, ALPN `http/1.1`), the same HTTP/1.1
//!   service as http_load's hyper peer.
//! * `floor`: `tls_floor`, the same rustls setup on tokio with no HTTP: it counts request
//!   terminators and answers with pre-built responses. What a userspace-rustls server
//!   cannot do with less.
//!
//! The peers live in `benches/peers/` (its own workspace); this bench builds it with
//! `cargo build --release --manifest-path benches/peers/Cargo.toml --target-dir
//! benches/peers/target` (or takes the binaries from `--peers-dir DIR`).
//!
//! Before loading a server, the bench sends it `--depth` pipelined `GET /plaintext` (the
//! last with `Connection: close`) through `openssl s_client` verifying the certificate,
//! and checks every answer: status 200, `Content-Type: text/plain`, a `Date` field, body
//! `Hello, World!`.
//!
//! Loads (`wrk -t 1 -s SCRIPT https://...`, wrk pinned to a second CPU):
//! * `plaintext`: `-c 64`, one request per write on kept-alive connections.
//! * `pipelined`: `-c 64`, 16 requests per write.
//! * `handshake`: `-c 16 -H "Connection: close"`: every request on a new connection, so
//!   one full TLS handshake per request (wrk resumes no session); requests/s is
//!   handshakes/s.
//!
//! Every load and server runs `--rounds` times (default 3), in an order rotating from
//! round to round; each run is a `--warmup` s wrk run (default 1, not measured) then the
//! measured `--duration` s run (default 4): about 2.5 minutes with the defaults and three
//! servers. A run fails if wrk reports any socket error or non-2xx/3xx answer.
//!
//! Per run: requests/s, p99 latency (wrk's recorded latencies, its coordinated-omission
//! correction undone, as in http_load), and the server's CPU time per request (all its
//! threads' on-CPU time from `/proc/PID/task/*/schedstat` around the wrk run, divided by
//! the responses). Reported: medians over rounds, and corering/peer ratios as medians of
//! per-round paired ratios.
//!
//! Targets against hyper on tokio-rustls (PASS/MISS is informational; the exit status
//! only reflects errors): CPU/request `plaintext` ≤ 0.9x, `pipelined` ≤ 0.6x;
//! requests/s ≥ 1.0x in both. `handshake` and the floor are reported without targets.
//!
//! All traffic stays on 127.0.0.1 and every child process is terminated on exit.

mod support;

use std::fmt::Write as _;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use support::{
    build_example, build_peers, free_loopback_addr, median, on_path, paired_ratio, parse_flags,
    parse_number, pick_cpus, schedstat_ns, verdict, ChildProc, Context, Cpus, Res,
};

const USAGE: &str = "\
usage: cargo bench --bench tls_load -- [options]
  --rounds N          runs per load and server, interleaved; medians reported (default 3)
  --duration N        measured seconds per run (default 4)
  --warmup N          warm-up seconds before each measured run, 0 for none (default 1)
  --only LIST         comma list of loads: plaintext, pipelined, handshake (default: all)
  --servers LIST      comma list of corering, corering-ktls, hyper, floor
                      (default: corering, hyper, floor)
  --conns N           wrk connections of the keep-alive loads (default 64)
  --handshake-conns N wrk connections of the handshake load (default 16)
  --depth N           requests per write in the pipelined load (default 16)
  --cert PEM --key PEM  use this certificate chain and key (default: a fresh self-signed
                      ECDSA P-256 pair from the openssl command line)
  --hello-bin PATH    use this corering hello binary instead of building examples/hello
  --hello-args ARGS   extra arguments for corering's hello (split at spaces)
  --ktls-args ARGS    arguments that switch kTLS on in hello (for corering-ktls)
  --peers-dir DIR     take hyper_tls_hello and tls_floor from DIR instead of building
                      benches/peers
  --wrk PATH          (default: wrk from PATH)
";

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Err(e) = run(&args) {
        eprintln!("tls_load: error: {e}");
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
    Handshake,
}

impl Load {
    const ALL: [Load; 3] = [Load::Plaintext, Load::Pipelined, Load::Handshake];

    fn name(self) -> &'static str {
        match self {
            Load::Plaintext => "plaintext",
            Load::Pipelined => "pipelined",
            Load::Handshake => "handshake",
        }
    }

    fn parse(s: &str) -> Res<Load> {
        match s {
            "plaintext" | "plain" => Ok(Load::Plaintext),
            "pipelined" | "pipeline" => Ok(Load::Pipelined),
            "handshake" | "handshakes" | "close" => Ok(Load::Handshake),
            _ => Err(format!(
                "unknown load {s:?} (plaintext, pipelined, handshake)"
            )),
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum ServerKind {
    Corering,
    CoreringKtls,
    Hyper,
    Floor,
}

impl ServerKind {
    const DEFAULT: [ServerKind; 3] = [ServerKind::Corering, ServerKind::Hyper, ServerKind::Floor];
    const PEERS: [ServerKind; 3] = [
        ServerKind::CoreringKtls,
        ServerKind::Hyper,
        ServerKind::Floor,
    ];

    fn name(self) -> &'static str {
        match self {
            ServerKind::Corering => "corering",
            ServerKind::CoreringKtls => "corering-ktls",
            ServerKind::Hyper => "hyper+tokio-rustls",
            ServerKind::Floor => "floor",
        }
    }

    fn parse(s: &str) -> Res<ServerKind> {
        match s {
            "corering" | "hello" => Ok(ServerKind::Corering),
            "corering-ktls" | "ktls" => Ok(ServerKind::CoreringKtls),
            "hyper" | "hyper+tokio-rustls" => Ok(ServerKind::Hyper),
            "floor" | "tls_floor" => Ok(ServerKind::Floor),
            _ => Err(format!(
                "unknown server {s:?} (corering, corering-ktls, hyper, floor)"
            )),
        }
    }

    /// The binary of a peer in benches/peers.
    fn peer_bin(self) -> Option<&'static str> {
        match self {
            ServerKind::Corering | ServerKind::CoreringKtls => None,
            ServerKind::Hyper => Some("hyper_tls_hello"),
            ServerKind::Floor => Some("tls_floor"),
        }
    }
}

/// Targets for corering/`peer` under `load`: the least requests/s ratio and the most
/// CPU/request ratio, where there is one.
fn targets(load: Load, peer: ServerKind) -> (Option<f64>, Option<f64>) {
    match (load, peer) {
        (Load::Plaintext, ServerKind::Hyper) => (Some(1.0), Some(0.9)),
        (Load::Pipelined, ServerKind::Hyper) => (Some(1.0), Some(0.6)),
        _ => (None, None),
    }
}

struct Options {
    rounds: usize,
    duration: u64,
    warmup: u64,
    conns: usize,
    handshake_conns: usize,
    depth: usize,
    loads: Vec<Load>,
    servers: Vec<ServerKind>,
    cert: Option<(PathBuf, PathBuf)>,
    hello_bin: Option<PathBuf>,
    hello_args: Vec<String>,
    ktls_args: Option<Vec<String>>,
    peers_dir: Option<PathBuf>,
    wrk: PathBuf,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            rounds: 3,
            duration: 4,
            warmup: 1,
            conns: 64,
            handshake_conns: 16,
            depth: 16,
            loads: Load::ALL.to_vec(),
            servers: ServerKind::DEFAULT.to_vec(),
            cert: None,
            hello_bin: None,
            hello_args: Vec::new(),
            ktls_args: None,
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

fn split_args(s: &str) -> Vec<String> {
    s.split_whitespace().map(String::from).collect()
}

fn parse_options(args: &[String]) -> Res<Options> {
    let mut opts = Options::default();
    let (mut cert, mut key) = (None, None);
    parse_flags(args, USAGE, |flag, value| {
        match flag {
            "--rounds" => opts.rounds = parse_number(flag, value()?)?,
            "--duration" => opts.duration = parse_number(flag, value()?)?,
            "--warmup" => opts.warmup = parse_number(flag, value()?)?,
            "--conns" => opts.conns = parse_number(flag, value()?)?,
            "--handshake-conns" => opts.handshake_conns = parse_number(flag, value()?)?,
            "--depth" => opts.depth = parse_number(flag, value()?)?,
            "--only" => opts.loads = parse_list(value()?, Load::parse)?,
            "--servers" => opts.servers = parse_list(value()?, ServerKind::parse)?,
            "--cert" => cert = Some(PathBuf::from(value()?)),
            "--key" => key = Some(PathBuf::from(value()?)),
            "--hello-bin" => opts.hello_bin = Some(value()?.into()),
            "--hello-args" => opts.hello_args = split_args(value()?),
            "--ktls-args" => opts.ktls_args = Some(split_args(value()?)),
            "--peers-dir" => opts.peers_dir = Some(value()?.into()),
            "--wrk" => opts.wrk = value()?.into(),
            _ => return Ok(false),
        }
        Ok(true)
    })?;
    opts.cert = match (cert, key) {
        (Some(c), Some(k)) => Some((c, k)),
        (None, None) => None,
        _ => return Err("--cert and --key go together".into()),
    };
    if opts.rounds == 0
        || opts.duration == 0
        || opts.conns == 0
        || opts.handshake_conns == 0
        || opts.depth == 0
    {
        return Err(
            "--rounds, --duration, --conns, --handshake-conns and --depth must be positive".into(),
        );
    }
    if opts.loads.is_empty() || opts.servers.is_empty() {
        return Err("--only and --servers need at least one entry".into());
    }
    if opts.servers.contains(&ServerKind::CoreringKtls) && opts.ktls_args.is_none() {
        return Err("corering-ktls needs --ktls-args: the hello flags that switch kTLS on".into());
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
    for (tool, what) in [
        (
            &opts.wrk,
            "install Debian's wrk (apt-get install wrk; it speaks TLS) or pass --wrk PATH",
        ),
        (
            &PathBuf::from("openssl"),
            "install Debian's openssl (apt-get install openssl)",
        ),
    ] {
        if !on_path(tool) {
            return Err(format!("{} not found; {what}", tool.display()));
        }
    }
    let cpus = pick_cpus("servers and wrk");
    let bins = resolve_binaries(&opts)?;
    let pair = match &opts.cert {
        Some((c, k)) => CertPair::given(c, k),
        None => CertPair::self_signed()?,
    };
    let scripts = WrkScripts::write(&opts)?;

    let mut servers = Vec::new();
    for (kind, bin) in &bins {
        let server = RunningServer::start(*kind, bin, &opts, &pair, cpus.server)?;
        check_responses(server.addr, &pair.cert, opts.depth)
            .context(|| format!("checking the answers of {}", kind.name()))?;
        servers.push(server);
    }

    let mut runs = Vec::new();
    for round in 1..=opts.rounds {
        for &load in &opts.loads {
            let mut order: Vec<&RunningServer> = servers.iter().collect();
            let len = order.len();
            order.rotate_left((round - 1) % len);
            for server in order {
                let what = format!(
                    "{} against {} (round {round})",
                    load.name(),
                    server.kind.name()
                );
                eprintln!("tls_load: {what}...");
                let outcome = measure(server, load, &opts, cpus, &scripts);
                match &outcome {
                    Ok(s) => eprintln!(
                        "tls_load:   {:.0} requests/s, p99 {}, {:.0} ns CPU/request",
                        s.rps,
                        format_us(s.p99_us),
                        s.cpu_ns_per_request()
                    ),
                    Err(e) => eprintln!("tls_load: {what} failed: {e}"),
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
    let mut startup = String::new();
    for server in servers {
        for line in &server.startup {
            let _ = writeln!(startup, "- {}: `{line}`", server.kind.name());
        }
        server.stop()?;
    }
    drop(scripts);
    drop(pair);

    print!("{}", report(&opts, cpus, &runs, &startup));
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
    let mut hello = opts.hello_bin.clone();
    let mut bins = Vec::new();
    for &kind in &opts.servers {
        let bin = match (kind.peer_bin(), &peers_dir) {
            (Some(name), Some(dir)) => support::peer_bin(Some(dir), name)?,
            _ => match &hello {
                Some(bin) => bin.clone(),
                None => {
                    let bin = build_example("hello")?;
                    hello = Some(bin.clone());
                    bin
                }
            },
        };
        bins.push((kind, bin));
    }
    Ok(bins)
}

// ---------------------------------------------------------------------------------------------
// Certificate
// ---------------------------------------------------------------------------------------------

/// The PEM certificate and key every server gets; a generated pair lives in a temporary
/// folder removed on drop.
struct CertPair {
    cert: PathBuf,
    key: PathBuf,
    dir: Option<PathBuf>,
}

impl CertPair {
    fn given(cert: &Path, key: &Path) -> CertPair {
        CertPair {
            cert: cert.to_path_buf(),
            key: key.to_path_buf(),
            dir: None,
        }
    }

    /// A self-signed ECDSA P-256 certificate for `localhost` and `127.0.0.1`, valid for
    /// two days, from the openssl command line.
    fn self_signed() -> Res<CertPair> {
        let dir = std::env::temp_dir().join(format!("tls_load-{}", std::process::id()));
        std::fs::create_dir_all(&dir).context(|| format!("creating {}", dir.display()))?;
        let pair = CertPair {
            cert: dir.join("cert.pem"),
            key: dir.join("key.pem"),
            dir: Some(dir),
        };
        let out = Command::new("openssl")
            .args(["req", "-x509", "-newkey", "ec", "-pkeyopt"])
            .args(["ec_paramgen_curve:P-256", "-nodes", "-days", "2"])
            .args(["-subj", "/CN=localhost"])
            .args(["-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"])
            .arg("-keyout")
            .arg(&pair.key)
            .arg("-out")
            .arg(&pair.cert)
            .stdin(Stdio::null())
            .output()
            .context(|| "running openssl req".into())?;
        if !out.status.success() {
            return Err(format!(
                "openssl req failed ({}): {}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        Ok(pair)
    }
}

impl Drop for CertPair {
    fn drop(&mut self) {
        if let Some(dir) = &self.dir {
            let _ = std::fs::remove_dir_all(dir);
        }
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
    /// What it printed up to its listening line.
    startup: Vec<String>,
}

impl RunningServer {
    /// Starts the server pinned to `cpu` and waits until it accepts connections.
    fn start(
        kind: ServerKind,
        bin: &Path,
        opts: &Options,
        pair: &CertPair,
        cpu: usize,
    ) -> Res<Self> {
        let requested = free_loopback_addr()?;
        let mut cmd = Command::new(bin);
        cmd.args(["--addr", &requested.to_string()]);
        match kind {
            ServerKind::Corering | ServerKind::CoreringKtls => {
                cmd.args(["--workers", "1", "--tls-cert"])
                    .arg(&pair.cert)
                    .arg("--tls-key")
                    .arg(&pair.key)
                    .args(&opts.hello_args);
                if kind == ServerKind::CoreringKtls {
                    cmd.args(opts.ktls_args.iter().flatten());
                }
            }
            ServerKind::Hyper | ServerKind::Floor => {
                cmd.arg("--cert")
                    .arg(&pair.cert)
                    .arg("--key")
                    .arg(&pair.key);
            }
        }
        let mut proc = ChildProc::spawn(kind.name(), cmd, cpu)?;
        let (addr, startup) = wait_for_listen_line(&mut proc, requested)?;
        wait_connectable(addr, Duration::from_secs(5))?;
        Ok(RunningServer {
            kind,
            proc,
            addr,
            startup,
        })
    }

    fn pid(&self) -> u32 {
        self.proc.pid()
    }

    fn stop(self) -> Res<()> {
        self.proc.stop()
    }
}

/// Waits for the stdout line that says where the server listens; returns that address
/// (or `requested` when the line names the port but no parseable address) and the lines
/// printed up to it.
fn wait_for_listen_line(
    proc: &mut ChildProc,
    requested: SocketAddr,
) -> Res<(SocketAddr, Vec<String>)> {
    let deadline = Instant::now() + Duration::from_secs(15);
    let port = requested.port().to_string();
    let mut seen = Vec::new();
    loop {
        let Some(line) = proc.next_line(deadline)? else {
            let exit = match proc.wait_exit(Instant::now() + Duration::from_secs(2)) {
                Ok(status) => status.to_string(),
                Err(e) => e,
            };
            return Err(format!(
                "{} exited before saying where it listens ({exit}); does it take these \
                 flags? (corering's hello needs --tls-cert/--tls-key)",
                proc.name
            ));
        };
        seen.push(line.clone());
        let addr = line
            .split(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '.' | ':' | '[' | ']')))
            .find_map(|token| token.parse::<SocketAddr>().ok());
        if let Some(addr) = addr {
            return Ok((addr, seen));
        }
        if line.contains(&port) {
            return Ok((requested, seen));
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

/// Sends `depth` pipelined `GET /plaintext` in one write through `openssl s_client`
/// (certificate verified against `cert`, ALPN http/1.1), the last with `Connection:
/// close`, and checks every answer and that the server then closes.
fn check_responses(addr: SocketAddr, cert: &Path, depth: usize) -> Res<()> {
    let mut child = Command::new("openssl")
        .args([
            "s_client",
            "-quiet",
            "-verify_return_error",
            "-alpn",
            "http/1.1",
        ])
        .args(["-servername", "localhost", "-verify_hostname", "localhost"])
        .arg("-CAfile")
        .arg(cert)
        .arg("-connect")
        .arg(addr.to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .context(|| "starting openssl s_client".into())?;
    let mut requests = String::new();
    for i in 1..=depth {
        let close = if i == depth {
            "Connection: close\r\n"
        } else {
            ""
        };
        let _ = write!(
            requests,
            "GET /plaintext HTTP/1.1\r\nHost: localhost\r\n{close}\r\n"
        );
    }
    let mut stdin = child.stdin.take().expect("piped");
    let mut stdout = child.stdout.take().expect("piped");
    let mut stderr = child.stderr.take().expect("piped");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut out = Vec::new();
        let r = stdout.read_to_end(&mut out);
        let _ = tx.send(r.map(|_| out));
    });
    stdin
        .write_all(requests.as_bytes())
        .context(|| "writing to openssl s_client".into())?;
    let got = rx.recv_timeout(Duration::from_secs(10));
    let _ = child.kill();
    let _ = child.wait();
    drop(stdin);
    let mut err = String::new();
    let _ = stderr.read_to_string(&mut err);
    let buf = match got {
        Ok(Ok(buf)) => buf,
        Ok(Err(e)) => return Err(format!("reading from openssl s_client: {e}")),
        Err(_) => {
            return Err(format!(
                "no close after {depth} answers within 10 s; s_client said: {err}"
            ))
        }
    };
    let mut rest = &buf[..];
    for i in 1..=depth {
        match parse_response(rest) {
            Ok(Some(len)) => rest = &rest[len..],
            Ok(None) => {
                return Err(format!(
                    "answer {i} of {depth} incomplete; s_client said: {err}"
                ))
            }
            Err(e) => return Err(format!("answer {i} of {depth}: {e}")),
        }
    }
    if !rest.is_empty() {
        return Err(format!("{} bytes after the last answer", rest.len()));
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

/// The wrk Lua scripts, in temporary files removed on drop: one per load (the handshake
/// load uses the plaintext one with `-H "Connection: close"`).
struct WrkScripts {
    plaintext: PathBuf,
    pipelined: PathBuf,
    handshake: PathBuf,
}

/// Lua `done`: the p99 of the latencies wrk recorded, with wrk 4.1's coordinated-omission
/// correction undone (see benches/http_load.rs for how).
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
  io.write(string.format("tls_load: p99_us %d samples %d\n", p99, total))
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
        let done = |conns: usize| WRK_DONE.replace("CONNS", &conns.to_string());
        let pipeline = WRK_PIPELINE.replace("DEPTH", &opts.depth.to_string());
        let scripts = WrkScripts {
            plaintext: dir.join(format!("tls_load-plaintext-{pid}.lua")),
            pipelined: dir.join(format!("tls_load-pipelined-{pid}.lua")),
            handshake: dir.join(format!("tls_load-handshake-{pid}.lua")),
        };
        let header = "-- written by corering's tls_load bench; removed when it ends\n";
        for (path, text) in [
            (&scripts.plaintext, format!("{header}{}", done(opts.conns))),
            (
                &scripts.pipelined,
                format!("{header}{pipeline}{}", done(opts.conns)),
            ),
            (
                &scripts.handshake,
                format!("{header}{}", done(opts.handshake_conns)),
            ),
        ] {
            std::fs::write(path, text).context(|| format!("writing {}", path.display()))?;
        }
        Ok(scripts)
    }

    fn path(&self, load: Load) -> &Path {
        match load {
            Load::Plaintext => &self.plaintext,
            Load::Pipelined => &self.pipelined,
            Load::Handshake => &self.handshake,
        }
    }
}

impl Drop for WrkScripts {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.plaintext);
        let _ = std::fs::remove_file(&self.pipelined);
        let _ = std::fs::remove_file(&self.handshake);
    }
}

/// Runs wrk for `secs` against `server`, sampling the server's CPU time around it.
fn wrk(
    server: &RunningServer,
    load: Load,
    secs: u64,
    opts: &Options,
    cpus: Cpus,
    scripts: &WrkScripts,
) -> Res<Sample> {
    let conns = match load {
        Load::Handshake => opts.handshake_conns,
        _ => opts.conns,
    };
    let mut cmd = Command::new(&opts.wrk);
    cmd.args(["-t", "1", "-c", &conns.to_string()])
        .args(["-d", &format!("{secs}s"), "-s"])
        .arg(scripts.path(load));
    if load == Load::Handshake {
        cmd.args(["-H", "Connection: close"]);
    }
    cmd.arg(format!("https://{}/plaintext", server.addr));
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
        } else if let Some(rest) = line.strip_prefix("tls_load: p99_us ") {
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

fn report(opts: &Options, cpus: Cpus, runs: &[Run], startup: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "\n### HTTPS GET /plaintext (wrk -t 1 over TLS; plaintext and pipelined -c {}, \
         pipelined = {} requests per write; handshake = -c {} with Connection: close, one \
         full handshake per request; servers on CPU {}, wrk on CPU {}, {} s warm-up + {} s \
         measured per run, server CPU from schedstat)\n",
        opts.conns,
        opts.depth,
        opts.handshake_conns,
        cpus.server,
        cpus.client,
        opts.warmup,
        opts.duration
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
         without its coordinated-omission correction (pipelined: per batch of {}); spread = \
         half the min-max range of CPU/request relative to its median; server CPU = CPU \
         time / wall time of the wrk run. handshake: requests/s = handshakes/s (wrk's own \
         half of each handshake runs on its CPU and may be what limits the rate; the \
         server's CPU per handshake is the figure to compare).",
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
             same round).\n",
        );
    }
    if !startup.is_empty() {
        out.push_str("\nStartup lines:\n\n");
        out.push_str(startup);
    }
    out
}
