//! `/metrics`: the Prometheus text exposition, scraped over real sockets
//! and parsed by a parser nobody here wrote (Python's `prometheus_client`,
//! `text_string_to_metric_families`). Without it the parsing tests print a
//! notice and skip, unless `CORERING_REQUIRE_PROMETHEUS_CLIENT` is set (CI
//! sets it), in which case they fail.

use std::collections::HashMap;
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

use corering::http::observe;
use corering::http::{Http1Config, Response};
use corering::{get, routes};

mod common;

use common::http::{start_http, ureq_agent};

const LIMIT: Duration = Duration::from_secs(20);

/// One sample: metric name, labels, value.
#[derive(Debug)]
struct Sample {
    name: String,
    labels: HashMap<String, String>,
    value: f64,
}

/// The samples of a parsed exposition, and each family's type.
struct Parsed {
    samples: Vec<Sample>,
    types: HashMap<String, String>,
}

impl Parsed {
    /// Sum of the samples named `name` whose labels include `with`.
    fn sum(&self, name: &str, with: &[(&str, &str)]) -> f64 {
        let found: Vec<&Sample> = self
            .samples
            .iter()
            .filter(|s| s.name == name)
            .filter(|s| {
                with.iter()
                    .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(v))
            })
            .collect();
        assert!(!found.is_empty(), "no sample {name} {with:?}");
        found.iter().map(|s| s.value).sum()
    }
}

const PARSER: &str = r#"
import sys
from prometheus_client.parser import text_string_to_metric_families
for fam in text_string_to_metric_families(sys.stdin.read()):
    print("T", fam.name, fam.type)
    for s in fam.samples:
        labels = ",".join("%s=%s" % kv for kv in sorted(s.labels.items()))
        print("S", s.name, labels or "-", repr(float(s.value)))
"#;

