//! Procedural macros for corering: `#[derive(Frame)]`, the route
//! attributes (`#[get("/path")]`, ...) and `routes![...]`.
//!
//! The macros are re-exported by the `corering` crate; depend on that
//! instead (`use corering::frame::Frame;` brings in both the trait and the
//! derive). [`macro@Frame`] documents the attributes; `corering::frame`
//! has a complete, compiled example.
//!
//! ```text
//!  DeriveInput ──attrs.rs──► Attrs ──model.rs──► Container (checked)
//!                                                   │
//!                         binary.rs (structs, enums) ┴ line.rs (text lines)
//!                                                   ▼
//!                                  impl Frame<'a> { decode, encoded_len, encode }
//! ```
//!
//! The macro never panics on user input: every misuse becomes a
//! `syn::Error` spanning the offending token, all of them are reported
//! together, and a placeholder `Frame` impl is still emitted so that code
//! using the type shows no follow-on errors. Generated code calls small
//! helpers in `corering::frame::__private` (not a public API).

mod attrs;
mod binary;
mod errors;
mod line;
mod model;
mod path;
mod route;

use proc_macro::TokenStream;
use proc_macro2::TokenStream as TokenStream2;
use quote::quote;
use syn::{parse_macro_input, DeriveInput};

use errors::Errors;
use model::FrameImpl;

