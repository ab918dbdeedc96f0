//! Static file benchmark: corering's `ServeDir` (`examples/hello --static DIR`), on io_uring
//! and on epoll, against nginx serving the same two files, all driven by `wrk`.
//!
//! ```text
//! apt-get install nginx-light wrk                  # once; this bench installs nothing
//! cargo bench --bench static_load                  # -- --help lists the options
//! cargo bench --bench static_load -- --rounds 5 --only 4k --servers corering,nginx
//! ```
//!
//! Files: `4k.bin` (4 KiB) and `1m.bin` (1 MiB) of pseudo-random bytes, written to a
//! temporary directory (removed at the end) and read once by each server before it is
//! measured, so every run reads from a warm page cache.
//!
//! Servers (each one serving thread, pinned to the same CPU; they take turns, only the one
//! under load does anything):
//! * `corering`: `examples/hello --workers 1 --static DIR` (built with `cargo build
//!   --release --example hello`, or `--hello-bin PATH`) on io_uring
//!   (`CORERING_BACKEND=uring`), `GET /static/4k.bin`. Its blocking pool's threads (if the
//!   build uses them) are counted in its CPU time.
//! * `corering-epoll`: the same on the epoll backend (`CORERING_BACKEND=epoll`).
//! * `nginx`: Debian's nginx (`nginx-light`) with a generated configuration: one worker
//!   process (`worker_cpu_affinity` on the server CPU), `daemon off`, `access_log off`,
//!   `sendfile on`, `tcp_nopush on`, `keepalive_requests` raised so that wrk's connections
//!   are never closed (nginx's default closes one after 1000 requests, corering never
//!   does), everything else at nginx's defaults (no `open_file_cache`). Its pid file, logs
//!   and temporary paths live in the temporary directory. The CPU time measured is its
//!   worker's (the master only waits).
//!
//! Before loading a server, the bench fetches both files from it and checks status 200 and
//! the bytes.
//!
//! Loads: `wrk -t 1 -c CONNS` (default 64), one request per write, `wrk` pinned to a second
//! CPU: `4k` gets `/static/4k.bin`, `1m` gets `/static/1m.bin`. Every load and server runs
//! `--rounds` times (default 3) in an order that rotates from round to round; each run is a
//! `--warmup` s wrk run (default 1, not measured) followed by the measured `--duration` s
//! run (default 5).
//!
//! Reported, as `http_load` does (the tables and options are `support::wrk`'s): requests/s, p99 latency and the server's CPU time per
//! request (schedstat of all its threads sampled around the run, divided by wrk's count),
//! medians over the rounds, and medians of per-round paired ratios corering/nginx,
//! corering/corering-epoll and corering-epoll/nginx. Target (issue 12; PASS/MISS is
//! informational): corering ≥ 1.0x nginx's requests/s and ≤ 1.0x its CPU per request.
//!
//! A missing `wrk` or `nginx` is a one-line `SKIP:` notice and exit status 0.

mod support;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use support::backend::{Backend, BackendNotes};
use support::named::{named_enum, Named};
use support::wrk::{ratios_table, Sample, Script, Section, WrkOptions, WrkRun};
use support::{
    build_example, free_loopback_addr, none_failed, on_path, parse_flags, pick_cpus,
    wait_connectable, wait_for_listen_line, ChildProc, Context, Cpus, Res,
};

const USAGE: &str = "\
usage: cargo bench --bench static_load -- [options]
  --rounds N        runs per load and server, interleaved; medians reported (default 3)
  --duration N      measured seconds per run (default 5)
  --warmup N        warm-up seconds before each measured run, 0 for none (default 1)
  --only LIST       comma list of loads: 4k, 1m (default: both)
  --servers LIST    comma list of corering, corering-epoll, nginx (default: all)
  --conns N         wrk connections (default 64)
  --hello-bin PATH  use this corering hello binary instead of building examples/hello
  --nginx PATH      (default: /usr/sbin/nginx, else nginx from PATH)
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
        Small = "4k" | "small",
        Large = "1m" | "large",
    }
}

