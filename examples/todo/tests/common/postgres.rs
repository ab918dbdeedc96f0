//! A throwaway PostgreSQL server for one test: `initdb` in a temporary
//! directory, `pg_ctl start` on a free port (Unix socket in that
//! directory too), stopped and removed when dropped, even after a panic.
//!
//! The programs come from `PATH` or `/usr/lib/postgresql/*/bin` (Debian's
//! `postgresql` package). PostgreSQL refuses to run as root, so as root
//! they run as the `postgres` user (`runuser`), which owns the directory.
//! With no PostgreSQL installed, [`PgServer::start`] prints a `SKIP:` line
//! and returns `None`, unless `CORERING_REQUIRE_POSTGRES` is set (CI),
//! where it panics.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::tempdir::TempDir;

/// A running PostgreSQL server; stopped when dropped.
pub struct PgServer {
    bin: PathBuf,
    as_postgres: bool,
    data: PathBuf,
    /// `postgres://postgres@127.0.0.1:PORT/postgres`.
    pub url: String,
    // Last: removed after the server stopped.
    dir: TempDir,
}

/// The first directory holding `initdb`, `pg_ctl` and `postgres`: on
/// `PATH`, else the newest `/usr/lib/postgresql/VERSION/bin`.
fn find_bin_dir() -> Option<PathBuf> {
    let has_all = |d: &Path| {
        ["initdb", "pg_ctl", "postgres"]
            .iter()
            .all(|p| d.join(p).is_file())
    };
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            if let Ok(initdb) = dir.join("initdb").canonicalize() {
                // Debian links initdb into PATH; its siblings are where it points.
                let real = initdb.parent().map(Path::to_path_buf).unwrap_or(dir);
                if has_all(&real) {
                    return Some(real);
                }
            }
        }
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| {
            let e = e.ok()?;
            let v = e.file_name().to_str()?.parse().ok()?;
            Some((v, e.path().join("bin")))
        })
        .filter(|(_, d)| has_all(d))
        .collect();
    versions.sort();
    versions.pop().map(|(_, d)| d)
}

/// A port nobody listens on right now.
fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral port");
    l.local_addr().expect("local address").port()
}

impl PgServer {
    /// Starts a server, or says why not: `None` after a `SKIP:` line when
    /// PostgreSQL is not installed (a panic with `CORERING_REQUIRE_POSTGRES`).
    pub fn start() -> Option<PgServer> {
        let Some(bin) = find_bin_dir() else {
            if std::env::var_os("CORERING_REQUIRE_POSTGRES").is_some() {
                panic!("postgresql not found (apt-get install postgresql)");
            }
            eprintln!("SKIP: postgresql not found (apt-get install postgresql)");
            return None;
        };
        // SAFETY: geteuid has no preconditions.
        let as_postgres = unsafe { libc::geteuid() } == 0;
        // In /tmp, not $TMPDIR: the postgres user must reach it, and the
        // Unix socket path must stay under 108 bytes.
        let dir = TempDir::new_in(Path::new("/tmp"), "pg");
        let data = dir.path().join("data");
        if as_postgres {
            let st = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(dir.path())
                .status()
                .expect("run chown");
            assert!(st.success(), "chown the directory to postgres");
        }
        let mut server = PgServer {
            bin,
            as_postgres,
            data,
            url: String::new(),
            dir,
        };
        let out = server
            .command("initdb")
            .arg("-D")
            .arg(&server.data)
            .args(["-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8"])
            .output()
            .expect("run initdb");
        assert!(
            out.status.success(),
            "initdb failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let port = free_port();
        let log = server.dir.path().join("server.log");
        let options = format!(
            "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            server.dir.path().display()
        );
        let out = server
            .command("pg_ctl")
            .arg("-D")
            .arg(&server.data)
            .arg("-l")
            .arg(&log)
            .args(["-o", &options, "-w", "start"])
            .output()
            .expect("run pg_ctl start");
        if !out.status.success() {
            let log = std::fs::read_to_string(&log).unwrap_or_default();
            panic!(
                "pg_ctl start failed: {}{}\n{log}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        server.url = format!("postgres://postgres@127.0.0.1:{port}/postgres");
        Some(server)
    }

    /// One of the PostgreSQL programs, as the `postgres` user when root.
    fn command(&self, program: &str) -> Command {
        let path = self.bin.join(program);
        if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(path);
            c
        } else {
            Command::new(path)
        }
    }
}

impl Drop for PgServer {
    fn drop(&mut self) {
        if self.url.is_empty() {
            return; // never started
        }
        let _ = self
            .command("pg_ctl")
            .arg("-D")
            .arg(&self.data)
            .args(["-m", "immediate", "-w", "stop"])
            .output();
    }
}
