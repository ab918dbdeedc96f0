//! The checked model of a frame: what each field is on the wire.
//!
//! [`analyze`] turns the derive input into a [`Container`], reporting every
//! misuse it finds as a `syn::Error` with the offending token's span. Code
//! generation (`binary.rs`, `line.rs`) only ever sees a valid model.

use proc_macro2::{Span, TokenStream, TokenTree};
use quote::{format_ident, ToTokens};
use syn::ext::IdentExt;
use syn::spanned::Spanned;
use syn::{
    Data, DeriveInput, Expr, GenericArgument, GenericParam, Generics, Ident, Lifetime, Lit, Member,
    Path, PathArguments, Type,
};

use crate::attrs::{At, Attrs, Endian, IntTy, LenRef, LineEnd};
use crate::errors::Errors;

pub struct Container {
    pub name: Ident,
    pub krate: Path,
    pub frame: FrameImpl,
    pub endian: Endian,
    pub magic: Option<(Vec<u8>, Lit)>,
    pub body: Body,
}

/// What the `impl Frame<'lt> for Name<..>` header needs.
#[derive(Clone)]
pub struct FrameImpl {
    pub lt: Lifetime,
    /// The item's generics plus the frame lifetime if the item had none.
    pub impl_generics: Generics,
    pub generics: Generics,
    /// Extra `T: Frame<'lt>` bounds for nested fields of generic types.
    pub bounds: Vec<Type>,
}

pub enum Body {
    Struct {
        fields: Vec<Field>,
    },
    Line {
        fields: Vec<Field>,
        end: LineEnd,
        max: Option<Expr>,
    },
    Enum {
        tag: IntTy,
        variants: Vec<Variant>,
    },
}

pub struct Variant {
    pub ident: Ident,
    pub fields: Vec<Field>,
    pub kind: VariantKind,
}

pub enum VariantKind {
    Id(u128),
    /// Catch-all: the single field (this member) holds the tag.
    Other(Member),
}

/// What one value is on the wire.
#[derive(Clone)]
pub enum Val {
    Int(IntTy),
    Bool,
    /// `[u8; N]`, with N's expression.
    Array(Expr),
    /// `()`: only with `magic`.
    Unit,
    /// `&'a [u8]` (borrowed) or `Vec<u8>`.
    Bytes {
        owned: bool,
    },
    /// `&'a str` (borrowed) or `String`.
    Str {
        owned: bool,
    },
    /// `Vec<T>` of numbers, bools, byte arrays or nested frames.
    Vec(Box<Val>),
    /// Any other type: a nested `Frame`.
    Nested(Type),
    /// `PhantomData<..>`: no bytes.
    Phantom,
    /// `#[frame(skip)]`: no bytes, `Default::default()` when decoding.
    Skip,
}

impl Val {
    /// Size in bytes when known without looking at the value.
    pub fn fixed_size(&self) -> Option<usize> {
        match self {
            Val::Int(t) => Some(t.bytes),
            Val::Bool => Some(1),
            Val::Phantom | Val::Skip => Some(0),
            _ => None,
        }
    }

    /// Copy types that conditions see by value.
    fn is_copy(&self) -> bool {
        matches!(
            self,
            Val::Int(_)
                | Val::Bool
                | Val::Array(_)
                | Val::Unit
                | Val::Bytes { owned: false }
                | Val::Str { owned: false }
        )
    }
}

pub enum Length {
    /// Taken from an earlier field (index into the field list).
    Field(usize),
    /// A prefix of this type written just before the data.
    Prefix(IntTy),
}