/// Parses `text` with Python's prometheus_client; `None` (after a notice)
/// when it is not installed and not required.
fn parse(text: &str) -> Option<Parsed> {
    let have = Command::new("python3")
        .args(["-c", "import prometheus_client"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !have {
        if std::env::var_os("CORERING_REQUIRE_PROMETHEUS_CLIENT").is_some() {
            panic!("python3 prometheus_client is required (pip install prometheus-client)");
        }
        eprintln!(
            "SKIPPED: python3 prometheus_client not installed (pip install prometheus-client)"
        );
        return None;
    }
    let mut child = Command::new("python3")
        .args(["-c", PARSER])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run python3");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "prometheus_client rejected the exposition: {}\n{text}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut p = Parsed {
        samples: Vec::new(),
        types: HashMap::new(),
    };
    for line in String::from_utf8(out.stdout).unwrap().lines() {
        let f: Vec<&str> = line.split(' ').collect();
        match f[0] {
            "T" => {
                p.types.insert(f[1].to_string(), f[2].to_string());
            }
            "S" => {
                let labels = if f[2] == "-" {
                    HashMap::new()
                } else {
                    f[2].split(',')
                        .map(|kv| {
                            let (k, v) = kv.split_once('=').unwrap();
                            (k.to_string(), v.to_string())
                        })
                        .collect()
                };
                p.samples.push(Sample {
                    name: f[1].to_string(),
                    labels,
                    value: f[3].parse().unwrap(),
                });
            }
            _ => panic!("unexpected parser output {line}"),
        }
    }
    Some(p)
}

#[get("/metrics")]
async fn metrics() -> Response {
    observe::metrics()
}

#[get("/plaintext")]
async fn plaintext() -> Response {
    Response::text("Hello, World!")
}

/// Checks what every scrape after `n` 200s and one 404 must say.
fn check_http_counts(p: &Parsed, n: u64) {
    assert_eq!(
        p.types
            .get("corering_http_request_duration_seconds")
            .map(String::as_str),
        Some("histogram")
    );
    assert_eq!(
        p.types.get("corering_http_requests").map(String::as_str),
        Some("counter")
    );
    let total = "corering_http_requests_total";
    assert_eq!(p.sum(total, &[("class", "2xx")]), n as f64);
    assert_eq!(p.sum(total, &[("class", "4xx")]), 1.0);
    assert_eq!(p.sum(total, &[("class", "5xx")]), 0.0);
    let count = p.sum("corering_http_request_duration_seconds_count", &[]);
    assert_eq!(count, (n + 1) as f64);
    let inf = p.sum(
        "corering_http_request_duration_seconds_bucket",
        &[("le", "+Inf")],
    );
    assert_eq!(inf, count);
    assert!(p.sum("corering_http_request_duration_seconds_sum", &[]) >= 0.0);
}

#[test]
fn scrape_in_process_server_counts_what_was_sent() {
    const N: u64 = 25;
    let cfg = Http1Config::new();
    let (server, addr) = start_http(common::builder(), cfg, routes![metrics, plaintext]);
    let agent = ureq_agent(LIMIT);
    for _ in 0..N {
        let mut r = agent
            .get(format!("http://{addr}/plaintext"))
            .call()
            .unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.body_mut().read_to_string().unwrap(), "Hello, World!");
    }
    let r = agent.get(format!("http://{addr}/nope")).call().unwrap();
    assert_eq!(r.status(), 404);
    drop(r);

    // The same counters from outside the server.
    let m = server.metrics();
    assert_eq!(m.workers(), 2);
    assert_eq!(m.http().class(200), N);
    assert_eq!(m.http().class(404), 1);
    assert_eq!(m.http().duration.count(), N + 1);

    let mut r = agent.get(format!("http://{addr}/metrics")).call().unwrap();
    assert_eq!(r.status(), 200);
    let ct = r
        .headers()
        .get("content-type")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    assert_eq!(ct, "text/plain; version=0.0.4; charset=utf-8");
    let text = r.body_mut().read_to_string().unwrap();
    // Their idle connection would hold the shutdown up.
    drop((r, agent));
    let Some(p) = parse(&text) else { return };
    check_http_counts(&p, N);
    assert_eq!(p.sum("corering_workers", &[]), 2.0);
    // Engine counters, per worker: one keep-alive connection so far, and
    // the bytes of N+2 requests received (published once per loop turn,
    // so at least those of the connection's worker before this scrape).
    assert_eq!(
        p.types.get("corering_connections_open").map(String::as_str),
        Some("gauge")
    );
    assert!(p.sum("corering_connections_accepted_total", &[]) >= 1.0);
    assert!(p.sum("corering_received_bytes_total", &[]) > 0.0);
    for w in ["0", "1"] {
        p.sum("corering_sent_bytes_total", &[("worker", w)]);
        p.sum("corering_buffer_ring_exhausted_total", &[("worker", w)]);
        p.sum("corering_recv_pauses_total", &[("worker", w)]);
    }
    drop(server);
}

#[test]
fn scrape_hello_example() {
    const N: u64 = 12;
    let (mut child, addr) =
        common::start_example("hello", &["--addr", "127.0.0.1:0", "--workers", "2"]);
    let agent = ureq_agent(LIMIT);
    for i in 0..N {
        let path = if i % 2 == 0 { "/plaintext" } else { "/json" };
        let r = agent.get(format!("http://{addr}{path}")).call().unwrap();
        assert_eq!(r.status(), 200);
    }
    let r = agent
        .get(format!("http://{addr}/users/abc"))
        .call()
        .unwrap();
    assert_eq!(r.status(), 400);
    drop(r);
    let mut r = agent.get(format!("http://{addr}/metrics")).call().unwrap();
    assert_eq!(r.status(), 200);
    let text = r.body_mut().read_to_string().unwrap();
    drop((r, agent));
    // SAFETY: signalling our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    assert!(child.wait().unwrap().success());
    let Some(p) = parse(&text) else { return };
    let total = "corering_http_requests_total";
    assert_eq!(p.sum(total, &[("class", "2xx")]), N as f64);
    assert_eq!(p.sum(total, &[("class", "4xx")]), 1.0);
    assert_eq!(
        p.sum("corering_http_request_duration_seconds_count", &[]),
        (N + 1) as f64
    );
}
