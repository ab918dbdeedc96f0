//! Kernel TLS: the setting, and a probe of whether this kernel has the
//! `tls` upper-layer protocol at all.
//!
//! kTLS lets the kernel encrypt and decrypt records once rustls has done
//! the handshake, so io_uring would send and receive plaintext. This build
//! has the probe, the setting and the report; handing the session keys to
//! the kernel (`setsockopt(SOL_TLS, TLS_TX/TLS_RX)` from rustls'
//! `dangerous_into_kernel_connection`) is not written yet: every session
//! runs in userspace, and `Ktls::Require` is a startup error.

use std::fmt;
use std::io;
use std::os::fd::AsRawFd;
use std::sync::OnceLock;

/// Whether to use kernel TLS after the handshake.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Ktls {
    /// Never: rustls in userspace does the records.
    Off,
    /// Where the kernel supports it (default); userspace otherwise.
    #[default]
    Auto,
    /// Always: a kernel (or build) without it is a startup error.
    Require,
}

/// Whether this kernel accepts the `tls` upper-layer protocol on a TCP
/// socket; probed once per process on a loopback socket pair. `Err` says
/// why not.
pub fn ktls_supported() -> Result<(), &'static str> {
    static PROBE: OnceLock<Result<(), String>> = OnceLock::new();
    match PROBE.get_or_init(probe) {
        Ok(()) => Ok(()),
        Err(why) => Err(why.as_str()),
    }
}

fn probe() -> Result<(), String> {
    let io = |e: io::Error| format!("probe failed: {e}");
    let listener = std::net::TcpListener::bind("127.0.0.1:0").map_err(io)?;
    let client = std::net::TcpStream::connect(listener.local_addr().map_err(io)?).map_err(io)?;
    let _server = listener.accept().map_err(io)?;
    let name = b"tls";
    // SAFETY: a valid socket and a buffer of the given length.
    let r = unsafe {
        libc::setsockopt(
            client.as_raw_fd(),
            libc::SOL_TCP,
            libc::TCP_ULP,
            name.as_ptr().cast(),
            name.len() as libc::socklen_t,
        )
    };
    if r == 0 {
        return Ok(());
    }
    let e = io::Error::last_os_error();
    Err(match e.raw_os_error() {
        Some(libc::ENOENT) => "kernel has no tls ULP".to_string(),
        _ => format!("setsockopt(TCP_ULP, \"tls\"): {e}"),
    })
}

/// The TLS mode a server or client will run with under `setting`, as one
/// line for its startup output; an error for `Ktls::Require` where kTLS
/// cannot be used.
///
/// ```
/// use corering::tls::{mode_line, Ktls};
/// assert_eq!(mode_line(Ktls::Off).unwrap(), "tls: rustls userspace (kTLS off)");
/// ```
pub fn mode_line(setting: Ktls) -> io::Result<String> {
    let line = |why: &dyn fmt::Display| format!("tls: rustls userspace ({why})");
    match (setting, ktls_supported()) {
        (Ktls::Off, _) => Ok(line(&"kTLS off")),
        (Ktls::Auto, Err(why)) => Ok(line(&format_args!("kTLS unavailable: {why}"))),
        (Ktls::Auto, Ok(())) => Ok(line(
            &"kTLS supported by the kernel, not used by this build",
        )),
        (Ktls::Require, Err(why)) => Err(io::Error::new(
            io::ErrorKind::Unsupported,
            format!(
                "kTLS required but unavailable: {why} (load the `tls` module, or a kernel \
                 built with CONFIG_TLS; or set kTLS to Auto)"
            ),
        )),
        // kTLS install: once keys are handed to the kernel, this is
        // Ok("tls: kernel (kTLS) after a rustls handshake").
        (Ktls::Require, Ok(())) => Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "kTLS required, but this build does not hand session keys to the kernel yet \
             (set kTLS to Auto)",
        )),
    }
}
