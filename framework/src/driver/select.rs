//! Choosing the backend at startup: io_uring when it works here with
//! everything corering needs, epoll otherwise (under `auto`), or the one
//! the application or the environment asks for.
//!
//! `CORERING_BACKEND=uring|epoll|auto` sets the default; a setting made in
//! code ([`ServerBuilder::backend`](crate::ServerBuilder::backend),
//! [`Runtime::with_backend`](crate::Runtime::with_backend)) wins over it.
//!
//! Under `auto`, corering falls back to epoll when `io_uring_setup` is
//! denied (EPERM/EACCES: a seccomp profile, or the
//! `kernel.io_uring_disabled` sysctl), not implemented (ENOSYS) or
//! rejected (EINVAL), or when io_uring lacks a feature corering needs
//! (multishot receive, provided-buffer rings, an opcode). It does not fall
//! back on a resource error (ENOMEM from a too-low locked-memory limit,
//! out of descriptors): that is reported with its fix, because the same
//! shortage would soon hurt the epoll server too and the operator should
//! see it.

use std::fmt;
use std::io;

use super::uring::{probe_kernel, KernelSupport};

/// The kernel interface the workers run on.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum Backend {
    /// One io_uring per worker: completions, multishot accept and receive,
    /// provided-buffer rings.
    IoUring,
    /// One epoll instance per worker: readiness, edge-triggered,
    /// non-blocking sockets.
    Epoll,
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Backend::IoUring => "io_uring",
            Backend::Epoll => "epoll",
        })
    }
}

/// Which backend to use: a fixed one, or the best that works here.
///
/// ```no_run
/// use corering::{BackendChoice, Server};
/// let server = Server::builder()
///     .bind("127.0.0.1:0")
///     .backend(BackendChoice::Epoll)
///     .build()?;
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Hash)]
pub enum BackendChoice {
    /// io_uring if it works here with what corering needs, else epoll
    /// (the default; `CORERING_BACKEND` may change it).
    #[default]
    Auto,
    /// io_uring, or a startup error that says why not.
    IoUring,
    /// epoll, even where io_uring works.
    Epoll,
}

impl BackendChoice {
    /// Parses `uring` / `io_uring`, `epoll` or `auto`.
    pub fn parse(s: &str) -> Option<BackendChoice> {
        match s.trim() {
            "auto" | "" => Some(BackendChoice::Auto),
            "uring" | "io_uring" | "io-uring" => Some(BackendChoice::IoUring),
            "epoll" => Some(BackendChoice::Epoll),
            _ => None,
        }
    }
}

/// The backend chosen at startup and why.
#[derive(Clone, Debug)]
pub(crate) struct Selected {
    pub backend: Backend,
    pub support: KernelSupport,
    /// Why it is not io_uring, in one clause ("io_uring_setup denied by
    /// seccomp", "CORERING_BACKEND=epoll").
    pub reason: Option<String>,
}

/// The environment variable naming the default backend.
pub(crate) const ENV: &str = "CORERING_BACKEND";

/// Chooses the backend: `choice` if set in code, else `CORERING_BACKEND`,
/// else `auto`.
pub(crate) fn select(choice: Option<BackendChoice>) -> io::Result<Selected> {
    let (choice, from_env) = match choice {
        Some(c) => (c, false),
        None => match std::env::var(ENV) {
            Ok(v) => match BackendChoice::parse(&v) {
                Some(c) => (c, true),
                None => {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidInput,
                        format!("{ENV}={v:?}: expected `uring`, `epoll` or `auto`"),
                    ))
                }
            },
            Err(_) => (BackendChoice::Auto, false),
        },
    };
    let epoll = |reason: String| Selected {
        backend: Backend::Epoll,
        support: KernelSupport::default(),
        reason: Some(reason),
    };
    match choice {
        BackendChoice::Epoll => Ok(epoll(if from_env {
            format!("{ENV}=epoll")
        } else {
            "chosen by the application".into()
        })),
        BackendChoice::IoUring => match probe() {
            Ok(support) => Ok(Selected {
                backend: Backend::IoUring,
                support,
                reason: None,
            }),
            Err((error, _)) => Err(error),
        },
        BackendChoice::Auto => match probe() {
            Ok(support) => Ok(Selected {
                backend: Backend::IoUring,
                support,
                reason: None,
            }),
            Err((error, fallback)) => match fallback {
                Some(why) => Ok(epoll(why)),
                None => Err(error),
            },
        },
    }
}

/// The kernel probe's answer, found once per process (it creates a ring
/// and a socket pair on a thread of its own).
fn probe() -> Result<KernelSupport, (io::Error, Option<String>)> {
    type Answer = Result<KernelSupport, (io::ErrorKind, String, Option<String>)>;
    static ANSWER: std::sync::OnceLock<Answer> = std::sync::OnceLock::new();
    let answer = ANSWER.get_or_init(|| {
        probe_kernel().map_err(|p| (p.error.kind(), p.error.to_string(), p.fallback))
    });
    match answer {
        Ok(s) => Ok(*s),
        Err((kind, msg, fallback)) => Err((io::Error::new(*kind, msg.clone()), fallback.clone())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn choices_parse() {
        assert_eq!(BackendChoice::parse("uring"), Some(BackendChoice::IoUring));
        assert_eq!(
            BackendChoice::parse("io_uring"),
            Some(BackendChoice::IoUring)
        );
        assert_eq!(BackendChoice::parse("epoll"), Some(BackendChoice::Epoll));
        assert_eq!(BackendChoice::parse("auto"), Some(BackendChoice::Auto));
        assert_eq!(BackendChoice::parse("kqueue"), None);
    }
}
