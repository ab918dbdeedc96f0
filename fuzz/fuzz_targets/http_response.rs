//! Parses arbitrary bytes as an HTTP/1.1 response head the way the client
//! does (httparse plus its length, coding and connection checks) and
//! checks what comes out:
//! - a complete head is no longer than the input nor the head limit, and
//!   its fields lie inside it;
//! - the same bytes with nothing after them parse to the same head;
//! - errors carry a message; nothing panics.
//!
//! Run with `cargo fuzz run http_response` from the repository root.

#![no_main]

use corering::http::client::{ClientConfig, __parse_head_for_fuzzing as parse};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let cfg = ClientConfig::new().max_head(4096).max_headers(32);
    match parse(data, &cfg) {
        Ok(Some((len, code, fields))) => {
            assert!(len <= data.len() && len <= 4096);
            // Three digits (httparse); below 100 the client rejects later.
            assert!(code < 1000, "status {code}");
            assert!(fields.len() <= 32);
            let range = data.as_ptr() as usize..data.as_ptr() as usize + len;
            for (name, value) in &fields {
                assert!(!name.is_empty());
                assert!(range.contains(&(name.as_ptr() as usize)));
                assert!(value.is_empty() || range.contains(&(value.as_ptr() as usize)));
            }
            let again = parse(&data[..len], &cfg).expect("same head again");
            let (len2, code2, fields2) = again.expect("complete again");
            assert_eq!((len2, code2, fields2), (len, code, fields));
        }
        Ok(None) => {}
        Err(e) => assert!(!e.to_string().is_empty()),
    }
});
