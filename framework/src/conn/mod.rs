//! Connections: the application's handle, received-buffer leases, the
//! inbound byte seam the protocol readers share (`Inbound`), the
//! outgoing queue and the slot state machine behind them.

mod connection;
mod features;
mod inbound;
mod io_stream;
mod layer;
mod lease;
mod out;
mod slot;
mod zerocopy;

pub(crate) use connection::RawOut;
pub use connection::{
    Address, Connection, Flush, Read, ShutdownWrite, WriteAll, WriteFrame, WriteOwned,
};
pub use features::Features;
pub use inbound::Inbound;
pub(crate) use inbound::Tail;
pub use io_stream::IoStream;
pub(crate) use layer::{BeforeSend, Kind as LayerKind, Layers};
pub use layer::{Layer, LayerIo};
pub use lease::Lease;
#[cfg(feature = "tls")]
pub(crate) use lease::{recycle_heap, staged};
pub use out::OutBuf;
pub(crate) use out::{FileSpan, RawLease, SendState};
pub(crate) use slot::set_waker;
pub(crate) use slot::{Conns, IoParams, OpState, SockKind};
