//! permessage-deflate (RFC 7692): negotiation on the
//! `Sec-WebSocket-Extensions` header ([`DeflateConfig`], [`Agreed`]) and
//! per-message compression ([`Deflater`], [`Inflater`]) on zlib-rs
//! (feature `ws-deflate`, on by default).
//!
//! # What it protects against
//! - **Zip bombs**: [`Inflater`] produces output in bounded steps and stops
//!   with [`DeflateError::TooLarge`] (close code 1009) one byte past the
//!   limit ([`DeflateConfig::max_message_size`], 16 MiB by default), so a
//!   1 MB message that would expand to gigabytes costs at most the limit in
//!   memory and the CPU to produce it (a 1 MB bomb of 1 GiB stops after
//!   16 MiB in about 12 ms, 50 ms in a debug build).
//! - **Windows larger than agreed**: the inflater is sized to the window
//!   the peer agreed to; data referring back further fails with
//!   [`DeflateError::Corrupt`] (1007).
//! - **Malformed negotiation**: offers with unknown, repeated or invalid
//!   parameters are declined (the server falls back to the next offer or
//!   to no compression); a client fails a handshake whose answer does not
//!   fit its offer.
//!
//! # Defaults
//! Enabled; context takeover both ways; 15-bit windows; 16 MiB largest
//! decompressed message; messages under 64 bytes sent uncompressed; zlib
//! level 1. See [`DeflateConfig::new`].
//!
//! # Memory per connection
//! zlib keeps its state for the connection's life, whether or not context
//! takeover is on (no context takeover resets the compressor's window
//! between messages; it does not free it, so that a message costs no
//! allocation). Measured with a counting allocator
//! (`suite/tests/ws_deflate_memory.rs`, after a first message each way): a
//! [`Deflater`] holds 273 KiB at 15 window bits and 147 KiB at 9 (of which
//! 128 KiB is zlib-rs's hash table, fixed whatever the window; with
//! zlib's default `memLevel` 8 instead of our 5, 98 KiB more), an
//! [`Inflater`] 46 KiB at any window: about 320 KiB per connection at 15
//! bits, 195 KiB at 9. Context takeover itself costs no memory; what it
//! saves is ratio and CPU (a repeated 16 KiB JSON message shrinks to a few
//! hundred bytes, and a reset clears the 128 KiB hash table: about 3 us a
//! message). Small windows cost CPU as well: zlib slides its hash table
//! every window's worth of input (`cargo bench --bench ws_deflate`).
//! Since a compressor with `server_no_context_takeover` forgets everything
//! after each message, such a server could share one [`Deflater`] among
//! all connections of a worker.
//!
//! # Without the feature
//! Without `ws-deflate` the configuration and negotiation types remain
//! (so code that sets a [`DeflateConfig`] compiles either way), the server
//! declines every offer, the client offers nothing, and [`Deflater`] /
//! [`Inflater`] do not exist: messages simply go uncompressed.
//!
//! ```
//! # #[cfg(feature = "ws-deflate")] {
//! use corering::ws::deflate::{Deflater, Inflater};
//! // A server compressing with context takeover, a client inflating.
//! let mut tx = Deflater::new(1, 15, false);
//! let mut rx = Inflater::new(15);
//! let (mut wire, mut msg) = (Vec::new(), Vec::new());
//! for text in ["{\"user\":\"ann\",\"text\":\"hi\"}", "{\"user\":\"ann\",\"text\":\"hi again\"}"] {
//!     wire.clear();
//!     msg.clear();
//!     tx.compress_message(text.as_bytes(), &mut wire);
//!     rx.decompress(&wire, &mut msg, 1 << 20).unwrap();
//!     assert_eq!(msg, text.as_bytes());
//! }
//! # }
//! ```

#[cfg(feature = "ws-deflate")]
mod codec;
mod error;
mod header;
mod params;

#[cfg(feature = "ws-deflate")]
pub use codec::{Deflater, Inflater};
pub use error::DeflateError;
pub(crate) use params::{client_accept, client_offer, negotiate_server};
pub use params::{Agreed, DeflateConfig, Role};

/// zlib `memLevel` a [`Deflater`] uses unless told otherwise
/// ([`DeflateConfig::mem_level`]): 5, which holds 2048 symbols (9 KiB)
/// before a block ends, where zlib's default 8 holds 72 KiB per connection.
pub const DEFAULT_MEM_LEVEL: u8 = 5;

/// For the `ws_negotiate` fuzz target only: runs the server's negotiation
/// on `offers` under `cfg` and checks what it answers (window bits within
/// 8..=15 and the offer's limits, an answer a client that sent this offer
/// would accept). Panics if a check fails.
#[doc(hidden)]
pub fn fuzz_negotiate(offers: &str, cfg: &DeflateConfig) -> Option<String> {
    let agreed = negotiate_server(offers, cfg)?;
    for bits in [
        agreed.compress_window_bits(),
        agreed.decompress_window_bits(),
    ] {
        assert!((8..=15).contains(&bits), "{agreed:?}");
    }
    assert!(agreed.compress_window_bits() <= cfg.server_max_window_bits);
    let answer = agreed.response_header();
    let parsed = header::parse_extensions(&answer).expect("own answer parses");
    assert_eq!(parsed.len(), 1, "{answer}");
    Some(answer)
}
