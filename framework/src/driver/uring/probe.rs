//! Feature probe, run once at start: does io_uring work here, and does it
//! have what corering needs (the opcodes, provided-buffer rings, multishot
//! receive)? The answer decides the backend under `auto`, and a missing
//! feature is reported at startup, not met under load.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

use io_uring::{cqueue, opcode, types, IoUring};

use crate::error;

/// What the running kernel's io_uring supports, beyond the required set.
#[derive(Copy, Clone, Debug, Default)]
pub(crate) struct KernelSupport {
    /// `IORING_OP_SENDMSG_ZC` (Linux 6.1+).
    pub send_zc: bool,
    /// `IORING_OP_OPENAT2`, `IORING_OP_STATX` and `IORING_OP_READ` (Linux
    /// 5.6+): static files are opened and read on the ring; without them
    /// they go through the blocking pool.
    pub files: bool,
}

/// Why io_uring cannot be used.
#[derive(Debug)]
pub(crate) struct Probe {
    /// The error to report when io_uring was asked for: one sentence
    /// saying what failed and what to do.
    pub error: io::Error,
    /// One clause saying why, when falling back to epoll is the right call
    /// (io_uring denied, disabled or lacking a feature); `None` for a
    /// resource problem (locked memory, descriptors) that should be fixed
    /// rather than worked around.
    pub fallback: Option<String>,
}

impl Probe {
    fn unavailable(error: io::Error, why: impl Into<String>) -> Probe {
        Probe {
            error,
            fallback: Some(why.into()),
        }
    }

    fn resource(error: io::Error) -> Probe {
        Probe {
            error,
            fallback: None,
        }
    }
}

/// Checks that io_uring works here and has what corering needs.
///
/// The probe ring is created on a short-lived thread of its own: the kernel
/// tears a ring down asynchronously and then notifies every thread that
/// created or used it with signal-like task work, which makes a blocking
/// socket call with a timeout on that thread fail with `EINTR`. The
/// caller's thread (often the application's main thread, which may go on
/// to do blocking I/O) must not be one of them.
pub(crate) fn probe_kernel() -> Result<KernelSupport, Probe> {
    std::thread::Builder::new()
        .name("corering-probe".into())
        .spawn(probe_here)
        .map_err(Probe::resource)?
        .join()
        .unwrap_or_else(|_| {
            Err(Probe::resource(io::Error::other(
                "the io_uring probe thread panicked",
            )))
        })
}

/// One clause naming why `io_uring_setup` failed with `errno`, if that
/// failure means io_uring is unavailable here (rather than short of a
/// resource).
fn setup_denied(errno: i32) -> Option<String> {
    let disabled = std::fs::read_to_string("/proc/sys/kernel/io_uring_disabled")
        .map(|s| s.trim().to_string())
        .unwrap_or_default();
    match errno {
        libc::EPERM | libc::EACCES if disabled == "2" => {
            Some("io_uring disabled by sysctl kernel.io_uring_disabled=2".into())
        }
        libc::EPERM | libc::EACCES if disabled == "1" => {
            Some("io_uring restricted by sysctl kernel.io_uring_disabled=1".into())
        }
        libc::EPERM | libc::EACCES => Some("io_uring_setup denied by seccomp".into()),
        libc::ENOSYS => Some("io_uring_setup not available (ENOSYS)".into()),
        libc::EINVAL => Some("io_uring_setup rejected (kernel too old)".into()),
        _ => None,
    }
}

fn probe_here() -> Result<KernelSupport, Probe> {
    let ring = IoUring::new(8).map_err(|e| match setup_denied(e.raw_os_error().unwrap_or(0)) {
        Some(why) => Probe::unavailable(error::ring_setup(e), why),
        None => Probe::resource(error::ring_setup(e)),
    })?;
    let missing = |feature: &str, e: io::Error| {
        Probe::unavailable(
            error::kernel_too_old(feature, e),
            format!("io_uring lacks {feature}"),
        )
    };
    let mut probe = io_uring::Probe::new();
    ring.submitter()
        .register_probe(&mut probe)
        .map_err(|e| missing("IORING_REGISTER_PROBE", e))?;
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
            return Err(missing(name, io::Error::from_raw_os_error(libc::EINVAL)));
        }
    }
    multishot_recv(ring)?;
    Ok(KernelSupport {
        send_zc: probe.is_supported(opcode::SendMsgZc::CODE),
        files: [opcode::OpenAt2::CODE, opcode::Read::CODE]
            .iter()
            .all(|&code| probe.is_supported(code)),
    })
}

