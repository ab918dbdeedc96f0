//! Pieces shared by the load benchmarks (`echo_load`, `kv_load`, `http_load`, `tls_load`,
//! `static_load`, `ws_load`),
//! included by each with `mod support;`: errors with context, child processes pinned to a
//! CPU, CPU selection, waiting for a server to listen, building an example or the peer
//! servers (`benches/peers`), process CPU time, medians and per-round paired ratios; `wrk`
//! runs and their report tables in [`wrk`], loads and servers named on the command line
//! and in the tables in [`named`], the check of a hello server's answer in
//! [`hello`], corering's backend forced and checked per server in [`backend`].
//!
//! Messages printed from here start with the name of the bench that includes this module
//! (`CARGO_CRATE_NAME`), like the bench's own messages.

use std::io::{self, BufRead, BufReader};
use std::mem::{size_of, zeroed};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

#[allow(dead_code)] // kv_load and tls_load run corering on its default backend
pub mod backend;
#[allow(dead_code)] // only the HTTP benches (http_load, tls_load) check hello's answers
pub mod hello;
#[allow(dead_code, unused_imports, unused_macros)]
// echo_load and kv_load name their loads their own way
pub mod named;
#[allow(dead_code)] // only the HTTP benches (http_load, tls_load, static_load) run wrk
pub mod wrk;

/// Name of the bench this module is compiled into: the prefix of its messages.
const BENCH: &str = env!("CARGO_CRATE_NAME");

/// How long a child gets to exit after SIGTERM before it is SIGKILLed.
const SIGTERM_GRACE: Duration = Duration::from_secs(5);

pub type Res<T> = Result<T, String>;

/// Attaches a description of what was being done to an error.
pub trait Context<T> {
    fn context(self, what: impl FnOnce() -> String) -> Res<T>;
}

impl<T, E: std::fmt::Display> Context<T> for Result<T, E> {
    fn context(self, what: impl FnOnce() -> String) -> Res<T> {
        self.map_err(|e| format!("{}: {e}", what()))
    }
}

pub fn parse_number<T: std::str::FromStr>(flag: &str, value: &str) -> Res<T>
where
    T::Err: std::fmt::Display,
{
    value
        .parse()
        .context(|| format!("bad value {value:?} for {flag}"))
}