pub struct Field {
    pub local: Ident,
    pub member: Member,
    /// `Type.field` (or `Enum.Variant.field`) for errors.
    pub path: String,
    pub val: Val,
    pub option: bool,
    pub cond: Option<Expr>,
    /// Earlier fields the condition reads.
    pub cond_uses: Vec<usize>,
    pub endian: Endian,
    pub len: Option<Length>,
    pub max: Option<Expr>,
    pub constant: Option<Expr>,
    pub magic: Option<(Vec<u8>, Lit)>,
    pub rest: bool,
    /// This integer field is the length of that later field.
    pub length_of: Option<usize>,
    /// The field's type, for errors spanning all of it.
    pub ty: Type,
    /// An attribute of this field failed to parse: skip checks that would
    /// only repeat that error ("needs a length" after a misspelt `len`).
    pub attrs_failed: bool,
}

impl Field {
    /// Seen by value in conditions (`flags & 1 != 0`); others by reference.
    pub fn by_value(&self) -> bool {
        !self.option && self.val.is_copy()
    }
}

/// Like `Frame` impls' checked by the compiler: what the expansion needs
/// to emit a placeholder impl even when the item has errors.
pub fn frame_impl(input: &DeriveInput, errs: &mut Errors) -> Option<FrameImpl> {
    let lifetimes: Vec<_> = input.generics.lifetimes().collect();
    if lifetimes.len() > 1 {
        errs.push(syn::Error::new_spanned(
            &lifetimes[1].lifetime,
            "a frame borrows from one receive buffer, so it can have at most one lifetime parameter",
        ));
        return None;
    }
    let mut impl_generics = input.generics.clone();
    let lt = match lifetimes.first() {
        Some(l) => l.lifetime.clone(),
        None => {
            let lt = Lifetime::new("'buf", Span::call_site());
            impl_generics.params.insert(
                0,
                GenericParam::Lifetime(syn::LifetimeParam::new(lt.clone())),
            );
            lt
        }
    };
    Some(FrameImpl {
        lt,
        impl_generics,
        generics: input.generics.clone(),
        bounds: Vec::new(),
    })
}

pub fn analyze(input: &DeriveInput, frame: FrameImpl, errs: &mut Errors) -> Option<Container> {
    let attrs = Attrs::parse(&input.attrs, errs);
    let name = input.ident.clone();
    let krate = attrs
        .krate
        .as_ref()
        .map(|k| k.value.clone())
        .unwrap_or_else(|| syn::parse_quote!(::corering));
    let endian = attrs.endian.as_ref().map_or(Endian::Big, |e| e.value);
    let magic = attrs.magic.as_ref().map(|m| m.value.clone());
    let has_lifetime = frame.generics.lifetimes().next().is_some();
    let mut cx = Cx {
        errs,
        lt: frame.lt.clone(),
        has_lifetime,
        endian,
        generic_types: frame.generics.type_params().count() > 0,
        bounds: Vec::new(),
    };
    let body = match &input.data {
        Data::Struct(s) => {
            if let Some(line) = &attrs.line {
                attrs.allow_only(&["line", "magic", "max", "crate"], cx.errs, |k| match k {
                    "endian" => "`endian` has no effect on a line frame: numbers are decimal text"
                        .to_string(),
                    k => container_misplaced(k, "a line frame"),
                });
                let fields = cx.fields(&s.fields, &name.unraw().to_string(), Mode::Line);
                Body::Line {
                    fields,
                    end: line.value,
                    max: attrs.max.as_ref().map(|m| m.value.clone()),
                }
            } else {
                attrs.allow_only(&["endian", "magic", "crate"], cx.errs, |k| match k {
                    "max" => "`max` on a struct limits a text line: use it with `#[frame(line)]`, \
                              or put it on a field with `len` or `prefix`"
                        .to_string(),
                    k => container_misplaced(k, "a struct"),
                });
                let fields = cx.fields(&s.fields, &name.unraw().to_string(), Mode::Binary);
                Body::Struct { fields }
            }
        }
        Data::Enum(e) => {
            attrs.allow_only(&["endian", "magic", "tag", "crate"], cx.errs, |k| match k {
                "line" => {
                    "line frames are structs; an enum frame is selected by a binary tag".to_string()
                }
                k => container_misplaced(k, "an enum"),
            });
            let Some(tag) = attrs.tag.as_ref().map(|t| t.value.clone()) else {
                cx.errs.push(syn::Error::new_spanned(
                    &input.ident,
                    "an enum frame needs a tag type: add `#[frame(tag = u8)]` (or u16, u32, u64) \
                     and `#[frame(id = N)]` on each variant",
                ));
                return None;
            };
            let variants = cx.variants(e, &name, &tag);
            Body::Enum { tag, variants }
        }
        Data::Union(u) => {
            cx.errs.push(syn::Error::new_spanned(
                u.union_token,
                "`Frame` cannot be derived for a union: use a struct, or an enum with a tag",
            ));
            return None;
        }
    };
    let bounds = std::mem::take(&mut cx.bounds);
    Some(Container {
        name,
        krate,
        frame: FrameImpl { bounds, ..frame },
        endian,
        magic,
        body,
    })
}

