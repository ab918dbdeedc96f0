//! `Connector`: client connections on the current worker's driver, yielding
//! the same `Connection` type servers use.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::os::fd::IntoRawFd;
use std::path::Path;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use super::socket::{raw_inet, raw_unix, stream_socket, tune_accepted};
use crate::conn::{set_waker, Connection, OpState, SockKind};
use crate::driver::{Backend, ConnectState, Op, Request, Submit, Token};
use crate::pipeline::{CloseGuard, Middleware, Side};
use crate::runtime;
use std::sync::Arc;

/// Opens client connections.
///
/// ```no_run
/// use std::time::Duration;
/// # async fn f() -> std::io::Result<()> {
/// let mut conn = corering::Connector::new()
///     .timeout(Duration::from_secs(2))
///     .connect("127.0.0.1:7000".parse().unwrap())
///     .await?;
/// conn.write_all(b"ping").await?;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct Connector<M = ()> {
    timeout: Option<Duration>,
    /// `None`: the worker's default; `Some(t)`: `t` for every connection.
    write_timeout: Option<Option<Duration>>,
    nodelay: bool,
    keepalive: Option<Duration>,
    middleware: Arc<M>,
}

impl<M> Clone for Connector<M> {
    fn clone(&self) -> Self {
        Connector {
            timeout: self.timeout,
            write_timeout: self.write_timeout,
            nodelay: self.nodelay,
            keepalive: self.keepalive,
            middleware: self.middleware.clone(),
        }
    }
}

impl Default for Connector {
    fn default() -> Self {
        Connector::new()
    }
}

impl Connector {
    /// A connector with a 10 s connect timeout and TCP_NODELAY on.
    pub fn new() -> Connector {
        Connector {
            timeout: Some(Duration::from_secs(10)),
            write_timeout: None,
            nodelay: true,
            keepalive: None,
            middleware: Arc::new(()),
        }
    }
}

impl<M: Middleware> Connector<M> {
    /// Adds a middleware layer (see [`pipeline`](crate::pipeline)); it sees
    /// each connection once connected, and may refuse it.
    pub fn middleware<N: Middleware>(self, layer: N) -> Connector<(Arc<M>, N)> {
        Connector {
            timeout: self.timeout,
            write_timeout: self.write_timeout,
            nodelay: self.nodelay,
            keepalive: self.keepalive,
            middleware: Arc::new((self.middleware, layer)),
        }
    }

    /// Sets the connect timeout (`None` waits as long as the kernel does).
    pub fn timeout(mut self, t: impl Into<Option<Duration>>) -> Self {
        self.timeout = t.into();
        self
    }

    /// Sets the write timeout of new connections (`None` disables it);
    /// without this call they get the worker's setting (the server's or
    /// runtime's, 60 s by default). See
    /// [`Connection::set_write_timeout`].
    pub fn write_timeout(mut self, t: impl Into<Option<Duration>>) -> Self {
        self.write_timeout = Some(t.into());
        self
    }

    /// Sets TCP_NODELAY on new connections (default on).
    pub fn nodelay(mut self, on: bool) -> Self {
        self.nodelay = on;
        self
    }

    /// Enables TCP keepalive probes after `idle` without traffic.
    pub fn keepalive(mut self, idle: impl Into<Option<Duration>>) -> Self {
        self.keepalive = idle.into();
        self
    }

    /// Connects to a TCP address.
    pub fn connect(&self, addr: SocketAddr) -> Connect<M> {
        let (ss, len) = raw_inet(&addr);
        let domain = if addr.is_ipv4() {
            libc::AF_INET
        } else {
            libc::AF_INET6
        };
        self.start(domain, ss, len, SockKind::Tcp, addr.to_string())
    }

    /// Connects to a Unix domain socket.
    pub fn connect_unix(&self, path: impl AsRef<Path>) -> Connect<M> {
        let path = path.as_ref();
        match raw_unix(path) {
            Ok((ss, len)) => self.start(
                libc::AF_UNIX,
                ss,
                len,
                SockKind::Unix,
                format!("unix:{}", path.display()),
            ),
            Err(e) => Connect::failed(e, self.middleware.clone()),
        }
    }