/// Walks the command line: skips `--bench`, prints `usage` and exits on `--help` or `-h`,
/// and hands every other flag to `apply` together with a function that takes the flag's
/// value. `apply` returns false for a flag it does not know, which is an error.
pub fn parse_flags<'a>(
    args: &'a [String],
    usage: &str,
    mut apply: impl FnMut(&'a str, &mut dyn FnMut() -> Res<&'a str>) -> Res<bool>,
) -> Res<()> {
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        match flag.as_str() {
            // `cargo bench` appends this to the arguments of `harness = false` targets.
            "--bench" => {}
            "--help" | "-h" => {
                print!("{usage}");
                std::process::exit(0);
            }
            other => {
                let mut value = || {
                    it.next()
                        .map(String::as_str)
                        .ok_or_else(|| format!("{flag} needs a value"))
                };
                if !apply(other, &mut value)? {
                    return Err(format!("unknown argument {other:?}\n{usage}"));
                }
            }
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// CPUs
// ---------------------------------------------------------------------------------------------

/// CPUs the server(s) and the load client are pinned to.
#[derive(Clone, Copy)]
pub struct Cpus {
    pub server: usize,
    pub client: usize,
}

/// How a report's runs were made, for its heading: `servers on CPU 0, CLIENT on CPU 1, W s
/// warm-up + S s measured per run, server CPU from schedstat`.
pub fn conditions(
    cpus: Cpus,
    client: &str,
    warmup: impl std::fmt::Display,
    measured: impl std::fmt::Display,
) -> String {
    format!(
        "servers on CPU {}, {client} on CPU {}, {warmup} s warm-up + {measured} s measured per \
         run, server CPU from schedstat",
        cpus.server, cpus.client
    )
}

/// CPUs this process may run on.
fn allowed_cpus() -> Vec<usize> {
    // SAFETY: sched_getaffinity fills the zeroed cpu_set_t of the given size.
    unsafe {
        let mut set: libc::cpu_set_t = zeroed();
        if libc::sched_getaffinity(0, size_of::<libc::cpu_set_t>(), &mut set) != 0 {
            return vec![0];
        }
        (0..libc::CPU_SETSIZE as usize)
            .filter(|&cpu| libc::CPU_ISSET(cpu, &set))
            .collect()
    }
}

/// The first allowed CPU for the server(s), the second for the client; warns that
/// `sharers` (say "server and client") share one CPU when there is only one.
pub fn pick_cpus(sharers: &str) -> Cpus {
    let allowed = allowed_cpus();
    let server = allowed.first().copied().unwrap_or(0);
    let client = allowed.get(1).copied().unwrap_or(server);
    if client == server {
        eprintln!("{BENCH}: warning: only one CPU available; {sharers} share it");
    }
    Cpus { server, client }
}

fn cpu_set_of(cpu: usize) -> libc::cpu_set_t {
    // SAFETY: CPU_SET writes a bit inside the zeroed set (cpu is below CPU_SETSIZE).
    unsafe {
        let mut set: libc::cpu_set_t = zeroed();
        libc::CPU_SET(cpu, &mut set);
        set
    }
}

// ---------------------------------------------------------------------------------------------
// Child processes
// ---------------------------------------------------------------------------------------------

/// A child process whose stdout is read line by line on a helper thread. Dropping it
/// terminates the process (SIGTERM, then SIGKILL) and reaps it.
pub struct ChildProc {
    /// What messages about the process call it.
    pub name: String,
    child: Option<Child>,
    lines: Receiver<String>,
}

impl ChildProc {
    /// Spawns `cmd` with stdout piped, pinned to `cpu`; the child gets SIGTERM if this
    /// process dies.
    pub fn spawn(name: &str, mut cmd: Command, cpu: usize) -> Res<Self> {
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        let set = cpu_set_of(cpu);
        // SAFETY: the hook only makes the async-signal-safe prctl and sched_setaffinity calls.
        unsafe {
            cmd.pre_exec(move || {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM as libc::c_ulong) != 0 {
                    return Err(io::Error::last_os_error());
                }
                if libc::sched_setaffinity(0, size_of::<libc::cpu_set_t>(), &set) != 0 {
                    return Err(io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let mut child = cmd.spawn().context(|| format!("starting {name}"))?;
        let stdout = child.stdout.take().expect("child stdout is piped");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            // Keep draining after the receiver is gone so the child never blocks on stdout.
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let _ = tx.send(line);
            }
        });
        Ok(ChildProc {
            name: name.to_string(),
            child: Some(child),
            lines: rx,
        })
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().map_or(0, Child::id)
    }

    /// The next stdout line, waiting until `deadline`; `None` once stdout is closed.
    pub fn next_line(&mut self, deadline: Instant) -> Res<Option<String>> {
        let timeout = deadline.saturating_duration_since(Instant::now());
        match self.lines.recv_timeout(timeout) {
            Ok(line) => Ok(Some(line)),
            Err(RecvTimeoutError::Timeout) => {
                Err(format!("timed out waiting for output from {}", self.name))
            }
            Err(RecvTimeoutError::Disconnected) => Ok(None),
        }
    }

    /// Waits until `deadline` for the child to exit on its own, then terminates it.
    pub fn wait_exit(&mut self, deadline: Instant) -> Res<ExitStatus> {
        while Instant::now() < deadline {
            let child = self.child.as_mut().ok_or("child already reaped")?;
            if let Some(status) = child
                .try_wait()
                .context(|| format!("waiting for {}", self.name))?
            {
                self.child = None;
                return Ok(status);
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        let status = self.terminate()?;
        Err(format!(
            "{} did not exit in time; terminated ({status})",
            self.name
        ))
    }

    /// Sends SIGTERM, waits up to [`SIGTERM_GRACE`], then SIGKILLs; returns the exit status.
    pub fn terminate(&mut self) -> Res<ExitStatus> {
        let mut child = self.child.take().ok_or("child already reaped")?;
        if let Some(status) = child
            .try_wait()
            .context(|| format!("polling {}", self.name))?
        {
            return Ok(status);
        }
        // SAFETY: plain kill(2) on the pid of our own, not yet reaped, child.
        unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) };
        let deadline = Instant::now() + SIGTERM_GRACE;
        while Instant::now() < deadline {
            if let Some(status) = child
                .try_wait()
                .context(|| format!("polling {}", self.name))?
            {
                return Ok(status);
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        eprintln!("{BENCH}: {} ignored SIGTERM; killing it", self.name);
        let _ = child.kill();
        child.wait().context(|| format!("reaping {}", self.name))
    }

    /// Stops a server with SIGTERM, warning if it does not exit with status 0.
    pub fn stop(mut self) -> Res<()> {
        let status = self.terminate()?;
        if !status.success() {
            eprintln!(
                "{BENCH}: warning: {} exited with {status} on SIGTERM",
                self.name
            );
        }
        Ok(())
    }
}

impl Drop for ChildProc {
    fn drop(&mut self) {
        if self.child.is_some() {
            let _ = self.terminate();
        }
    }
}

/// A currently free loopback port.
pub fn free_loopback_addr() -> Res<SocketAddr> {
    let listener = TcpListener::bind("127.0.0.1:0").context(|| "binding a probe port".into())?;
    listener
        .local_addr()
        .context(|| "reading the probe port".into())
}

/// The first socket address in `line` (a token of it that parses as one), as in a server's
/// `listening on 127.0.0.1:8080`.
pub fn socket_addr_in(line: &str) -> Option<SocketAddr> {
    line.split(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '.' | ':' | '[' | ']')))
        .find_map(|token| token.parse().ok())
}

/// Waits up to 15 s for the stdout line that says where the server `proc` listens; returns
/// that address (or `requested` when the line names the port but no parseable address) and
/// the lines it printed up to it. An error, with its exit status, if it exits first.
#[allow(dead_code)] // kv_load pings instead
pub fn wait_for_listen_line(
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
                "{} exited before saying where it listens ({exit})",
                proc.name
            ));
        };
        seen.push(line.clone());
        if let Some(addr) = socket_addr_in(&line) {
            return Ok((addr, seen));
        }
        if line.contains(&port) {
            return Ok((requested, seen));
        }
    }
}

