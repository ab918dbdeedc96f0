//! TLS on rustls, for servers and clients: a handshake before the
//! protocol, then a layer inside the [`Connection`](crate::Connection)
//! that decrypts what it reads and encrypts what it writes, so every
//! protocol (HTTP, frames, your own) runs over TLS unchanged.
//!
//! - Servers: [`ServerBuilder::tls`](crate::ServerBuilder::tls) with a
//!   rustls `ServerConfig` ([`server_config_from_pem`] makes one from PEM
//!   files); each connection completes its handshake (bounded by
//!   [`ServerBuilder::tls_handshake_timeout`](crate::ServerBuilder::tls_handshake_timeout),
//!   10 s by default) before the handler runs. Or call [`accept`] yourself.
//! - Clients: [`Connector::connect_tls`](crate::Connector::connect_tls)
//!   with a [`TlsConnector`], or [`connect`] on a connection you have.
//! - After the handshake, [`TlsInfo`] (SNI, ALPN, version, cipher suite,
//!   peer certificates, mode) is in the connection's
//!   [`Features`](crate::Features).
//! - Kernel TLS: [`Ktls`] and [`mode_line`]; see [`ktls_supported`].
//!
//! The crypto provider is *ring*: on the 2-core machines this project
//! builds on, ring compiles in seconds from C and assembly it ships,
//! while aws-lc-rs (rustls' default) needs cmake (and nasm on some
//! targets) and takes minutes; both are maintained and fast. Measured
//! (clean `cargo build -p corering`, one job): 24.9 s without the feature,
//! 33.1 s with it (rustls 5.6 s, ring 3.3 s with its C build, webpki
//! 0.9 s). Without the feature (`default-features = false`) none of it is
//! built.
//!
//! After the handshake, rustls hands the session's traffic secrets over
//! (`dangerous_into_kernel_connection`) and corering's own record layer
//! carries it: a record inside one received buffer is decrypted where it
//! lies and that buffer handed up narrowed to the plaintext; each record
//! sent is sealed in place in the socket's send buffers; no allocation
//! per record. rustls keeps deriving the secrets of TLS 1.3 key updates
//! and storing session tickets. This needs `enable_secret_extraction` in
//! the configuration: [`TlsAcceptor`] turns it on, and so does
//! [`TlsConnectorBuilder`]; a client configuration of your own without it
//! ([`TlsConnector::from_config`]) stays on rustls' unbuffered API, which
//! copies each decrypted record into a vector of its own and builds each
//! outgoing record in one (two allocations per record).

mod client;
mod handshake;
mod info;
mod keys;
mod ktls;
mod layer;
mod pem;
mod record;
mod record_layer;
mod server;
mod session;

pub use client::{connect, TlsConnector, TlsConnectorBuilder};
pub use info::{TlsInfo, TlsMode};
pub use ktls::{ktls_supported, mode_line, Ktls};
pub(crate) use layer::TlsLayer;
pub use pem::{certs_from_pem, server_config_from_pem};
pub(crate) use server::serve;
pub use server::{accept, TlsAcceptor};

/// Re-exported so applications build configurations with the same rustls.
pub use rustls;

/// The crypto provider every configuration made here uses (ring).
pub(crate) fn provider() -> std::sync::Arc<rustls::crypto::CryptoProvider> {
    std::sync::Arc::new(rustls::crypto::ring::default_provider())
}
