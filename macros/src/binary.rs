//! Code generation for binary frames: structs and tagged enums.
//!
//! The decoder is straight-line code over `(buf, pos)`. Consecutive
//! fixed-size fields form a *run* checked with one `need` (the smoltcp
//! idea: one length check, then plain reads); variable fields check their
//! own bytes. Every check either continues, or stops with `Need(k)` (a
//! prefix: k more bytes at least) or an error naming the field and offset.
//!
//! The encoder destructures `self` into references and writes each field
//! in order; length fields and prefixes are written from the actual length
//! of the data they measure, so an encoded frame is always consistent.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::ext::IdentExt;
use syn::spanned::Spanned;
use syn::{Ident, LitByteStr, LitStr};

use crate::attrs::{Endian, IntTy};
use crate::model::{Body, Container, Field, Length, Val, Variant, VariantKind};

/// Names and paths shared by the generated code. Internal locals use
/// `Span::mixed_site()`, so they can never capture or shadow a name in a
/// user's expression (conditions, constants), and field names can be
/// anything.
pub struct Gen<'c> {
    pub c: &'c Container,
    pub p: TokenStream,
    pub frame: TokenStream,
    pub buf: Ident,
    pub pos: Ident,
    pub out: Ident,
}

pub fn ident(name: &str) -> Ident {
    Ident::new(name, Span::mixed_site())
}