impl Load {
    /// The file this load gets, and its size.
    fn file(self) -> (&'static str, usize) {
        match self {
            Load::Small => ("4k.bin", 4 << 10),
            Load::Large => ("1m.bin", 1 << 20),
        }
    }
}

named_enum! {
    enum ServerKind: "server" {
        Corering = "corering",
        /// corering on the epoll backend (`CORERING_BACKEND=epoll`).
        CoreringEpoll = "corering-epoll" | "epoll",
        Nginx = "nginx",
    }
}

impl ServerKind {
    /// The backend a corering server is forced onto; `None` for nginx.
    fn backend(self) -> Option<Backend> {
        match self {
            ServerKind::Corering => Some(Backend::Uring),
            ServerKind::CoreringEpoll => Some(Backend::Epoll),
            ServerKind::Nginx => None,
        }
    }
}

/// Targets against nginx (issue 12): at least its requests/s, at most its CPU per request.
fn targets(_: Load, peer: ServerKind) -> (Option<f64>, Option<f64>) {
    match peer {
        ServerKind::Nginx => (Some(1.0), Some(1.0)),
        _ => (None, None),
    }
}

struct Options {
    wrk: WrkOptions<Load, ServerKind>,
    nginx: PathBuf,
}

fn parse_options(args: &[String]) -> Res<Options> {
    let mut opts = Options {
        wrk: WrkOptions::new(5, Load::ALL.to_vec(), ServerKind::ALL.to_vec()),
        nginx: default_nginx(),
    };
    parse_flags(args, USAGE, |flag, value| {
        if flag == "--nginx" {
            opts.nginx = value()?.into();
            return Ok(true);
        }
        opts.wrk.flag(flag, value)
    })?;
    opts.wrk.check()?;
    Ok(opts)
}

/// Debian puts nginx in /usr/sbin, which is not on every user's PATH.
fn default_nginx() -> PathBuf {
    let sbin = PathBuf::from("/usr/sbin/nginx");
    if sbin.is_file() {
        sbin
    } else {
        "nginx".into()
    }
}

// ---------------------------------------------------------------------------------------------
// Orchestration
// ---------------------------------------------------------------------------------------------

type Run = support::Run<Load, ServerKind, Sample>;

fn run(args: &[String]) -> Res<()> {
    let opts = parse_options(args)?;
    let w = &opts.wrk;
    if !on_path(&w.wrk) {
        println!(
            "SKIP: static_load: {} not found (apt-get install wrk)",
            w.wrk.display()
        );
        return Ok(());
    }
    if w.servers.contains(&ServerKind::Nginx) && !on_path(&opts.nginx) {
        println!(
            "SKIP: static_load: {} not found (apt-get install nginx-light)",
            opts.nginx.display()
        );
        return Ok(());
    }
    let cpus = pick_cpus("servers and wrk");
    let site = Site::create()?;
    let hello = if w.servers.iter().any(|s| s.backend().is_some()) {
        Some(match &w.hello_bin {
            Some(bin) => bin.clone(),
            None => build_example("hello")?,
        })
    } else {
        None
    };

    let mut servers = Vec::new();
    let mut notes = BackendNotes::default();
    for &kind in &w.servers {
        let server = match kind.backend() {
            Some(backend) => {
                let bin = hello
                    .as_deref()
                    .expect("hello is built for corering servers");
                RunningServer::corering(kind, backend, bin, &site, cpus.server, &mut notes)?
            }
            None => RunningServer::nginx(&opts.nginx, &site, cpus.server)?,
        };
        for &load in Load::ALL {
            check_file(server.addr, load)
                .context(|| format!("checking {} from {}", load.file().0, kind.name()))?;
        }
        servers.push(server);
    }

    let scripts = support::wrk::WrkScripts::write(&[
        Script::plain(Load::Small.name(), w.conns),
        Script::plain(Load::Large.name(), w.conns),
    ])?;
    let runs = support::interleaved_runs(
        w.rounds,
        &w.loads,
        &servers,
        |l| l.name().to_string(),
        |s| (s.kind, s.kind.name()),
        |server, load| {
            WrkRun {
                wrk: &w.wrk,
                script: scripts.path(load.name()),
                conns: w.conns,
                headers: &[],
                url: format!("http://{}/static/{}", server.addr, load.file().0),
                server_pid: server.cpu_pid,
                cpu: cpus.client,
            }
            .measure(w.warmup, w.duration)
        },
        Sample::summary,
    );
    for server in servers {
        server.proc.stop()?;
    }
    drop(scripts);
    print!("{}", report(w, cpus, &runs, &notes));
    none_failed(&runs)
}

