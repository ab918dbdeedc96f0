//! `#[get("/path")]` and friends, and `routes![...]`.
//!
//! A route attribute keeps the function as written and adds, beside it, a
//! hidden braced struct of the same name (types and values live in
//! different namespaces, so `routes![user]` can name it) carrying:
//!
//! * `__CORERING_ROUTE`: the method and parsed pattern, as a const, so
//!   `routes!` can check collisions at compile time;
//! * `__corering_call`: extracts each argument (one generic function per
//!   argument, named after it, so a type that is not an extractor is
//!   reported on that argument) and converts the result into a response.
//!
//! `routes!` emits one `const _` per pair of routes that panics (a compile
//! error) when `collide` says the two cannot be told apart, and a dispatch
//! `async fn` matching over the routes' indices.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::parse::{Parse, ParseStream, Parser};
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{FnArg, Ident, ItemFn, LitStr, Pat, Token, Type};

use crate::errors::Errors;
use crate::path::{self, Seg};

const METHODS: [(&str, &str); 9] = [
    ("GET", "Get"),
    ("HEAD", "Head"),
    ("POST", "Post"),
    ("PUT", "Put"),
    ("DELETE", "Delete"),
    ("CONNECT", "Connect"),
    ("OPTIONS", "Options"),
    ("TRACE", "Trace"),
    ("PATCH", "Patch"),
];

/// The attributes this module implements (a second one on a function is
/// an error).
const ROUTE_ATTRS: [&str; 8] = [
    "get", "post", "put", "delete", "patch", "head", "options", "route",
];

