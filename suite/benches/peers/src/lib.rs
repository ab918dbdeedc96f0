//! Bits shared by the peer servers of corering's load benches (`http_load`, `echo_load`,
//! `tls_load`): the command line (`--addr HOST:PORT`, plus any flags of a server's own), a
//! SIGTERM handler that exits with status 0, in [`uring`] the io_uring plumbing of the two
//! floors (`uring_floor`, `echo_floor`), in [`tls`] the rustls setup of the TLS peers, in
//! [`tokio_serve`] the accept loop of the tokio peers (`tokio_floor`, the hand-written tokio
//! responder, among them) and in [`hyper_hello`] the service of the hyper ones.

use std::net::SocketAddr;

pub mod hyper_hello;
pub mod tls;
pub mod tokio_serve;
pub mod uring;

/// The body every peer answers `GET /plaintext` with.
pub const BODY: &[u8] = b"Hello, World!";

/// Parses `--addr HOST:PORT` (default 127.0.0.1:8080); `--help` prints the usage.
/// Exits with status 2 on a bad command line.
pub fn parse_addr(name: &str) -> SocketAddr {
    parse_args(name, &[]).0
}

/// Parses `--addr HOST:PORT` (default 127.0.0.1:8080) and the flags in `flags`, each
/// `(flag, value placeholder)` and taking one value; returns the address and the flags
/// given, with their values, in command-line order. `--help` prints the usage. Exits with
/// status 2 on a bad command line.
pub fn parse_args(
    name: &str,
    flags: &[(&'static str, &str)],
) -> (SocketAddr, Vec<(&'static str, String)>) {
    let mut usage = format!("usage: {name} [--addr HOST:PORT]");
    for (flag, value) in flags {
        usage.push_str(&format!(" [{flag} {value}]"));
    }
    let mut addr = "127.0.0.1:8080".to_string();
    let mut given = Vec::new();
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
            other => match flags.iter().find(|(flag, _)| *flag == other) {
                Some(&(flag, value)) => match args.next() {
                    Some(v) => given.push((flag, v)),
                    None => fail(name, &format!("{flag} needs {value}"), &usage),
                },
                None => fail(name, &format!("unknown argument {other:?}"), &usage),
            },
        }
    }
    match addr.parse() {
        Ok(a) => (a, given),
        Err(e) => fail(name, &format!("bad --addr {addr:?}: {e}"), &usage),
    }
}

/// Prints `msg` and the usage and exits with status 2.
pub fn fail(name: &str, msg: &str, usage: &str) -> ! {
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
