//! `wrk` as the HTTP load benches (`http_load`, `tls_load`) drive it: the Lua scripts in
//! temporary files, one measured run with the server's CPU time sampled around it, what a
//! run measured, and the tables of medians and corering/peer ratios over the rounds.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

pub use super::named::Named;
use super::{
    conditions, median, median_interval, median_of, paired_ratio, paired_ratios, parse_list,
    parse_number, schedstat_ns, succeeded, verdict, ChildProc, Context, CostMedians, Cpus, Res,
    Run, ServerCost, BENCH,
};

/// The options both HTTP benches take, with their defaults where they share them.
pub struct WrkOptions<L, S> {
    /// `--rounds`: runs per load and server, interleaved.
    pub rounds: usize,
    /// `--duration`: measured seconds per run.
    pub duration: u64,
    /// `--warmup`: unmeasured seconds before each run (0: none).
    pub warmup: u64,
    /// `--conns`: wrk's connections.
    pub conns: usize,
    /// `--depth`: requests per write in the pipelined load.
    pub depth: usize,
    /// `--only`: the loads.
    pub loads: Vec<L>,
    /// `--servers`: the servers.
    pub servers: Vec<S>,
    /// `--hello-bin`: corering's hello instead of a fresh build.
    pub hello_bin: Option<PathBuf>,
    /// `--peers-dir`: the peers' binaries instead of a fresh build.
    pub peers_dir: Option<PathBuf>,
    /// `--wrk`: the wrk binary.
    pub wrk: PathBuf,
}

impl<L: Named, S: Named> WrkOptions<L, S> {
    /// The defaults: 3 rounds of `duration` s after 1 s of warm-up, 64 connections,
    /// 16 requests per write, `loads` against `servers`, everything built here, `wrk`
    /// from `PATH`.
    pub fn new(duration: u64, loads: Vec<L>, servers: Vec<S>) -> Self {
        WrkOptions {
            rounds: 3,
            duration,
            warmup: 1,
            conns: 64,
            depth: 16,
            loads,
            servers,
            hello_bin: None,
            peers_dir: None,
            wrk: "wrk".into(),
        }
    }

