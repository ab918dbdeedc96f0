//! SIGINT/SIGTERM handling for `RunningServer::run_until_signal`.
//!
//! The handler only bumps a counter and writes to an eventfd, both
//! async-signal-safe; the waiting thread polls the eventfd, which exiting
//! workers also write to, so the process ends as soon as they are done.

use std::io;
use std::sync::atomic::{AtomicI32, AtomicUsize, Ordering};
use std::sync::Once;

static SIGNAL_FD: AtomicI32 = AtomicI32::new(-1);
static SIGNALS: AtomicUsize = AtomicUsize::new(0);
static INSTALL: Once = Once::new();

extern "C" fn on_signal(_: libc::c_int) {
    SIGNALS.fetch_add(1, Ordering::SeqCst);
    let fd = SIGNAL_FD.load(Ordering::SeqCst);
    if fd >= 0 {
        let one: u64 = 1;
        // SAFETY: write(2) is async-signal-safe; 8 bytes from a live u64.
        unsafe { libc::write(fd, (&one as *const u64).cast(), 8) };
    }
}

/// Installs the handlers (once per process).
pub(crate) fn install() -> io::Result<()> {
    let mut result = Ok(());
    INSTALL.call_once(|| {
        // SAFETY: eventfd has no memory preconditions.
        let fd = unsafe { libc::eventfd(0, libc::EFD_CLOEXEC | libc::EFD_NONBLOCK) };
        if fd < 0 {
            result = Err(io::Error::last_os_error());
            return;
        }
        SIGNAL_FD.store(fd, Ordering::SeqCst);
        for sig in [libc::SIGINT, libc::SIGTERM] {
            // SAFETY: installs a handler that only does async-signal-safe
            // work; the sigaction struct is fully initialized.
            unsafe {
                let mut sa: libc::sigaction = std::mem::zeroed();
                sa.sa_sigaction = on_signal as *const () as usize;
                sa.sa_flags = libc::SA_RESTART;
                libc::sigemptyset(&mut sa.sa_mask);
                if libc::sigaction(sig, &sa, std::ptr::null_mut()) != 0 {
                    result = Err(io::Error::last_os_error());
                }
            }
        }
    });
    result
}

/// Signals received so far.
pub(crate) fn count() -> usize {
    SIGNALS.load(Ordering::SeqCst)
}

/// Wakes a thread blocked in [`wait`] without counting a signal (a worker
/// exited, say). Does nothing before [`install`].
pub(crate) fn wake() {
    let fd = SIGNAL_FD.load(Ordering::SeqCst);
    if fd >= 0 {
        let one: u64 = 1;
        // SAFETY: 8 bytes from a live u64 into our eventfd.
        unsafe { libc::write(fd, (&one as *const u64).cast(), 8) };
    }
}

/// Waits up to `ms` for a signal (or a [`wake`]).
pub(crate) fn wait(ms: i32) {
    let fd = SIGNAL_FD.load(Ordering::SeqCst);
    if fd < 0 {
        std::thread::sleep(std::time::Duration::from_millis(ms as u64));
        return;
    }
    let mut p = libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one valid pollfd.
    if unsafe { libc::poll(&mut p, 1, ms) } > 0 {
        let mut v = 0u64;
        // SAFETY: reads 8 bytes into a live u64 (nonblocking eventfd).
        unsafe { libc::read(fd, (&mut v as *mut u64).cast(), 8) };
    }
}
