//! Binding listening sockets for the two accept modes.
//!
//! `ReusePort` (TCP): one socket per worker, all bound to the same address
//! with SO_REUSEPORT, so the kernel spreads connections across workers. The
//! first socket is bound *without* SO_REUSEPORT and the option is set only
//! after the bind succeeds: binding fails with "address in use" if any other
//! socket (another server process included) already holds the address, so a
//! second server can never silently share a port with a running one.
//!
//! `Acceptor`: one socket; a dedicated thread accepts and hands sockets to
//! workers round-robin. Unix sockets always use one socket (SO_REUSEPORT
//! does not apply to them); in `ReusePort` mode every worker accepts on its
//! own duplicate of it.

use std::io;
use std::net::SocketAddr;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::PathBuf;
use std::time::Duration;

use super::socket::{local_address, raw_inet, raw_unix, set_int, stream_socket};
use crate::conn::{Address, SockKind};
use crate::error;

/// How accepted connections reach workers.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub enum AcceptMode {
    /// Every worker has its own SO_REUSEPORT listening socket and a
    /// multishot accept on it; the kernel balances connections (default).
    #[default]
    ReusePort,
    /// One thread accepts (multishot) and hands sockets to the workers
    /// round-robin.
    Acceptor,
}

/// What to listen on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum BindAddr {
    Tcp(SocketAddr),
    Unix(PathBuf),
}

/// Listening-socket options.
#[derive(Clone, Debug)]
pub(crate) struct ListenOpts {
    pub reuseaddr: bool,
    pub backlog: i32,
    pub defer_accept: Option<Duration>,
    pub nodelay: bool,
}

/// Sockets bound for one address.
pub(crate) struct Bound {
    /// The address actually bound (with the real port for port 0).
    pub addr: Address,
    pub kind: SockKind,
    /// One socket per worker (ReusePort TCP) or a single socket.
    pub fds: Vec<OwnedFd>,
    /// Path to unlink when the server stops.
    pub unix_path: Option<PathBuf>,
}

fn bind_raw(fd: &OwnedFd, ss: &libc::sockaddr_storage, len: libc::socklen_t) -> io::Result<()> {
    // SAFETY: `ss` holds a valid address of `len` bytes.
    let r = unsafe {
        libc::bind(
            fd.as_raw_fd(),
            (ss as *const libc::sockaddr_storage).cast(),
            len,
        )
    };
    if r != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

fn listen(fd: &OwnedFd, backlog: i32) -> io::Result<()> {
    // SAFETY: plain syscall on a descriptor we own.
    if unsafe { libc::listen(fd.as_raw_fd(), backlog) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

fn tcp_socket(addr: &SocketAddr, opts: &ListenOpts) -> io::Result<OwnedFd> {
    let domain = if addr.is_ipv4() {
        libc::AF_INET
    } else {
        libc::AF_INET6
    };
    let fd = stream_socket(domain, false)?;
    if opts.reuseaddr {
        set_int(fd.as_raw_fd(), libc::SOL_SOCKET, libc::SO_REUSEADDR, 1)?;
    }
    if addr.is_ipv6() {
        // An explicit IPv6 address means IPv6 only; bind 0.0.0.0 as well for
        // both families.
        set_int(fd.as_raw_fd(), libc::IPPROTO_IPV6, libc::IPV6_V6ONLY, 1)?;
    }
    if opts.nodelay {
        // Accepted sockets inherit this; it is also set on each one.
        set_int(fd.as_raw_fd(), libc::IPPROTO_TCP, libc::TCP_NODELAY, 1)?;
    }
    if let Some(d) = opts.defer_accept {
        let secs = d.as_secs().clamp(1, i32::MAX as u64) as i32;
        set_int(
            fd.as_raw_fd(),
            libc::IPPROTO_TCP,
            libc::TCP_DEFER_ACCEPT,
            secs,
        )?;
    }
    Ok(fd)
}

/// Binds and listens on `addr` for `workers` workers in `mode`.
pub(crate) fn bind(
    addr: &BindAddr,
    mode: AcceptMode,
    workers: usize,
    opts: &ListenOpts,
) -> io::Result<Bound> {
    match addr {
        BindAddr::Tcp(a) => bind_tcp(a, mode, workers, opts),
        BindAddr::Unix(p) => bind_unix(p, mode, workers, opts),
    }
}

fn bind_tcp(
    addr: &SocketAddr,
    mode: AcceptMode,
    workers: usize,
    opts: &ListenOpts,
) -> io::Result<Bound> {
    let (ss, len) = raw_inet(addr);
    let first = tcp_socket(addr, opts)?;
    // Exclusive bind first: fails if anybody else holds the address.
    bind_raw(&first, &ss, len).map_err(|e| error::bind(addr, e))?;
    let actual = local_address(first.as_raw_fd(), SockKind::Tcp)?;
    let Address::Tcp(actual_inet) = actual else {
        unreachable!("a TCP socket has an inet address")
    };
    let mut fds = vec![first];
    if mode == AcceptMode::ReusePort && workers > 1 {
        set_int(fds[0].as_raw_fd(), libc::SOL_SOCKET, libc::SO_REUSEPORT, 1)?;
        let (ss, len) = raw_inet(&actual_inet);
        for _ in 1..workers {
            let fd = tcp_socket(&actual_inet, opts)?;
            set_int(fd.as_raw_fd(), libc::SOL_SOCKET, libc::SO_REUSEPORT, 1)?;
            bind_raw(&fd, &ss, len).map_err(|e| error::bind(&actual_inet, e))?;
            fds.push(fd);
        }
    }
    for fd in &fds {
        listen(fd, opts.backlog).map_err(|e| error::bind(&actual_inet, e))?;
    }
    Ok(Bound {
        addr: Address::Tcp(actual_inet),
        kind: SockKind::Tcp,
        fds,
        unix_path: None,
    })
}

fn bind_unix(
    path: &std::path::Path,
    mode: AcceptMode,
    workers: usize,
    opts: &ListenOpts,
) -> io::Result<Bound> {
    let (ss, len) = raw_unix(path)?;
    let shown = format!("unix:{}", path.display());
    if path.exists() {
        // A leftover socket file from a server that died is removed; one
        // that still accepts connections means the address is in use.
        match std::os::unix::net::UnixStream::connect(path) {
            Ok(_) => {
                return Err(error::bind(
                    &shown,
                    io::Error::from_raw_os_error(libc::EADDRINUSE),
                ))
            }
            Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => {
                std::fs::remove_file(path).map_err(|e| error::bind(&shown, e))?;
            }
            Err(_) => {}
        }
    }
    let fd = stream_socket(libc::AF_UNIX, false)?;
    bind_raw(&fd, &ss, len).map_err(|e| error::bind(&shown, e))?;
    listen(&fd, opts.backlog).map_err(|e| error::bind(&shown, e))?;
    let mut fds = vec![fd];
    if mode == AcceptMode::ReusePort {
        for _ in 1..workers {
            // SAFETY: F_DUPFD_CLOEXEC on a descriptor we own.
            let d = unsafe { libc::fcntl(fds[0].as_raw_fd(), libc::F_DUPFD_CLOEXEC, 0) };
            if d < 0 {
                return Err(io::Error::last_os_error());
            }
            // SAFETY: a fresh duplicate nobody else owns.
            fds.push(unsafe { OwnedFd::from_raw_fd(d) });
        }
    }
    Ok(Bound {
        addr: Address::Unix(Some(path.to_path_buf())),
        kind: SockKind::Unix,
        fds,
        unix_path: Some(path.to_path_buf()),
    })
}