/// Derives `corering::frame::Frame`: a streaming decoder and an encoder.
///
/// Like smoltcp's packet *view* plus *repr*, in one step: `decode` checks
/// the bytes once and returns the value, borrowing `&'a [u8]` and `&'a str`
/// fields from the buffer (no allocation); `encoded_len` and `encode` write
/// it back. Fields are on the wire in declaration order.
///
/// ```ignore
/// use corering::frame::Frame;
///
/// #[derive(Frame)]
/// #[frame(magic = b"CRNG")]              // 4 bytes that must match
/// struct Packet<'a> {
///     version: u8,
///     #[frame(endian = "little")]         // numbers are big-endian unless told
///     flags: u16,
///     count: u16,
///     #[frame(len = count, max = 4096)]   // length taken from an earlier field
///     payload: &'a [u8],
///     #[frame(prefix = u8)]               // u8 length prefix, UTF-8 checked
///     name: &'a str,
///     #[frame(if = flags & 1 != 0)]       // present when the condition holds
///     seq: Option<u64>,
///     body: Body<'a>,                     // nested frame
/// }
///
/// #[derive(Frame)]
/// #[frame(tag = u8)]                      // one tag byte selects the variant
/// enum Body<'a> {
///     #[frame(id = 0)]
///     Empty,
///     #[frame(id = 1)]
///     Text(#[frame(prefix = u16)] &'a str),
///     #[frame(id = b'P')]
///     Pair { a: u32, b: i64 },
///     #[frame(other)]                     // any other tag: kept, body not read
///     Unknown(u8),
/// }
///
/// #[derive(Frame)]
/// #[frame(line, magic = "SET")]           // "SET key 60 some value\r\n"
/// struct Set<'a> {
///     key: &'a str,
///     ttl: u32,
///     #[frame(rest)]
///     value: &'a [u8],
/// }
/// ```
///
/// # Binary field types
///
/// | type | on the wire |
/// |------|-------------|
/// | `u8`..`u128`, `i8`..`i128`, `f32`, `f64` | fixed size, big-endian unless `endian` says otherwise |
/// | `bool` | one byte, 0 or 1 (anything else is `Invalid`) |
/// | `[u8; N]` | N bytes |
/// | `&'a [u8]`, `Vec<u8>` | bytes; needs `len` or `prefix` |
/// | `&'a str`, `String` | UTF-8 bytes (checked); needs `len` or `prefix` |
/// | `Vec<T>` (T a number, `bool`, `[u8; N]` or a frame) | `len`/`prefix` is the element **count** |
/// | any other type `T: Frame<'a>` | a nested frame, decoded in place |
/// | `Option<T>` | one of the above, present only when `if = ...` holds |
/// | `()` with `magic` | just the magic bytes |
/// | `PhantomData<_>`, `#[frame(skip)]` fields | nothing (decoded as `PhantomData` / `Default::default()`) |
///
/// `usize`/`isize` are rejected (no fixed size). Borrowed fields must use
/// the type's one lifetime parameter: a frame borrows from one buffer.
///
/// # Container attributes
///
/// | attribute | on | meaning |
/// |-----------|----|---------|
/// | `endian = "big"` / `"little"` | struct, enum | default byte order of numbers, prefixes and the tag (default big) |
/// | `magic = b"..."` (or `"..."`) | struct, enum | bytes at the very start that must match; in a line frame, its first word |
/// | `tag = u8` (`u16`, `u32`, `u64`) | enum, required | the number in front of each variant |
/// | `line`, `line = "crlf"` / `"lf"` / `"any"` | struct | a text line (below); `line` means `"crlf"` |
/// | `max = N` | line struct | longest line, without its terminator (default 8192) |
/// | `crate = path` | any | where `corering` is (default `::corering`) |
///
/// # Field attributes
///
/// | attribute | applies to | meaning |
/// |-----------|------------|---------|
/// | `endian = "big"` / `"little"` | numbers, `Vec` of numbers, prefixes | overrides the container's byte order |
/// | `len = field` | bytes, strings, `Vec` | the length (or count) is the value of an **earlier** unsigned integer field; in tuple structs name it by index (`len = 0`) |
/// | `prefix = u16` (`u8`, `u32`, `u64`) | bytes, strings, `Vec` | a length (or count) of that type comes right before the data |
/// | `max = N` | with `len`/`prefix` | a larger length is `TooLong`, reported at the offset of the length, before the data arrives |
/// | `constant = expr` | numbers, `bool` | the value must equal `expr` (else `BadMagic`); `encode` writes `expr` |
/// | `magic = b"..."` | `[u8; N]`, `()` | the bytes must match (else `BadMagic`); `encode` writes them |
/// | `if = expr` or `if = "expr"` | `Option<T>` fields | the field is present when `expr` holds; `expr` reads earlier fields by name (`flags & 1 != 0`; tuple fields are `_0`, `_1`, ..). Numbers, bools, arrays and borrowed fields are seen by value, others by reference |
/// | `skip` | any | not on the wire; decoded as `Default::default()` |
/// | `rest` | last field of a line frame | the rest of the line, spaces included |
///
/// # Encoding is always consistent
///
/// A length field named by `len = ...` is written with the actual length
/// of the data it measures, and a prefix likewise: the value stored in the
/// length field is ignored by `encode` (it is what was decoded). Constants
/// and magic are written from the attribute. So `encode` cannot produce a
/// frame that decodes differently, except in three cases that debug builds
/// assert: an `Option` that is `Some` exactly when its condition is false
/// (the condition is evaluated as the decoder will see it), a catch-all
/// variant holding a known tag, and line fields containing a space or LF.
///
/// # Enums
///
/// `tag = T` is required; each variant has `id = N` (a number or a byte
/// literal like `b'P'`, unique, fitting `T`), and its fields follow the same
/// rules as a struct's. Unknown tags are a `BadTag` error, unless one
/// variant is `#[frame(other)]`: it has one field of the tag type, which
/// receives the tag; only the tag is consumed (a protocol with a body
/// length should put that length in every variant, or wrap the enum).
///
/// # Line frames
///
/// `#[frame(line)]` structs are one line of text: an optional magic word,
/// then the fields separated by single spaces, then the terminator:
/// `"crlf"` (the default: a bare LF is an `Invalid` error), `"lf"` (a CR is
/// data) or `"any"` (LF or CRLF). `encode` writes CRLF (`"lf"`: LF). Fields
/// are `&'a str`, `&'a [u8]`, `String`, `Vec<u8>` (one word each) or
/// integers (decimal, `-` for signed types; leading zeros are accepted and
/// not kept), and the last field may be `#[frame(rest)]` to take the rest
/// of the line. The decoder waits (`Incomplete { needed: 1 }`) until the
/// terminator arrives, and a line longer than `max` is `TooLong` as soon as
/// that is certain. A missing field, a missing space or extra words are
/// `Invalid`.
///
/// # Decoding errors
///
/// A buffer that is a prefix of a valid frame is always `Incomplete`, with
/// `needed` a lower bound on the missing bytes (consecutive fixed-size
/// fields are checked together, so the answer covers all of them). Errors
/// carry the field path (`"Packet.name"`, nested `"Packet.body.Text.0"`,
/// `"Packet"` for the container magic, the tag or a line-level problem) and
/// the byte offset from the start of the outermost frame: the start of the
/// field (or of its length, for `TooLong`), or the first invalid byte for
/// `BadUtf8`. A nested frame's errors are re-rooted: its type name is
/// replaced by the outer field's path.
///
/// # Panics
///
/// `encode` panics if a length does not fit its length field or prefix
/// (300 bytes with `prefix = u8`): such a frame cannot be encoded. `max` is
/// not checked when encoding.
#[proc_macro_derive(Frame, attributes(frame))]
pub fn derive_frame(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    expand(&input).into()
}

