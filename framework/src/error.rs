//! Errors that tell the operator what to do.
//!
//! Setup failures are returned as `std::io::Error` whose message is one
//! complete sentence: what failed, the likely cause on this machine, and the
//! fix. The original OS error code is preserved as the error's kind where it
//! matters (`AddrInUse`, `PermissionDenied`, ...).

use std::io;

fn read_trimmed(path: &str) -> Option<String> {
    std::fs::read_to_string(path)
        .ok()
        .map(|s| s.trim().to_string())
}

fn memlock_limit() -> String {
    let mut rl = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes into the struct we pass and nothing else.
    if unsafe { libc::getrlimit(libc::RLIMIT_MEMLOCK, &mut rl) } != 0 {
        return "unknown".into();
    }
    if rl.rlim_cur == libc::RLIM_INFINITY {
        "unlimited".into()
    } else {
        format!("{} KiB", rl.rlim_cur / 1024)
    }
}

fn memlock_advice(what: &str, e: &io::Error) -> io::Error {
    io::Error::new(
        io::ErrorKind::OutOfMemory,
        format!(
            "{what} failed: not enough locked memory (RLIMIT_MEMLOCK is {}; {e}). \
             Raise the limit: `ulimit -l unlimited` in the shell, LimitMEMLOCK=infinity \
             in a systemd unit, or `--ulimit memlock=-1` for docker run; or use fewer \
             workers or receive buffers",
            memlock_limit()
        ),
    )
}

/// Explains a failed `io_uring_setup`.
pub(crate) fn ring_setup(e: io::Error) -> io::Error {
    let disabled = read_trimmed("/proc/sys/kernel/io_uring_disabled");
    if e.raw_os_error() == Some(libc::ENOMEM) {
        return memlock_advice("creating the io_uring", &e);
    }
    let msg = setup_message(&e, disabled.as_deref());
    io::Error::new(e.kind(), msg)
}

/// The message for a failed `io_uring_setup`, given the value of the
/// `kernel.io_uring_disabled` sysctl (if readable).
fn setup_message(e: &io::Error, disabled: Option<&str>) -> String {
    match e.raw_os_error() {
        Some(libc::ENOSYS) => "io_uring is not available: this kernel does not implement \
             io_uring_setup (ENOSYS; either it is older than 5.1, was built without \
             CONFIG_IO_URING, or a seccomp profile hides the call). corering needs Linux \
             6.1 or newer with io_uring enabled"
            .to_string(),
        Some(libc::EPERM) | Some(libc::EACCES) => match disabled {
            Some("2") => "io_uring is disabled on this machine (sysctl \
                 kernel.io_uring_disabled = 2). Enable it as root with \
                 `sysctl -w kernel.io_uring_disabled=0`"
                .to_string(),
            Some("1") => "io_uring is restricted on this machine (sysctl \
                 kernel.io_uring_disabled = 1): only root and members of the group in \
                 kernel.io_uring_group may use it. Run as a member of that group, or set \
                 `sysctl -w kernel.io_uring_disabled=0`"
                .to_string(),
            _ => "io_uring_setup was denied (EPERM) although io_uring is enabled: a \
                 seccomp profile is most likely blocking it (the default profiles of \
                 Docker, containerd and Kubernetes do). Run with a profile that allows \
                 io_uring_setup, io_uring_enter and io_uring_register, for example \
                 `docker run --security-opt seccomp=unconfined`"
                .to_string(),
        },
        Some(libc::EMFILE) | Some(libc::ENFILE) => format!(
            "creating the io_uring failed: out of file descriptors ({e}). Raise `ulimit -n`"
        ),
        Some(libc::EINVAL) => format!(
            "this kernel rejected every io_uring setup corering tries ({e}). corering \
             needs Linux 6.1 or newer"
        ),
        _ => format!("creating the io_uring failed: {e}"),
    }
}

/// Explains a missing io_uring feature.
pub(crate) fn kernel_too_old(feature: &str, e: io::Error) -> io::Error {
    io::Error::new(
        io::ErrorKind::Unsupported,
        format!(
            "this kernel's io_uring lacks {feature} ({e}). corering needs Linux 6.1 or \
             newer (multishot accept and receive, provided-buffer rings)"
        ),
    )
}

/// Explains a failed provided-buffer-ring registration.
pub(crate) fn buf_ring_setup(e: io::Error) -> io::Error {
    match e.raw_os_error() {
        Some(libc::ENOMEM) => memlock_advice("registering the receive buffer ring", &e),
        Some(libc::EINVAL) | Some(libc::EOPNOTSUPP) => {
            kernel_too_old("provided-buffer rings (IORING_REGISTER_PBUF_RING)", e)
        }
        _ => io::Error::new(
            e.kind(),
            format!("registering the receive buffer ring failed: {e}"),
        ),
    }
}

/// Explains a failed bind.
pub(crate) fn bind(addr: &dyn std::fmt::Display, e: io::Error) -> io::Error {
    let msg = match e.raw_os_error() {
        Some(libc::EADDRINUSE) => format!(
            "address in use: {addr} is already taken by another socket (is another \
             server running there?). Stop it or choose another address with --addr"
        ),
        Some(libc::EACCES) => format!(
            "permission denied binding {addr}: ports below 1024 need root or \
             CAP_NET_BIND_SERVICE; choose a higher port with --addr"
        ),
        Some(libc::EADDRNOTAVAIL) => format!(
            "cannot bind {addr}: no local interface has that address; use 127.0.0.1, \
             0.0.0.0 or an address of this machine"
        ),
        _ => format!("cannot bind {addr}: {e}"),
    };
    io::Error::new(e.kind(), msg)
}

/// Adds context to an OS error without losing its kind.
pub(crate) fn context(what: &str, e: io::Error) -> io::Error {
    io::Error::new(e.kind(), format!("{what}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(errno: i32, sysctl: Option<&str>) -> String {
        setup_message(&io::Error::from_raw_os_error(errno), sysctl)
    }

    #[test]
    fn setup_errors_say_what_to_do() {
        assert!(msg(libc::ENOSYS, None).contains("Linux 6.1"));
        assert!(msg(libc::EPERM, Some("2")).contains("sysctl -w kernel.io_uring_disabled=0"));
        assert!(msg(libc::EPERM, Some("1")).contains("io_uring_group"));
        assert!(msg(libc::EPERM, Some("0")).contains("seccomp"));
        assert!(msg(libc::EPERM, None).contains("seccomp"));
        assert!(msg(libc::EMFILE, None).contains("ulimit -n"));
    }

    #[test]
    fn memlock_error_names_the_limit_and_fix() {
        let e = buf_ring_setup(io::Error::from_raw_os_error(libc::ENOMEM));
        let m = e.to_string();
        assert!(m.contains("RLIMIT_MEMLOCK"), "{m}");
        assert!(m.contains("ulimit -l"), "{m}");
        assert_eq!(e.kind(), io::ErrorKind::OutOfMemory);
    }

    #[test]
    fn bind_errors_keep_their_kind() {
        let e = bind(
            &"127.0.0.1:80",
            io::Error::from_raw_os_error(libc::EADDRINUSE),
        );
        assert_eq!(e.kind(), io::ErrorKind::AddrInUse);
        assert!(e.to_string().starts_with("address in use: 127.0.0.1:80"));
    }
}
