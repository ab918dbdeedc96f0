//! The accept loop of the tokio peers (`hyper_hello`, `hyper_tls_hello`, `tls_floor`,
//! `tokio_floor`): one thread (tokio's current-thread runtime, inside a `LocalSet` so that
//! connection tasks may be `!Send`), `TCP_NODELAY` on every connection.

use std::net::SocketAddr;

use tokio::net::{TcpListener, TcpStream};

/// Binds `addr`, prints `listening on ADDR` once bound, and hands every accepted
/// connection to `serve`, which spawns its task (`tokio::spawn` or
/// `tokio::task::spawn_local`). Never returns: a failed bind is printed, prefixed with
/// `name`, and ends the process with status 1; a failed accept is printed and skipped.
///
/// ```no_run
/// use corering_http_peers::tokio_serve::serve_tcp;
/// serve_tcp("my_peer", "127.0.0.1:8080".parse().unwrap(), |stream| {
///     tokio::spawn(async move { drop(stream) });
/// });
/// ```
pub fn serve_tcp(name: &str, addr: SocketAddr, mut serve: impl FnMut(TcpStream)) -> ! {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()
        .expect("building the tokio runtime");
    let local = tokio::task::LocalSet::new();
    let result: std::io::Result<()> = local.block_on(&rt, async move {
        let listener = TcpListener::bind(addr).await?;
        println!("listening on {}", listener.local_addr()?);
        loop {
            match listener.accept().await {
                Ok((stream, _)) => {
                    let _ = stream.set_nodelay(true);
                    serve(stream);
                }
                Err(e) => eprintln!("{name}: accept: {e}"),
            }
        }
    });
    if let Err(e) = result {
        eprintln!("{name}: {e}");
    }
    std::process::exit(1);
}