/// Waits until `limit` for `addr` to accept a TCP connection.
#[allow(dead_code)] // kv_load waits for an answer to PING instead
pub fn wait_connectable(addr: SocketAddr, limit: Duration) -> Res<()> {
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

/// Parses a comma list for a flag such as `--only` or `--servers`, dropping repeats.
#[allow(dead_code)] // echo_load and kv_load parse their lists their own way
pub fn parse_list<T: PartialEq>(list: &str, parse: fn(&str) -> Res<T>) -> Res<Vec<T>> {
    let mut out = Vec::new();
    for item in list.split(',').filter(|s| !s.is_empty()) {
        let v = parse(item)?;
        if !out.contains(&v) {
            out.push(v);
        }
    }
    Ok(out)
}

/// Runs `cargo build --release --example NAME` and returns the path of the binary.
pub fn build_example(name: &str) -> Res<PathBuf> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    // The workspace root (the examples are a package of their own there).
    let dir = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")))
        .join("..");
    eprintln!("{BENCH}: cargo build --release --example {name}");
    let status = Command::new(&cargo)
        .args(["build", "--release", "--example", name])
        .current_dir(&dir)
        .stdin(Stdio::null())
        .status()
        .context(|| format!("running {}", Path::new(&cargo).display()))?;
    if !status.success() {
        return Err(format!("building the {name} example failed ({status})"));
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(|t| dir.join(t))
        .unwrap_or_else(|| dir.join("target"));
    let bin = target.join("release/examples").join(name);
    if bin.is_file() {
        return Ok(bin);
    }
    // Fall back to the layout around this bench binary: <target>/release/deps/<bench>-*.
    let exe = std::env::current_exe().context(|| "locating the bench binary".into())?;
    match exe
        .parent()
        .and_then(Path::parent)
        .map(|release| release.join("examples").join(name))
    {
        Some(bin) if bin.is_file() => Ok(bin),
        _ => Err(format!(
            "built the {name} example but found no binary at {}",
            bin.display()
        )),
    }
}

/// Builds the peer servers' package (`benches/peers`, its own workspace) with `cargo build
/// --release --manifest-path benches/peers/Cargo.toml --target-dir benches/peers/target`;
/// returns the folder of its binaries.
pub fn build_peers() -> Res<PathBuf> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let peers = root.join("benches/peers");
    let manifest = peers.join("Cargo.toml");
    let target = peers.join("target");
    eprintln!(
        "{BENCH}: cargo build --release --manifest-path {}",
        manifest.display()
    );
    let start = Instant::now();
    let status = Command::new(&cargo)
        .arg("build")
        .arg("--release")
        .arg("--manifest-path")
        .arg(&manifest)
        .arg("--target-dir")
        .arg(&target)
        .current_dir(&peers)
        .stdin(Stdio::null())
        .status()
        .context(|| format!("running {}", Path::new(&cargo).display()))?;
    if !status.success() {
        return Err(format!(
            "building the peer servers in {} failed ({status})",
            peers.display()
        ));
    }
    eprintln!(
        "{BENCH}: peers built in {:.1} s",
        start.elapsed().as_secs_f64()
    );
    Ok(target.join("release"))
}