fn container_misplaced(key: &str, on: &str) -> String {
    match key {
        "tag" => format!("`tag` selects an enum's variant and cannot be used on {on}"),
        "id" | "other" => format!("`{key}` goes on an enum variant, not on {on}"),
        "line" => format!("`line` makes a struct a text frame and cannot be used on {on}"),
        "magic" | "endian" | "crate" => format!("`{key}` cannot be used on {on}"),
        k => format!("`{k}` is a field setting and cannot be used on {on}"),
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Binary,
    Line,
}

struct Cx<'e> {
    errs: &'e mut Errors,
    lt: Lifetime,
    has_lifetime: bool,
    endian: Endian,
    generic_types: bool,
    bounds: Vec<Type>,
}

impl Cx<'_> {
    fn err(&mut self, span: Span, msg: impl std::fmt::Display) {
        self.errs.push(syn::Error::new(span, msg));
    }

    /// An error underlining all of `tokens` (a type, an expression).
    fn err_at(&mut self, tokens: &impl ToTokens, msg: impl std::fmt::Display) {
        self.errs.push(syn::Error::new_spanned(tokens, msg));
    }

    fn variants(&mut self, e: &syn::DataEnum, name: &Ident, tag: &IntTy) -> Vec<Variant> {
        let mut out = Vec::new();
        let mut seen: Vec<(u128, Ident)> = Vec::new();
        let mut other: Option<Ident> = None;
        for v in &e.variants {
            let attrs = Attrs::parse(&v.attrs, self.errs);
            attrs.allow_only(&["id", "other"], self.errs, |k| match k {
                "tag" => "`tag` goes on the enum itself, not on a variant".to_string(),
                "endian" | "magic" | "crate" => {
                    format!("`{k}` goes on the enum itself, not on a variant")
                }
                k => format!("`{k}` is a field setting; put it on a field of this variant"),
            });
            if let Some((_, d)) = &v.discriminant {
                self.errs.push(syn::Error::new_spanned(
                    d,
                    "the wire id of a variant is set with `#[frame(id = N)]`, not a discriminant",
                ));
            }
            let path = format!("{}.{}", name.unraw(), v.ident.unraw());
            let kind = match (&attrs.id, &attrs.other) {
                (Some(id), Some(o)) => {
                    self.err(
                        o.key,
                        "a variant is either `id = N` or the catch-all `other`, not both",
                    );
                    VariantKind::Id(id.value.0)
                }
                (
                    Some(At {
                        value: (id, lit), ..
                    }),
                    None,
                ) => {
                    if *id > tag.max_value() {
                        self.err(
                            lit.span(),
                            format!("id {id} does not fit the tag type `{}`", tag.ident),
                        );
                    } else if let Some((_, prev)) = seen.iter().find(|(s, _)| s == id) {
                        self.err(
                            lit.span(),
                            format!("duplicate id {id}: variant `{prev}` already uses it"),
                        );
                    } else {
                        seen.push((*id, v.ident.clone()));
                    }
                    VariantKind::Id(*id)
                }
                (None, Some(o)) => {
                    if let Some(prev) = &other {
                        self.err(
                            o.key,
                            format!(
                                "only one catch-all variant is allowed; `{prev}` is one already"
                            ),
                        );
                    }
                    other = Some(v.ident.clone());
                    let ok = match &v.fields {
                        syn::Fields::Unit => false,
                        f => {
                            f.len() == 1
                                && f.iter().all(|f| {
                                    IntTy::from_type(&f.ty).is_some_and(|t| t.ident == tag.ident)
                                        && f.attrs.iter().all(|a| !a.path().is_ident("frame"))
                                })
                        }
                    };
                    if !ok {
                        self.err(
                            v.ident.span(),
                            format!(
                                "the catch-all variant keeps the unknown tag: it must have exactly \
                                 one field of the tag type, like `{}({})`",
                                v.ident, tag.ident
                            ),
                        );
                    }
                    let member = match v.fields.iter().next().and_then(|f| f.ident.clone()) {
                        Some(id) => Member::Named(id),
                        None => Member::Unnamed(syn::Index::from(0)),
                    };
                    out.push(Variant {
                        ident: v.ident.clone(),
                        fields: Vec::new(),
                        kind: VariantKind::Other(member),
                    });
                    continue;
                }
                (None, None) => {
                    self.err(
                        v.ident.span(),
                        format!(
                            "variant `{}` needs a wire id: add `#[frame(id = N)]`, or \
                             `#[frame(other)]` for the catch-all",
                            v.ident
                        ),
                    );
                    VariantKind::Id(0)
                }
            };
            let fields = self.fields(&v.fields, &path, Mode::Binary);
            out.push(Variant {
                ident: v.ident.clone(),
                fields,
                kind,
            });
        }
        out
    }

    fn fields(&mut self, fields: &syn::Fields, owner: &str, mode: Mode) -> Vec<Field> {
        let mut out: Vec<Field> = Vec::new();
        let mut raw: Vec<Attrs> = Vec::new();
        for (i, f) in fields.iter().enumerate() {
            let attrs = Attrs::parse(&f.attrs, self.errs);
            let (member, local, name) = match &f.ident {
                Some(id) => (
                    Member::Named(id.clone()),
                    id.clone(),
                    id.unraw().to_string(),
                ),
                None => (
                    Member::Unnamed(syn::Index::from(i)),
                    format_ident!("_{}", i),
                    i.to_string(),
                ),
            };
            let path = format!("{owner}.{name}");
            let field = self.field(f, &attrs, mode, local, member, path);
            out.push(field);
            raw.push(attrs);
        }
        // Cross-field checks: lengths and conditions refer to earlier fields.
        for i in 0..out.len() {
            if let Some(len) = &raw[i].len {
                self.resolve_len(&mut out, i, &len.value, fields);
            }
            if let Some(cond) = out[i].cond.clone() {
                out[i].cond_uses = self.check_cond(&out, i, &cond);
            }
        }
        if mode == Mode::Line {
            let last = out
                .iter()
                .rposition(|f| !matches!(f.val, Val::Skip | Val::Phantom));
            for (i, f) in out.iter().enumerate() {
                if f.rest && Some(i) != last {
                    let span = raw[i].rest.as_ref().map_or(Span::call_site(), |r| r.key);
                    self.err(
                        span,
                        "`rest` takes the rest of the line, so it must be on the last field",
                    );
                }
            }
        }
        out
    }

    fn field(
        &mut self,
        f: &syn::Field,
        attrs: &Attrs,
        mode: Mode,
        local: Ident,
        member: Member,
        path: String,
    ) -> Field {
        let allowed: &[&str] = match mode {
            Mode::Binary => &[
                "endian", "magic", "max", "len", "prefix", "constant", "if", "skip",
            ],
            Mode::Line => &["rest", "skip"],
        };
        attrs.allow_only(allowed, self.errs, |k| match (k, mode) {
            ("tag" | "line" | "crate", _) => {
                format!("`{k}` goes on the struct or enum itself, not on a field")
            }
            ("id" | "other", _) => format!("`{k}` goes on an enum variant, not on a field"),
            ("rest", Mode::Binary) => {
                "`rest` is for line frames (`#[frame(line)]`); a binary field needs `len` or `prefix`"
                    .to_string()
            }
            (k, _) => format!(
                "`{k}` is not used in line frames: fields are space-separated text \
                 (allowed here: `rest`, `skip`)"
            ),
        });
        let mut field = Field {
            local,
            member,
            path,
            val: Val::Skip,
            option: false,
            cond: attrs.cond.as_ref().map(|c| c.value.clone()),
            cond_uses: Vec::new(),
            endian: attrs.endian.as_ref().map_or(self.endian, |e| e.value),
            len: None,
            max: attrs.max.as_ref().map(|m| m.value.clone()),
            constant: attrs.constant.as_ref().map(|c| c.value.clone()),
            magic: attrs.magic.as_ref().map(|m| m.value.clone()),
            rest: attrs.rest.is_some(),
            length_of: None,
            ty: f.ty.clone(),
            attrs_failed: attrs.failed,
        };
        if let Some(skip) = &attrs.skip {
            for (k, s) in attrs.present() {
                if k != "skip" {
                    self.err(s, format!("`{k}` has no effect on a skipped field"));
                }
            }
            let _ = skip;
            return field;
        }
        let (val, option) = match self.classify(&f.ty, mode) {
            Some(v) => v,
            None => return field,
        };
        field.val = val;
        field.option = option;
        match mode {
            Mode::Binary => self.check_binary(&mut field, attrs),
            Mode::Line => self.check_line(&field, attrs),
        }
        field
    }

    fn check_binary(&mut self, field: &mut Field, attrs: &Attrs) {
        let val = field.val.clone();
        // `if` and Option<T> go together.
        match (&attrs.cond, field.option) {
            (Some(_), true) | (None, false) => {}
            (Some(c), false) => self.err(
                c.key,
                "a field with a condition may be absent, so its type must be `Option<_>`",
            ),
            (None, true) if !field.attrs_failed => self.err_at(
                &field.ty,
                "an `Option` field needs a condition on earlier fields saying when it is present, \
                 like `#[frame(if = flags & 1 != 0)]`",
            ),
            (None, true) => {}
        }
        // Lengths.
        let sized = matches!(val, Val::Bytes { .. } | Val::Str { .. } | Val::Vec(_));
        match (&attrs.len, &attrs.prefix) {
            (Some(_), Some(p)) => self.err(
                p.key,
                "use either `len = <field>` or `prefix = <type>`, not both",
            ),
            (None, Some(p)) if sized => field.len = Some(Length::Prefix(p.value.clone())),
            (Some(_), None) if sized => {} // resolved after all fields are known
            (Some(At { key, .. }), None) | (None, Some(At { key, .. })) => self.err(
                *key,
                "`len` and `prefix` apply to `&[u8]`, `&str`, `Vec<_>` and `String` fields",
            ),
            (None, None) if sized && !field.attrs_failed => {
                let what = match val {
                    Val::Vec(_) => "a count",
                    _ => "a length",
                };
                self.err_at(
                    &field.ty,
                    format!(
                        "this field needs {what}: add `#[frame(prefix = u16)]` for a prefix \
                         before it, or `#[frame(len = <earlier field>)]`"
                    ),
                );
            }
            (None, None) => {}
        }
        if let Some(m) = &attrs.max {
            if !sized || (attrs.len.is_none() && attrs.prefix.is_none()) {
                self.err(
                    m.key,
                    "`max` limits a `len` or `prefix` length; this field has none",
                );
            }
        }
        if let Some(e) = &attrs.endian {
            let numeric = matches!(&val, Val::Int(t) if t.bytes > 1)
                || matches!(&val, Val::Vec(v) if matches!(**v, Val::Int(_)))
                || attrs.prefix.is_some();
            if !numeric {
                self.err(
                    e.key,
                    "`endian` has no effect on this field: it has no multi-byte number",
                );
            }
        }
        if let Some(c) = &attrs.constant {
            if !matches!(val, Val::Int(_) | Val::Bool) || field.option {
                self.err(
                    c.key,
                    "`constant` applies to number and bool fields; for byte arrays use `magic`",
                );
            }
        }
        if let Some(m) = &attrs.magic {
            if !matches!(val, Val::Array(_) | Val::Unit) || field.option {
                self.err(
                    m.key,
                    "`magic` applies to `[u8; N]` and `()` fields; for numbers use `constant = ...`",
                );
            }
        }
        if matches!(val, Val::Unit) && attrs.magic.is_none() && !field.attrs_failed {
            self.err_at(
                &field.ty,
                "a `()` field has no bytes of its own: give it `#[frame(magic = b\"..\")]`",
            );
        }
        self.note_bounds(&val);
    }

    fn check_line(&mut self, field: &Field, attrs: &Attrs) {
        let ok = match &field.val {
            Val::Int(t) => !t.float,
            Val::Bytes { .. } | Val::Str { .. } | Val::Phantom => true,
            _ => false,
        } && !field.option;
        if !ok {
            self.err_at(
                &field.ty,
                "line frames support `&str`, `&[u8]`, `String`, `Vec<u8>` and integer fields",
            );
        } else if let (Some(r), Val::Int(_)) = (&attrs.rest, &field.val) {
            self.err(
                r.key,
                "`rest` takes text: use `&str`, `&[u8]`, `String` or `Vec<u8>`",
            );
        }
    }

    fn note_bounds(&mut self, val: &Val) {
        if !self.generic_types {
            return;
        }
        match val {
            Val::Nested(t) => self.bounds.push(t.clone()),
            Val::Vec(v) => self.note_bounds(v),
            _ => {}
        }
    }

    /// What `ty` is on the wire, and whether it is an `Option`.
    fn classify(&mut self, ty: &Type, mode: Mode) -> Option<(Val, bool)> {
        if let Some(inner) = generic_arg(ty, "Option") {
            if generic_arg(inner, "Option").is_some() {
                self.err(inner.span(), "nested `Option`s are not supported");
                return None;
            }
            let v = self.value(inner, mode, false)?;
            return Some((v, true));
        }
        Some((self.value(ty, mode, false)?, false))
    }

    fn value(&mut self, ty: &Type, mode: Mode, elem: bool) -> Option<Val> {
        match ty {
            Type::Group(g) => self.value(&g.elem, mode, elem),
            Type::Paren(p) => self.value(&p.elem, mode, elem),
            Type::Reference(r) => {
                let what = match &*r.elem {
                    Type::Slice(s) if is_ident(&s.elem, "u8") => "[u8]",
                    Type::Path(p) if p.path.is_ident("str") => "str",
                    _ => {
                        self.err(
                            r.elem.span(),
                            "only `&'a [u8]` and `&'a str` can be borrowed from the buffer; \
                             for repeated values use `Vec<T>`",
                        );
                        return None;
                    }
                };
                if let Some(m) = r.mutability {
                    self.err(
                        m.span,
                        "borrowed fields are shared views of the buffer: remove `mut`",
                    );
                    return None;
                }
                let lt = &self.lt;
                let fix = if self.has_lifetime {
                    format!("write `&{lt} {what}`")
                } else {
                    format!("add a lifetime parameter `<'a>` to the type and write `&'a {what}`")
                };
                match &r.lifetime {
                    None => {
                        let msg = format!(
                            "a borrowed field needs the lifetime of the buffer it borrows \
                             from: {fix}"
                        );
                        self.err_at(r, msg);
                        return None;
                    }
                    Some(l) if *l != self.lt => {
                        let msg = format!(
                            "a borrowed field borrows from the receive buffer, so it cannot \
                             be `{l}`: {fix}"
                        );
                        self.err(l.span(), msg);
                        return None;
                    }
                    Some(_) => {}
                }
                Some(if what == "str" {
                    Val::Str { owned: false }
                } else {
                    Val::Bytes { owned: false }
                })
            }
            Type::Array(a) => {
                if !is_ident(&a.elem, "u8") {
                    self.err(
                        a.elem.span(),
                        "only byte arrays `[u8; N]` are supported; for repeated values use \
                         `Vec<T>` with `len` or `prefix`",
                    );
                    return None;
                }
                Some(Val::Array(a.len.clone()))
            }
            Type::Tuple(t) if t.elems.is_empty() => Some(Val::Unit),
            Type::Path(p) if p.qself.is_none() => {
                let seg = p.path.segments.last()?;
                let name = seg.ident.to_string();
                if let Some(t) = IntTy::from_type(ty) {
                    return Some(Val::Int(t));
                }
                match name.as_str() {
                    "usize" | "isize" => {
                        self.err(
                            seg.ident.span(),
                            format!(
                                "`{name}` has no fixed size on the wire: use `{}32` or `{}64`",
                                &name[..1],
                                &name[..1]
                            ),
                        );
                        None
                    }
                    "bool" => Some(Val::Bool),
                    "String" if seg.arguments.is_empty() => Some(Val::Str { owned: true }),
                    "PhantomData" => Some(Val::Phantom),
                    "Option" => {
                        self.err(
                            seg.ident.span(),
                            "`Option` is only supported as the field's type",
                        );
                        None
                    }
                    "Vec" => {
                        let Some(inner) = generic_arg(ty, "Vec") else {
                            self.err(seg.ident.span(), "expected `Vec<T>`");
                            return None;
                        };
                        if is_ident(inner, "u8") {
                            return Some(Val::Bytes { owned: true });
                        }
                        if mode == Mode::Line {
                            self.err(
                                ty.span(),
                                "line frames support `&str`, `&[u8]`, `String`, `Vec<u8>` and \
                                 integer fields",
                            );
                            return None;
                        }
                        if elem {
                            self.err(inner.span(), "a `Vec` cannot hold another `Vec`");
                            return None;
                        }
                        let v = self.value(inner, mode, true)?;
                        match v {
                            Val::Int(_) | Val::Bool | Val::Array(_) | Val::Nested(_) => {
                                Some(Val::Vec(Box::new(v)))
                            }
                            _ => {
                                self.err(
                                    inner.span(),
                                    "a `Vec` holds numbers, bools, `[u8; N]` or nested frames",
                                );
                                None
                            }
                        }
                    }
                    _ => Some(Val::Nested(ty.clone())),
                }
            }
            _ => {
                self.err(ty.span(), "this type cannot be a frame field");
                None
            }
        }
    }

    fn resolve_len(&mut self, out: &mut [Field], i: usize, r: &LenRef, fields: &syn::Fields) {
        let target = match r {
            LenRef::Name(id) => out.iter().position(|f| f.local == *id),
            LenRef::Index(n, _) => (*n < out.len()).then_some(*n),
        };
        let shown = match r {
            LenRef::Name(id) => id.to_string(),
            LenRef::Index(n, _) => n.to_string(),
        };
        let span = r.span();
        let data = out[i].local.to_string();
        let Some(t) = target else {
            let candidates: Vec<String> = out[..i]
                .iter()
                .filter(|f| is_length_field(f))
                .map(|f| format!("`{}`", f.local))
                .collect();
            let hint = if candidates.is_empty() {
                "add an integer field before it that holds the length, or use `prefix = u16`"
                    .to_string()
            } else {
                format!("earlier integer fields: {}", candidates.join(", "))
            };
            let kind = if matches!(fields, syn::Fields::Unnamed(_)) {
                "field index"
            } else {
                "field"
            };
            self.err(span, format!("no {kind} `{shown}` in this frame; {hint}"));
            return;
        };
        if t == i {
            self.err(span, "a field cannot hold its own length");
            return;
        }
        if t > i {
            self.err(
                span,
                format!(
                    "`{shown}` comes after `{data}`: a length must be decoded before the data \
                     it measures; move `{shown}` before `{data}`"
                ),
            );
            return;
        }
        if !is_length_field(&out[t]) {
            self.err(
                span,
                format!(
                    "`{shown}` cannot hold a length: it must be a plain `u8`, `u16`, `u32` or \
                     `u64` field (no `Option`, `constant` or `skip`)"
                ),
            );
            return;
        }
        if let Some(other) = out[t].length_of {
            self.err(
                span,
                format!(
                    "`{shown}` is already the length of `{}`; each length field measures one field",
                    out[other].local
                ),
            );
            return;
        }
        out[t].length_of = Some(i);
        out[i].len = Some(Length::Field(t));
    }

    /// Checks that a condition reads only earlier fields; returns them.
    fn check_cond(&mut self, out: &[Field], i: usize, cond: &Expr) -> Vec<usize> {
        let mut uses = Vec::new();
        let mut idents = Vec::new();
        collect_idents(cond.to_token_stream(), &mut idents);
        for id in idents {
            let Some(t) = out.iter().position(|f| f.local == id) else {
                continue;
            };
            if t >= i {
                let what = if t == i {
                    "this field itself".to_string()
                } else {
                    format!("`{id}`, which comes after it")
                };
                self.err(
                    id.span(),
                    format!(
                        "the condition of `{}` reads {what}; a condition can only use earlier fields",
                        out[i].local
                    ),
                );
            } else if !uses.contains(&t) {
                uses.push(t);
            }
        }
        uses
    }
}

