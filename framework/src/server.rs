//! `Server`: the builder that binds listeners and starts one pinned worker
//! per CPU, and `RunningServer`, the handle to stop and join them.

use std::future::Future;
use std::io;
use std::net::{SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use crate::conn::{Address, Connection, IoParams};
use crate::driver::{Backend, BackendChoice, RingMode};
use crate::net::{self, AcceptMode, Acceptor, BindAddr, Bound, ListenOpts};
use crate::pipeline::{self, Middleware};
use crate::runtime::{Msg, Remote, Shared, TypedTasks, Worker, WorkerConfig, WorkerStats};

/// Configures and starts a server.
///
/// ```no_run
/// use corering::Server;
/// fn main() -> std::io::Result<()> {
///     Server::builder()
///         .bind("127.0.0.1:7000")
///         .workers(2)
///         .build()?
///         .serve(|mut conn| async move {
///             while let Ok(Some(buf)) = conn.read().await {
///                 if conn.write_all(&buf).await.is_err() {
///                     break;
///                 }
///             }
///         })
/// }
/// ```
pub struct Server<M = ()> {
    middleware: M,
    cfg: WorkerConfig,
    workers: usize,
    cpus: Vec<usize>,
    pin: bool,
    mode: AcceptMode,
    bound: Vec<Bound>,
    /// Why the backend is not io_uring, if it is not.
    backend_reason: Option<String>,
    /// TLS on every connection, with the line that reports its mode.
    #[cfg(feature = "tls")]
    tls: Option<(Arc<crate::tls::TlsAcceptor>, String)>,
}

/// Builder for [`Server`]; every setting has a sane default.
///
/// ```
/// use std::time::Duration;
/// use corering::Server;
/// let builder = Server::builder()
///     .bind("0.0.0.0:8080")
///     .workers(4)
///     .shutdown_timeout(Duration::from_secs(30));
/// # let _ = builder;
/// ```
#[derive(Debug)]
pub struct ServerBuilder<M = ()> {
    middleware: M,
    s: Settings,
}

#[derive(Debug)]
struct Settings {
    binds: Vec<BindAddr>,
    bind_err: Option<io::Error>,
    workers: usize,
    pin: bool,
    mode: AcceptMode,
    opts: ListenOpts,
    keepalive: Option<Duration>,
    ring_entries: u32,
    buf_count: u16,
    buf_size: u32,
    params: IoParams,
    pool_bytes: usize,
    shutdown_timeout: Duration,
    batch: Option<(u32, u32)>,
    backend: Option<BackendChoice>,
    #[cfg(feature = "tls")]
    tls: Option<crate::tls::TlsAcceptor>,
    #[cfg(feature = "tls")]
    tls_timeout: Duration,
    #[cfg(feature = "tls")]
    ktls: crate::tls::Ktls,
}

impl Server {
    /// A builder with defaults: all allowed CPUs, `ReusePort`, TCP_NODELAY
    /// and SO_REUSEADDR on, backlog 1024, 2048 receive buffers of 8 KiB per
    /// worker, 32 leases per connection, 1 MiB write buffer per connection,
    /// 60 s write timeout, 10 s shutdown grace period, completion batching
    /// of 64 events or 50 µs.
    ///
    /// ```
    /// let builder = corering::Server::builder().bind("127.0.0.1:8080");
    /// # let _ = builder;
    /// ```
    pub fn builder() -> ServerBuilder {
        ServerBuilder {
            middleware: (),
            s: Settings {
                binds: Vec::new(),
                bind_err: None,
                workers: 0,
                pin: true,
                mode: AcceptMode::ReusePort,
                opts: ListenOpts {
                    reuseaddr: true,
                    backlog: 1024,
                    defer_accept: None,
                    nodelay: true,
                },
                keepalive: None,
                ring_entries: 1024,
                buf_count: 2048,
                buf_size: 8192,
                params: IoParams {
                    max_leases: 32,
                    write_limit: 1 << 20,
                    zc_threshold: Some(64 << 10),
                    write_timeout: Some(Duration::from_secs(60)),
                },
                pool_bytes: 16 << 20,
                shutdown_timeout: Duration::from_secs(10),
                batch: Some((64, 50)),
                backend: None,
                #[cfg(feature = "tls")]
                tls: None,
                #[cfg(feature = "tls")]
                tls_timeout: Duration::from_secs(10),
                #[cfg(feature = "tls")]
                ktls: crate::tls::Ktls::Auto,
            },
        }
    }
}

impl<M: Middleware> ServerBuilder<M> {
    /// Adds a middleware layer; layers run in the order added when a
    /// connection opens, and in reverse when it closes.
    ///
    /// ```
    /// use corering::pipeline::{ConnectionLimit, Logging};
    /// let builder = corering::Server::builder()
    ///     .middleware(Logging)
    ///     .middleware(ConnectionLimit::new());
    /// # let _ = builder;
    /// ```
    pub fn middleware<N: Middleware>(self, layer: N) -> ServerBuilder<(M, N)> {
        ServerBuilder {
            middleware: (self.middleware, layer),
            s: self.s,
        }
    }

    /// Listens on a TCP address (`"127.0.0.1:8080"`, `"[::1]:8080"`, a
    /// `SocketAddr`, ...). May be called several times.
    ///
    /// ```
    /// let builder = corering::Server::builder().bind("127.0.0.1:8080").bind("[::1]:8080");
    /// # let _ = builder;
    /// ```
    pub fn bind(mut self, addr: impl ToSocketAddrs) -> Self {
        match addr.to_socket_addrs().map(|mut a| a.next()) {
            Ok(Some(a)) => self.s.binds.push(BindAddr::Tcp(a)),
            Ok(None) => {
                self.s.bind_err.get_or_insert(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "bind address resolved to nothing",
                ));
            }
            Err(e) => {
                self.s.bind_err.get_or_insert(io::Error::new(
                    e.kind(),
                    format!("invalid bind address: {e}"),
                ));
            }
        }
        self
    }

    /// Listens on a Unix domain socket at `path`. A stale socket file left
    /// by a dead server is replaced; the file is removed at shutdown.
    ///
    /// ```
    /// let builder = corering::Server::builder().bind_unix("/run/myapp.sock");
    /// # let _ = builder;
    /// ```
    pub fn bind_unix(mut self, path: impl Into<PathBuf>) -> Self {
        self.s.binds.push(BindAddr::Unix(path.into()));
        self
    }

    /// Number of workers (default 0: one per CPU this process may run on,
    /// that is the CPUs in its affinity mask (`taskset`, `cpuset`), capped
    /// by its cgroup's CPU quota rounded up (`docker --cpus 2` gives 2),
    /// at least 1). With pinning on, the n-th worker runs on the n-th CPU
    /// of the affinity mask.
    ///
    /// ```
    /// let builder = corering::Server::builder().workers(2);
    /// # let _ = builder;
    /// ```
    pub fn workers(mut self, n: usize) -> Self {
        self.s.workers = n;
        self
    }

    /// `n` workers unless [`workers`](ServerBuilder::workers) set a count
    /// (for helpers such as [`crate::test::TestServer`] that take a
    /// builder and choose their own default).
    ///
    /// ```
    /// let builder = corering::Server::builder().workers_if_unset(1);
    /// # let _ = builder;
    /// ```
    pub fn workers_if_unset(mut self, n: usize) -> Self {
        if self.s.workers == 0 {
            self.s.workers = n;
        }
        self
    }

    /// Pin each worker to its own CPU (default on).
    ///
    /// ```
    /// let builder = corering::Server::builder().pin_workers(false);
    /// # let _ = builder;
    /// ```
    pub fn pin_workers(mut self, on: bool) -> Self {
        self.s.pin = on;
        self
    }

    /// How accepted connections reach workers (default `ReusePort`).
    ///
    /// ```
    /// let builder = corering::Server::builder().accept_mode(corering::AcceptMode::Acceptor);
    /// # let _ = builder;
    /// ```
    pub fn accept_mode(mut self, mode: AcceptMode) -> Self {
        self.s.mode = mode;
        self
    }

    /// TCP_NODELAY on accepted connections (default on).
    ///
    /// ```
    /// let builder = corering::Server::builder().nodelay(false);
    /// # let _ = builder;
    /// ```
    pub fn nodelay(mut self, on: bool) -> Self {
        self.s.opts.nodelay = on;
        self
    }

    /// SO_REUSEADDR on listening sockets (default on).
    ///
    /// ```
    /// let builder = corering::Server::builder().reuseaddr(false);
    /// # let _ = builder;
    /// ```
    pub fn reuseaddr(mut self, on: bool) -> Self {
        self.s.opts.reuseaddr = on;
        self
    }

    /// Listen backlog (default 1024; the kernel caps it at somaxconn).
    ///
    /// ```
    /// let builder = corering::Server::builder().backlog(4096);
    /// # let _ = builder;
    /// ```
    pub fn backlog(mut self, n: u32) -> Self {
        self.s.opts.backlog = n.min(i32::MAX as u32) as i32;
        self
    }

    /// SO_KEEPALIVE on accepted connections, probing after `idle` (off by
    /// default).
    ///
    /// ```
    /// use std::time::Duration;
    /// let builder = corering::Server::builder().keepalive(Duration::from_secs(60));
    /// # let _ = builder;
    /// ```
    pub fn keepalive(mut self, idle: impl Into<Option<Duration>>) -> Self {
        self.s.keepalive = idle.into();
        self
    }

    /// TCP_DEFER_ACCEPT: wake the server only once data arrives, waiting at
    /// most `wait` (off by default).
    ///
    /// ```
    /// use std::time::Duration;
    /// let builder = corering::Server::builder().defer_accept(Duration::from_secs(1));
    /// # let _ = builder;
    /// ```
    pub fn defer_accept(mut self, wait: impl Into<Option<Duration>>) -> Self {
        self.s.opts.defer_accept = wait.into();
        self
    }

    /// Receive buffers per worker (`count`, a power of two up to 32768) and
    /// their size in bytes.
    ///
    /// ```
    /// // 4096 buffers of 16 KiB per worker.
    /// let builder = corering::Server::builder().recv_buffers(4096, 16 * 1024);
    /// # let _ = builder;
    /// ```
    pub fn recv_buffers(mut self, count: u16, size: u32) -> Self {
        self.s.buf_count = count;
        self.s.buf_size = size;
        self
    }

    /// Received buffers a connection may hold (queued plus leased) before
    /// its receive is paused (default 32).
    ///
    /// ```
    /// let builder = corering::Server::builder().max_leases(64);
    /// # let _ = builder;
    /// ```
    pub fn max_leases(mut self, n: u32) -> Self {
        self.s.params.max_leases = n;
        self
    }

    /// Bytes a connection may queue for sending before writes wait
    /// (default 1 MiB).
    ///
    /// ```
    /// let builder = corering::Server::builder().write_buffer_limit(4 << 20);
    /// # let _ = builder;
    /// ```
    pub fn write_buffer_limit(mut self, bytes: usize) -> Self {
        self.s.params.write_limit = bytes;
        self
    }

    /// Closes a connection whose queued output makes no progress for this
    /// long (default 60 s, like nginx's `send_timeout`; `None` disables):
    /// a peer that sends requests but never reads their responses cannot
    /// hold the connection and its buffers forever. Progress is any part of
    /// a send completing; an idle connection with nothing queued is never
    /// affected. Handlers can change it per connection with
    /// [`Connection::set_write_timeout`]. Closes are counted in
    /// [`WorkerStats::write_timeouts`] and logged at debug level.
    ///
    /// The check is a sweep run at most once a second (a quarter of the
    /// smallest timeout, if shorter) and only while some connection has
    /// output queued, so an idle server is never woken for it.
    ///
    /// ```
    /// use std::time::Duration;
    /// let builder = corering::Server::builder().write_timeout(Duration::from_secs(20));
    /// # let _ = builder;
    /// ```
    pub fn write_timeout(mut self, t: impl Into<Option<Duration>>) -> Self {
        self.s.params.write_timeout = t.into();
        self
    }

    /// Sends of at least this many bytes use zero-copy `sendmsg_zc` where the
    /// kernel supports it (default 64 KiB; `None` disables).
    ///
    /// Only where it helps: the first zero-copy send of a connection is a
    /// 4 KiB probe whose completion says whether the kernel copied the
    /// bytes anyway (loopback and other local delivery, a virtual device, a
    /// NIC without scatter-gather); if it did, that connection sends by
    /// copying from then on.
    ///
    /// ```
    /// let builder = corering::Server::builder().zero_copy_threshold(None);
    /// # let _ = builder;
    /// ```
    pub fn zero_copy_threshold(mut self, bytes: impl Into<Option<usize>>) -> Self {
        self.s.params.zc_threshold = bytes.into();
        self
    }

    /// Submission queue entries per worker ring (default 1024).
    ///
    /// ```
    /// let builder = corering::Server::builder().ring_entries(4096);
    /// # let _ = builder;
    /// ```
    pub fn ring_entries(mut self, n: u32) -> Self {
        self.s.ring_entries = n;
        self
    }

    /// Completion batching (default: up to 64 completions or 50 µs).
    ///
    /// When a worker has nothing to run it waits in `io_uring_enter`. With
    /// batching, that wait returns when `events` completions are ready, or
    /// when `max_wait` has passed and at least one is; if none has arrived
    /// by then it goes on sleeping until the first one does (a receive, a
    /// due timer, a cross-worker wake). So an idle worker sleeps in the
    /// kernel and uses no CPU, a lone request waits at most `max_wait`
    /// longer than without batching (usually not at all: the target adapts
    /// to about 1.25x what the previous wait brought, so light traffic
    /// asks for one completion), and under load one `io_uring_enter`
    /// handles many connections.
    ///
    /// `None` turns it off (each wait returns at the first completion).
    /// Needs Linux 6.12 (`min_wait_usec`) and a `DEFER_TASKRUN` ring;
    /// ignored elsewhere. The environment variable `CORERING_BATCH_WAIT`
    /// (`off`, or `EVENTS:MICROS`) overrides this setting, so an operator
    /// can compare both without a rebuild.
    ///
    /// ```
    /// use std::time::Duration;
    /// // Lowest latency: wake at the first completion.
    /// let builder = corering::Server::builder().batch_wait(None);
    /// // More batching: up to 128 completions or 100 µs.
    /// let batched = corering::Server::builder().batch_wait(Some((128, Duration::from_micros(100))));
    /// # let _ = (builder, batched);
    /// ```
    pub fn batch_wait(mut self, batch: Option<(u32, Duration)>) -> Self {
        self.s.batch = batch_micros(batch);
        self
    }

    /// The kernel interface the workers run on (default
    /// [`BackendChoice::Auto`]: io_uring where it works with everything
    /// corering needs, else epoll, with the reason on the startup line).
    /// Set here, it wins over the `CORERING_BACKEND` environment variable
    /// (`uring`, `epoll` or `auto`), which otherwise sets the default.
    ///
    /// ```
    /// let builder = corering::Server::builder().backend(corering::BackendChoice::Epoll);
    /// # let _ = builder;
    /// ```
    pub fn backend(mut self, choice: BackendChoice) -> Self {
        self.s.backend = Some(choice);
        self
    }

    /// How long shutdown waits for connections to finish before closing
    /// them (default 10 s).
    ///
    /// ```
    /// use std::time::Duration;
    /// let builder = corering::Server::builder().shutdown_timeout(Duration::from_secs(30));
    /// # let _ = builder;
    /// ```
    pub fn shutdown_timeout(mut self, d: Duration) -> Self {
        self.s.shutdown_timeout = d;
        self
    }

    /// Serves TLS on every connection (feature `tls`): each completes a
    /// rustls handshake before the handler runs, which then reads and
    /// writes plaintext as on a plain connection (the same handler serves
    /// HTTP and HTTPS). See [`tls::server_config_from_pem`](crate::tls::server_config_from_pem)
    /// and [`TlsInfo`](crate::tls::TlsInfo). A failed, garbage, stalled or
    /// abandoned handshake closes that connection only, is logged at debug
    /// level and counted in [`WorkerStats::tls_handshake_failures`].
    ///
    /// ```no_run
    /// fn main() -> std::io::Result<()> {
    ///     let config = corering::tls::server_config_from_pem("cert.pem", "key.pem")?;
    ///     let builder = corering::Server::builder().bind("0.0.0.0:8443").tls(config);
    /// #   let _ = builder;
    ///     Ok(())
    /// }
    /// ```
    #[cfg(feature = "tls")]
    pub fn tls(mut self, config: impl Into<Arc<rustls::ServerConfig>>) -> Self {
        self.s.tls = Some(crate::tls::TlsAcceptor::new(config));
        self
    }

    /// How long a TLS handshake may take before the connection is closed
    /// (default 10 s).
    ///
    /// ```
    /// use std::time::Duration;
    /// let builder = corering::Server::builder().tls_handshake_timeout(Duration::from_secs(3));
    /// # let _ = builder;
    /// ```
    #[cfg(feature = "tls")]
    pub fn tls_handshake_timeout(mut self, d: Duration) -> Self {
        self.s.tls_timeout = d;
        self
    }

    /// Kernel TLS after the handshake (default [`Ktls::Auto`](crate::tls::Ktls::Auto));
    /// `Require` where it cannot be used makes [`build`](Self::build) fail.
    ///
    /// ```
    /// let builder = corering::Server::builder().ktls(corering::tls::Ktls::Off);
    /// # let _ = builder;
    /// ```
    #[cfg(feature = "tls")]
    pub fn ktls(mut self, k: crate::tls::Ktls) -> Self {
        self.s.ktls = k;
        self
    }

    fn validate(&self) -> io::Result<()> {
        let bad = |m: String| Err(io::Error::new(io::ErrorKind::InvalidInput, m));
        if !self.s.buf_count.is_power_of_two() || self.s.buf_count > 32768 {
            return bad(format!(
                "recv_buffers count must be a power of two up to 32768, got {}",
                self.s.buf_count
            ));
        }
        if self.s.buf_size < 512 {
            return bad(format!(
                "recv_buffers size must be at least 512, got {}",
                self.s.buf_size
            ));
        }
        if self.s.params.max_leases < 2 {
            return bad("max_leases must be at least 2".into());
        }
        if self.s.params.write_limit == 0 {
            return bad("write_buffer_limit must be positive".into());
        }
        if !self.s.ring_entries.is_power_of_two() || !(8..=32768).contains(&self.s.ring_entries) {
            return bad(format!(
                "ring_entries must be a power of two between 8 and 32768, got {}",
                self.s.ring_entries
            ));
        }
        Ok(())
    }

    /// Checks io_uring, binds every address and returns the server, ready
    /// to start. Errors say what to do (address in use, io_uring blocked).
    ///
    /// ```no_run
    /// fn main() -> std::io::Result<()> {
    ///     let server = corering::Server::builder().bind("127.0.0.1:0").build()?;
    ///     println!("listening on {:?}", server.local_addrs());
    /// #   let _ = server;
    ///     Ok(())
    /// }
    /// ```
    pub fn build(mut self) -> io::Result<Server<M>> {
        if let Some(e) = self.s.bind_err.take() {
            return Err(e);
        }
        self.validate()?;
        let selected = crate::driver::select(self.s.backend)?;
        if let Ok(v) = std::env::var("CORERING_BATCH_WAIT") {
            let batch = ServerBuilder::parse_batch_wait(&v).ok_or_else(|| {
                io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!(
                        "CORERING_BATCH_WAIT={v:?}: expected `off` or EVENTS:MICROS (e.g. 64:50)"
                    ),
                )
            })?;
            self.s.batch = batch_micros(batch);
        }
        let cpus = crate::runtime::cpus::allowed_cpus();
        let workers = if self.s.workers == 0 {
            crate::runtime::cpus::default_workers(cpus.len())
        } else {
            self.s.workers
        };
        #[cfg(feature = "tls")]
        let tls = match self.s.tls.take() {
            Some(a) => {
                let line = crate::tls::mode_line(self.s.ktls)?;
                let a = a.handshake_timeout(self.s.tls_timeout).ktls(self.s.ktls);
                Some((Arc::new(a), line))
            }
            None => None,
        };
        let mut bound = Vec::new();
        for b in &self.s.binds {
            bound.push(net::bind(b, self.s.mode, workers, &self.s.opts)?);
        }
        Ok(Server {
            middleware: self.middleware,
            cfg: WorkerConfig {
                ring_entries: self.s.ring_entries,
                buf_count: self.s.buf_count,
                buf_size: self.s.buf_size,
                params: self.s.params,
                pool_bytes: self.s.pool_bytes,
                shutdown_timeout: self.s.shutdown_timeout,
                cpu: None,
                support: selected.support,
                backend: selected.backend,
                nodelay: self.s.opts.nodelay,
                keepalive: self.s.keepalive,
                batch: self.s.batch,
            },
            workers,
            cpus,
            pin: self.s.pin,
            mode: self.s.mode,
            bound,
            backend_reason: selected.reason,
            #[cfg(feature = "tls")]
            tls,
        })
    }
}

