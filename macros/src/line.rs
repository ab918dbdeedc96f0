//! Code generation for line-oriented text frames (`#[frame(line)]`).
//!
//! ```text
//!  [magic SP] field SP field ... [SP rest] (CRLF | LF)
//! ```
//!
//! The decoder first finds the terminator (waiting with `Need(1)` until it
//! arrives, failing with `TooLong` past `max`), then splits the line at
//! single spaces. Offsets are from the start of the line, which is the
//! start of the frame.

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::LitStr;

use crate::attrs::LineEnd;
use crate::binary::{construct, destructure, ident, Gen};
use crate::model::{Body, Val};

/// Default longest line, in bytes, without the terminator.
const DEFAULT_MAX: usize = 8192;

pub fn methods(g: &Gen) -> TokenStream {
    let Body::Line {
        fields, end, max, ..
    } = &g.c.body
    else {
        return quote!();
    };
    let Gen {
        p, buf, pos, out, ..
    } = g;
    let lt = &g.c.frame.lt;
    let root = g.root_path();
    let magic = g.magic();
    let has_magic = magic.is_some();
    let magic = magic.map_or_else(|| quote!(b""), |m| quote!(#m));
    let end = match end {
        LineEnd::Crlf => quote!(#p::LineEnd::Crlf),
        LineEnd::Lf => quote!(#p::LineEnd::Lf),
        LineEnd::Any => quote!(#p::LineEnd::Any),
    };
    let max = match max {
        Some(m) => quote_spanned!(m.span()=> #p::line_max(#m)),
        None => quote!(#DEFAULT_MAX),
    };
    let line = ident("__line");
    let consumed = ident("__consumed");
    let stop = ident("__end");
    let w = ident("__w");
    let at = ident("__at");

    let mut decode = Vec::new();
    let mut lens = Vec::new();
    let mut encode = Vec::new();
    let mut first = !has_magic;
    for f in fields {
        let local = &f.local;
        let path = LitStr::new(&f.path, Span::call_site());
        let value = match &f.val {
            Val::Bytes { owned: false } => quote!(#w),
            Val::Bytes { owned: true } => quote!(<[u8]>::to_vec(#w)),
            Val::Str { owned: false } => quote!(#p::utf8(#w, #path, #at)?),
            Val::Str { owned: true } => {
                quote!(::std::string::String::from(#p::utf8(#w, #path, #at)?))
            }
            Val::Int(t) => {
                let ty = &t.ident;
                quote!(#p::dec::<#ty>(#w, #path, #at)?)
            }
            Val::Phantom => {
                decode.push(quote!(let #local = ::core::marker::PhantomData;));
                continue;
            }
            _ => {
                decode.push(quote!(let #local = ::core::default::Default::default();));
                continue;
            }
        };
        let sep = if first {
            quote!()
        } else {
            quote!(#p::space(#line, &mut #pos, #path)?;)
        };
        let word = if f.rest {
            quote! {
                let #w = &#line[#pos..];
                #pos = #line.len();
            }
        } else {
            quote!(let #w = #p::word(#line, &mut #pos);)
        };
        decode.push(quote! {
            let #local = {
                #sep
                let #at = #pos;
                #word
                #value
            };
        });

        let sep_len = usize::from(!first);
        let (len, bytes) = match &f.val {
            Val::Int(_) => (quote!(#p::Decimal::dec_len(*#local)), None),
            Val::Str { .. } => (quote!(#local.len()), Some(quote!(#local.as_bytes()))),
            _ => (quote!(#local.len()), Some(quote!(&#local[..]))),
        };
        lens.push(quote!(#sep_len + #len));
        if !first {
            encode.push(quote!(#p::put(#out, &mut #pos, b" ");));
        }
        encode.push(match bytes {
            None => quote!(#p::Decimal::write_dec(*#local, #out, &mut #pos);),
            Some(b) => {
                let (check, what) = if f.rest {
                    (quote!(#p::is_rest), "a line feed")
                } else {
                    (quote!(#p::is_word), "a space or a line feed")
                };
                let msg = LitStr::new(
                    &format!(
                        "`{}` contains {what} and cannot be encoded in a line",
                        f.path
                    ),
                    Span::call_site(),
                );
                quote! {
                    ::core::debug_assert!(#check(#b), #msg);
                    #p::put(#out, &mut #pos, #b);
                }
            }
        });
        first = false;
    }
    let start = if has_magic {
        quote!(#p::magic_word(#line, #magic, #root)?)
    } else {
        quote!(0)
    };
    let build = construct(quote!(Self), fields);
    let pattern = destructure(quote!(Self), fields);
    quote! {
        #[inline]
        fn decode(#buf: &#lt [u8]) -> ::core::result::Result<
            #p::Decoded<Self>, #p::DecodeError,
        > {
            #p::finish((move || -> #p::Step<(Self, usize)> {
                let (#stop, #consumed) = #p::line(#buf, #end, #max, #magic, #root)?;
                let #line = &#buf[..#stop];
                let mut #pos: usize = #start;
                #(#decode)*
                #p::line_done(#line, #pos, #root)?;
                ::core::result::Result::Ok((#build, #consumed))
            })())
        }

        #[inline]
        fn encoded_len(&self) -> usize {
            let #pattern = self;
            #magic.len() #(+ #lens)* + #end.bytes().len()
        }

        #[inline]
        fn encode(&self, #out: &mut [u8]) {
            let #pattern = self;
            let mut #pos: usize = 0;
            #p::put(#out, &mut #pos, #magic);
            #(#encode)*
            #p::put(#out, &mut #pos, #end.bytes());
        }
    }
}
