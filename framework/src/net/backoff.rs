//! Accept back-off: what a listener does when accepting fails for lack of
//! descriptors or memory.
//!
//! Such a failure ends a multishot accept, and re-arming it at once fails
//! again at once for as long as connections wait in the backlog: a spin.
//! Instead the listener waits [`BACKOFF_MS`] before accepting again, and the
//! whole episode (first failure to first success) is logged as two lines,
//! however many retries it takes.
//!
//! ```text
//!            resource error: log "backing off", retry at now + 100 ms
//!   ok ────────────────────────────────────────────► failing
//!    ▲                                                │  │ resource error:
//!    │   accepted a socket: log "accepting again"     │  │ retry later, no log
//!    └────────────────────────────────────────────────┘  ◄┘
//! ```

/// How long a listener waits after a resource error before accepting again.
pub(crate) const BACKOFF_MS: u64 = 100;

/// What an accept failure with `errno` is, if it is a lack of resources
/// that a back-off may cure (`None` for anything else).
pub(crate) fn accept_resource_error(errno: i32) -> Option<&'static str> {
    match errno {
        libc::EMFILE => Some("out of file descriptors (EMFILE)"),
        libc::ENFILE => Some("system out of file descriptors (ENFILE)"),
        libc::ENOBUFS => Some("out of socket buffers (ENOBUFS)"),
        libc::ENOMEM => Some("out of memory (ENOMEM)"),
        _ => None,
    }
}

/// Back-off state of one listener, in milliseconds of a monotonic clock.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct AcceptBackoff {
    /// In an episode of resource errors.
    failing: bool,
    /// No accept before this time (0: none pending).
    retry_at: u64,
}

impl AcceptBackoff {
    /// An accept failed with `errno` at `now`. Returns true if the caller
    /// must wait (a resource error); `log` is called once per episode with
    /// what ran out.
    pub fn on_error(&mut self, errno: i32, now: u64, log: impl FnOnce(&str)) -> bool {
        let Some(what) = accept_resource_error(errno) else {
            return false;
        };
        self.retry_at = now + BACKOFF_MS;
        if !self.failing {
            self.failing = true;
            log(what);
        }
        true
    }

    /// A socket was accepted: ends the episode. Returns true if one was
    /// going on (the caller logs the recovery).
    pub fn on_success(&mut self) -> bool {
        self.retry_at = 0;
        std::mem::replace(&mut self.failing, false)
    }

    /// The end of the last back-off, if one was started and no accept has
    /// succeeded since (it may be past).
    pub fn retry_at(&self) -> Option<u64> {
        (self.retry_at > 0).then_some(self.retry_at)
    }

    /// The time before which the listener must not be re-armed, if a
    /// back-off is pending at `now`.
    pub fn waiting_until(&self, now: u64) -> Option<u64> {
        (self.retry_at > now).then_some(self.retry_at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_episode_logs_once_and_recovers() {
        let mut b = AcceptBackoff::default();
        let mut logged = Vec::new();
        assert_eq!(b.waiting_until(0), None);
        assert!(b.on_error(libc::EMFILE, 1000, |w| logged.push(w.to_string())));
        assert_eq!(b.waiting_until(1000), Some(1100));
        assert_eq!(b.waiting_until(1099), Some(1100));
        assert_eq!(b.waiting_until(1100), None);
        assert_eq!(b.retry_at(), Some(1100), "kept until an accept succeeds");
        // Retries that fail again wait again but log nothing.
        for t in [1100, 1200, 1300] {
            assert!(b.on_error(libc::ENFILE, t, |w| logged.push(w.to_string())));
            assert_eq!(b.waiting_until(t), Some(t + BACKOFF_MS));
        }
        assert_eq!(logged, ["out of file descriptors (EMFILE)"]);
        assert!(b.on_success());
        assert_eq!(b.waiting_until(1300), None);
        assert_eq!(b.retry_at(), None);
        assert!(!b.on_success(), "a second success is no recovery");
        // A new episode logs again.
        assert!(b.on_error(libc::ENOMEM, 5000, |w| logged.push(w.to_string())));
        assert_eq!(logged.len(), 2);
    }

    #[test]
    fn other_errors_do_not_back_off() {
        let mut b = AcceptBackoff::default();
        for e in [libc::ECONNABORTED, libc::EINVAL, libc::ECANCELED] {
            assert!(!b.on_error(e, 10, |_| panic!("logged {e}")));
            assert_eq!(b.waiting_until(10), None);
        }
    }
}
