//! When a connection's large sends go zero-copy (`sendmsg_zc`), and when
//! they are copied.
//!
//! A zero-copy send pins its pages until the kernel lets go of them, and
//! the slot sends nothing more until then. That pays off only where the
//! kernel really sends from those pages. Where it copies them anyway
//! (loopback and other local delivery, a virtual device, a NIC without
//! scatter-gather) it only costs, and on loopback it costs a lot: the
//! copied pages are charged in full to the receiving socket, so a peer with
//! a small receive buffer (16 KiB) drops a segment and the connection falls
//! into sending one segment per persist-timer probe, about 150 KB/s
//! instead of tens of MB/s, for the rest of its life.
//!
//! So a connection's first zero-copy send is a *probe* of at most
//! [`PROBE_BYTES`] (small enough for any receive buffer to take whole), sent
//! with `IORING_SEND_ZC_REPORT_USAGE`; its notification says whether the
//! kernel copied the bytes, and decides the rest: zero-copy as configured,
//! or copying sends for the life of the connection.

/// Most bytes the probing zero-copy send of a connection carries: one page,
/// which a receive buffer of any size takes without dropping.
pub(crate) const PROBE_BYTES: usize = 4 << 10;

/// Whether a connection's large sends go zero-copy.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum ZcUse {
    /// No zero-copy send has been reported yet: the next one is capped at
    /// [`PROBE_BYTES`].
    Probe,
    /// The kernel sent without copying: zero-copy as configured.
    On,
    /// The kernel copied: zero-copy cannot help, so this connection sends
    /// by copying.
    Off,
}

impl ZcUse {
    /// The state after a zero-copy notification; `copied` says the kernel
    /// copied the bytes after all.
    pub fn after_notification(self, copied: bool) -> ZcUse {
        match (self, copied) {
            (_, true) => ZcUse::Off,
            (ZcUse::Probe, false) => ZcUse::On,
            (other, false) => other,
        }
    }

    /// Most bytes the next zero-copy send may carry (`None`: no cap).
    pub fn cap(self) -> Option<usize> {
        (self == ZcUse::Probe).then_some(PROBE_BYTES)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_notification_decides() {
        assert_eq!(ZcUse::Probe.after_notification(false), ZcUse::On);
        assert_eq!(ZcUse::Probe.after_notification(true), ZcUse::Off);
        assert_eq!(ZcUse::On.after_notification(true), ZcUse::Off);
        assert_eq!(ZcUse::On.after_notification(false), ZcUse::On);
        assert_eq!(ZcUse::Off.after_notification(false), ZcUse::Off);
    }

    #[test]
    fn only_the_probe_is_capped() {
        assert_eq!(ZcUse::Probe.cap(), Some(PROBE_BYTES));
        assert_eq!(ZcUse::On.cap(), None);
    }
}
