//! Parses arbitrary bytes as an HTTP/1.1 request head (httparse plus the
//! framing, target and limit checks) and checks what comes out:
//! - every position the head records lies inside the consumed bytes;
//! - a complete head is no longer than the input, and every strict prefix
//!   that ends before it is incomplete or an error, never a different head;
//! - errors map to a 4xx/5xx status;
//! - the server's fast head scanner agrees with httparse alone
//!   (`parse_head_httparse`): same head, same fields, same error.
//!
//! Run with `cargo fuzz run http_request` from the repository root.

#![no_main]

use corering::http::{parse_head, parse_head_httparse, BodyKind, Http1Config};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let cfg = Http1Config::new()
        .max_head(4096)
        .max_headers(32)
        .max_target(1024)
        .max_body(1 << 20);
    let mut spans = Vec::new();
    let parsed = parse_head(data, &cfg, &mut spans);
    let mut reference = Vec::new();
    assert_eq!(parsed, parse_head_httparse(data, &cfg, &mut reference));
    if let Ok(Some(_)) = parsed {
        assert_eq!(spans, reference);
    }
    match parsed {
        Ok(Some(head)) => {
            assert!(head.len <= data.len() && head.len <= 4096);
            let buf = &data[..head.len];
            let (s, e) = head.target;
            assert!(s <= e && e as usize <= head.len);
            assert!(spans.len() <= 32);
            for sp in &spans {
                let _ = sp.name(buf);
                let _ = sp.value(buf);
            }
            if let BodyKind::Length(n) = head.body {
                assert!(n > 0 && n <= 1 << 20);
            }
            // The same bytes parse to the same head when nothing follows.
            let mut again = Vec::new();
            assert_eq!(parse_head(buf, &cfg, &mut again), Ok(Some(head)));
            assert_eq!(again, spans);
        }
        Ok(None) => {}
        Err(e) => {
            let code = e.status().as_u16();
            assert!((400..600).contains(&code), "{e}");
            let _ = e.to_string();
        }
    }
});