impl<M: Middleware> Server<M> {
    /// Addresses the server listens on (with real ports for port 0).
    ///
    /// ```no_run
    /// fn main() -> std::io::Result<()> {
    ///     let server = corering::Server::builder().bind("127.0.0.1:0").build()?;
    ///     // Port 0 became a real port at build time.
    ///     println!("{:?}", server.local_addrs());
    /// #   let _ = server;
    ///     Ok(())
    /// }
    /// ```
    pub fn local_addrs(&self) -> Vec<Address> {
        self.bound.iter().map(|b| b.addr.clone()).collect()
    }

    /// Starts the workers in the background; each new connection runs
    /// `handler(conn)` as a task on the worker that accepted it.
    ///
    /// ```no_run
    /// use corering::http::{self, Http1Config};
    ///
    /// #[corering::get("/")]
    /// async fn index() -> &'static str { "hi" }
    ///
    /// fn main() -> std::io::Result<()> {
    ///     let app = corering::routes![index];
    ///     let running = corering::Server::builder()
    ///         .bind("127.0.0.1:0")
    ///         .build()?
    ///         .start(move |conn| http::serve(conn, Http1Config::new(), app.clone()))?;
    ///     println!("serving on {:?}", running.tcp_addr());
    ///     running.shutdown()
    /// }
    /// ```
    pub fn start<H, F>(self, handler: H) -> io::Result<RunningServer>
    where
        H: Fn(Connection) -> F + Send + Sync + 'static,
        F: Future<Output = ()> + 'static,
    {
        let addrs = self.local_addrs();
        let handler = crate::trace::connections(handler);
        #[cfg(feature = "tls")]
        let (handler, tls_line) = {
            let acceptor = self.tls.as_ref().map(|t| t.0.clone());
            let handler = Arc::new(handler);
            (
                move |conn| crate::tls::serve(conn, acceptor.clone(), handler.clone()),
                self.tls.as_ref().map(|t| t.1.clone()),
            )
        };
        #[cfg(not(feature = "tls"))]
        let tls_line = None;
        let handler = Arc::new(pipeline::compose(self.middleware, handler));
        let n = self.workers;
        let remotes: Vec<Arc<Remote>> = (0..n).map(|_| Remote::new()).collect::<io::Result<_>>()?;
        let shared = Arc::new(Shared::new(remotes.clone()));
        let unix_paths: Vec<PathBuf> = self
            .bound
            .iter()
            .filter_map(|b| b.unix_path.clone())
            .collect();

        // Distribute listening sockets.
        let mut per_worker: Vec<Vec<_>> = (0..n).map(|_| Vec::new()).collect();
        let mut for_acceptor = Vec::new();
        for b in self.bound {
            let kind = b.kind;
            match self.mode {
                AcceptMode::Acceptor => {
                    for fd in b.fds {
                        for_acceptor.push((fd, kind));
                    }
                }
                AcceptMode::ReusePort => {
                    for (i, fd) in b.fds.into_iter().enumerate() {
                        per_worker[i % n].push((fd, kind));
                    }
                }
            }
        }

        let (tx, rx) = std::sync::mpsc::channel::<io::Result<Option<RingMode>>>();
        let mut threads = Vec::with_capacity(n);
        for (i, listeners) in per_worker.into_iter().enumerate() {
            let mut cfg = self.cfg.clone();
            if self.pin {
                cfg.cpu = Some(self.cpus[i % self.cpus.len()]);
            }
            let shared = shared.clone();
            let remote = remotes[i].clone();
            let handler = handler.clone();
            let tx = tx.clone();
            let raw: Vec<_> = listeners
                .into_iter()
                .map(|(fd, k)| (std::os::fd::IntoRawFd::into_raw_fd(fd), k))
                .collect();
            let t = std::thread::Builder::new()
                .name(format!("corering-w{i}"))
                .spawn(move || {
                    let _exit = ExitGuard(shared.clone());
                    let w = match Worker::new(i, cfg, shared, remote, raw.clone()) {
                        Ok(w) => w,
                        Err(e) => {
                            for (fd, _) in raw {
                                // SAFETY: the worker owned these and failed.
                                unsafe { libc::close(fd) };
                            }
                            let _ = tx.send(Err(e));
                            return;
                        }
                    };
                    let _ = tx.send(Ok(w.io.borrow().drv.ring_mode()));
                    drop(tx);
                    let mut tasks = TypedTasks::new(handler);
                    w.run(&mut tasks, crate::runtime::RunUntil::Shutdown);
                })?;
            threads.push(t);
        }
        drop(tx);
        let mut mode = None;
        let mut first_err = None;
        for _ in 0..n {
            match rx.recv() {
                Ok(Ok(m)) => mode = m,
                Ok(Err(e)) => {
                    first_err.get_or_insert(e);
                }
                Err(_) => {
                    first_err.get_or_insert(io::Error::other("a worker died during startup"));
                }
            }
        }
        let acceptor = if first_err.is_none() && !for_acceptor.is_empty() {
            match Acceptor::spawn(for_acceptor, remotes.clone(), self.cfg.backend) {
                Ok(a) => {
                    let _ = shared.acceptor.set(a.remote());
                    Some(a)
                }
                Err(e) => {
                    first_err = Some(e);
                    None
                }
            }
        } else {
            None
        };
        let running = RunningServer {
            shared,
            threads,
            acceptor,
            addrs,
            unix_paths,
            mode,
            backend: self.cfg.backend,
            backend_reason: self.backend_reason,
            workers: n,
            accept_mode: self.mode,
            pinned: self.pin,
            grace: self.cfg.shutdown_timeout,
            tls_line,
        };
        if let Some(e) = first_err {
            drop(running);
            return Err(e);
        }
        Ok(running)
    }