/// The peer binary `name`: from `peers_dir` if given (`--peers-dir`), else
/// from a fresh build of benches/peers.
pub fn peer_bin(peers_dir: Option<&Path>, name: &str) -> Res<PathBuf> {
    let dir = match peers_dir {
        Some(dir) => dir.to_path_buf(),
        None => build_peers()?,
    };
    let bin = dir.join(name);
    if !bin.is_file() {
        return Err(format!("no {name} binary at {}", bin.display()));
    }
    Ok(bin)
}

/// The binary of every server of an HTTP bench, in the order of `servers`: a peer's (the
/// one `peer_bin` names) from `peers_dir`, else from one fresh build of benches/peers made
/// only if a peer is selected; corering's (where `peer_bin` gives `None`) from `hello_bin`,
/// else from one build of `examples/hello`.
#[allow(dead_code)] // echo_load and kv_load run other servers
pub fn hello_and_peer_binaries<S: Copy>(
    servers: &[S],
    peer_bin: fn(S) -> Option<&'static str>,
    peers_dir: Option<&Path>,
    hello_bin: Option<&Path>,
) -> Res<Vec<(S, PathBuf)>> {
    let needs_peers = servers.iter().any(|&s| peer_bin(s).is_some());
    let peers_dir = match (peers_dir, needs_peers) {
        (_, false) => None,
        (Some(dir), true) => Some(dir.to_path_buf()),
        (None, true) => Some(build_peers()?),
    };
    let mut hello = hello_bin.map(Path::to_path_buf);
    let mut bins = Vec::new();
    for &kind in servers {
        let bin = match (peer_bin(kind), &peers_dir) {
            (Some(name), Some(dir)) => self::peer_bin(Some(dir), name)?,
            _ => match &hello {
                Some(bin) => bin.clone(),
                None => hello.insert(build_example("hello")?).clone(),
            },
        };
        bins.push((kind, bin));
    }
    Ok(bins)
}

// ---------------------------------------------------------------------------------------------
// Measuring
// ---------------------------------------------------------------------------------------------

/// Total on-CPU time of all threads of `pid`: the sum of the first field of
/// `/proc/PID/task/*/schedstat`, in ns. An error if no thread's schedstat can be read.
pub fn schedstat_ns(pid: u32) -> Res<u64> {
    let dir = format!("/proc/{pid}/task");
    let tasks = std::fs::read_dir(&dir).context(|| format!("reading {dir}"))?;
    let mut total = None;
    for task in tasks.flatten() {
        // Threads may exit between listing and reading; skip those.
        let Ok(text) = std::fs::read_to_string(task.path().join("schedstat")) else {
            continue;
        };
        let ns = text
            .split_whitespace()
            .next()
            .and_then(|v| v.parse::<u64>().ok())
            .ok_or_else(|| format!("malformed schedstat of {pid}"))?;
        *total.get_or_insert(0) += ns;
    }
    total.ok_or_else(|| format!("no readable schedstat of {pid}"))
}

/// What a load run measured of a server: throughput and the server's CPU time.
#[derive(Clone, Copy, Debug)]
#[allow(dead_code)] // echo_load measures messages, not requests
pub struct ServerCost {
    /// Requests/s as the load client reports it.
    pub rps: f64,
    /// Responses the load client counted.
    pub requests: u64,
    /// The server's on-CPU time during the run.
    pub server_cpu_ns: u64,
    /// Wall time of the run.
    pub wall_ns: u64,
}

