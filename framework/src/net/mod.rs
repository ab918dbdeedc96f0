//! Transports: listening sockets (per-worker SO_REUSEPORT or one acceptor
//! thread), the client `Connector`, and socket helpers.

mod acceptor;
mod backoff;
mod connector;
mod listener;
mod socket;

pub(crate) use acceptor::Acceptor;
pub(crate) use backoff::AcceptBackoff;
pub use connector::Connector;
pub use listener::AcceptMode;
pub(crate) use listener::{bind, BindAddr, Bound, ListenOpts};
pub(crate) use socket::{local_address, peer_address, tune_accepted};
