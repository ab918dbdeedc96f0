//! Runs permessage-deflate's server-side negotiation on an arbitrary
//! `Sec-WebSocket-Extensions` value under a few configurations, and checks
//! (inside `fuzz_negotiate`) that whatever it agrees to keeps to 8..=15
//! window bits and to the server's limit, and that its answer is a
//! well-formed single-extension header. It must never panic.
//!
//! Run with `cargo fuzz run ws_negotiate` from the repository root.

#![no_main]

use corering::ws::deflate::{fuzz_negotiate, DeflateConfig};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let offers = String::from_utf8_lossy(data);
    for cfg in [
        DeflateConfig::new(),
        DeflateConfig::new()
            .server_no_context_takeover(true)
            .server_max_window_bits(9)
            .client_max_window_bits(8),
        DeflateConfig::new().enabled(false),
    ] {
        if let Some(answer) = fuzz_negotiate(&offers, &cfg) {
            assert!(answer.starts_with("permessage-deflate"));
            assert!(cfg.is_enabled());
        }
    }
});
