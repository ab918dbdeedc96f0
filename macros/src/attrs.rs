//! Parsing `#[frame(...)]` attributes into [`Attrs`], one key at a time.
//!
//! Every key is accepted syntactically wherever it appears; whether it is
//! allowed *there* (container, variant, field) is checked by the caller with
//! [`Attrs::allow_only`], which gives a placement message instead of an
//! "unknown attribute" one.

use proc_macro2::Span;
use syn::parse::ParseStream;
use syn::{Attribute, Expr, ExprLit, Ident, Lit, LitStr, Path, Type};

use crate::errors::Errors;

/// Every key, in the order the docs list them.
pub const KEYS: &[&str] = &[
    "endian", "magic", "line", "max", "tag", "id", "other", "len", "prefix", "constant", "if",
    "rest", "skip", "crate",
];

/// A value and the span of the key that introduced it.
#[derive(Clone)]
pub struct At<T> {
    pub key: Span,
    pub value: T,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Endian {
    Big,
    Little,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum LineEnd {
    Crlf,
    Lf,
    Any,
}

/// A fixed-size number type: `u8`..`u128`, `i8`..`i128`, `f32`, `f64`.
#[derive(Clone)]
pub struct IntTy {
    pub ident: Ident,
    pub bytes: usize,
    pub signed: bool,
    pub float: bool,
}

impl IntTy {
    pub fn from_ident(ident: &Ident) -> Option<IntTy> {
        let (bytes, signed, float) = match ident.to_string().as_str() {
            "u8" => (1, false, false),
            "u16" => (2, false, false),
            "u32" => (4, false, false),
            "u64" => (8, false, false),
            "u128" => (16, false, false),
            "i8" => (1, true, false),
            "i16" => (2, true, false),
            "i32" => (4, true, false),
            "i64" => (8, true, false),
            "i128" => (16, true, false),
            "f32" => (4, true, true),
            "f64" => (8, true, true),
            _ => return None,
        };
        Some(IntTy {
            ident: ident.clone(),
            bytes,
            signed,
            float,
        })
    }

    pub fn from_type(ty: &Type) -> Option<IntTy> {
        match ty {
            Type::Path(p) if p.qself.is_none() => {
                let seg = p.path.segments.last()?;
                if !seg.arguments.is_empty() {
                    return None;
                }
                IntTy::from_ident(&seg.ident)
            }
            Type::Group(g) => IntTy::from_type(&g.elem),
            Type::Paren(p) => IntTy::from_type(&p.elem),
            _ => None,
        }
    }

    /// Usable as a length prefix, length field or enum tag.
    pub fn is_length(&self) -> bool {
        !self.signed && !self.float && self.bytes <= 8
    }

    /// Largest value, for unsigned integer types.
    pub fn max_value(&self) -> u128 {
        if self.bytes >= 16 {
            u128::MAX
        } else {
            (1u128 << (self.bytes * 8)) - 1
        }
    }
}

/// The contents of all `#[frame(...)]` attributes on one item.
#[derive(Default)]
pub struct Attrs {
    pub endian: Option<At<Endian>>,
    pub magic: Option<At<(Vec<u8>, Lit)>>,
    pub line: Option<At<LineEnd>>,
    pub max: Option<At<Expr>>,
    pub tag: Option<At<IntTy>>,
    pub id: Option<At<(u128, Lit)>>,
    pub other: Option<At<()>>,
    pub len: Option<At<LenRef>>,
    pub prefix: Option<At<IntTy>>,
    pub constant: Option<At<Expr>>,
    pub cond: Option<At<Expr>>,
    pub rest: Option<At<()>>,
    pub skip: Option<At<()>>,
    pub krate: Option<At<Path>>,
    /// Some `#[frame]` attribute here did not parse (already reported).
    pub failed: bool,
}

/// The target of `len = ...`: a field name, or a tuple field index.
#[derive(Clone)]
pub enum LenRef {
    Name(Ident),
    Index(usize, Span),
}

impl LenRef {
    pub fn span(&self) -> Span {
        match self {
            LenRef::Name(i) => i.span(),
            LenRef::Index(_, s) => *s,
        }
    }
}

impl Attrs {
    /// Parses the `#[frame]` attributes among `attrs`; errors go to `errs`.
    pub fn parse(attrs: &[Attribute], errs: &mut Errors) -> Attrs {
        let mut out = Attrs::default();
        for attr in attrs {
            if !attr.path().is_ident("frame") {
                continue;
            }
            if let syn::Meta::Path(_) = attr.meta {
                errs.push(syn::Error::new_spanned(
                    attr,
                    "expected `#[frame(...)]` with at least one setting, like `#[frame(len = count)]`",
                ));
                out.failed = true;
                continue;
            }
            let r = attr.parse_nested_meta(|meta| {
                let Some(key) = meta.path.get_ident().cloned() else {
                    return Err(meta.error(unknown_key_message(
                        &quote::ToTokens::to_token_stream(&meta.path).to_string(),
                    )));
                };
                let name = key.to_string();
                let span = key.span();
                macro_rules! set {
                    ($slot:ident, $value:expr) => {{
                        if out.$slot.is_some() {
                            return Err(syn::Error::new(span, format!("duplicate `{name}`")));
                        }
                        let value = $value;
                        out.$slot = Some(At { key: span, value });
                    }};
                }
                match name.as_str() {
                    "endian" => set!(endian, parse_endian(meta.value()?)?),
                    "magic" => set!(magic, parse_magic(meta.value()?)?),
                    "line" => {
                        let end = if meta.input.peek(syn::Token![=]) {
                            parse_line_end(meta.value()?)?
                        } else {
                            LineEnd::Crlf
                        };
                        set!(line, end)
                    }
                    "max" => set!(max, meta.value()?.parse::<Expr>()?),
                    "tag" => set!(tag, parse_int_type(meta.value()?, "tag")?),
                    "id" => set!(id, parse_id(meta.value()?)?),
                    "other" => set!(other, ()),
                    "len" => set!(len, parse_len(meta.value()?)?),
                    "prefix" => set!(prefix, parse_int_type(meta.value()?, "prefix")?),
                    "constant" => set!(constant, meta.value()?.parse::<Expr>()?),
                    "if" => set!(cond, parse_cond(meta.value()?)?),
                    "rest" => set!(rest, ()),
                    "skip" => set!(skip, ()),
                    "crate" => set!(krate, parse_crate(meta.value()?)?),
                    _ => return Err(syn::Error::new(span, unknown_key_message(&name))),
                }
                if matches!(name.as_str(), "other" | "rest" | "skip")
                    && meta.input.peek(syn::Token![=])
                {
                    return Err(syn::Error::new(
                        span,
                        format!("`{name}` takes no value: write `#[frame({name})]`"),
                    ));
                }
                Ok(())
            });
            if let Err(e) = r {
                out.failed = true;
                errs.push(e);
            }
        }
        out
    }

    /// Reports every present key not in `allowed`, with `why(key)` as the
    /// message.
    pub fn allow_only(&self, allowed: &[&str], errs: &mut Errors, why: impl Fn(&str) -> String) {
        for (name, span) in self.present() {
            if !allowed.contains(&name) {
                errs.push(syn::Error::new(span, why(name)));
            }
        }
    }

    /// The keys that were given, with their spans.
    pub fn present(&self) -> Vec<(&'static str, Span)> {
        let mut v = Vec::new();
        macro_rules! p {
            ($($slot:ident => $name:literal),*) => {$(
                if let Some(a) = &self.$slot {
                    v.push(($name, a.key));
                }
            )*};
        }
        p!(endian => "endian", magic => "magic", line => "line", max => "max", tag => "tag",
           id => "id", other => "other", len => "len", prefix => "prefix",
           constant => "constant", cond => "if", rest => "rest", skip => "skip",
           krate => "crate");
        v
    }
}

fn unknown_key_message(name: &str) -> String {
    let mut msg = format!("unknown frame attribute `{name}`");
    if let Some(best) = suggest(name) {
        msg.push_str(&format!("; did you mean `{best}`?"));
    } else {
        msg.push_str("; expected one of: ");
        msg.push_str(&KEYS.join(", "));
    }
    msg
}

/// The key a misspelt or differently named attribute probably meant.
fn suggest(name: &str) -> Option<&'static str> {
    let alias = match name {
        "length" | "count" | "size" | "len_field" => Some("len"),
        "when" | "cond" | "condition" | "present_if" => Some("if"),
        "const" | "value" | "equals" => Some("constant"),
        "endianness" | "byte_order" | "order" => Some("endian"),
        "discriminant" | "tag_value" | "code" => Some("id"),
        "catch_all" | "unknown" | "default" => Some("other"),
        "length_prefix" | "len_prefix" => Some("prefix"),
        "signature" | "preamble" => Some("magic"),
        "ignore" => Some("skip"),
        "max_len" | "max_length" | "limit" => Some("max"),
        _ => None,
    };
    alias.or_else(|| {
        KEYS.iter()
            .map(|k| (edit_distance(k, name), *k))
            .filter(|(d, k)| *d <= 2 && *d < k.len())
            .min()
            .map(|(_, k)| k)
            .or_else(|| {
                // "lenght", "prefx_len": starts like a key.
                KEYS.iter()
                    .copied()
                    .filter(|k| k.len() >= 3 && name.starts_with(*k))
                    .max_by_key(|k| k.len())
            })
    })
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur.push(sub.min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

fn parse_endian(input: ParseStream) -> syn::Result<Endian> {
    let s: LitStr = input
        .parse()
        .map_err(|e| syn::Error::new(e.span(), "expected `\"big\"` or `\"little\"`"))?;
    match s.value().as_str() {
        "big" | "be" | "network" => Ok(Endian::Big),
        "little" | "le" => Ok(Endian::Little),
        other => Err(syn::Error::new(
            s.span(),
            format!("unknown endianness `{other}`; expected `\"big\"` or `\"little\"`"),
        )),
    }
}

fn parse_line_end(input: ParseStream) -> syn::Result<LineEnd> {
    let s: LitStr = input
        .parse()
        .map_err(|e| syn::Error::new(e.span(), "expected `\"crlf\"`, `\"lf\"` or `\"any\"`"))?;
    match s.value().as_str() {
        "crlf" => Ok(LineEnd::Crlf),
        "lf" => Ok(LineEnd::Lf),
        "any" => Ok(LineEnd::Any),
        other => Err(syn::Error::new(
            s.span(),
            format!("unknown line ending `{other}`; expected `\"crlf\"`, `\"lf\"` or `\"any\"`"),
        )),
    }
}

fn parse_magic(input: ParseStream) -> syn::Result<(Vec<u8>, Lit)> {
    let lit: Lit = input
        .parse()
        .map_err(|e| syn::Error::new(e.span(), "expected a byte string like `b\"CRNG\"`"))?;
    let bytes = match &lit {
        Lit::ByteStr(b) => b.value(),
        Lit::Str(s) => s.value().into_bytes(),
        _ => {
            return Err(syn::Error::new(
                lit.span(),
                "expected a byte string like `b\"CRNG\"`",
            ))
        }
    };
    if bytes.is_empty() {
        return Err(syn::Error::new(lit.span(), "magic bytes cannot be empty"));
    }
    Ok((bytes, lit))
}

fn parse_int_type(input: ParseStream, what: &str) -> syn::Result<IntTy> {
    let ty: Type = input.parse()?;
    match IntTy::from_type(&ty) {
        Some(t) if t.is_length() => Ok(t),
        _ => Err(syn::Error::new_spanned(
            &ty,
            format!("`{what}` must be one of `u8`, `u16`, `u32`, `u64`"),
        )),
    }
}

fn parse_id(input: ParseStream) -> syn::Result<(u128, Lit)> {
    let e: Expr = input.parse()?;
    let bad = || {
        syn::Error::new_spanned(
            &e,
            "expected an unsigned integer or byte literal, like `id = 3` or `id = b'P'`",
        )
    };
    let Expr::Lit(ExprLit { lit, .. }) = &e else {
        return Err(bad());
    };
    let v = match lit {
        Lit::Int(i) => i.base10_parse::<u128>().map_err(|_| bad())?,
        Lit::Byte(b) => u128::from(b.value()),
        _ => return Err(bad()),
    };
    Ok((v, lit.clone()))
}

fn parse_len(input: ParseStream) -> syn::Result<LenRef> {
    let e: Expr = input.parse()?;
    if let Expr::Path(p) = &e {
        if let (None, Some(ident)) = (&p.qself, p.path.get_ident()) {
            return Ok(LenRef::Name(ident.clone()));
        }
    }
    match &e {
        Expr::Lit(ExprLit {
            lit: Lit::Int(i), ..
        }) => Ok(LenRef::Index(i.base10_parse::<usize>()?, i.span())),
        Expr::Lit(ExprLit {
            lit: Lit::Str(s), ..
        }) => Ok(LenRef::Name(s.parse::<Ident>()?)),
        _ => Err(syn::Error::new_spanned(
            &e,
            "expected the name of an earlier field holding the length, like `len = count`",
        )),
    }
}

fn parse_cond(input: ParseStream) -> syn::Result<Expr> {
    let e: Expr = input.parse()?;
    if let Expr::Lit(ExprLit {
        lit: Lit::Str(s), ..
    }) = &e
    {
        return s.parse::<Expr>();
    }
    Ok(e)
}

fn parse_crate(input: ParseStream) -> syn::Result<Path> {
    if input.peek(LitStr) {
        let s: LitStr = input.parse()?;
        return s.parse();
    }
    Path::parse_mod_style(input)
}
