//! Route macro diagnostics: each misuse in `tests/ui/fail/route_*.rs` is a
//! compile error with the span on the offending token (the `.stderr` files
//! are the reviewed expected output); `tests/ui/pass/route_*.rs` must
//! compile.
//!
//! After changing a message: `TRYBUILD=overwrite cargo test --test http_ui`,
//! then review the diff of the `.stderr` files.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.pass("tests/ui/pass/route_*.rs");
    t.compile_fail("tests/ui/fail/route_*.rs");
}