#[allow(dead_code)] // echo_load measures messages, not requests
impl ServerCost {
    /// The server's CPU time per response.
    pub fn cpu_ns_per_request(&self) -> f64 {
        self.server_cpu_ns as f64 / self.requests as f64
    }

    /// The server's CPU time over the run's wall time.
    pub fn server_util(&self) -> f64 {
        self.server_cpu_ns as f64 / self.wall_ns.max(1) as f64
    }
}

/// Medians of [`ServerCost`]s over the rounds of one load and server.
#[allow(dead_code)] // echo_load measures messages, not requests
pub struct CostMedians {
    /// Requests/s.
    pub rps: f64,
    /// Server CPU time per request.
    pub cpu_ns: f64,
    /// Half the min-max range of the CPU time per request, relative to its median.
    pub cpu_spread: f64,
    /// Server CPU time over wall time.
    pub util: f64,
}

#[allow(dead_code)] // echo_load measures messages, not requests
impl CostMedians {
    /// The medians of `costs`; `None` if there are none.
    pub fn of(costs: &[ServerCost]) -> Option<CostMedians> {
        let (cpu_ns, cpu_spread) = median_and_spread(costs, ServerCost::cpu_ns_per_request)?;
        Some(CostMedians {
            rps: median_of(costs, |c| c.rps)?,
            cpu_ns,
            cpu_spread,
            util: median_of(costs, ServerCost::server_util)?,
        })
    }
}

/// Median of `f` over `samples`.
#[allow(dead_code)] // echo_load has medians of its own shape
pub fn median_of<T>(samples: &[T], f: impl Fn(&T) -> f64) -> Option<f64> {
    let mut v: Vec<f64> = samples.iter().map(f).collect();
    v.sort_by(f64::total_cmp);
    median(&v)
}

/// Median of `f` over `samples` and its spread: half the min-max range relative to the
/// median.
#[allow(dead_code)] // echo_load has medians of its own shape
pub fn median_and_spread<T>(samples: &[T], f: impl Fn(&T) -> f64) -> Option<(f64, f64)> {
    let mut v: Vec<f64> = samples.iter().map(f).collect();
    v.sort_by(f64::total_cmp);
    let m = median(&v)?;
    Some((m, (v[v.len() - 1] - v[0]) / 2.0 / m))
}

/// Median of sorted values.
pub fn median(sorted: &[f64]) -> Option<f64> {
    let n = sorted.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(sorted[n / 2]),
        _ => Some((sorted[n / 2 - 1] + sorted[n / 2]) / 2.0),
    }
}

/// One measured run of a bench: which load, in which round, against which server, and
/// what it measured (or why it failed).
pub struct Run<L, S, T> {
    pub load: L,
    pub round: usize,
    pub server: S,
    pub outcome: Res<T>,
}

