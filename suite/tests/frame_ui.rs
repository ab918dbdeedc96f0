//! `#[derive(Frame)]` diagnostics: each misuse in `tests/ui/fail/frame_*.rs`
//! is a compile error with the span on the offending token (the `.stderr`
//! files are the reviewed expected output); `tests/ui/pass/frame_*.rs` must
//! compile. (`route_*` cases belong to `tests/http_ui.rs`.)
//!
//! After changing a message: `TRYBUILD=overwrite cargo test --test frame_ui`,
//! then review the diff of the `.stderr` files.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.pass("tests/ui/pass/frame_*.rs");
    t.compile_fail("tests/ui/fail/frame_*.rs");
}