    /// Starts the server, prints one line saying where it listens, and runs
    /// until SIGINT or SIGTERM; then shuts down gracefully and returns.
    ///
    /// ```no_run
    /// fn main() -> std::io::Result<()> {
    ///     // A TCP echo server, until Ctrl-C.
    ///     corering::Server::builder()
    ///         .bind("127.0.0.1:7000")
    ///         .build()?
    ///         .serve(|mut conn| async move {
    ///             while let Ok(Some(lease)) = conn.read().await {
    ///                 if conn.write_all(&lease).await.is_err() {
    ///                     break;
    ///                 }
    ///             }
    ///         })
    /// }
    /// ```
    pub fn serve<H, F>(self, handler: H) -> io::Result<()>
    where
        H: Fn(Connection) -> F + Send + Sync + 'static,
        F: Future<Output = ()> + 'static,
    {
        // Handlers first: a signal sent as soon as the listening line is out
        // must stop the server gracefully, not kill the process.
        crate::signal::install()?;
        let seen = crate::signal::count();
        let running = self.start(handler)?;
        println!("corering: {}", running.summary());
        running.until_signal(seen)
    }
}

/// A started server: its addresses, and the way to stop it.
///
/// Dropping it shuts the server down and waits for the workers.
///
/// ```no_run
/// fn main() -> std::io::Result<()> {
///     let running = corering::Server::builder()
///         .bind("127.0.0.1:0")
///         .workers(2)
///         .build()?
///         .start(|conn| async move { drop(conn) })?;
///     println!("{}", running.summary());
///     let addr = running.tcp_addr().expect("TCP");
///     let _ = std::net::TcpStream::connect(addr)?;
///     println!("{} accepted", running.total_stats().accepted);
///     running.shutdown()
/// }
/// ```
pub struct RunningServer {
    shared: Arc<Shared>,
    threads: Vec<JoinHandle<()>>,
    acceptor: Option<Acceptor>,
    addrs: Vec<Address>,
    unix_paths: Vec<PathBuf>,
    mode: Option<RingMode>,
    backend: Backend,
    backend_reason: Option<String>,
    workers: usize,
    accept_mode: AcceptMode,
    pinned: bool,
    /// The shutdown grace period, for the shutdown line.
    grace: Duration,
    /// With TLS on: the line saying which TLS mode is in use.
    tls_line: Option<String>,
}

