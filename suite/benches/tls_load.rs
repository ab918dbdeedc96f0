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
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use support::hello::parse_hello_response;
use support::named::{named_enum, Named};
use support::wrk::{ratios_table, Sample, Script, Section, WrkOptions, WrkRun, WrkScripts};
use support::{
    free_loopback_addr, hello_and_peer_binaries, none_failed, on_path, parse_flags, parse_number,
    pick_cpus, wait_connectable, wait_for_listen_line, ChildProc, Context, Cpus, Res,
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
    support::main_with(run);
}

// ---------------------------------------------------------------------------------------------
// Loads, servers, options
// ---------------------------------------------------------------------------------------------

named_enum! {
    enum Load: "load" {
        Plaintext = "plaintext" | "plain",
        Pipelined = "pipelined" | "pipeline",
        Handshake = "handshake" | "handshakes" | "close",
    }
}

named_enum! {
    enum ServerKind: "server" {
        Corering = "corering" | "hello",
        CoreringKtls = "corering-ktls" | "ktls",
        Hyper = "hyper+tokio-rustls" | "hyper",
        Floor = "floor" | "tls_floor",
    }
}

impl ServerKind {
    const DEFAULT: [ServerKind; 3] = [ServerKind::Corering, ServerKind::Hyper, ServerKind::Floor];
    const PEERS: [ServerKind; 3] = [
        ServerKind::CoreringKtls,
        ServerKind::Hyper,
        ServerKind::Floor,
    ];

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

/// The shared options and tls_load's own.
struct Options {
    base: WrkOptions<Load, ServerKind>,
    handshake_conns: usize,
    cert: Option<(PathBuf, PathBuf)>,
    hello_args: Vec<String>,
    ktls_args: Option<Vec<String>>,
}

fn split_args(s: &str) -> Vec<String> {
    s.split_whitespace().map(String::from).collect()
}

fn parse_options(args: &[String]) -> Res<Options> {
    let mut opts = Options {
        base: WrkOptions::new(4, Load::ALL.to_vec(), ServerKind::DEFAULT.to_vec()),
        handshake_conns: 16,
        cert: None,
        hello_args: Vec::new(),
        ktls_args: None,
    };
    let (mut cert, mut key) = (None, None);
    parse_flags(args, USAGE, |flag, value| {
        match flag {
            "--handshake-conns" => opts.handshake_conns = parse_number(flag, value()?)?,
            "--cert" => cert = Some(PathBuf::from(value()?)),
            "--key" => key = Some(PathBuf::from(value()?)),
            "--hello-args" => opts.hello_args = split_args(value()?),
            "--ktls-args" => opts.ktls_args = Some(split_args(value()?)),
            _ => return opts.base.flag(flag, value),
        }
        Ok(true)
    })?;
    opts.cert = match (cert, key) {
        (Some(c), Some(k)) => Some((c, k)),
        (None, None) => None,
        _ => return Err("--cert and --key go together".into()),
    };
    opts.base.check()?;
    if opts.handshake_conns == 0 {
        return Err("--handshake-conns must be positive".into());
    }
    if opts.base.servers.contains(&ServerKind::CoreringKtls) && opts.ktls_args.is_none() {
        return Err("corering-ktls needs --ktls-args: the hello flags that switch kTLS on".into());
    }
    Ok(opts)
}

// ---------------------------------------------------------------------------------------------
// Orchestration
// ---------------------------------------------------------------------------------------------

type Run = support::Run<Load, ServerKind, Sample>;

fn run(args: &[String]) -> Res<()> {
    let opts = parse_options(args)?;
    for (tool, what) in [
        (
            &opts.base.wrk,
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
    let scripts = write_scripts(&opts)?;

    let mut servers = Vec::new();
    for (kind, bin) in &bins {
        let server = RunningServer::start(*kind, bin, &opts, &pair, cpus.server)?;
        check_responses(server.addr, &pair.cert, opts.base.depth)
            .context(|| format!("checking the answers of {}", kind.name()))?;
        servers.push(server);
    }

    let runs = support::interleaved_runs(
        opts.base.rounds,
        &opts.base.loads,
        &servers,
        |l| l.name().to_string(),
        |s| (s.kind, s.kind.name()),
        |server, load| measure(server, load, &opts, cpus, &scripts),
        Sample::summary,
    );
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
    none_failed(&runs)
}

/// The binary of every selected server, building corering's hello and the peers if needed.
fn resolve_binaries(opts: &Options) -> Res<Vec<(ServerKind, PathBuf)>> {
    hello_and_peer_binaries(
        &opts.base.servers,
        ServerKind::peer_bin,
        opts.base.peers_dir.as_deref(),
        opts.base.hello_bin.as_deref(),
    )
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
                // The io_uring figures, whatever CORERING_BACKEND says.
                support::backend::Backend::Uring.force(&mut cmd);
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
        let (addr, startup) = wait_for_listen_line(&mut proc, requested).map_err(|e| {
            format!("{e}; does it take these flags? (corering's hello needs --tls-cert/--tls-key)")
        })?;
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
        match parse_hello_response(rest) {
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

// ---------------------------------------------------------------------------------------------
// wrk runs
// ---------------------------------------------------------------------------------------------

/// The wrk Lua scripts, one per load (the handshake load is the plaintext one with its
/// own connection count, run with `-H "Connection: close"`).
fn write_scripts(opts: &Options) -> Res<WrkScripts> {
    WrkScripts::write(&[
        Script::plain(Load::Plaintext.name(), opts.base.conns),
        Script::pipelined(Load::Pipelined.name(), opts.base.conns, opts.base.depth),
        Script::plain(Load::Handshake.name(), opts.handshake_conns),
    ])
}

/// A warm-up and a measured wrk run of `load` against `server`.
fn measure(
    server: &RunningServer,
    load: Load,
    opts: &Options,
    cpus: Cpus,
    scripts: &WrkScripts,
) -> Res<Sample> {
    let (conns, headers): (usize, &[&str]) = match load {
        Load::Handshake => (opts.handshake_conns, &["Connection: close"]),
        _ => (opts.base.conns, &[]),
    };
    WrkRun {
        wrk: &opts.base.wrk,
        script: scripts.path(load.name()),
        conns,
        headers,
        url: format!("https://{}/plaintext", server.addr),
        server_pid: server.pid(),
        cpu: cpus.client,
    }
    .measure(opts.base.warmup, opts.base.duration)
}

// ---------------------------------------------------------------------------------------------
// Report
// ---------------------------------------------------------------------------------------------

fn report(opts: &Options, cpus: Cpus, runs: &[Run], startup: &str) -> String {
    let mut out = String::new();
    Section {
        title: "HTTPS GET /plaintext",
        how: format!(
            "wrk -t 1 over TLS; plaintext and pipelined -c {}, pipelined = {} requests per \
             write; handshake = -c {} with Connection: close, one full handshake per request",
            opts.base.conns, opts.base.depth, opts.handshake_conns
        ),
        pipelined: Some(opts.base.depth),
        more: "handshake: requests/s = handshakes/s (wrk's own half of each handshake runs \
               on its CPU and may be what limits the rate; the server's CPU per handshake is \
               the figure to compare).",
    }
    .write(&mut out, &opts.base, cpus, runs);

    ratios_table(
        &mut out,
        &opts.base.loads,
        &opts.base.servers,
        ServerKind::Corering,
        &ServerKind::PEERS,
        runs,
        targets,
    );
    if !startup.is_empty() {
        out.push_str("\nStartup lines:\n\n");
        out.push_str(startup);
    }
    out
}