/// Measures every load against every server, `rounds` times, and returns all runs, the
/// failed ones too. Within a round and load the servers take turns in an order that
/// rotates from round to round, so that slow drifts of the machine hit all alike (the
/// report then pairs the runs of a round). `who` gives a server's kind and name, `measure`
/// does one run, and `summary` says what a successful run measured; progress and
/// failures go to stderr as it goes.
#[allow(dead_code)] // echo_load runs its rounds per load, memory runs apart
pub fn interleaved_runs<L: Copy, S: Copy, Server, T>(
    rounds: usize,
    loads: &[L],
    servers: &[Server],
    load_name: impl Fn(L) -> String,
    who: impl Fn(&Server) -> (S, &'static str),
    mut measure: impl FnMut(&Server, L) -> Res<T>,
    summary: impl Fn(&T) -> String,
) -> Vec<Run<L, S, T>> {
    let mut runs = Vec::new();
    for round in 1..=rounds {
        for &load in loads {
            let mut order: Vec<&Server> = servers.iter().collect();
            let len = order.len().max(1);
            order.rotate_left((round - 1) % len);
            for server in order {
                let (kind, name) = who(server);
                let what = format!("{} against {name} (round {round})", load_name(load));
                eprintln!("{BENCH}: {what}...");
                let outcome = measure(server, load);
                match &outcome {
                    Ok(t) => eprintln!("{BENCH}:   {}", summary(t)),
                    Err(e) => eprintln!("{BENCH}: {what} failed: {e}"),
                }
                runs.push(Run {
                    load,
                    round,
                    server: kind,
                    outcome,
                });
            }
        }
    }
    runs
}

/// Runs the bench's `run` on the command line's arguments; on an error prints it and exits
/// with status 1.
#[allow(dead_code)] // echo_load picks a role first
pub fn main_with(run: fn(&[String]) -> Res<()>) {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Err(e) = run(&args) {
        eprintln!("{BENCH}: error: {e}");
        std::process::exit(1);
    }
}

/// What the successful runs of `load` against `server` measured.
#[allow(dead_code)] // echo_load gathers its samples its own way
pub fn succeeded<L: PartialEq, S: PartialEq, T: Copy>(
    runs: &[Run<L, S, T>],
    load: L,
    server: S,
) -> Vec<T> {
    runs.iter()
        .filter(|r| r.load == load && r.server == server)
        .filter_map(|r| r.outcome.as_ref().ok().copied())
        .collect()
}

/// An error that says how many runs failed, if any did (they were reported as they
/// failed).
#[allow(dead_code)] // echo_load counts its memory runs too
pub fn none_failed<L, S, T>(runs: &[Run<L, S, T>]) -> Res<()> {
    match runs.iter().filter(|r| r.outcome.is_err()).count() {
        0 => Ok(()),
        failures => Err(format!("{failures} run(s) failed (see above)")),
    }
}

/// Median over rounds of `ours`'s `f` divided by `peer`'s `f` in the same round, over the
/// rounds of `load` in which both succeeded. The two runs of a round are back to back, so
/// they saw the same machine: this cancels its slow drifts better than a ratio of medians.
pub fn paired_ratio<L: PartialEq, S: PartialEq, T>(
    runs: &[Run<L, S, T>],
    load: L,
    ours: S,
    peer: S,
    f: fn(&T) -> f64,
) -> Option<f64> {
    median(&paired_ratios(runs, load, ours, peer, f))
}

/// The per-round ratios of [`paired_ratio`], sorted.
pub fn paired_ratios<L: PartialEq, S: PartialEq, T>(
    runs: &[Run<L, S, T>],
    load: L,
    ours: S,
    peer: S,
    f: fn(&T) -> f64,
) -> Vec<f64> {
    let of = |round: usize, server: &S| {
        runs.iter()
            .find(|r| r.load == load && r.round == round && r.server == *server)
            .and_then(|r| r.outcome.as_ref().ok())
            .map(f)
    };
    let mut ratios: Vec<f64> = runs
        .iter()
        .filter(|r| r.load == load && r.server == ours)
        .filter_map(|r| Some(of(r.round, &ours)? / of(r.round, &peer)?))
        .collect();
    ratios.sort_by(f64::total_cmp);
    ratios
}

/// A 95% interval for the median of `sorted` (per-round ratios): the 2.5th
/// and 97.5th percentiles of the medians of 2,000 resamples drawn with
/// replacement (a bootstrap; seeded, so a log gives the same interval
/// every time). On a machine whose speed drifts this shows how far the
/// median of this many rounds can move; `None` under 5 rounds.
pub fn median_interval(sorted: &[f64]) -> Option<(f64, f64)> {
    const RESAMPLES: usize = 2000;
    let n = sorted.len();
    if n < 5 {
        return None;
    }
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = || {
        // xorshift64*: plenty for picking rounds.
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        (state.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 33) as usize % n
    };
    let mut medians = Vec::with_capacity(RESAMPLES);
    let mut pick = vec![0.0; n];
    for _ in 0..RESAMPLES {
        for p in pick.iter_mut() {
            *p = sorted[next()];
        }
        pick.sort_by(f64::total_cmp);
        medians.push(median(&pick)?);
    }
    medians.sort_by(f64::total_cmp);
    Some((
        medians[RESAMPLES / 40],
        medians[RESAMPLES - 1 - RESAMPLES / 40],
    ))
}

pub fn verdict(ok: bool) -> &'static str {
    if ok {
        "PASS"
    } else {
        "MISS"
    }
}

/// True if `tool` is a path to a file, or a command found on `PATH`.
#[allow(dead_code)] // echo_load needs no outside tool
pub fn on_path(tool: &Path) -> bool {
    if tool.components().count() > 1 {
        return tool.is_file();
    }
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(tool).is_file()))
}