/// Stops a running server from anywhere (any thread, any worker).
///
/// ```no_run
/// fn main() -> std::io::Result<()> {
///     let running = corering::Server::builder()
///         .bind("127.0.0.1:0")
///         .build()?
///         .start(|conn| async move { drop(conn) })?;
///     let stop = running.shutdown_handle();
///     std::thread::spawn(move || {
///         std::thread::sleep(std::time::Duration::from_secs(1));
///         stop.shutdown();
///     });
///     running.wait()
/// }
/// ```
#[derive(Clone)]
pub struct ShutdownHandle {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for ShutdownHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ShutdownHandle").finish()
    }
}

impl ShutdownHandle {
    /// Begins graceful shutdown: stop accepting, let connections finish
    /// until the shutdown timeout, then close the rest.
    ///
    /// ```
    /// # fn f(server: corering::RunningServer) {
    /// let stop = server.shutdown_handle();
    /// stop.shutdown();
    /// # }
    /// ```
    pub fn shutdown(&self) {
        if !self.shared.shutting_down.swap(true, Ordering::AcqRel) {
            if let Some(a) = self.shared.acceptor.get() {
                a.send(Msg::Shutdown);
            }
            for r in &self.shared.remotes {
                r.send(Msg::Shutdown);
            }
        }
    }