    fn start(
        &self,
        domain: i32,
        ss: libc::sockaddr_storage,
        len: libc::socklen_t,
        kind: SockKind,
        shown: String,
    ) -> Connect<M> {
        let nonblocking = runtime::with(|w| w.io.borrow().drv.backend() == Backend::Epoll);
        let fd = match stream_socket(domain, nonblocking) {
            Ok(fd) => fd.into_raw_fd(),
            Err(e) => return Connect::failed(e, self.middleware.clone()),
        };
        if kind == SockKind::Tcp {
            tune_accepted(fd, self.nodelay, self.keepalive);
        }
        let timeout = self.timeout;
        let st = Box::new(ConnectState {
            addr: ss,
            len,
            timeout,
        });
        let conn = runtime::with(|w| {
            let mut io = w.io.borrow_mut();
            let io = &mut *io;
            let (idx, gen) = io.conns.open(fd, kind);
            if let Some(t) = self.write_timeout {
                io.conns.set_write_timeout(idx, t);
            }
            let t = Token::new(Op::Connect, idx, gen);
            let state: *const ConnectState = &*st;
            // SAFETY: the address lives in `st`, which the slot keeps until
            // the connect completes.
            unsafe { io.drv.submit(t, Request::Connect { fd, state }) };
            io.conns.set_connecting(idx, st);
            Connection::from_slot(w.id, idx, gen, fd, kind)
        });
        Connect {
            conn: Some(conn),
            err: None,
            shown,
            timeout,
            middleware: self.middleware.clone(),
            started: std::time::Instant::now(),
        }
    }
}

/// Future of [`Connector::connect`].
#[must_use = "futures do nothing unless polled"]
pub struct Connect<M = ()> {
    conn: Option<Connection>,
    err: Option<io::Error>,
    shown: String,
    timeout: Option<Duration>,
    middleware: Arc<M>,
    started: std::time::Instant,
}

impl<M> std::fmt::Debug for Connect<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connect").field("to", &self.shown).finish()
    }
}

impl<M: Middleware> Connect<M> {
    fn failed(e: io::Error, middleware: Arc<M>) -> Connect<M> {
        Connect {
            conn: None,
            err: Some(e),
            shown: String::new(),
            timeout: None,
            middleware,
            started: std::time::Instant::now(),
        }
    }

    /// Runs the middleware on a fresh connection.
    fn open(&self, mut conn: Connection) -> io::Result<Connection> {
        if M::NOOP {
            return Ok(conn);
        }
        if let Err(refused) = self.middleware.on_open(&mut conn, Side::Client) {
            return Err(io::Error::new(io::ErrorKind::ConnectionRefused, refused));
        }
        let guard = CloseGuard {
            mw: self.middleware.clone(),
            side: Side::Client,
            opened: self.started,
            slot: conn.slot(),
        };
        conn.features_mut().insert(guard);
        Ok(conn)
    }

    fn explain(&self, errno: i32) -> io::Error {
        let to = &self.shown;
        match errno {
            libc::ECANCELED | libc::ETIME | libc::ETIMEDOUT => io::Error::new(
                io::ErrorKind::TimedOut,
                match self.timeout {
                    Some(t) => format!("connecting to {to} timed out after {t:?}"),
                    None => format!("connecting to {to} timed out"),
                },
            ),
            libc::ECONNREFUSED => io::Error::new(
                io::ErrorKind::ConnectionRefused,
                format!("connection refused by {to}: nothing is listening there"),
            ),
            libc::ENOENT => io::Error::new(
                io::ErrorKind::NotFound,
                format!("cannot connect to {to}: no such socket file"),
            ),
            e => {
                let os = io::Error::from_raw_os_error(e);
                io::Error::new(os.kind(), format!("connecting to {to} failed: {os}"))
            }
        }
    }
}

impl<M: Middleware> Future for Connect<M> {
    type Output = io::Result<Connection>;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        if let Some(e) = self.err.take() {
            return Poll::Ready(Err(e));
        }
        let conn = self.conn.as_ref().expect("Connect polled after completion");
        let (idx, gen) = conn.slot();
        let state = runtime::with(|w| {
            let mut io = w.io.borrow_mut();
            let io = &mut *io;
            let s = io.conns.get(idx, gen).expect("connecting slot");
            match s.connect {
                OpState::Done(res) => {
                    if res >= 0 {
                        io.conns.connect_seen(idx, &mut io.drv);
                    }
                    Some(res)
                }
                _ => {
                    set_waker(&mut s.waiter, cx.waker());
                    None
                }
            }
        });
        match state {
            None => Poll::Pending,
            Some(res) if res >= 0 => {
                let conn = self.conn.take().expect("present");
                Poll::Ready(self.open(conn))
            }
            Some(res) => {
                // Dropping the handle closes the socket.
                self.conn = None;
                Poll::Ready(Err(self.explain(-res)))
            }
        }
    }
}