// ---------------------------------------------------------------------------------------------
// The files
// ---------------------------------------------------------------------------------------------

/// The temporary directory: `www/static/` with the files, and nginx's own paths beside it.
struct Site {
    dir: PathBuf,
}

impl Site {
    fn create() -> Res<Site> {
        let dir = std::env::temp_dir().join(format!("static_load-{}", std::process::id()));
        let files = dir.join("www/static");
        std::fs::create_dir_all(&files).context(|| format!("creating {}", files.display()))?;
        let site = Site { dir };
        for &load in Load::ALL {
            let (name, len) = load.file();
            std::fs::write(files.join(name), contents(len))
                .context(|| format!("writing {name}"))?;
        }
        Ok(site)
    }

    /// What nginx takes as its root (`/static/...` below it).
    fn www(&self) -> PathBuf {
        self.dir.join("www")
    }

    /// What corering serves at `/static/`.
    fn files(&self) -> PathBuf {
        self.dir.join("www/static")
    }
}

impl Drop for Site {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// `len` pseudo-random bytes (xorshift), the same on every call.
fn contents(len: usize) -> Vec<u8> {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// Gets the load's file with `Connection: close` and checks status 200 and the bytes.
fn check_file(addr: SocketAddr, load: Load) -> Res<()> {
    let (name, len) = load.file();
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(2))
        .context(|| format!("connecting to {addr}"))?;
    s.set_read_timeout(Some(Duration::from_secs(5)))
        .context(|| "setting a read timeout".into())?;
    let request =
        format!("GET /static/{name} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    s.write_all(request.as_bytes())
        .context(|| "sending the request".into())?;
    let mut answer = Vec::new();
    s.read_to_end(&mut answer)
        .context(|| "reading the answer".into())?;
    let Some(end) = answer.windows(4).position(|w| w == b"\r\n\r\n") else {
        return Err("no end of head in the answer".into());
    };
    let head = String::from_utf8_lossy(&answer[..end]);
    if !head.starts_with("HTTP/1.1 200") {
        return Err(format!("answer: {}", head.lines().next().unwrap_or("")));
    }
    let body = &answer[end + 4..];
    if body.len() != len || body != contents(len).as_slice() {
        return Err(format!("{} body bytes, not the file's {len}", body.len()));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Servers
// ---------------------------------------------------------------------------------------------

/// A server under test, terminated when dropped.
struct RunningServer {
    kind: ServerKind,
    proc: ChildProc,
    addr: SocketAddr,
    /// The process whose threads do the serving (nginx's worker, not its master).
    cpu_pid: u32,
}

impl RunningServer {
    /// `hello --workers 1 --static DIR` on `backend`, pinned to `cpu`.
    fn corering(
        kind: ServerKind,
        backend: Backend,
        bin: &Path,
        site: &Site,
        cpu: usize,
        notes: &mut BackendNotes,
    ) -> Res<Self> {
        let requested = free_loopback_addr()?;
        let mut cmd = Command::new(bin);
        cmd.args(["--addr", &requested.to_string(), "--workers", "1"])
            .arg("--static")
            .arg(site.files());
        backend.force(&mut cmd);
        let mut proc = ChildProc::spawn(kind.name(), cmd, cpu)?;
        let (addr, lines) = wait_for_listen_line(&mut proc, requested)?;
        notes.check(kind.name(), backend, &lines);
        wait_connectable(addr, Duration::from_secs(5))?;
        let cpu_pid = proc.pid();
        Ok(RunningServer {
            kind,
            proc,
            addr,
            cpu_pid,
        })
    }

    /// nginx with the configuration [`nginx_conf`] writes, its worker on `cpu`.
    fn nginx(nginx: &Path, site: &Site, cpu: usize) -> Res<Self> {
        let addr = free_loopback_addr()?;
        let conf = site.dir.join("nginx.conf");
        std::fs::write(&conf, nginx_conf(site, addr, cpu))
            .context(|| format!("writing {}", conf.display()))?;
        let mut cmd = Command::new(nginx);
        cmd.arg("-p")
            .arg(&site.dir)
            .arg("-e")
            .arg(site.dir.join("error.log"))
            .arg("-c")
            .arg(&conf);
        let proc = ChildProc::spawn("nginx", cmd, cpu)?;
        wait_connectable(addr, Duration::from_secs(5))?;
        let cpu_pid = nginx_worker(proc.pid())?;
        Ok(RunningServer {
            kind: ServerKind::Nginx,
            proc,
            addr,
            cpu_pid,
        })
    }
}

/// One worker process pinned to `cpu`, in the foreground, files from `site`'s `www`.
fn nginx_conf(site: &Site, addr: SocketAddr, cpu: usize) -> String {
    let dir = site.dir.display();
    // worker_cpu_affinity takes a bit mask written in binary, CPU 0 rightmost.
    let mask = format!("1{}", "0".repeat(cpu));
    let user = if is_root() { "user root;\n" } else { "" };
    format!(
        "# written by corering's static_load bench
{user}daemon off;
master_process on;
worker_processes 1;
worker_cpu_affinity {mask};
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 1000000000;
    default_type application/octet-stream;
    client_body_temp_path {dir}/client_body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    server {{
        listen {addr};
        root {www};
    }}
}}
",
        www = site.www().display()
    )
}

/// True when running as root (nginx then needs `user root;` to read a root-owned tree).
fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// The pid of nginx's worker: the master's only child, once it is there.
fn nginx_worker(master: u32) -> Res<u32> {
    let path = format!("/proc/{master}/task/{master}/children");
    for _ in 0..100 {
        let children = std::fs::read_to_string(&path).context(|| format!("reading {path}"))?;
        if let Some(pid) = children.split_whitespace().next() {
            return pid.parse().context(|| format!("parsing {path}"));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Err("nginx started no worker process within 5 s".into())
}

// ---------------------------------------------------------------------------------------------
// Report
// ---------------------------------------------------------------------------------------------

fn report(
    opts: &WrkOptions<Load, ServerKind>,
    cpus: Cpus,
    runs: &[Run],
    notes: &BackendNotes,
) -> String {
    let mut out = String::new();
    notes.write(&mut out);
    Section {
        title: "Static files: GET /static/4k.bin and /static/1m.bin",
        how: format!("wrk -t 1 -c {}", opts.conns),
        pipelined: None,
        more: "",
    }
    .write(&mut out, opts, cpus, runs);
    ratios_table(
        &mut out,
        &opts.loads,
        &opts.servers,
        ServerKind::Corering,
        &[ServerKind::Nginx, ServerKind::CoreringEpoll],
        runs,
        targets,
    );
    ratios_table(
        &mut out,
        &opts.loads,
        &opts.servers,
        ServerKind::CoreringEpoll,
        &[ServerKind::Nginx],
        runs,
        targets,
    );
    out
}