    /// Ends the grace period now: connections still open are closed.
    ///
    /// ```
    /// # fn f(server: corering::RunningServer) {
    /// let stop = server.shutdown_handle();
    /// stop.shutdown();
    /// std::thread::sleep(std::time::Duration::from_secs(1));
    /// stop.force(); // do not wait out the grace period
    /// # }
    /// ```
    pub fn force(&self) {
        self.shared.shutting_down.store(true, Ordering::Release);
        for r in &self.shared.remotes {
            r.send(Msg::ForceShutdown);
        }
    }
}

impl RunningServer {
    /// Addresses the server listens on.
    ///
    /// ```
    /// # fn f(server: corering::RunningServer) -> std::io::Result<()> {
    /// for addr in server.local_addrs() {
    ///     println!("listening on {addr:?}");
    /// }
    /// # Ok(()) }
    /// ```
    pub fn local_addrs(&self) -> &[Address] {
        &self.addrs
    }

    /// The first TCP address, for tests and examples.
    ///
    /// ```
    /// # fn f(server: corering::RunningServer) -> std::io::Result<()> {
    /// let addr = server.tcp_addr().expect("bound to TCP");
    /// let _client = std::net::TcpStream::connect(addr)?;
    /// # Ok(()) }
    /// ```
    pub fn tcp_addr(&self) -> Option<SocketAddr> {
        self.addrs.iter().find_map(|a| match a {
            Address::Tcp(s) => Some(*s),
            Address::Unix(_) => None,
        })
    }