/// Expands a route attribute. `method` is `Some("GET")` for `#[get]`,
/// `None` for `#[route(method = ..., path = ...)]`.
pub fn expand(method: Option<&'static str>, attr: TokenStream, item: TokenStream) -> TokenStream {
    let mut errs = Errors::default();
    let mut func: ItemFn = match syn::parse2(item.clone()) {
        Ok(f) => f,
        Err(_) => {
            errs.push(syn::Error::new(
                Span::call_site(),
                "route attributes go on an `async fn` (a free function, not a method)",
            ));
            let mut ts = errs.into_compile_errors();
            ts.extend(item);
            return ts;
        }
    };
    // A second route attribute would add a second struct of the same name:
    // report it and drop it.
    let before = func.attrs.len();
    func.attrs.retain(|a| {
        let is_route = a
            .path()
            .segments
            .last()
            .is_some_and(|s| ROUTE_ATTRS.contains(&s.ident.to_string().as_str()));
        if is_route {
            errs.push(syn::Error::new_spanned(
                a,
                "a function takes one route attribute; write a second function for another \
                 method or path",
            ));
        }
        !is_route
    });
    let extra_attrs = func.attrs.len() != before;
    let args = match method {
        Some(m) => method_args(m, attr, &mut errs),
        None => route_args(attr, &mut errs),
    };
    let route = args.and_then(|(method, lit)| analyze(&func, method, lit, &mut errs));
    let clean = errs.is_empty();
    let mut ts = errs.into_compile_errors();
    ts.extend(quote!(#func));
    ts.extend(match route {
        Some(r) if clean && r.ok && !extra_attrs => generate(&func, &r),
        _ => stub(&func),
    });
    ts
}

/// `#[get("/path")]`.
fn method_args(
    method: &'static str,
    attr: TokenStream,
    errs: &mut Errors,
) -> Option<(&'static str, LitStr)> {
    let lower = method.to_ascii_lowercase();
    let parser = |input: ParseStream| {
        if input.is_empty() {
            return Err(syn::Error::new(
                Span::call_site(),
                format!("expected the route's path: `#[{lower}(\"/path\")]`"),
            ));
        }
        let lit: LitStr = input.parse().map_err(|e| {
            syn::Error::new(
                e.span(),
                format!("expected the route's path as a string: `#[{lower}(\"/path\")]`"),
            )
        })?;
        if !input.is_empty() {
            return Err(input.error(format!(
                "unexpected tokens after the path: `#[{lower}(\"/path\")]` takes only the path"
            )));
        }
        Ok(lit)
    };
    match parser.parse2(attr) {
        Ok(lit) => Some((method, lit)),
        Err(e) => {
            errs.push(e);
            None
        }
    }
}

/// `#[route(method = "GET", path = "/path")]`.
fn route_args(attr: TokenStream, errs: &mut Errors) -> Option<(&'static str, LitStr)> {
    struct Kv {
        key: Ident,
        value: syn::Expr,
    }
    impl Parse for Kv {
        fn parse(input: ParseStream) -> syn::Result<Self> {
            let key = input.parse()?;
            input.parse::<Token![=]>()?;
            Ok(Kv {
                key,
                value: input.parse()?,
            })
        }
    }
    let kvs = match Punctuated::<Kv, Token![,]>::parse_terminated.parse2(attr) {
        Ok(k) => k,
        Err(e) => {
            errs.push(syn::Error::new(
                e.span(),
                "expected `#[route(method = \"GET\", path = \"/path\")]`",
            ));
            return None;
        }
    };
    let (mut method, mut path) = (None, None);
    // Keys given (even with a bad value): no "missing" error for them.
    let (mut has_method, mut has_path) = (false, false);
    for kv in kvs {
        let lit = match &kv.value {
            syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(s),
                ..
            }) => Some(s.clone()),
            _ => None,
        };
        has_method |= kv.key == "method";
        has_path |= kv.key == "path";
        match (kv.key.to_string().as_str(), lit) {
            ("method", Some(s)) if method.is_none() => {
                let want = s.value().to_ascii_uppercase();
                match METHODS.iter().find(|(m, _)| *m == want) {
                    Some((m, _)) => method = Some(*m),
                    None => errs.push(syn::Error::new(
                        s.span(),
                        format!(
                            "unknown method {:?}; expected one of GET, HEAD, POST, PUT, DELETE, \
                             CONNECT, OPTIONS, TRACE, PATCH",
                            s.value()
                        ),
                    )),
                }
            }
            ("path", Some(s)) if path.is_none() => path = Some(s),
            ("method" | "path", Some(_)) => errs.push(syn::Error::new(
                kv.key.span(),
                format!("duplicate `{}`", kv.key),
            )),
            ("method" | "path", None) => errs.push(syn::Error::new(
                kv.value.span(),
                format!("`{}` takes a string literal", kv.key),
            )),
            _ => errs.push(syn::Error::new(
                kv.key.span(),
                format!("unknown key `{}`; expected `method` or `path`", kv.key),
            )),
        }
    }
    match (method, path) {
        (Some(m), Some(p)) => Some((m, p)),
        (m, p) => {
            if m.is_none() && !has_method {
                errs.push(syn::Error::new(
                    Span::call_site(),
                    "missing `method = \"...\"` in `#[route(...)]`",
                ));
            }
            if p.is_none() && !has_path {
                errs.push(syn::Error::new(
                    Span::call_site(),
                    "missing `path = \"...\"` in `#[route(...)]`",
                ));
            }
            None
        }
    }
}

struct Arg {
    ty: Type,
    /// The index and name of the parameter the argument is named after.
    bind: Option<(usize, String)>,
    /// Name for the per-argument check function.
    check: Ident,
}

struct Route {
    method: &'static str,
    lit: LitStr,
    segs: Vec<Seg>,
    args: Vec<Arg>,
    /// False if a problem was found (the stub is emitted instead).
    ok: bool,
}

fn is_path_type(ty: &Type) -> bool {
    match ty {
        Type::Path(p) => p.path.segments.last().is_some_and(|s| s.ident == "Path"),
        Type::Group(g) => is_path_type(&g.elem),
        Type::Paren(p) => is_path_type(&p.elem),
        _ => false,
    }
}