fn is_length_field(f: &Field) -> bool {
    matches!(&f.val, Val::Int(t) if t.is_length()) && !f.option && f.constant.is_none()
}

/// Identifiers that may name a local variable: not after `.` (methods,
/// fields) and not part of a `::` path.
fn collect_idents(ts: TokenStream, out: &mut Vec<Ident>) {
    let toks: Vec<TokenTree> = ts.into_iter().collect();
    for (k, t) in toks.iter().enumerate() {
        match t {
            TokenTree::Group(g) => collect_idents(g.stream(), out),
            TokenTree::Ident(id) => {
                let after_dot = k > 0
                    && matches!(&toks[k - 1], TokenTree::Punct(p) if p.as_char() == '.' || p.as_char() == ':');
                let before_path = matches!(toks.get(k + 1), Some(TokenTree::Punct(p)) if p.as_char() == ':' || p.as_char() == '!');
                if !after_dot && !before_path {
                    out.push(id.clone());
                }
            }
            _ => {}
        }
    }
}

fn is_ident(ty: &Type, name: &str) -> bool {
    match ty {
        Type::Path(p) => p.qself.is_none() && p.path.is_ident(name),
        Type::Group(g) => is_ident(&g.elem, name),
        Type::Paren(p) => is_ident(&p.elem, name),
        _ => false,
    }
}

/// `T` in `Wrapper<T>` when the last path segment is `wrapper`.
fn generic_arg<'t>(ty: &'t Type, wrapper: &str) -> Option<&'t Type> {
    let Type::Path(p) = ty else { return None };
    let seg = p.path.segments.last()?;
    if seg.ident != wrapper {
        return None;
    }
    let PathArguments::AngleBracketed(args) = &seg.arguments else {
        return None;
    };
    if args.args.len() != 1 {
        return None;
    }
    match args.args.first()? {
        GenericArgument::Type(t) => Some(t),
        _ => None,
    }
}