    /// Counters of each worker, by worker index (published once per loop
    /// turn of each worker).
    ///
    /// ```
    /// # fn f(server: corering::RunningServer) -> std::io::Result<()> {
    /// for (i, w) in server.stats().iter().enumerate() {
    ///     println!("worker {i}: {} accepted", w.accepted);
    /// }
    /// # Ok(()) }
    /// ```
    pub fn stats(&self) -> Vec<WorkerStats> {
        self.metrics().engine()
    }

    /// Counters summed over all workers.
    ///
    /// ```
    /// # fn f(server: corering::RunningServer) -> std::io::Result<()> {
    /// println!("{} connections accepted", server.total_stats().accepted);
    /// # Ok(()) }
    /// ```
    pub fn total_stats(&self) -> WorkerStats {
        self.metrics().engine_total()
    }

    /// All counters (engine and HTTP) as a handle that outlives this
    /// value; handlers get the same with
    /// [`Metrics::current`](crate::metrics::Metrics::current).
    ///
    /// ```
    /// # fn f(server: corering::RunningServer) -> std::io::Result<()> {
    /// let metrics = server.metrics();
    /// # let _ = metrics;
    /// # Ok(()) }
    /// ```
    pub fn metrics(&self) -> crate::metrics::Metrics {
        crate::metrics::Metrics::new(self.shared.clone())
    }

