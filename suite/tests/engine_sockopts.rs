//! Socket options set by the builder are really applied: read back with
//! getsockopt on the accepted (and connected) sockets.

use std::net::TcpStream;
use std::os::fd::RawFd;
use std::sync::mpsc;
use std::time::Duration;

fn get_int(fd: RawFd, level: i32, name: i32) -> i32 {
    let mut v: i32 = -1;
    let mut len = std::mem::size_of::<i32>() as libc::socklen_t;
    // SAFETY: getsockopt writes at most `len` bytes into `v`.
    let r = unsafe { libc::getsockopt(fd, level, name, (&mut v as *mut i32).cast(), &mut len) };
    assert_eq!(r, 0, "getsockopt: {}", std::io::Error::last_os_error());
    v
}

/// Starts a server with `configure`, connects once, and returns
/// (TCP_NODELAY, SO_KEEPALIVE, TCP_KEEPIDLE) as seen on the accepted socket.
fn accepted_options(
    configure: impl FnOnce(corering::ServerBuilder) -> corering::ServerBuilder,
) -> (i32, i32, i32) {
    let (tx, rx) = mpsc::channel();
    let tx = std::sync::Mutex::new(tx);
    let builder = corering::Server::builder()
        .bind("127.0.0.1:0")
        .workers(1)
        .pin_workers(false);
    let server = configure(builder)
        .build()
        .unwrap()
        .start(move |conn| {
            let fd = conn.as_raw_fd();
            let opts = (
                get_int(fd, libc::IPPROTO_TCP, libc::TCP_NODELAY),
                get_int(fd, libc::SOL_SOCKET, libc::SO_KEEPALIVE),
                get_int(fd, libc::IPPROTO_TCP, libc::TCP_KEEPIDLE),
            );
            tx.lock().unwrap().send(opts).unwrap();
            async move { drop(conn) }
        })
        .unwrap();
    let c = TcpStream::connect(server.tcp_addr().unwrap()).unwrap();
    let opts = rx.recv_timeout(Duration::from_secs(5)).unwrap();
    drop(c);
    server.shutdown().unwrap();
    opts
}

#[test]
fn defaults_nodelay_on_keepalive_off() {
    let (nodelay, keepalive, _) = accepted_options(|b| b);
    assert_ne!(nodelay, 0, "TCP_NODELAY is on by default");
    assert_eq!(keepalive, 0, "SO_KEEPALIVE is opt-in");
}

#[test]
fn keepalive_and_nodelay_settings_apply() {
    let (nodelay, keepalive, idle) = accepted_options(|b| {
        b.nodelay(false)
            .keepalive(Duration::from_secs(42))
            .defer_accept(Duration::from_secs(1))
    });
    assert_eq!(nodelay, 0, "nodelay(false)");
    assert_ne!(keepalive, 0, "keepalive(Some)");
    assert_eq!(idle, 42, "TCP_KEEPIDLE follows the keepalive idle time");
}

#[test]
fn connector_sets_nodelay_and_keepalive() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let rt = corering::Runtime::new().unwrap();
    let (nodelay, keepalive, idle) = rt.block_on(async move {
        let conn = corering::Connector::new()
            .keepalive(Duration::from_secs(17))
            .connect(addr)
            .await
            .unwrap();
        let fd = conn.as_raw_fd();
        (
            get_int(fd, libc::IPPROTO_TCP, libc::TCP_NODELAY),
            get_int(fd, libc::SOL_SOCKET, libc::SO_KEEPALIVE),
            get_int(fd, libc::IPPROTO_TCP, libc::TCP_KEEPIDLE),
        )
    });
    assert_ne!(nodelay, 0);
    assert_ne!(keepalive, 0);
    assert_eq!(idle, 17);
}