    /// Takes `flag` (its value from `value`) if it is one of these options; false for
    /// another flag.
    pub fn flag<'a>(&mut self, flag: &str, value: &mut dyn FnMut() -> Res<&'a str>) -> Res<bool> {
        match flag {
            "--rounds" => self.rounds = parse_number(flag, value()?)?,
            "--duration" => self.duration = parse_number(flag, value()?)?,
            "--warmup" => self.warmup = parse_number(flag, value()?)?,
            "--conns" => self.conns = parse_number(flag, value()?)?,
            "--depth" => self.depth = parse_number(flag, value()?)?,
            "--only" => self.loads = parse_list(value()?, L::parse)?,
            "--servers" => self.servers = parse_list(value()?, S::parse)?,
            "--hello-bin" => self.hello_bin = Some(value()?.into()),
            "--peers-dir" => self.peers_dir = Some(value()?.into()),
            "--wrk" => self.wrk = value()?.into(),
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// An error for a zero count or an empty list.
    pub fn check(&self) -> Res<()> {
        if self.rounds == 0 || self.duration == 0 || self.conns == 0 || self.depth == 0 {
            return Err("--rounds, --duration, --conns and --depth must be positive".into());
        }
        if self.loads.is_empty() || self.servers.is_empty() {
            return Err("--only and --servers need at least one entry".into());
        }
        Ok(())
    }
}

/// Lua `done`: prints `BENCH: p99_us N samples M`, the p99 of the latencies wrk recorded
/// with wrk's coordinated-omission correction undone. wrk 4.1 (`stats_correct`) adds, for
/// every recorded latency n ≥ 2e, synthetic samples at n - e, n - 2e, ... (> e), where
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
  io.write(string.format("BENCH: p99_us %d samples %d\n", p99, total))
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

/// One wrk script to write: for which load, how many connections it runs with (the p99
/// correction needs it), and the requests per write if it pipelines.
pub struct Script {
    /// The load's name; also [`WrkScripts::path`]'s key.
    pub load: &'static str,
    /// wrk's `-c`.
    pub conns: usize,
    /// `Some(depth)`: `depth` requests per write; `None`: one request per write.
    pub depth: Option<usize>,
}

impl Script {
    /// One request per write.
    pub fn plain(load: &'static str, conns: usize) -> Self {
        Script {
            load,
            conns,
            depth: None,
        }
    }

    /// `depth` requests per write.
    pub fn pipelined(load: &'static str, conns: usize, depth: usize) -> Self {
        Script {
            load,
            conns,
            depth: Some(depth),
        }
    }
}

/// The wrk Lua scripts of a bench's loads, in temporary files removed on drop.
pub struct WrkScripts {
    paths: Vec<(&'static str, PathBuf)>,
}

impl WrkScripts {
    /// Writes one script per entry to the temporary directory.
    pub fn write(scripts: &[Script]) -> Res<Self> {
        let dir = std::env::temp_dir();
        let pid = std::process::id();
        let header = format!("-- written by corering's {BENCH} bench; removed when it ends\n");
        let mut written = WrkScripts { paths: Vec::new() };
        for script in scripts {
            let path = dir.join(format!("{BENCH}-{}-{pid}.lua", script.load));
            let pipeline = script
                .depth
                .map(|d| WRK_PIPELINE.replace("DEPTH", &d.to_string()))
                .unwrap_or_default();
            let done = WRK_DONE
                .replace("CONNS", &script.conns.to_string())
                .replace("BENCH", BENCH);
            std::fs::write(&path, format!("{header}{pipeline}{done}"))
                .context(|| format!("writing {}", path.display()))?;
            written.paths.push((script.load, path));
        }
        Ok(written)
    }

    /// The script of `load`; panics for a load that [`WrkScripts::write`] was not given.
    pub fn path(&self, load: &str) -> &Path {
        self.paths
            .iter()
            .find(|(name, _)| *name == load)
            .map(|(_, path)| path.as_path())
            .unwrap_or_else(|| panic!("no wrk script for load {load:?}"))
    }
}

impl Drop for WrkScripts {
    fn drop(&mut self) {
        for (_, path) in &self.paths {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// What one wrk run measured.
#[derive(Clone, Copy, Debug)]
pub struct Sample {
    /// Throughput and the server's CPU time.
    pub cost: ServerCost,
    /// p99 latency from the script's `done()`, in µs.
    pub p99_us: f64,
}

impl Sample {
    /// The server's CPU time per response.
    pub fn cpu_ns_per_request(&self) -> f64 {
        self.cost.cpu_ns_per_request()
    }

    /// One line on what the run measured: requests/s, p99 latency, CPU time per request.
    pub fn summary(&self) -> String {
        format!(
            "{:.0} requests/s, p99 {}, {:.0} ns CPU/request",
            self.cost.rps,
            format_us(self.p99_us),
            self.cpu_ns_per_request()
        )
    }
}

/// One wrk run: `wrk -t 1 -c CONNS -d SECS -s SCRIPT [-H HEADER]... URL`, pinned to `cpu`.
pub struct WrkRun<'a> {
    /// The wrk binary.
    pub wrk: &'a Path,
    /// The Lua script (from [`WrkScripts::path`]).
    pub script: &'a Path,
    /// wrk's `-c`.
    pub conns: usize,
    /// Extra request header fields, each passed as `-H`.
    pub headers: &'a [&'a str],
    /// What wrk loads, e.g. `http://127.0.0.1:8080/plaintext`.
    pub url: String,
    /// The server process whose CPU time is sampled around the run.
    pub server_pid: u32,
    /// The CPU wrk is pinned to.
    pub cpu: usize,
}

impl WrkRun<'_> {
    /// Runs wrk for `secs`; an error if wrk fails, reports socket errors or non-2xx/3xx
    /// answers, or completes no request.
    pub fn run(&self, secs: u64) -> Res<Sample> {
        let mut cmd = Command::new(self.wrk);
        cmd.args(["-t", "1", "-c", &self.conns.to_string()])
            .args(["-d", &format!("{secs}s"), "-s"])
            .arg(self.script);
        for header in self.headers {
            cmd.args(["-H", header]);
        }
        cmd.arg(&self.url);
        let cpu_before = schedstat_ns(self.server_pid)?;
        let start = Instant::now();
        let mut proc = ChildProc::spawn("wrk", cmd, self.cpu)?;
        let deadline = start + Duration::from_secs(secs + 30);
        let mut lines = Vec::new();
        while let Some(line) = proc.next_line(deadline)? {
            lines.push(line);
        }
        let status = proc.wait_exit(deadline)?;
        let wall_ns = start.elapsed().as_nanos() as u64;
        let server_cpu_ns = schedstat_ns(self.server_pid)?.saturating_sub(cpu_before);
        let output = lines.join("\n");
        let fail = |what: String| format!("{what}; wrk said:\n{output}");
        if !status.success() {
            return Err(fail(format!("wrk exited with {status}")));
        }
        let (requests, rps, p99_us) = parse_wrk(&lines).map_err(fail)?;
        Ok(Sample {
            cost: ServerCost {
                rps,
                requests,
                server_cpu_ns,
                wall_ns,
            },
            p99_us,
        })
    }

    /// A `warmup` s run (unless 0), not measured, then the measured `secs` s run.
    pub fn measure(&self, warmup: u64, secs: u64) -> Res<Sample> {
        if warmup > 0 {
            self.run(warmup).context(|| "warm-up".into())?;
        }
        self.run(secs)
    }
}

/// Requests, requests/s and p99 latency (µs) from wrk's output; an error for socket
/// errors, non-2xx/3xx answers or no completed request.
fn parse_wrk(lines: &[String]) -> Res<(u64, f64, f64)> {
    let p99_prefix = format!("{BENCH}: p99_us ");
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
        } else if let Some(rest) = line.strip_prefix(p99_prefix.as_str()) {
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

/// A latency in µs as `850 µs` or `1.25 ms`.
fn format_us(us: f64) -> String {
    if us >= 1000.0 {
        format!("{:.2} ms", us / 1000.0)
    } else {
        format!("{us:.0} µs")
    }
}

/// Medians over the rounds of one load and server.
struct Medians {
    cost: CostMedians,
    p99_us: f64,
}

impl Medians {
    fn of(samples: &[Sample]) -> Option<Medians> {
        let costs: Vec<ServerCost> = samples.iter().map(|s| s.cost).collect();
        Some(Medians {
            cost: CostMedians::of(&costs)?,
            p99_us: median_of(samples, |s| s.p99_us)?,
        })
    }
}

/// What a wrk bench's report says about its runs, around its table of medians.
pub struct Section<'a> {
    /// The heading: what was loaded (`HTTP GET /plaintext`).
    pub title: &'a str,
    /// How wrk ran, before the CPUs and durations (`wrk -t 1 -c 64`).
    pub how: String,
    /// `Some(depth)` if a load pipelines `depth` requests per write (its p99 is per batch).
    pub pipelined: Option<usize>,
    /// Sentences after the common note on the medians (empty for none).
    pub more: &'a str,
}

impl Section<'_> {
    /// Appends the heading, the table of medians over `runs` (see [`medians_table`]) and the
    /// note on what the figures are.
    pub fn write<L: Named, S: Named>(
        &self,
        out: &mut String,
        opts: &WrkOptions<L, S>,
        cpus: Cpus,
        runs: &[Run<L, S, Sample>],
    ) {
        let _ = writeln!(
            out,
            "\n### {} ({}, {})\n",
            self.title,
            self.how,
            conditions(cpus, "wrk", opts.warmup, opts.duration)
        );
        medians_table(out, &opts.loads, &opts.servers, runs);
        let batch = match self.pipelined {
            Some(depth) => format!(" (pipelined: per batch of {depth})"),
            None => String::new(),
        };
        let _ = writeln!(
            out,
            "\nMedians over {} interleaved round(s); p99 latency of wrk's recorded latencies \
             without its coordinated-omission correction{batch}; spread = half the min-max \
             range of CPU/request relative to its median; server CPU = CPU time / wall time \
             of the wrk run.{}{}",
            opts.rounds,
            if self.more.is_empty() { "" } else { " " },
            self.more
        );
    }
}

/// Appends the table of medians, one row per load and server (`failed` where no run of
/// it succeeded).
pub fn medians_table<L: Named, S: Named>(
    out: &mut String,
    loads: &[L],
    servers: &[S],
    runs: &[Run<L, S, Sample>],
) {
    out.push_str(
        "| load | server | requests/s | p99 latency | server CPU ns/request | CPU/req spread \
         | server CPU |\n",
    );
    out.push_str("|---|---|---:|---:|---:|---:|---:|\n");
    for &load in loads {
        for &server in servers {
            let _ = match Medians::of(&succeeded(runs, load, server)) {
                Some(m) => writeln!(
                    out,
                    "| {} | {} | {:.0} | {} | {:.0} | ±{:.0}% | {:.0}% |",
                    load.name(),
                    server.name(),
                    m.cost.rps,
                    format_us(m.p99_us),
                    m.cost.cpu_ns,
                    m.cost.cpu_spread * 100.0,
                    m.cost.util * 100.0
                ),
                None => writeln!(
                    out,
                    "| {} | {} | failed | failed | failed | - | - |",
                    load.name(),
                    server.name()
                ),
            };
        }
    }
}

/// Appends the corering/peer section: for every load and every one of `peers` that ran,
/// the paired requests/s and CPU/request ratios of `ours` against it, with the `targets`
/// (least requests/s ratio, most CPU/request ratio) and PASS/MISS where there is one.
/// Appends nothing when `ours` did not run.
pub fn ratios_table<L: Named, S: Named>(
    out: &mut String,
    loads: &[L],
    servers: &[S],
    ours: S,
    peers: &[S],
    runs: &[Run<L, S, Sample>],
    targets: fn(L, S) -> (Option<f64>, Option<f64>),
) {
    if !servers.contains(&ours) {
        return;
    }
    let mut rows = String::new();
    for &load in loads {
        for &peer in peers.iter().filter(|p| servers.contains(p)) {
            let rps = paired_ratio(runs, load, ours, peer, |s| s.cost.rps);
            let cpu_ratios = paired_ratios(runs, load, ours, peer, Sample::cpu_ns_per_request);
            let cpu = median(&cpu_ratios);
            let cpu_interval = match median_interval(&cpu_ratios) {
                Some((lo, hi)) => format!(" [{lo:.2}, {hi:.2}]"),
                None => String::new(),
            };
            let (Some(rps), Some(cpu)) = (rps, cpu) else {
                let _ = writeln!(
                    rows,
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
                rows,
                "| {} | {} | {rps:.2} | {rps_t} | {rps_v} | {cpu:.2}{cpu_interval} | {cpu_t} | {cpu_v} |",
                load.name(),
                peer.name()
            );
        }
    }
    if rows.is_empty() {
        return;
    }
    let _ = write!(out, "\n#### {} / peer\n\n", ours.name());
    out.push_str("| load | peer | requests/s ratio | target | | CPU/request ratio | target | |\n");
    out.push_str("|---|---|---:|---|---|---:|---|---|\n");
    out.push_str(&rows);
    let _ = writeln!(
        out,
        "\nRatios are medians of per-round ratios ({} against the peer's run of the same \
         round), which cancels the machine's slow drifts better than a ratio of medians; \
         in brackets, a 95% bootstrap interval of the CPU ratio's median (shown when there \
         are 5 rounds or more).",
        ours.name()
    );
}