    /// Which io_uring task-run mode the workers use (`None` on epoll).
    ///
    /// ```
    /// # fn f(server: corering::RunningServer) -> std::io::Result<()> {
    /// println!("{:?}", server.ring_mode());
    /// # Ok(()) }
    /// ```
    pub fn ring_mode(&self) -> Option<RingMode> {
        self.mode
    }

    /// The kernel interface the workers run on.
    ///
    /// ```
    /// # fn f(server: corering::RunningServer) -> std::io::Result<()> {
    /// println!("running on {:?}", server.backend());
    /// # Ok(()) }
    /// ```
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Number of workers.
    ///
    /// ```
    /// # fn f(server: corering::RunningServer) -> std::io::Result<()> {
    /// println!("{} workers", server.workers());
    /// # Ok(()) }
    /// ```
    pub fn workers(&self) -> usize {
        self.workers
    }

    /// One line for logs: addresses, workers, accept mode, the backend
    /// (io_uring and its ring flags, or epoll and why) and, with TLS on,
    /// the `https://` address and the TLS mode in use.
    ///
    /// ```
    /// # fn f(server: corering::RunningServer) -> std::io::Result<()> {
    /// eprintln!("corering: {}", server.summary());
    /// # Ok(()) }
    /// ```
    pub fn summary(&self) -> String {
        let addrs: Vec<String> = self.addrs.iter().map(|a| a.to_string()).collect();
        let tls = match (&self.tls_line, self.tcp_addr()) {
            (Some(line), Some(a)) => format!("; https://{a}/, {line}"),
            (Some(line), None) => format!("; {line}"),
            (None, _) => String::new(),
        };
        format!(
            "listening on {} with {} worker{}{} ({} accept), {}{tls}",
            addrs.join(", "),
            self.workers,
            if self.workers == 1 { "" } else { "s" },
            if self.pinned { " pinned" } else { "" },
            match self.accept_mode {
                AcceptMode::ReusePort => "SO_REUSEPORT",
                AcceptMode::Acceptor => "acceptor-thread",
            },
            self.backend_line()
        )
    }

    /// The backend part of the startup line: `io_uring FLAGS`, or
    /// `epoll: REASON`.
    fn backend_line(&self) -> String {
        match (self.backend, self.mode, &self.backend_reason) {
            (Backend::IoUring, Some(m), _) => format!("io_uring {m}"),
            (b, _, Some(why)) => format!("{b}: {why}"),
            (b, _, None) => b.to_string(),
        }
    }

    /// A handle that stops the server.
    ///
    /// ```
    /// # fn f(server: corering::RunningServer) -> std::io::Result<()> {
    /// let stop = server.shutdown_handle();
    /// std::thread::spawn(move || stop.shutdown());
    /// server.wait()?;
    /// # Ok(()) }
    /// ```
    pub fn shutdown_handle(&self) -> ShutdownHandle {
        ShutdownHandle {
            shared: self.shared.clone(),
        }
    }

    /// Begins graceful shutdown and waits for it to finish.
    ///
    /// ```
    /// # fn f(server: corering::RunningServer) -> std::io::Result<()> {
    /// server.shutdown()?; // returns once every worker has exited
    /// # Ok(()) }
    /// ```
    pub fn shutdown(self) -> io::Result<()> {
        self.shutdown_handle().shutdown();
        self.wait()
    }

    /// Waits for the workers to exit (after someone triggered shutdown).
    ///
    /// ```
    /// # fn f(server: corering::RunningServer) -> std::io::Result<()> {
    /// let stop = server.shutdown_handle();
    /// std::thread::spawn(move || stop.shutdown());
    /// server.wait()?;
    /// # Ok(()) }
    /// ```
    pub fn wait(mut self) -> io::Result<()> {
        self.join_all()
    }

