//! Route patterns: `"/users/{id}/files/{*rest}"` parsed into segments.
//!
//! Errors are messages naming the offending segment; the caller spans them
//! on the string literal (a span cannot point inside a literal on stable).

/// Most parameters one route may have (`corering::http::route::__private::MAX_PARAMS`).
pub const MAX_PARAMS: usize = 8;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seg {
    Lit(String),
    Param(String),
    Tail(String),
}

impl Seg {
    pub fn param_name(&self) -> Option<&str> {
        match self {
            Seg::Param(n) | Seg::Tail(n) => Some(n),
            Seg::Lit(_) => None,
        }
    }
}

/// Characters allowed in a literal segment: RFC 3986 `pchar` (`%` for
/// percent-encoded bytes, unchecked).
fn lit_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "-._~!$&'()*+,;=:@%".contains(c)
}

fn valid_name(n: &str) -> bool {
    let mut cs = n.chars();
    matches!(cs.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && cs.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && n != "_"
}

/// Parses a pattern; every problem found is returned, each a message.
pub fn parse(path: &str) -> Result<Vec<Seg>, Vec<String>> {
    let mut errs = Vec::new();
    let Some(rest) = path.strip_prefix('/') else {
        return Err(vec![format!("route path {path:?} must start with `/`")]);
    };
    let mut segs = Vec::new();
    if !rest.is_empty() {
        let parts: Vec<&str> = rest.split('/').collect();
        let last = parts.len() - 1;
        for (i, part) in parts.iter().enumerate() {
            match segment(part, i == last) {
                Ok(s) => segs.push(s),
                Err(e) => errs.push(e),
            }
        }
    }
    let mut seen: Vec<&str> = Vec::new();
    for s in &segs {
        if let Some(n) = s.param_name() {
            if seen.contains(&n) {
                errs.push(format!(
                    "duplicate path parameter `{n}`: each parameter needs its own name"
                ));
            }
            seen.push(n);
        }
    }
    if seen.len() > MAX_PARAMS {
        errs.push(format!(
            "a route has at most {MAX_PARAMS} path parameters; this one has {}",
            seen.len()
        ));
    }
    if errs.is_empty() {
        Ok(segs)
    } else {
        Err(errs)
    }
}

fn segment(part: &str, last: bool) -> Result<Seg, String> {
    if part.is_empty() && !last {
        return Err(
            "empty segment (`//`): only the last segment may be empty (a trailing `/`)".into(),
        );
    }
    if let Some(inner) = part.strip_prefix('{') {
        let Some(inner) = inner.strip_suffix('}') else {
            return Err(if part.contains('}') {
                format!("segment `{part}`: a parameter must be a whole segment, like `{{name}}`")
            } else {
                format!("segment `{part}`: unclosed `{{`")
            });
        };
        let (tail, name) = match inner.strip_prefix('*') {
            Some(n) => (true, n),
            None => (false, inner),
        };
        if name.is_empty() {
            return Err(format!(
                "segment `{part}`: empty parameter name; write `{{name}}`{}",
                if tail { "" } else { " or `{*rest}`" }
            ));
        }
        if name.contains('{') || name.contains('}') {
            return Err(format!(
                "segment `{part}`: a parameter must be a whole segment, like `{{name}}`"
            ));
        }
        if !valid_name(name) {
            return Err(format!(
                "segment `{part}`: parameter name `{name}` must be an identifier \
                 (letters, digits and `_`, not starting with a digit)"
            ));
        }
        if tail && !last {
            return Err(format!(
                "segment `{part}`: a `{{*{name}}}` tail takes the rest of the path, \
                 so it must be the last segment"
            ));
        }
        return Ok(if tail {
            Seg::Tail(name.to_owned())
        } else {
            Seg::Param(name.to_owned())
        });
    }
    if part.contains('{') || part.contains('}') {
        return Err(format!(
            "segment `{part}`: a parameter must be a whole segment, like `{{name}}`"
        ));
    }
    if let Some(c) = part.chars().find(|&c| !lit_char(c)) {
        return Err(format!(
            "segment `{part}`: {c:?} is not allowed in a path (percent-encode it)"
        ));
    }
    Ok(Seg::Lit(part.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses() {
        assert_eq!(parse("/").unwrap(), vec![]);
        assert_eq!(
            parse("/users/{id}/{*rest}").unwrap(),
            vec![
                Seg::Lit("users".into()),
                Seg::Param("id".into()),
                Seg::Tail("rest".into())
            ]
        );
        assert_eq!(
            parse("/a/").unwrap(),
            vec![Seg::Lit("a".into()), Seg::Lit("".into())]
        );
    }

    #[test]
    fn rejects() {
        for bad in [
            "users",
            "/{}",
            "/{id",
            "/{*rest}/x",
            "/{1a}",
            "/{a-b}",
            "/a{b}",
            "/{a}/{a}",
            "/a b",
            "/a?b",
            "/}",
            "/{*}",
            "/a//b",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
