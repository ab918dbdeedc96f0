//! Feature probes, run once at start so that a missing kernel feature is an
//! error at startup with a clear message, not a failure under load.

use std::io;

use io_uring::{opcode, IoUring, Probe};

use crate::error;

/// What the running kernel's io_uring supports, beyond the required set.
#[derive(Copy, Clone, Debug)]
pub(crate) struct KernelSupport {
    /// `IORING_OP_SENDMSG_ZC` (Linux 6.1+).
    pub send_zc: bool,
}

/// Checks that io_uring works here and has what corering needs.
///
/// The probe ring is created on a short-lived thread of its own: the kernel
/// tears a ring down asynchronously and then notifies every thread that
/// created or used it with signal-like task work, which makes a blocking
/// socket call with a timeout on that thread fail with `EINTR`. The
/// caller's thread (often the application's main thread, which may go on
/// to do blocking I/O) must not be one of them.
pub(crate) fn probe_kernel() -> io::Result<KernelSupport> {
    std::thread::Builder::new()
        .name("corering-probe".into())
        .spawn(probe_here)?
        .join()
        .unwrap_or_else(|_| Err(io::Error::other("the io_uring probe thread panicked")))
}

fn probe_here() -> io::Result<KernelSupport> {
    let ring = IoUring::new(8).map_err(error::ring_setup)?;
    let mut probe = Probe::new();
    ring.submitter()
        .register_probe(&mut probe)
        .map_err(|e| error::kernel_too_old("IORING_REGISTER_PROBE", e))?;
    let required = [
        (opcode::AcceptMulti::CODE, "accept"),
        (opcode::RecvMulti::CODE, "recv"),
        (opcode::SendMsg::CODE, "sendmsg"),
        (opcode::Timeout::CODE, "timeout"),
        (opcode::AsyncCancel::CODE, "async cancel"),
        (opcode::Close::CODE, "close"),
        (opcode::Connect::CODE, "connect"),
        (opcode::Shutdown::CODE, "shutdown"),
    ];
    for (code, name) in required {
        if !probe.is_supported(code) {
            return Err(error::kernel_too_old(
                name,
                io::Error::from_raw_os_error(libc::EINVAL),
            ));
        }
    }
    Ok(KernelSupport {
        send_zc: probe.is_supported(opcode::SendMsgZc::CODE),
    })
}