fn expand(input: &DeriveInput) -> TokenStream2 {
    let mut errs = Errors::default();
    let Some(frame) = model::frame_impl(input, &mut errs) else {
        return errs.into_compile_errors();
    };
    let container = model::analyze(input, frame.clone(), &mut errs);
    match container {
        Some(c) if errs.is_empty() => {
            let gen = binary::Gen::new(&c);
            let methods = gen.methods();
            impl_frame(input, &c.krate, &c.frame, methods)
        }
        _ => {
            // Keep the type usable as a `Frame` so the only errors shown are
            // the ones above, not follow-on "trait not implemented" errors.
            let krate = syn::parse_quote!(::corering);
            let stub = quote! {
                fn decode(_: &[u8]) -> ::core::result::Result<
                    ::corering::frame::Decoded<Self>, ::corering::frame::DecodeError,
                > {
                    ::core::unimplemented!()
                }
                fn encoded_len(&self) -> usize {
                    ::core::unimplemented!()
                }
                fn encode(&self, _: &mut [u8]) {
                    ::core::unimplemented!()
                }
            };
            let mut ts = errs.into_compile_errors();
            ts.extend(impl_frame(input, &krate, &frame, stub));
            ts
        }
    }
}

fn impl_frame(
    input: &DeriveInput,
    krate: &syn::Path,
    frame: &FrameImpl,
    methods: TokenStream2,
) -> TokenStream2 {
    let name = &input.ident;
    let lt = &frame.lt;
    let (impl_generics, _, _) = frame.impl_generics.split_for_impl();
    let (_, ty_generics, where_clause) = frame.generics.split_for_impl();
    let mut preds: Vec<TokenStream2> = where_clause
        .map(|w| w.predicates.iter().map(|p| quote!(#p)).collect())
        .unwrap_or_default();
    for ty in &frame.bounds {
        preds.push(quote!(#ty: #krate::frame::Frame<#lt>));
    }
    quote! {
        #[automatically_derived]
        #[allow(
            unused_variables, unused_mut, unused_assignments, unused_parens, unused_braces,
            non_shorthand_field_patterns, unused_qualifications, clippy::all, clippy::pedantic,
            clippy::nursery, clippy::restriction
        )]
        impl #impl_generics #krate::frame::Frame<#lt> for #name #ty_generics
        where #(#preds,)*
        {
            #methods
        }
    }
}

macro_rules! method_attrs {
    ($($fn_name:ident $method:literal),* $(,)?) => {$(
        #[doc = concat!("Marks an `async fn` as the handler of `", $method, "` requests to a path.")]
        ///
        /// ```ignore
        /// use corering::http::route::{Json, Path, Query};
        ///
        #[doc = concat!("#[corering::", stringify!($fn_name), "(\"/users/{id}\")]")]
        /// async fn user(id: Path<u32>) -> String {
        ///     format!("user {}", id.0)
        /// }
        /// ```
        ///
        /// The path is `/`-separated segments: literals, `{name}` parameters
        /// and, last, a `{*rest}` tail. Every argument is an extractor
        /// (`corering::http::route::FromRequest`); a `Path<T>` argument takes
        /// the parameter of its name, and every parameter must be taken. The
        /// return type implements `IntoResponse`. Mistakes are compile errors
        /// on the offending token; the function itself is kept as written.
        /// List the handler in [`routes!`](macro@routes) to serve it;
        /// `corering::http::route` documents matching and the extractors.
        #[proc_macro_attribute]
        pub fn $fn_name(attr: TokenStream, item: TokenStream) -> TokenStream {
            route::expand(Some($method), attr.into(), item.into()).into()
        }
    )*};
}

method_attrs! {
    get "GET",
    post "POST",
    put "PUT",
    delete "DELETE",
    patch "PATCH",
    head "HEAD",
    options "OPTIONS",
}

/// Marks an `async fn` as a route handler for any method:
/// `#[route(method = "TRACE", path = "/debug")]`.
///
/// The same as [`get`](macro@get) and friends otherwise; `method` is one
/// of `GET`, `HEAD`, `POST`, `PUT`, `DELETE`, `CONNECT`, `OPTIONS`,
/// `TRACE`, `PATCH`.
#[proc_macro_attribute]
pub fn route(attr: TokenStream, item: TokenStream) -> TokenStream {
    route::expand(None, attr.into(), item.into()).into()
}

/// Builds a router from route handlers: `routes![index, users::show]`.
///
/// The value is a `corering::http::route::Router`, a handler for
/// `corering::http::serve` (clone it for each connection), with
/// `.with_state(x)` to add shared application state (`State<T>`) and
/// `.with_local_state(|| x)` for per-worker state (`Local<T>`). Two routes that no request
/// could tell apart (same method; the same literals and parameters at the
/// same positions) are a compile error naming both; a literal segment ranks
/// before a parameter, so `/a/b` and `/a/{x}` may coexist.
///
/// ```ignore
/// let router = corering::routes![index, user].with_state(db);
/// server.serve(move |conn| corering::http::serve(conn, cfg, router.clone()))
/// ```
#[proc_macro]
pub fn routes(input: TokenStream) -> TokenStream {
    route::expand_routes(input.into()).into()
}
