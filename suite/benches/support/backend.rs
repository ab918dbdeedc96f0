//! corering's I/O backend as the benches run it: every corering row forces its backend
//! with `CORERING_BACKEND` (so what a row measures does not depend on what `auto` picks on
//! this machine, nor on the bench's own environment), and the startup line the server
//! prints must name that backend; a server whose line does not gets a warning and a note
//! in the report, since its row would then measure the other backend.

use std::fmt::Write as _;
use std::process::Command;

use super::BENCH;

/// The environment variable that chooses corering's backend (`uring`, `epoll`, `auto`).
pub const BACKEND_ENV: &str = "CORERING_BACKEND";

/// One of corering's I/O backends.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Backend {
    /// io_uring, corering's own.
    Uring,
    /// The readiness backend on epoll.
    Epoll,
}

impl Backend {
    /// The value of [`BACKEND_ENV`] that forces this backend.
    pub fn env_value(self) -> &'static str {
        match self {
            Backend::Uring => "uring",
            Backend::Epoll => "epoll",
        }
    }

    /// Forces this backend on the command of a corering server.
    pub fn force(self, cmd: &mut Command) {
        cmd.env(BACKEND_ENV, self.env_value());
    }

    /// True if a corering server's startup lines say it runs on this backend: epoll is
    /// named as such; io_uring is named and epoll is not (a fallback line names both).
    pub fn named_in(self, lines: &[String]) -> bool {
        let names = |word: &str| lines.iter().any(|line| line.contains(word));
        match self {
            Backend::Epoll => names("epoll"),
            Backend::Uring => names("io_uring") && !names("epoll"),
        }
    }
}

/// The corering servers whose startup lines did not name the backend forced on them.
#[derive(Default)]
pub struct BackendNotes {
    /// Server name and the last line it printed at startup.
    servers: Vec<(String, String)>,
}

impl BackendNotes {
    /// Checks the startup `lines` of `server`, which was started on `backend`; the first
    /// time a server's lines do not name it, warns on stderr and keeps a note for the
    /// report.
    pub fn check(&mut self, server: &str, backend: Backend, lines: &[String]) {
        if backend.named_in(lines) || self.servers.iter().any(|(s, _)| s == server) {
            return;
        }
        let line = lines.last().cloned().unwrap_or_default();
        eprintln!(
            "{BENCH}: warning: {server} was started with {BACKEND_ENV}={} but its startup \
             line does not say so: {line:?}",
            backend.env_value()
        );
        self.servers.push((server.to_string(), line));
    }

    /// Appends a note on every server that did not say it ran on its backend (nothing if
    /// all did).
    pub fn write(&self, out: &mut String) {
        for (server, line) in &self.servers {
            let _ = writeln!(
                out,
                "\n> NOTE: {server}'s startup line does not name the backend it was forced \
                 onto, so its rows may measure the other one: `{line}`"
            );
        }
    }
}
