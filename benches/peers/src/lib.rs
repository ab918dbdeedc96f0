//! Bits shared by the peer servers of corering's `http_load` bench: the command line
//! (`--addr HOST:PORT`) and a SIGTERM handler that exits with status 0.

use std::net::SocketAddr;

/// The body every peer answers `GET /plaintext` with.
pub const BODY: &[u8] = b"Hello, World!";

/// Parses `--addr HOST:PORT` (default 127.0.0.1:8080); `--help` prints the usage.
/// Exits with status 2 on a bad command line.
pub fn parse_addr(name: &str) -> SocketAddr {
    let usage = format!("usage: {name} [--addr HOST:PORT]");
    let mut addr = "127.0.0.1:8080".to_string();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--addr" => match args.next() {
                Some(a) => addr = a,
                None => fail(name, "--addr needs HOST:PORT", &usage),
            },
            "-h" | "--help" => {
                println!("{usage}");
                std::process::exit(0);
            }
            other => fail(name, &format!("unknown argument {other:?}"), &usage),
        }
    }
    match addr.parse() {
        Ok(a) => a,
        Err(e) => fail(name, &format!("bad --addr {addr:?}: {e}"), &usage),
    }
}

fn fail(name: &str, msg: &str, usage: &str) -> ! {
    eprintln!("{name}: {msg}\n{usage}");
    std::process::exit(2);
}

extern "C" fn exit_now(_signal: libc::c_int) {
    // SAFETY: _exit is async-signal-safe.
    unsafe { libc::_exit(0) }
}

/// Makes SIGTERM and SIGINT end the process at once with status 0 (the bench stops the
/// servers with SIGTERM and warns about any other exit status).
pub fn exit_on_sigterm() {
    let handler = exit_now as extern "C" fn(libc::c_int) as libc::sighandler_t;
    // SAFETY: installs a handler that only calls the async-signal-safe _exit.
    unsafe {
        libc::signal(libc::SIGTERM, handler);
        libc::signal(libc::SIGINT, handler);
    }
}