    /// Runs until SIGINT/SIGTERM (a second signal skips the grace period),
    /// then shuts down and returns.
    ///
    /// ```
    /// # fn f(server: corering::RunningServer) -> std::io::Result<()> {
    /// println!("{}", server.summary());
    /// server.run_until_signal()?;
    /// # Ok(()) }
    /// ```
    pub fn run_until_signal(self) -> io::Result<()> {
        crate::signal::install()?;
        let seen = crate::signal::count();
        self.until_signal(seen)
    }

    /// Runs until more than `seen` signals have arrived (see
    /// [`run_until_signal`](Self::run_until_signal)); handlers are installed.
    ///
    /// The first signal starts a graceful shutdown and prints one line to
    /// stderr (`corering: shutting down: 3 connections open, grace 10 s;
    /// signal again to stop now`); a second closes the connections left at
    /// once. Either way this returns `Ok` as soon as the last worker is done
    /// (exiting workers wake this thread; there is no polling delay).
    fn until_signal(self, seen: usize) -> io::Result<()> {
        let handle = self.shutdown_handle();
        let mut stage = 0;
        while self.shared.exited.load(Ordering::Acquire) < self.workers {
            let n = crate::signal::count() - seen;
            if n >= 1 && stage == 0 {
                stage = 1;
                eprintln!("corering: {}", self.shutdown_line());
                handle.shutdown();
            }
            if n >= 2 && stage == 1 {
                stage = 2;
                eprintln!(
                    "corering: second signal: closing {} now",
                    plural(self.total_stats().open(), "connection")
                );
                handle.force();
            }
            // Woken by a signal or an exiting worker; the timeout is only a
            // safety net.
            crate::signal::wait(1000);
        }
        self.wait()
    }

    /// The line logged when shutdown begins.
    fn shutdown_line(&self) -> String {
        format!(
            "shutting down: {} open, grace {}; signal again to stop now",
            plural(self.total_stats().open(), "connection"),
            show_duration(self.grace)
        )
    }

    fn join_all(&mut self) -> io::Result<()> {
        let mut panicked = false;
        for t in self.threads.drain(..) {
            panicked |= t.join().is_err();
        }
        if let Some(a) = self.acceptor.take() {
            a.stop();
            a.join();
        }
        for p in self.unix_paths.drain(..) {
            let _ = std::fs::remove_file(p);
        }
        if panicked {
            return Err(io::Error::other("a corering worker panicked"));
        }
        Ok(())
    }
}

/// Counts a worker thread as exited when it ends (normally or by a panic)
/// and wakes whoever waits for signals, so `until_signal` returns at once.
struct ExitGuard(Arc<Shared>);

impl Drop for ExitGuard {
    fn drop(&mut self) {
        self.0.exited.fetch_add(1, Ordering::AcqRel);
        crate::signal::wake();
    }
}

/// `n thing` or `n things`.
fn plural(n: u64, thing: &str) -> String {
    format!("{n} {thing}{}", if n == 1 { "" } else { "s" })
}

/// A duration as an operator reads it: `10 s`, `2.5 s`, `300 ms`.
fn show_duration(d: Duration) -> String {
    let ms = d.as_millis();
    if ms >= 1000 && ms % 1000 == 0 {
        format!("{} s", ms / 1000)
    } else if ms >= 1000 {
        format!("{} s", d.as_secs_f64())
    } else {
        format!("{ms} ms")
    }
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        if !self.threads.is_empty() {
            self.shutdown_handle().shutdown();
            let _ = self.join_all();
        }
    }
}

impl ServerBuilder {
    /// Parses a [`batch_wait`](ServerBuilder::batch_wait) setting as written on a
    /// command line or in `CORERING_BATCH_WAIT`: `off`, or `EVENTS:MICROS`
    /// (e.g. `64:50`). `None` if it is neither.
    ///
    /// ```
    /// use corering::ServerBuilder;
    /// use std::time::Duration;
    /// assert_eq!(ServerBuilder::parse_batch_wait("off"), Some(None));
    /// assert_eq!(
    ///     ServerBuilder::parse_batch_wait("64:50"),
    ///     Some(Some((64, Duration::from_micros(50))))
    /// );
    /// assert_eq!(ServerBuilder::parse_batch_wait("64"), None);
    /// ```
    pub fn parse_batch_wait(spec: &str) -> Option<Option<(u32, Duration)>> {
        if spec == "off" {
            return Some(None);
        }
        let (n, us) = spec.split_once(':')?;
        Some(Some((
            n.parse().ok()?,
            Duration::from_micros(us.parse().ok()?),
        )))
    }
}

/// Completion batching in the form `batch_wait` keeps: (events, µs).
fn batch_micros(batch: Option<(u32, Duration)>) -> Option<(u32, u32)> {
    batch.map(|(n, d)| (n.max(1), d.as_micros().min(u32::MAX as u128) as u32))
}

#[cfg(test)]
mod tests {
    use super::{batch_micros, ServerBuilder};
    use std::time::Duration;

    #[test]
    fn batch_wait_settings() {
        let parse = <ServerBuilder>::parse_batch_wait;
        assert_eq!(parse("off"), Some(None));
        assert_eq!(parse("64:50"), Some(Some((64, Duration::from_micros(50)))));
        assert_eq!(parse("0:10"), Some(Some((0, Duration::from_micros(10)))));
        // At least one event, whatever was asked for.
        assert_eq!(batch_micros(parse("0:10").unwrap()), Some((1, 10)));
        assert_eq!(parse("64"), None);
        assert_eq!(parse("a:b"), None);
    }
}
