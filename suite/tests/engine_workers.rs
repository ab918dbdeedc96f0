//! Workers and the machine: the default worker count follows the CPUs the
//! process may use, workers are pinned to those CPUs, and a server out of
//! file descriptors backs off instead of spinning, then recovers.
//!
//! The example-binary tests run the real `echo` example as a child process
//! with its affinity mask or descriptor limit set before it starts.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::*;

/// CPUs in this process's affinity mask.
fn affinity() -> Vec<usize> {
    // SAFETY: sched_getaffinity fills the set we pass.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        assert_eq!(
            libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set),
            0
        );
        (0..libc::CPU_SETSIZE as usize)
            .filter(|&c| libc::CPU_ISSET(c, &set))
            .collect()
    }
}

/// True if a CPU quota applies to this process's cgroup (v2 `cpu.max` or
/// v1 `cpu.cfs_quota_us` of its own cgroup at the usual mount points).
fn cpu_quota_here() -> bool {
    let cg = std::fs::read_to_string("/proc/self/cgroup").unwrap_or_default();
    cg.lines().any(|l| {
        let mut f = l.splitn(3, ':');
        let (_, ctrl, path) = (f.next(), f.next().unwrap_or(""), f.next().unwrap_or(""));
        let files: Vec<String> = if ctrl.is_empty() {
            vec![format!("/sys/fs/cgroup{path}/cpu.max")]
        } else if ctrl.split(',').any(|c| c == "cpu") {
            vec![
                format!("/sys/fs/cgroup/{ctrl}{path}/cpu.cfs_quota_us"),
                format!("/sys/fs/cgroup/cpu{path}/cpu.cfs_quota_us"),
            ]
        } else {
            vec![]
        };
        files.iter().any(|f| {
            std::fs::read_to_string(f).is_ok_and(|s| {
                let q = s.split_whitespace().next().unwrap_or("max");
                q != "max" && q != "-1"
            })
        })
    })
}

/// `workers(0)` starts one worker per CPU of the affinity mask (this
/// machine applies no CPU quota; under one the count is capped by it).
#[test]
fn default_worker_count_is_the_affinity_mask() {
    let server = corering::Server::builder()
        .bind("127.0.0.1:0")
        .pin_workers(false)
        .build()
        .unwrap()
        .start(echo)
        .unwrap();
    let n = affinity().len();
    if cpu_quota_here() {
        assert!(server.workers() >= 1 && server.workers() <= n);
    } else {
        assert_eq!(server.workers(), n, "affinity mask has {n} CPUs");
    }
    check_echo_tcp(tcp_addr(&server), b"hello");
    server.shutdown().unwrap();
}

/// A started example: stdout lines and stderr lines as they come.
struct Proc {
    child: Child,
    out: mpsc::Receiver<String>,
    err: mpsc::Receiver<String>,
}

impl Proc {
    /// Starts the echo example with `args`; `setup` runs in the child
    /// before exec (affinity, limits).
    fn spawn(
        args: &[&str],
        setup: impl FnMut() -> std::io::Result<()> + Send + Sync + 'static,
    ) -> Proc {
        let mut cmd = Command::new(echo_example());
        cmd.args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        // SAFETY: `setup` only makes async-signal-safe system calls.
        unsafe { cmd.pre_exec(setup) };
        let mut child = cmd.spawn().expect("spawn the echo example");
        let lines = |r: Box<dyn std::io::Read + Send>| {
            let (tx, rx) = mpsc::channel();
            std::thread::spawn(move || {
                for l in BufReader::new(r).lines().map_while(Result::ok) {
                    let _ = tx.send(l);
                }
            });
            rx
        };
        let out = lines(Box::new(child.stdout.take().unwrap()));
        let err = lines(Box::new(child.stderr.take().unwrap()));
        Proc { child, out, err }
    }

    /// Waits for the "listening on" line; returns it and the address.
    fn listening(&self) -> (String, SocketAddr) {
        loop {
            let line = self
                .out
                .recv_timeout(Duration::from_secs(30))
                .expect("echo never said where it listens");
            if let Some(rest) = line.split("listening on ").nth(1) {
                let addr = rest.split([' ', ',']).next().unwrap().parse().unwrap();
                return (line, addr);
            }
        }
    }

