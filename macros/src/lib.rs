//! Procedural macros for corering: `#[derive(Frame)]` and route attributes.
//!
//! The macros are re-exported by the `corering` crate; depend on that instead.
//! This crate is a placeholder until the frames issue lands.