/// The name an argument binds: `id: T`, `mut id: T`, or `Path(id): T`.
fn binding(pat: &Pat) -> Option<&Ident> {
    match pat {
        Pat::Ident(p) if p.subpat.is_none() => Some(&p.ident),
        Pat::TupleStruct(ts) if ts.elems.len() == 1 => match &ts.elems[0] {
            Pat::Ident(p) if p.subpat.is_none() => Some(&p.ident),
            _ => None,
        },
        Pat::Paren(p) => binding(&p.pat),
        _ => None,
    }
}

fn analyze(func: &ItemFn, method: &'static str, lit: LitStr, errs: &mut Errors) -> Option<Route> {
    let mut ok = true;
    let mut err = |e: syn::Error| {
        ok = false;
        errs.push(e);
    };
    let sig = &func.sig;
    if sig.asyncness.is_none() {
        err(syn::Error::new(
            sig.fn_token.span,
            "a route handler must be an `async fn`",
        ));
    }
    if !sig.generics.params.is_empty() || sig.generics.where_clause.is_some() {
        err(syn::Error::new(
            sig.generics.span(),
            "a route handler cannot be generic: each argument must be a concrete extractor type",
        ));
    }
    let segs = match path::parse(&lit.value()) {
        Ok(s) => Some(s),
        Err(msgs) => {
            for m in msgs {
                err(syn::Error::new(lit.span(), m));
            }
            None
        }
    };
    // A malformed path's parameters are unknown: do not cross-check them.
    let checked = segs.is_some();
    let segs = segs.unwrap_or_default();
    let params: Vec<&str> = segs.iter().filter_map(Seg::param_name).collect();
    let mut taken = vec![false; params.len()];
    // Arguments named after a parameter but not `Path`-typed, by parameter.
    let mut misnamed: Vec<Option<&Type>> = vec![None; params.len()];
    let mut args = Vec::new();
    for (i, input) in sig.inputs.iter().enumerate() {
        let pt = match input {
            FnArg::Receiver(r) => {
                err(syn::Error::new(
                    r.span(),
                    "a route handler cannot take `self`: it must be a free function",
                ));
                continue;
            }
            FnArg::Typed(pt) => pt,
        };
        let name = binding(&pt.pat);
        // `_id` takes `{id}` too (an unused parameter).
        let index = name.and_then(|n| {
            let n = n.to_string();
            let n = n.trim_start_matches("r#");
            params
                .iter()
                .position(|p| n == *p)
                .or_else(|| params.iter().position(|p| n.strip_prefix('_') == Some(*p)))
        });
        let is_path = is_path_type(&pt.ty);
        match (is_path && checked, name, index) {
            (true, None, _) => err(syn::Error::new(
                pt.pat.span(),
                "a `Path` argument must be a plain name (or `Path(name)`) naming the path \
                 parameter it takes",
            )),
            (true, Some(n), None) => {
                let known = if params.is_empty() {
                    format!("route {:?} has no parameters", lit.value())
                } else {
                    format!(
                        "its parameters are {}",
                        params
                            .iter()
                            .map(|p| format!("`{p}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                };
                err(syn::Error::new(
                    n.span(),
                    format!(
                        "no path parameter named `{n}` in route {:?} ({known}); a `Path` \
                         argument takes the parameter of its name",
                        lit.value()
                    ),
                ));
            }
            (true, Some(_), Some(ix)) => taken[ix] = true,
            (false, _, Some(ix)) => misnamed[ix] = Some(&pt.ty),
            (false, _, None) => {}
        }
        let check = match name {
            Some(n) => format_ident!("argument_{}", n.to_string().trim_start_matches("r#")),
            None => format_ident!("argument_{}", i),
        };
        args.push(Arg {
            ty: (*pt.ty).clone(),
            bind: index.map(|ix| (ix, params[ix].to_owned())),
            check,
        });
    }
    for (ix, p) in params.iter().enumerate() {
        if taken[ix] || !checked {
            continue;
        }
        match misnamed[ix] {
            Some(ty) => err(syn::Error::new(
                ty.span(),
                format!(
                    "argument `{p}` is named after path parameter `{p}` but is not a \
                     `Path<_>`; write `{p}: Path<{}>`",
                    quote!(#ty).to_string().replace(' ', "")
                ),
            )),
            None => err(syn::Error::new(
                lit.span(),
                format!(
                    "path parameter `{p}` in {:?} is not taken by any argument; add an \
                     argument `{p}: Path<T>`",
                    lit.value()
                ),
            )),
        }
    }
    Some(Route {
        method,
        lit,
        segs,
        args,
        ok,
    })
}

fn route_info(func: &ItemFn, method: &str, lit: &LitStr, segs: &[Seg], valid: bool) -> TokenStream {
    let p = quote!(::corering::http::route::__private);
    let variant = METHODS
        .iter()
        .find(|(m, _)| *m == method)
        .map_or("Get", |(_, v)| v);
    let variant = Ident::new(variant, Span::call_site());
    let name = func.sig.ident.to_string();
    let segs = segs.iter().map(|s| match s {
        Seg::Lit(l) => quote!(#p::Segment::Lit(#l)),
        Seg::Param(n) => quote!(#p::Segment::Param(#n)),
        Seg::Tail(n) => quote!(#p::Segment::Tail(#n)),
    });
    quote! {
        #p::RouteInfo::new(#p::Method::#variant, #lit, #name, &[#(#segs),*], #valid)
    }
}

fn generate(func: &ItemFn, r: &Route) -> TokenStream {
    let name = &func.sig.ident;
    let vis = &func.vis;
    let p = quote!(::corering::http::route::__private);
    let info = route_info(func, r.method, &r.lit, &r.segs, true);
    let mut extract = Vec::new();
    let mut needs = Vec::new();
    let mut vars = Vec::new();
    let last = r.args.len().saturating_sub(1);
    for (i, a) in r.args.iter().enumerate() {
        let var = format_ident!("__corering_arg{}", i);
        let ty = &a.ty;
        let check = &a.check;
        let bind = match &a.bind {
            Some((ix, n)) => quote!(::core::option::Option::Some((#ix, #n))),
            None => quote!(::core::option::Option::None),
        };
        // The check names the argument in the error; the extraction picks
        // a silent fallback for a non-extractor, so the error is reported
        // once. Only the last argument may borrow the request.
        let call = quote_spanned!(ty.span()=> #check::<#ty>());
        let (bound, method) = if i == last {
            (
                quote!(<'r, 'a, T: ::corering::http::route::FromRequestRef<'r, 'a>>),
                quote!(extract_last),
            )
        } else {
            (
                quote!(<T: ::corering::http::route::FromRequest>),
                quote!(extract),
            )
        };
        extract.push(quote! {
            #[allow(non_snake_case)]
            fn #check #bound () {}
            #call;
            __cx.__bind(#bind);
            let #var: #ty = match (&#p::Extract::<#ty>::new()).#method(__cx).await {
                ::core::result::Result::Ok(v) => v,
                ::core::result::Result::Err(r) => return r,
            };
        });
        needs.push(quote! {
            (&#p::Extract::<#ty>::new()).needs(out);
        });
        vars.push(var);
    }
    let ret_span = match &func.sig.output {
        syn::ReturnType::Default => func.sig.ident.span(),
        syn::ReturnType::Type(_, ty) => ty.span(),
    };
    let respond = quote_spanned!(ret_span=> return_type(#name(#(#vars),*).await));
    let consts = route_consts(&info);
    // A route without extractors is called without a `RequestContext`
    // (`routes!` skips making one for a literal match).
    let bare = r.args.is_empty();
    // The handler is called in one place only (one error, if any), where
    // `return_type` is defined (one item of that name in an error's path).
    let return_type = quote! {
        fn return_type<T: ::corering::http::route::IntoResponse>(v: T) -> #p::Response {
            v.into_response()
        }
    };
    let (bare_body, respond) = if bare {
        (
            quote!(#return_type #respond),
            quote!(Self::__corering_bare().await),
        )
    } else {
        (
            quote!(::core::unreachable!("a route with extractors is not bare")),
            quote!(#return_type #respond),
        )
    };
    quote! {
        #[doc(hidden)]
        #[allow(non_camel_case_types, dead_code)]
        #vis struct #name {}

        #[doc(hidden)]
        #[allow(clippy::all, clippy::pedantic, clippy::nursery, dead_code)]
        impl #name {
            #consts

            /// The states this route's extractors need (checked when the
            /// router is layered or `check`ed).
            #[doc(hidden)]
            pub fn __corering_needs(out: &mut ::std::vec::Vec<#p::Need>) {
                #[allow(unused_imports)]
                use #p::{NeedsNothing as _, ViaNeeds as _};
                let _ = &out;
                #(#needs)*
            }

            #[doc(hidden)]
            pub async fn __corering_call(
                __cx: &mut ::corering::http::route::RequestContext<'_>,
            ) -> #p::Response {
                #[allow(unused_imports)]
                use #p::{
                    ViaFallback as _, ViaFallbackRef as _, ViaFromRequest as _,
                    ViaFromRequestRef as _,
                };
                let _ = &__cx;
                #(#extract)*
                #respond
            }

            /// True if the route takes no arguments: `__corering_bare`
            /// calls it.
            #[doc(hidden)]
            pub const __CORERING_BARE: bool = #bare;

            #[doc(hidden)]
            pub async fn __corering_bare() -> #p::Response {
                #bare_body
            }
        }
    }
}

/// The constants a route's struct carries: its record, and its method
/// and path apart (`routes!` matches literal routes on them).
fn route_consts(info: &TokenStream) -> TokenStream {
    let p = quote!(::corering::http::route::__private);
    quote! {
        #[doc(hidden)]
        pub const __CORERING_ROUTE: #p::RouteInfo = #info;
        #[doc(hidden)]
        pub const __CORERING_METHOD: #p::Method = Self::__CORERING_ROUTE.method;
        #[doc(hidden)]
        pub const __CORERING_PATH: &'static str = Self::__CORERING_ROUTE.path;
    }
}

/// After an error: the same items, inert, so `routes![...]` naming this
/// route shows no follow-on errors.
fn stub(func: &ItemFn) -> TokenStream {
    let name = &func.sig.ident;
    let vis = &func.vis;
    let p = quote!(::corering::http::route::__private);
    let lit = LitStr::new("/", Span::call_site());
    let info = route_info(func, "GET", &lit, &[], false);
    let consts = route_consts(&info);
    quote! {
        #[doc(hidden)]
        #[allow(non_camel_case_types, dead_code)]
        #vis struct #name {}

        #[doc(hidden)]
        #[allow(clippy::all, dead_code)]
        impl #name {
            #consts

            #[doc(hidden)]
            pub fn __corering_needs(_: &mut ::std::vec::Vec<#p::Need>) {}

            #[doc(hidden)]
            pub async fn __corering_call(
                _: &mut ::corering::http::route::RequestContext<'_>,
            ) -> #p::Response {
                #p::Response::new(::corering::http::Status::INTERNAL_SERVER_ERROR)
            }

            #[doc(hidden)]
            pub const __CORERING_BARE: bool = false;

            #[doc(hidden)]
            pub async fn __corering_bare() -> #p::Response {
                #p::Response::new(::corering::http::Status::INTERNAL_SERVER_ERROR)
            }
        }
    }
}

/// Expands `routes![a, b, c]`.
pub fn expand_routes(input: TokenStream) -> TokenStream {
    let paths = match Punctuated::<syn::Path, Token![,]>::parse_terminated.parse2(input) {
        Ok(p) => p,
        Err(e) => {
            return syn::Error::new(
                e.span(),
                "expected route handlers separated by commas: `routes![index, users::show]`",
            )
            .to_compile_error()
        }
    };
    let paths: Vec<syn::Path> = paths.into_iter().collect();
    let mut errs = Errors::default();
    if paths.is_empty() {
        errs.push(syn::Error::new(
            Span::call_site(),
            "`routes![]` needs at least one route handler: `routes![index]`",
        ));
    }
    let key = |p: &syn::Path| quote!(#p).to_string();
    for (j, b) in paths.iter().enumerate() {
        if paths[..j].iter().any(|a| key(a) == key(b)) {
            errs.push(syn::Error::new(
                b.span(),
                format!("route `{}` is listed twice", key(b).replace(' ', "")),
            ));
        }
    }
    if !errs.is_empty() {
        return errs.into_compile_errors();
    }
    let p = quote!(::corering::http::route::__private);
    let mut checks = Vec::new();
    for (j, b) in paths.iter().enumerate() {
        for a in &paths[..j] {
            let msg = format!(
                "routes `{}` and `{}` collide: same method, and their paths have the same \
                 literal segments and parameters at the same positions, so no request can \
                 tell them apart (a literal segment ranks before a parameter: `/a/b` and \
                 `/a/{{x}}` do not collide)",
                key(a).replace(' ', ""),
                key(b).replace(' ', "")
            );
            // `panic!` formats its literal: escape the braces.
            let msg = msg.replace('{', "{{").replace('}', "}}");
            checks.push(quote_spanned! {b.span()=>
                const _: () = if #p::collide(&#a::__CORERING_ROUTE, &#b::__CORERING_ROUTE) {
                    ::core::panic!(#msg)
                };
            });
        }
    }
    let idx: Vec<usize> = (0..paths.len()).collect();
    let n = paths.len();
    quote! {{
        const __CORERING_ROUTES: [#p::RouteInfo; #n] = [#(#paths::__CORERING_ROUTE),*];
        // The order `select` tries the routes in: most specific first.
        const __CORERING_ORDER: [usize; #n] = #p::order(&__CORERING_ROUTES);
        const __CORERING_NEEDS: [#p::NeedsFn; #n] = [#(#paths::__corering_needs),*];
        #(#checks)*
        // `skip`: bytes of the path a `nest` prefix took; a miss hands
        // the request back for the router's fallback (or the next router).
        async fn __corering_dispatch(
            req: #p::Request<'_>,
            state: #p::AppState,
            skip: usize,
        ) -> #p::Routed<'_> {
            let method = req.method();
            let path = req.path();
            let path = path.get(skip..).unwrap_or(path);
            // Literal routes first, as one `match` on the method and the
            // path (compiled to a switch and fixed-length compares): the
            // route `select` would pick, since a literal route ranks
            // before every pattern and two literals never collide. The
            // rest (patterns, `HEAD` served by `GET`, 404 and 405) go to
            // `select`.
            #[allow(unreachable_patterns)]
            let literal = match (method, path) {
                #((#paths::__CORERING_METHOD, #paths::__CORERING_PATH)
                    if #paths::__CORERING_ROUTE.literal => ::core::option::Option::Some(#idx),)*
                _ => ::core::option::Option::None,
            };
            // A literal route without extractors needs no context.
            #[allow(unreachable_patterns)]
            match literal {
                #(::core::option::Option::Some(#idx) if #paths::__CORERING_BARE => {
                    return ::core::result::Result::Ok(#paths::__corering_bare().await);
                })*
                _ => {}
            }
            // The context: the route's parameters are matched into it in
            // place, and the request is moved once.
            let mut cx = ::corering::http::route::RequestContext::__new(
                req,
                #p::Params::new(),
                state,
            );
            let selected = match literal {
                ::core::option::Option::Some(i) => #p::Selected::Route(i),
                ::core::option::Option::None => #p::select(
                    &__CORERING_ROUTES,
                    &__CORERING_ORDER,
                    method,
                    path,
                    cx.__params_mut(),
                ),
            };
            match selected {
                #p::Selected::Route(i) => ::core::result::Result::Ok(match i {
                    #(#idx => #paths::__corering_call(&mut cx).await,)*
                    _ => #p::Selected::NotFound.fallback(),
                }),
                other => ::core::result::Result::Err((cx.__into_request(), other)),
            }
        }
        ::corering::http::route::Router::__new(
            __corering_dispatch,
            &__CORERING_ROUTES,
            &__CORERING_NEEDS,
        )
    }}
}