/// Registers a small provided-buffer ring and receives one byte on a
/// socket pair with a multishot receive from it: the two features every
/// connection relies on (Linux 5.19 and 6.0).
fn multishot_recv(mut ring: IoUring) -> Result<(), Probe> {
    const ENTRIES: u16 = 1;
    let mut fds = [0; 2];
    // SAFETY: socketpair writes two descriptors into the array.
    if unsafe {
        libc::socketpair(
            libc::AF_UNIX,
            libc::SOCK_STREAM | libc::SOCK_CLOEXEC,
            0,
            fds.as_mut_ptr(),
        )
    } != 0
    {
        return Err(Probe::resource(io::Error::last_os_error()));
    }
    // SAFETY: fresh descriptors that nothing else owns.
    let (a, b) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    let page = 4096;
    let mem = super::mmap_anon(page).map_err(Probe::resource)?;
    struct Unmap(*mut u8, usize);
    impl Drop for Unmap {
        fn drop(&mut self) {
            // SAFETY: mapped above with this length; the ring that used it
            // is dropped first (declared after this guard).
            unsafe { libc::munmap(self.0.cast(), self.1) };
        }
    }
    let _unmap = Unmap(mem, page);
    let entries = mem.cast::<types::BufRingEntry>();
    // SAFETY: the page is mapped, aligned and outlives the ring below.
    unsafe {
        ring.submitter()
            .register_buf_ring_with_flags(entries as u64, ENTRIES, 7, 0)
    }
    .map_err(|e| match e.raw_os_error() {
        Some(libc::ENOMEM) => Probe::resource(error::buf_ring_setup(e)),
        _ => Probe::unavailable(
            error::buf_ring_setup(e),
            "io_uring lacks provided-buffer rings",
        ),
    })?;
    // The buffer: the second half of the page.
    // SAFETY: entry 0 lies in the mapped page; the tail store publishes it.
    unsafe {
        let e = &mut *entries;
        e.set_addr(mem.add(2048) as u64);
        e.set_len(64);
        e.set_bid(0);
        let tail = types::BufRingEntry::tail(entries) as *const std::sync::atomic::AtomicU16;
        (*tail).store(1, std::sync::atomic::Ordering::Release);
    }
    let e = opcode::RecvMulti::new(types::Fd(a.as_raw_fd()), 7)
        .build()
        .user_data(1);
    // SAFETY: a multishot receive from the registered group references no
    // other memory.
    unsafe { ring.submission().push(&e) }.map_err(|_| {
        Probe::resource(io::Error::other(
            "the probe ring's submission queue is full",
        ))
    })?;
    // SAFETY: writes one byte from a live buffer to our own socket.
    unsafe { libc::write(b.as_raw_fd(), b"x".as_ptr().cast(), 1) };
    let timeout = types::Timespec::new().sec(2);
    let args = types::SubmitArgs::new().timespec(&timeout);
    let _ = ring.submitter().submit_with_args(1, &args);
    let c = ring.completion().next();
    // The ring goes before the page its buffer ring lives in.
    drop(ring);
    match c {
        Some(c) if c.result() == 1 && cqueue::more(c.flags()) => Ok(()),
        Some(c) => {
            let e = io::Error::from_raw_os_error(if c.result() < 0 {
                -c.result()
            } else {
                libc::EINVAL
            });
            Err(Probe::unavailable(
                error::kernel_too_old("multishot receive", e),
                "io_uring lacks multishot receive",
            ))
        }
        None => Err(Probe::unavailable(
            error::kernel_too_old(
                "multishot receive",
                io::Error::from_raw_os_error(libc::ETIME),
            ),
            "io_uring multishot receive did not complete",
        )),
    }
}