    /// Waits up to `limit` for a stderr line containing `what`.
    fn stderr_line(&self, what: &str, limit: Duration) -> Option<String> {
        let end = Instant::now() + limit;
        loop {
            let left = end.saturating_duration_since(Instant::now());
            match self.err.recv_timeout(left) {
                Ok(l) if l.contains(what) => return Some(l),
                Ok(_) => {}
                Err(_) => return None,
            }
        }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// CPU time (user + system) of the whole process, in seconds.
    fn cpu_seconds(&self) -> f64 {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.pid())).unwrap();
        let rest = &stat[stat.rfind(')').unwrap() + 2..];
        let f: Vec<&str> = rest.split(' ').collect();
        let ticks: u64 = f[11].parse::<u64>().unwrap() + f[12].parse::<u64>().unwrap();
        // SAFETY: sysconf has no preconditions.
        ticks as f64 / unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64
    }

    /// SIGTERM, then the exit status.
    fn stop(mut self) -> std::process::ExitStatus {
        // SAFETY: kill(2) on our own child.
        unsafe { libc::kill(self.child.id() as libc::pid_t, libc::SIGTERM) };
        let end = Instant::now() + Duration::from_secs(15);
        loop {
            if let Some(st) = self.child.try_wait().unwrap() {
                return st;
            }
            if Instant::now() > end {
                let _ = self.child.kill();
                panic!("echo did not exit after SIGTERM");
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Restricted to one CPU (as `taskset -c N` does), the echo example starts
/// one worker and pins it to that CPU, not to CPU 0.
#[test]
fn one_allowed_cpu_gives_one_worker_pinned_to_it() {
    let cpu = *affinity().last().unwrap();
    let p = Proc::spawn(&["--addr", "127.0.0.1:0"], move || {
        // SAFETY: sched_setaffinity on the child itself with a valid set.
        unsafe {
            let mut set: libc::cpu_set_t = std::mem::zeroed();
            libc::CPU_SET(cpu, &mut set);
            if libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) != 0 {
                return Err(std::io::Error::last_os_error());
            }
        }
        Ok(())
    });
    let (line, addr) = p.listening();
    assert!(line.contains("with 1 worker pinned"), "{line}");
    check_echo_tcp(addr, b"one cpu");
    // The worker thread's own affinity: exactly that CPU.
    let mut found = false;
    for t in std::fs::read_dir(format!("/proc/{}/task", p.pid())).unwrap() {
        let status = std::fs::read_to_string(t.unwrap().path().join("status")).unwrap();
        if status.lines().any(|l| l == "Name:\tcorering-w0") {
            let allowed = status
                .lines()
                .find_map(|l| l.strip_prefix("Cpus_allowed_list:\t"))
                .unwrap();
            assert_eq!(allowed, cpu.to_string());
            found = true;
        }
    }
    assert!(found, "no corering-w0 thread");
    assert_eq!(p.stop().code(), Some(0));
}

/// Out of descriptors (a low RLIMIT_NOFILE, more clients than fit): the
/// server logs the episode once, uses little CPU while clients wait in the
/// backlog, serves the connections it has, and accepts again once
/// descriptors free up.
fn backs_off_when_out_of_descriptors(extra: &[&str], who: &str) {
    let mut args = vec!["--addr", "127.0.0.1:0", "--workers", "1"];
    args.extend_from_slice(extra);
    let p = Proc::spawn(&args, || {
        let rl = libc::rlimit {
            rlim_cur: 24,
            rlim_max: 24,
        };
        // SAFETY: setrlimit with a valid struct, in the child before exec.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &rl) } != 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(())
    });
    let (_, addr) = p.listening();
    // More clients than descriptors: the later ones wait in the backlog.
    let mut clients: Vec<TcpStream> = (0..40).map(|_| connect(addr)).collect();
    let line = p
        .stderr_line("backing off", Duration::from_secs(10))
        .expect("no back-off line");
    assert!(
        line.contains("out of file descriptors (EMFILE)") && line.contains(who),
        "{line}"
    );
    // While the backlog waits, the server does not spin.
    std::thread::sleep(Duration::from_millis(200));
    let cpu0 = p.cpu_seconds();
    let t0 = Instant::now();
    std::thread::sleep(Duration::from_millis(1500));
    let share = (p.cpu_seconds() - cpu0) / t0.elapsed().as_secs_f64();
    assert!(
        share < 0.25,
        "server used {:.0}% of a core out of descriptors",
        share * 100.0
    );
    // The first client was accepted and is served.
    clients[0].write_all(b"first").unwrap();
    assert_eq!(read_n(&mut clients[0], 5).unwrap(), b"first");
    // One line for the episode, not one per retry (about 15 so far).
    let more: Vec<String> = p
        .err
        .try_iter()
        .filter(|l| l.contains("backing off"))
        .collect();
    assert!(more.is_empty(), "{more:?}");
    // Free the descriptors: the server accepts again.
    clients.clear();
    p.stderr_line("accepting again", Duration::from_secs(10))
        .expect("no recovery line");
    within(Duration::from_secs(20), "echo after recovery", move || {
        check_echo_tcp(addr, b"after recovery")
    });
    assert_eq!(p.stop().code(), Some(0));
}

#[test]
fn acceptor_thread_backs_off_when_out_of_descriptors() {
    backs_off_when_out_of_descriptors(&["--acceptor"], "acceptor thread");
}

#[test]
fn worker_listener_backs_off_when_out_of_descriptors() {
    backs_off_when_out_of_descriptors(&[], "worker 0");
}
