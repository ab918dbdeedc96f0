//! The kernel interface: ring setup with flag fallback, the provided-buffer
//! ring, operation tokens and feature probes.

mod buf_ring;
mod probe;
mod ring;
mod token;

pub(crate) use buf_ring::{BufMem, BufRing};
pub(crate) use probe::{probe_kernel, KernelSupport};
pub use ring::RingMode;
pub(crate) use ring::{is_transient, Cqe, Ring};
pub(crate) use token::{same_gen, Op, Token};
