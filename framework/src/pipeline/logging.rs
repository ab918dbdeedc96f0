//! `Logging`: connection open/close events through the `log` facade.

use super::{Closed, Middleware, Refused, Side};
use crate::Connection;

/// Logs each connection's opening (with the peer address) and closing (with
/// duration and byte counts) at `debug` level through the `log` crate.
///
/// Nothing is formatted, and no address is looked up, unless `debug` is
/// enabled for the `corering::pipeline` target.
///
/// ```
/// // With a `log` backend at debug level for `corering::pipeline`:
/// let builder = corering::Server::builder().middleware(corering::pipeline::Logging);
/// # let _ = builder;
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct Logging;

const TARGET: &str = "corering::pipeline";

impl Middleware for Logging {
    fn on_open(&self, conn: &mut Connection, side: Side) -> Result<(), Refused> {
        if log::log_enabled!(target: TARGET, log::Level::Debug) {
            let peer = conn
                .peer_addr()
                .map(|a| a.to_string())
                .unwrap_or_else(|e| format!("<{e}>"));
            log::debug!(target: TARGET, "{side:?} connection opened: peer {peer}");
        }
        Ok(())
    }

    fn on_close(&self, c: &Closed) {
        log::debug!(
            target: TARGET,
            "{:?} connection closed on worker {} after {:?}: {} bytes in, {} bytes out",
            c.side,
            c.worker,
            c.duration,
            c.bytes_in,
            c.bytes_out
        );
    }
}
