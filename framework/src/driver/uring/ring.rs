//! One io_uring per worker, created with the cheapest completion mode the
//! kernel accepts.

use std::fmt;
use std::io;

use io_uring::{squeue, types, IoUring};

use crate::driver::op::Completion;
use crate::error;

/// Which task-running mode the worker's ring was created with.
///
/// corering tries `SINGLE_ISSUER | DEFER_TASKRUN` first (completions are
/// produced only when the worker asks for them, so no inter-processor
/// interrupts), then `COOP_TASKRUN`, then a plain ring.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum RingMode {
    /// `IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN` (Linux 6.1+).
    DeferTaskrun,
    /// `IORING_SETUP_COOP_TASKRUN` (Linux 5.19+).
    CoopTaskrun,
    /// No task-run flags.
    Plain,
}

impl fmt::Display for RingMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RingMode::DeferTaskrun => "SINGLE_ISSUER|DEFER_TASKRUN",
            RingMode::CoopTaskrun => "COOP_TASKRUN",
            RingMode::Plain => "plain",
        })
    }
}

/// A worker's ring: the io_uring plus the mode it runs in.
pub(crate) struct Ring {
    uring: IoUring,
    mode: RingMode,
    /// `io_uring_enter` calls made so far.
    pub enters: u64,
    /// Submission entries the kernel consumed in those calls.
    pub submitted: u64,
}

impl Ring {
    /// Creates a ring with `entries` submission slots and a completion queue
    /// four times as large (multishot operations post many completions).
    pub fn new(entries: u32) -> io::Result<Ring> {
        let attempts = [
            RingMode::DeferTaskrun,
            RingMode::CoopTaskrun,
            RingMode::Plain,
        ];
        // CORERING_RING_MODE=coop|plain skips the faster modes (diagnostics,
        // or kernels where a mode misbehaves).
        let skip = match std::env::var("CORERING_RING_MODE").as_deref() {
            Ok("coop") => 1,
            Ok("plain") => 2,
            _ => 0,
        };
        let mut last_err = None;
        for mode in attempts.into_iter().skip(skip) {
            let mut b = IoUring::builder();
            b.setup_cqsize(entries * 4).setup_submit_all();
            match mode {
                RingMode::DeferTaskrun => {
                    b.setup_single_issuer().setup_defer_taskrun();
                }
                RingMode::CoopTaskrun => {
                    b.setup_coop_taskrun().setup_taskrun_flag();
                }
                RingMode::Plain => {}
            }
            match b.build(entries) {
                Ok(uring) => {
                    return Ok(Ring {
                        uring,
                        mode,
                        enters: 0,
                        submitted: 0,
                    })
                }
                // EINVAL means "flag unknown to this kernel": try the next mode.
                Err(e) if e.raw_os_error() == Some(libc::EINVAL) => last_err = Some(e),
                Err(e) => return Err(error::ring_setup(e)),
            }
        }
        Err(error::ring_setup(last_err.expect("at least one attempt")))
    }

    /// The task-running mode in use.
    pub fn mode(&self) -> RingMode {
        self.mode
    }

    /// The underlying ring, for registration calls.
    pub fn uring(&self) -> &IoUring {
        &self.uring
    }

    /// Queues one submission, flushing the queue to the kernel first if it is
    /// full.
    ///
    /// # Safety
    /// Every pointer inside `entry` must stay valid until its completion.
    pub unsafe fn push(&mut self, entry: &squeue::Entry) {
        loop {
            // SAFETY: the caller guarantees the entry's buffers outlive the op.
            if unsafe { self.uring.submission().push(entry) }.is_ok() {
                return;
            }
            // Queue full: hand what we have to the kernel and retry.
            if let Err(e) = self.enter(0) {
                if !is_transient(&e) {
                    panic!("io_uring_enter failed while flushing a full queue: {e}");
                }
            }
        }
    }

    /// Submits queued entries and runs completion work; with `wait` > 0 blocks
    /// until at least that many completions are ready.
    pub fn enter(&mut self, wait: u32) -> io::Result<usize> {
        let to_submit = self.uring.submission().len() as u32;
        let flags = io_uring::EnterFlags::GETEVENTS.bits();
        // SAFETY: no extra argument is passed; queued entries were pushed with
        // the validity guarantees `push` requires.
        let r = unsafe {
            self.uring
                .submitter()
                .enter::<libc::sigset_t>(to_submit, wait, flags, None)
        };
        self.count(r)
    }

    /// Counts one `io_uring_enter` and what it submitted.
    fn count(&mut self, r: io::Result<usize>) -> io::Result<usize> {
        self.enters += 1;
        if let Ok(n) = r {
            self.submitted += n as u64;
        }
        r
    }

    /// True if the kernel supports a minimum wait (`min_wait_usec`, 6.12+).
    pub fn has_min_wait(&self) -> bool {
        self.uring.params().is_feature_min_timeout()
    }

    /// Blocks until `want` completions are ready, or until `min_wait_us` has
    /// passed and at least one is, or until `timeout`: lets completions
    /// accumulate into one batch under load without adding latency when
    /// traffic is light.
    ///
    /// The general `timeout` is what makes an idle wait a sleep. Without it
    /// the kernel (6.12+) takes the min-wait as the whole timeout and
    /// returns `ETIME` every `min_wait_us`, so an idle worker would wake
    /// ~20,000 times a second. With it, once the min-wait has passed with
    /// nothing there, the wait goes on until the first completion (a
    /// receive, an armed timer, a cross-worker wake) or `timeout`.
    pub fn enter_batch(
        &mut self,
        want: u32,
        min_wait_us: u32,
        timeout: &types::Timespec,
    ) -> io::Result<usize> {
        let args = types::SubmitArgs::new()
            .min_wait_usec(min_wait_us)
            .timespec(timeout);
        let r = self
            .uring
            .submitter()
            .submit_with_args(want as usize, &args);
        self.count(r)
    }

    /// Like [`enter`](Self::enter), but waits at most `timeout`.
    pub fn enter_timeout(&mut self, wait: u32, timeout: &types::Timespec) -> io::Result<usize> {
        let args = types::SubmitArgs::new().timespec(timeout);
        let r = self
            .uring
            .submitter()
            .submit_with_args(wait as usize, &args);
        self.count(r)
    }

    /// Moves up to `out.len()` completions into `out`; returns how many.
    ///
    /// Completions are copied out so that handling them may queue new
    /// submissions on this same ring.
    pub fn reap(&mut self, out: &mut [Completion]) -> usize {
        let mut n = 0;
        let mut cq = self.uring.completion();
        while n < out.len() {
            match cq.next() {
                Some(cqe) => {
                    out[n] = Completion {
                        user_data: cqe.user_data(),
                        result: cqe.result(),
                        flags: cqe.flags(),
                    };
                    n += 1;
                }
                None => break,
            }
        }
        n
    }
}

/// Errors of `io_uring_enter` that only mean "try again".
pub(crate) fn is_transient(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::EINTR) | Some(libc::EAGAIN) | Some(libc::EBUSY) | Some(libc::ETIME)
    )
}