impl<'c> Gen<'c> {
    pub fn new(c: &'c Container) -> Gen<'c> {
        let krate = &c.krate;
        Gen {
            c,
            p: quote!(#krate::frame::__private),
            frame: quote!(#krate::frame::Frame),
            buf: ident("__buf"),
            pos: ident("__pos"),
            out: ident("__out"),
        }
    }

    /// The three trait methods for a struct or enum.
    pub fn methods(&self) -> TokenStream {
        match &self.c.body {
            Body::Struct { fields, .. } => self.struct_methods(fields),
            Body::Enum { tag, variants } => self.enum_methods(tag, variants),
            Body::Line { .. } => crate::line::methods(self),
        }
    }

    pub fn root_path(&self) -> LitStr {
        LitStr::new(&self.c.name.unraw().to_string(), Span::call_site())
    }

    pub fn magic(&self) -> Option<LitByteStr> {
        self.c
            .magic
            .as_ref()
            .map(|(b, lit)| LitByteStr::new(b, lit.span()))
    }

    /// Checks the container magic against the bytes that have arrived;
    /// the caller's next `need` includes its length (see `decode_fields`).
    fn decode_magic(&self) -> TokenStream {
        let Gen { p, buf, pos, .. } = self;
        match self.magic() {
            Some(m) => {
                let root = self.root_path();
                quote!(#p::magic(#buf, #pos, #m, #root)?;)
            }
            None => quote!(),
        }
    }

    fn encode_magic(&self) -> TokenStream {
        let Gen { p, out, pos, .. } = self;
        match self.magic() {
            Some(m) => quote!(#p::put(#out, &mut #pos, #m);),
            None => quote!(),
        }
    }

    fn magic_len(&self) -> usize {
        self.c.magic.as_ref().map_or(0, |(b, _)| b.len())
    }

    fn struct_methods(&self, fields: &[Field]) -> TokenStream {
        let Gen {
            p, buf, pos, out, ..
        } = self;
        let lt = &self.c.frame.lt;
        let magic = self.decode_magic();
        let decode = self.decode_fields(fields, self.magic_len());
        let build = construct(quote!(Self), fields);
        let pattern = destructure(quote!(Self), fields);
        let lens = fields.iter().map(|f| self.field_len(f));
        let magic_len = self.magic_len();
        let enc_magic = self.encode_magic();
        let encode = fields.iter().map(|f| self.encode_field(f, fields));
        quote! {
            #[inline]
            fn decode(#buf: &#lt [u8]) -> ::core::result::Result<
                #p::Decoded<Self>, #p::DecodeError,
            > {
                #p::finish((move || -> #p::Step<(Self, usize)> {
                    let mut #pos: usize = 0;
                    #magic
                    #decode
                    ::core::result::Result::Ok((#build, #pos))
                })())
            }

            #[inline]
            fn encoded_len(&self) -> usize {
                let #pattern = self;
                #magic_len #(+ #lens)*
            }

            #[inline]
            fn encode(&self, #out: &mut [u8]) {
                let #pattern = self;
                let mut #pos: usize = 0;
                #enc_magic
                #(#encode)*
            }
        }
    }

    fn enum_methods(&self, tag: &IntTy, variants: &[Variant]) -> TokenStream {
        let Gen {
            p, buf, pos, out, ..
        } = self;
        let lt = &self.c.frame.lt;
        let root = self.root_path();
        let magic = self.decode_magic();
        let tag_ty = &tag.ident;
        let tb = tag.bytes;
        let from = from_bytes(self.c.endian);
        let to = to_bytes(self.c.endian);
        let t = ident("__tag");
        let t_at = ident("__tag_at");
        let ids: Vec<TokenStream> = variants
            .iter()
            .filter_map(|v| match v.kind {
                VariantKind::Id(id) => Some(id_lit(id)),
                VariantKind::Other(_) => None,
            })
            .collect();

        let mut arms = Vec::new();
        let mut len_arms = Vec::new();
        let mut enc_arms = Vec::new();
        let mut has_other = false;
        let magic_len = self.magic_len();
        let enc_magic = self.encode_magic();
        for v in variants {
            let vi = &v.ident;
            let path = quote!(Self::#vi);
            match &v.kind {
                VariantKind::Id(id) => {
                    let id = id_lit(*id);
                    let fields = &v.fields;
                    let decode = self.decode_fields(fields, 0);
                    let build = construct(path.clone(), fields);
                    arms.push(quote! {
                        #id => {
                            #decode
                            ::core::result::Result::Ok((#build, #pos))
                        }
                    });
                    let pattern = destructure(path, fields);
                    let lens = fields.iter().map(|f| self.field_len(f));
                    len_arms.push(quote!(#pattern => #magic_len + #tb #(+ #lens)*,));
                    let encode = fields.iter().map(|f| self.encode_field(f, fields));
                    enc_arms.push(quote! {
                        #pattern => {
                            #enc_magic
                            #p::put(#out, &mut #pos, &<#tag_ty>::#to(#id));
                            #(#encode)*
                        }
                    });
                }
                VariantKind::Other(member) => {
                    has_other = true;
                    arms.push(quote! {
                        #t => ::core::result::Result::Ok((#path { #member: #t }, #pos)),
                    });
                    len_arms.push(quote!(#path { .. } => #magic_len + #tb,));
                    let check = if ids.is_empty() {
                        quote!()
                    } else {
                        let msg = LitStr::new(
                            &format!(
                                "{}::{vi} holds a tag that another variant uses; encoding it \
                                 would not decode back to {vi}",
                                self.c.name
                            ),
                            Span::call_site(),
                        );
                        quote!(::core::debug_assert!(!::core::matches!(*#t, #(#ids)|*), #msg);)
                    };
                    enc_arms.push(quote! {
                        #path { #member: #t } => {
                            #check
                            #enc_magic
                            #p::put(#out, &mut #pos, &<#tag_ty>::#to(*#t));
                        }
                    });
                }
            }
        }
        // `match *self {}` is how an empty enum is matched exhaustively.
        let this = if variants.is_empty() {
            quote!(*self)
        } else {
            quote!(self)
        };
        if !has_other {
            arms.push(quote! {
                _ => ::core::result::Result::Err(
                    #p::bad_tag(::core::convert::From::from(#t), #root, #t_at),
                ),
            });
        }
        quote! {
            #[inline]
            fn decode(#buf: &#lt [u8]) -> ::core::result::Result<
                #p::Decoded<Self>, #p::DecodeError,
            > {
                #p::finish((move || -> #p::Step<(Self, usize)> {
                    let mut #pos: usize = 0;
                    #magic
                    #p::need(#buf, #pos, #magic_len + #tb)?;
                    #pos += #magic_len;
                    let #t_at = #pos;
                    let #t = <#tag_ty>::#from(#p::arr(#buf, #pos));
                    #pos += #tb;
                    match #t {
                        #(#arms)*
                    }
                })())
            }

            #[inline]
            fn encoded_len(&self) -> usize {
                match #this {
                    #(#len_arms)*
                }
            }

            #[inline]
            fn encode(&self, #out: &mut [u8]) {
                let mut #pos: usize = 0;
                match #this {
                    #(#enc_arms)*
                }
            }
        }
    }

    // ---- decoding ----------------------------------------------------------

    /// Statements decoding `fields` into locals named after them, after
    /// skipping `lead` bytes already checked by their content (the magic),
    /// but not yet by length: they join the first length check.
    fn decode_fields(&self, fields: &[Field], lead: usize) -> TokenStream {
        let Gen { p, buf, pos, .. } = self;
        let mut ts = TokenStream::new();
        let mut lead = lead;
        if lead > 0 && !fields.first().is_some_and(is_fixed) {
            ts.extend(quote!(#p::need(#buf, #pos, #lead)?; #pos += #lead;));
            lead = 0;
        }
        let mut i = 0;
        while i < fields.len() {
            if !is_fixed(&fields[i]) {
                ts.extend(self.decode_field(&fields[i], fields, false));
                i += 1;
                continue;
            }
            let mut j = i;
            let mut consts = 0usize;
            let mut exprs = Vec::new();
            while j < fields.len() && is_fixed(&fields[j]) {
                match fixed_size(&fields[j]) {
                    Size::Const(n) => consts += n,
                    Size::Expr(e) => exprs.push(e),
                }
                j += 1;
            }
            consts += lead;
            if consts > 0 || !exprs.is_empty() {
                ts.extend(quote!(#p::need(#buf, #pos, #consts #(+ #exprs)*)?;));
            }
            if lead > 0 {
                ts.extend(quote!(#pos += #lead;));
                lead = 0;
            }
            for f in &fields[i..j] {
                ts.extend(self.decode_field(f, fields, true));
            }
            i = j;
        }
        ts
    }

    fn decode_field(&self, f: &Field, fields: &[Field], checked: bool) -> TokenStream {
        let Gen { pos, .. } = self;
        let local = &f.local;
        let mut ts = TokenStream::new();
        if f.length_of.is_some() {
            let at = offset_local(f);
            ts.extend(quote!(let #at = #pos;));
        }
        let value = self.decode_value(f, &f.val, checked, true, fields);
        if let Some(cond) = &f.cond {
            let binds = f.cond_uses.iter().filter_map(|&u| {
                let g = &fields[u];
                (!g.by_value()).then(|| {
                    let l = &g.local;
                    quote!(let #l = &#l;)
                })
            });
            ts.extend(quote! {
                let #local = if { #(#binds)* #cond } {
                    ::core::option::Option::Some(#value)
                } else {
                    ::core::option::Option::None
                };
            });
        } else {
            ts.extend(quote!(let #local = #value;));
        }
        ts
    }

    /// An expression that decodes one value at `pos` and advances `pos`.
    /// `checked`: the bytes of a fixed-size value are known to be there.
    /// `top`: the field's own value (not a `Vec` element).
    fn decode_value(
        &self,
        f: &Field,
        val: &Val,
        checked: bool,
        top: bool,
        fields: &[Field],
    ) -> TokenStream {
        let Gen { p, buf, pos, .. } = self;
        let path = LitStr::new(&f.path, Span::call_site());
        let v = ident("__v");
        let need = |n: TokenStream| {
            if checked {
                quote!()
            } else {
                quote!(#p::need(#buf, #pos, #n)?;)
            }
        };
        let constant = |v: &Ident| match (&f.constant, top) {
            (Some(c), true) => quote_spanned!(c.span()=> #p::expect(&#v, &(#c), #path, #pos)?;),
            _ => quote!(),
        };
        match val {
            Val::Int(t) => {
                let n = t.bytes;
                let ty = &t.ident;
                let from = from_bytes(f.endian);
                let need = need(quote!(#n));
                let check = constant(&v);
                quote!({
                    #need
                    let #v = <#ty>::#from(#p::arr(#buf, #pos));
                    #check
                    #pos += #n;
                    #v
                })
            }
            Val::Bool => {
                let need = need(quote!(1));
                let check = constant(&v);
                quote!({
                    #need
                    let #v = #p::boolean(#buf[#pos], #path, #pos)?;
                    #check
                    #pos += 1;
                    #v
                })
            }
            Val::Array(len) => {
                let need = need(quote!(::core::mem::size_of::<[u8; #len]>()));
                let check = match (&f.magic, top) {
                    (Some((bytes, lit)), true) => {
                        // Typed so that a magic of the wrong length is a
                        // type error on the literal, next to the array type.
                        let m = LitByteStr::new(bytes, lit.span());
                        let magic = ident("__magic");
                        let typed = quote_spanned!(lit.span()=> let #magic: &[u8; #len] = #m;);
                        quote! {
                            #typed
                            #p::expect(&#v, #magic, #path, #pos)?;
                        }
                    }
                    _ => quote!(),
                };
                quote!({
                    #need
                    let #v: [u8; #len] = #p::arr(#buf, #pos);
                    #check
                    #pos += #v.len();
                    #v
                })
            }
            Val::Unit => {
                let Some((bytes, lit)) = &f.magic else {
                    return quote!(());
                };
                let n = bytes.len();
                let m = LitByteStr::new(bytes, lit.span());
                let need = need(quote!(#n));
                quote!({
                    #need
                    #p::expect(&#buf[#pos..#pos + #n], &#m[..], #path, #pos)?;
                    #pos += #n;
                })
            }
            Val::Bytes { owned } | Val::Str { owned } => {
                let n = ident("__n");
                let b = ident("__b");
                let len = self.decode_len(f, fields);
                let is_str = matches!(val, Val::Str { .. });
                let result = match (is_str, owned) {
                    (false, false) => quote!(#b),
                    (false, true) => quote!(<[u8]>::to_vec(#b)),
                    (true, false) => quote!(#p::utf8(#b, #path, #pos - #n)?),
                    (true, true) => {
                        quote!(::std::string::String::from(#p::utf8(#b, #path, #pos - #n)?))
                    }
                };
                quote!({
                    let #n: usize = #len;
                    let #b = #p::take(#buf, #pos, #n)?;
                    #pos += #n;
                    #result
                })
            }
            Val::Vec(elem) => {
                let n = ident("__n");
                let items = ident("__items");
                let len = self.decode_len(f, fields);
                let one = self.decode_value(f, elem, false, false, fields);
                quote!({
                    let #n: usize = #len;
                    let mut #items = #p::vec_for(#n, #buf, #pos);
                    for _ in 0..#n {
                        #items.push(#one);
                    }
                    #items
                })
            }
            Val::Nested(ty) => {
                let frame = &self.frame;
                let lt = &self.c.frame.lt;
                let n = ident("__n");
                let call = quote_spanned!(ty.span()=> <#ty as #frame<#lt>>::decode);
                quote!({
                    let (#v, #n) = #p::sub(#call(&#buf[#pos..]), #path, #pos)?;
                    #pos += #n;
                    #v
                })
            }
            Val::Phantom => quote!(::core::marker::PhantomData),
            Val::Skip => quote!(::core::default::Default::default()),
        }
    }

    /// An expression for the length or count of a `len`/`prefix` field;
    /// reads the prefix if there is one.
    fn decode_len(&self, f: &Field, fields: &[Field]) -> TokenStream {
        let Gen { p, buf, pos, .. } = self;
        let path = LitStr::new(&f.path, Span::call_site());
        let max = match &f.max {
            Some(m) => quote_spanned!(m.span()=> #p::max_of(#m)),
            None => quote!(::core::option::Option::None),
        };
        match &f.len {
            Some(Length::Prefix(t)) => {
                let ty = &t.ident;
                let n = t.bytes;
                let from = from_bytes(f.endian);
                let raw = ident("__raw");
                let at = ident("__at");
                quote!({
                    #p::need(#buf, #pos, #n)?;
                    let #raw = <#ty>::#from(#p::arr(#buf, #pos));
                    let #at = #pos;
                    #pos += #n;
                    #p::length(::core::convert::From::from(#raw), #max, #path, #at)?
                })
            }
            Some(Length::Field(t)) => {
                let l = &fields[*t].local;
                let at = offset_local(&fields[*t]);
                quote!(#p::length(::core::convert::From::from(#l), #max, #path, #at)?)
            }
            // The model guarantees a length; stay total anyway.
            None => quote!(0),
        }
    }

    // ---- encoding ----------------------------------------------------------

    /// `encoded_len` of one field, whose local is a reference.
    fn field_len(&self, f: &Field) -> TokenStream {
        let local = &f.local;
        if f.option {
            let x = ident("__x");
            let inner = self.value_len(f, &f.val, &x);
            quote!(match #local {
                ::core::option::Option::Some(#x) => #inner,
                ::core::option::Option::None => 0,
            })
        } else {
            self.value_len(f, &f.val, local)
        }
    }

    fn value_len(&self, f: &Field, val: &Val, x: &Ident) -> TokenStream {
        let frame = &self.frame;
        let prefix = match &f.len {
            Some(Length::Prefix(t)) => t.bytes,
            _ => 0,
        };
        match val {
            Val::Int(t) => {
                let n = t.bytes;
                quote!(#n)
            }
            Val::Bool => quote!(1),
            Val::Array(_) => quote!(#x.len()),
            Val::Unit => {
                let n = f.magic.as_ref().map_or(0, |(b, _)| b.len());
                quote!(#n)
            }
            Val::Bytes { .. } | Val::Str { .. } => quote!((#prefix + #x.len())),
            Val::Vec(elem) => {
                let e = ident("__e");
                let each = match &**elem {
                    Val::Int(t) => {
                        let n = t.bytes;
                        quote!(#x.len() * #n)
                    }
                    Val::Bool => quote!(#x.len()),
                    Val::Array(_) => quote!(#x.iter().map(|#e| #e.len()).sum::<usize>()),
                    Val::Nested(ty) => {
                        let lt = &self.c.frame.lt;
                        let len = quote_spanned!(ty.span()=> <#ty as #frame<#lt>>::encoded_len);
                        quote!(#x.iter().map(|#e| #len(#e)).sum::<usize>())
                    }
                    _ => quote!(0),
                };
                quote!((#prefix + #each))
            }
            Val::Nested(ty) => {
                let lt = &self.c.frame.lt;
                let len = quote_spanned!(ty.span()=> <#ty as #frame<#lt>>::encoded_len);
                quote!(#len(#x))
            }
            Val::Phantom | Val::Skip => quote!(0),
        }
    }

    /// Statements writing one field, whose local is a reference.
    fn encode_field(&self, f: &Field, fields: &[Field]) -> TokenStream {
        let local = &f.local;
        if !f.option {
            return self.encode_value(f, &f.val, local, true, fields);
        }
        let x = ident("__x");
        let inner = self.encode_value(f, &f.val, &x, true, fields);
        let check = f.cond.as_ref().map(|cond| {
            // Conditions see what will be on the wire: a length field's
            // value is the length that `encode` writes.
            let binds = f.cond_uses.iter().filter_map(|&u| {
                let g = &fields[u];
                let l = &g.local;
                match g.length_of {
                    Some(d) => {
                        let actual = self.actual_len(g, &fields[d], l);
                        Some(quote!(let #l = #actual;))
                    }
                    None => g.by_value().then(|| quote!(let #l = *#l;)),
                }
            });
            let msg = LitStr::new(
                &format!(
                    "`{}` must be Some exactly when its condition holds, or the frame \
                     will not decode back",
                    f.path
                ),
                Span::call_site(),
            );
            quote! {
                ::core::debug_assert!(
                    { #(#binds)* #cond } == ::core::option::Option::is_some(#local),
                    #msg
                );
            }
        });
        quote! {
            #check
            if let ::core::option::Option::Some(#x) = #local {
                #inner
            }
        }
    }

    fn encode_value(
        &self,
        f: &Field,
        val: &Val,
        x: &Ident,
        top: bool,
        fields: &[Field],
    ) -> TokenStream {
        let Gen { p, out, pos, .. } = self;
        let path = LitStr::new(&f.path, Span::call_site());
        match val {
            Val::Int(t) => {
                let ty = &t.ident;
                let to = to_bytes(f.endian);
                let value = match (top, &f.constant, f.length_of) {
                    (true, Some(c), _) => {
                        let c = quote_spanned!(c.span()=> { let __c: #ty = #c; __c });
                        quote!(#c)
                    }
                    (true, None, Some(d)) => self.actual_len(f, &fields[d], x),
                    _ => quote!(*#x),
                };
                quote!(#p::put(#out, &mut #pos, &<#ty>::#to(#value));)
            }
            Val::Bool => {
                let value = match (top, &f.constant) {
                    (true, Some(c)) => quote_spanned!(c.span()=> { let __c: bool = #c; __c }),
                    _ => quote!(*#x),
                };
                quote!(#p::put(#out, &mut #pos, &[u8::from(#value)]);)
            }
            Val::Array(_) => match (&f.magic, top) {
                (Some((bytes, lit)), true) => {
                    let m = LitByteStr::new(bytes, lit.span());
                    quote!(#p::put(#out, &mut #pos, #m);)
                }
                _ => quote!(#p::put(#out, &mut #pos, &#x[..]);),
            },
            Val::Unit => match &f.magic {
                Some((bytes, lit)) => {
                    let m = LitByteStr::new(bytes, lit.span());
                    quote!(#p::put(#out, &mut #pos, #m);)
                }
                None => quote!(),
            },
            Val::Bytes { .. } | Val::Str { .. } => {
                let prefix = self.encode_prefix(f, x);
                let bytes = if matches!(val, Val::Str { .. }) {
                    quote!(#x.as_bytes())
                } else {
                    quote!(&#x[..])
                };
                quote! {
                    #prefix
                    #p::put(#out, &mut #pos, #bytes);
                }
            }
            Val::Vec(elem) => {
                let prefix = self.encode_prefix(f, x);
                let e = ident("__e");
                let one = self.encode_value(f, elem, &e, false, fields);
                quote! {
                    #prefix
                    for #e in #x.iter() {
                        #one
                    }
                }
            }
            Val::Nested(ty) => {
                let frame = &self.frame;
                let lt = &self.c.frame.lt;
                let n = ident("__n");
                let len = quote_spanned!(ty.span()=> <#ty as #frame<#lt>>::encoded_len);
                let encode = quote_spanned!(ty.span()=> <#ty as #frame<#lt>>::encode);
                quote! {
                    let #n = #len(#x);
                    #encode(#x, &mut #out[#pos..#pos + #n]);
                    #pos += #n;
                }
            }
            Val::Phantom | Val::Skip => {
                let _ = path;
                quote!()
            }
        }
    }

    fn encode_prefix(&self, f: &Field, x: &Ident) -> TokenStream {
        let Gen { p, out, pos, .. } = self;
        match &f.len {
            Some(Length::Prefix(t)) => {
                let ty = &t.ident;
                let to = to_bytes(f.endian);
                let path = LitStr::new(&f.path, Span::call_site());
                let what =
                    LitStr::new(&format!("{} prefix of `{}`", ty, f.path), Span::call_site());
                quote! {
                    #p::put(#out, &mut #pos, &<#ty>::#to(#p::len_as::<#ty>(#x.len(), #path, #what)));
                }
            }
            _ => quote!(),
        }
    }

    /// The value a length field is encoded with: the length of its data.
    fn actual_len(&self, len_field: &Field, data: &Field, stored: &Ident) -> TokenStream {
        let p = &self.p;
        let Val::Int(t) = &len_field.val else {
            return quote!(*#stored);
        };
        let ty = &t.ident;
        let dpath = LitStr::new(&data.path, Span::call_site());
        let lpath = LitStr::new(&len_field.path, Span::call_site());
        let d = &data.local;
        if data.option {
            let x = ident("__d");
            quote!(match #d {
                ::core::option::Option::Some(#x) => #p::len_as::<#ty>(#x.len(), #dpath, #lpath),
                ::core::option::Option::None => *#stored,
            })
        } else {
            quote!(#p::len_as::<#ty>(#d.len(), #dpath, #lpath))
        }
    }
}

enum Size {
    Const(usize),
    Expr(TokenStream),
}

fn is_fixed(f: &Field) -> bool {
    !f.option
        && (f.val.fixed_size().is_some()
            || matches!(f.val, Val::Array(_))
            || (matches!(f.val, Val::Unit) && f.magic.is_some()))
}

fn fixed_size(f: &Field) -> Size {
    match &f.val {
        Val::Array(len) => Size::Expr(quote!(::core::mem::size_of::<[u8; #len]>())),
        Val::Unit => Size::Const(f.magic.as_ref().map_or(0, |(b, _)| b.len())),
        v => Size::Const(v.fixed_size().unwrap_or(0)),
    }
}

fn offset_local(f: &Field) -> Ident {
    ident(&format!("__at_{}", f.local.unraw()))
}

fn from_bytes(e: Endian) -> Ident {
    match e {
        Endian::Big => format_ident!("from_be_bytes"),
        Endian::Little => format_ident!("from_le_bytes"),
    }
}

fn to_bytes(e: Endian) -> Ident {
    match e {
        Endian::Big => format_ident!("to_be_bytes"),
        Endian::Little => format_ident!("to_le_bytes"),
    }
}

fn id_lit(id: u128) -> TokenStream {
    let lit = proc_macro2::Literal::u128_unsuffixed(id);
    quote!(#lit)
}

/// `Path { member: local, .. }` as an expression.
pub fn construct(path: TokenStream, fields: &[Field]) -> TokenStream {
    let members = fields.iter().map(|f| &f.member);
    let locals = fields.iter().map(|f| &f.local);
    quote!(#path { #(#members: #locals),* })
}

/// `Path { member: local, .. }` as a pattern binding references.
pub fn destructure(path: TokenStream, fields: &[Field]) -> TokenStream {
    let members = fields.iter().map(|f| &f.member);
    let locals = fields.iter().map(|f| &f.local);
    quote!(#path { #(#members: #locals,)* .. })
}
