//! The `Sec-WebSocket-Extensions` header grammar (RFC 6455 §9.1): a
//! comma-separated list of extensions, each a token followed by
//! `; name[=value]` parameters whose values are tokens or quoted strings
//! (which, unescaped, must be tokens too).
//!
//! Runs once per handshake, never per message: it may allocate.

use std::borrow::Cow;

/// One element of the list: an extension name and its parameters in order
/// (`None` for a parameter without a value).
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Extension<'a> {
    pub(crate) name: &'a str,
    pub(crate) params: Vec<(&'a str, Option<Cow<'a, str>>)>,
}

/// Parses a whole header value (several header lines may be joined with
/// `,`). Empty list elements are skipped, as HTTP lists allow. `None` if
/// anything in it breaks the grammar.
pub(crate) fn parse_extensions(value: &str) -> Option<Vec<Extension<'_>>> {
    let mut c = Cursor { s: value, i: 0 };
    let mut list = Vec::new();
    loop {
        c.ows();
        match c.peek() {
            None => return Some(list),
            Some(b',') => {
                c.i += 1;
                continue;
            }
            Some(_) => {}
        }
        let name = c.token()?;
        let mut params = Vec::new();
        loop {
            c.ows();
            match c.peek() {
                None => break,
                Some(b',') => {
                    c.i += 1;
                    break;
                }
                Some(b';') => {
                    c.i += 1;
                    c.ows();
                    let pname = c.token()?;
                    c.ows();
                    let value = if c.peek() == Some(b'=') {
                        c.i += 1;
                        c.ows();
                        Some(c.value()?)
                    } else {
                        None
                    };
                    params.push((pname, value));
                }
                Some(_) => return None,
            }
        }
        list.push(Extension { name, params });
    }
}

/// `tchar` of RFC 7230 §3.2.6.
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// A non-empty run of `tchar`.
pub(crate) fn is_token(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(is_tchar)
}

struct Cursor<'a> {
    s: &'a str,
    i: usize,
}

impl<'a> Cursor<'a> {
    fn peek(&self) -> Option<u8> {
        self.s.as_bytes().get(self.i).copied()
    }

    /// Optional whitespace: spaces and tabs.
    fn ows(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.i += 1;
        }
    }

    fn token(&mut self) -> Option<&'a str> {
        let start = self.i;
        while self.peek().is_some_and(is_tchar) {
            self.i += 1;
        }
        (self.i > start).then(|| &self.s[start..self.i])
    }

    /// A parameter value: a token, or a quoted string whose unescaped
    /// content is a token.
    fn value(&mut self) -> Option<Cow<'a, str>> {
        if self.peek() != Some(b'"') {
            return self.token().map(Cow::Borrowed);
        }
        self.i += 1;
        let start = self.i;
        let mut owned: Option<String> = None;
        loop {
            match self.peek()? {
                b'"' => {
                    let v = match owned {
                        Some(s) => Cow::Owned(s),
                        None => Cow::Borrowed(&self.s[start..self.i]),
                    };
                    self.i += 1;
                    return is_token(&v).then_some(v);
                }
                b'\\' => {
                    let so_far = owned.get_or_insert_with(|| self.s[start..self.i].to_owned());
                    self.i += 1;
                    let b = self.peek()?;
                    // Only tchar may come out of a token value; anything else
                    // fails the token check below anyway.
                    if !b.is_ascii() {
                        return None;
                    }
                    so_far.push(b as char);
                    self.i += 1;
                }
                b => {
                    if !b.is_ascii() {
                        return None;
                    }
                    if let Some(s) = owned.as_mut() {
                        s.push(b as char);
                    }
                    self.i += 1;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(v: &str) -> Vec<&str> {
        parse_extensions(v)
            .unwrap()
            .iter()
            .map(|e| e.name)
            .collect()
    }

    #[test]
    fn lists_params_and_values() {
        let l = parse_extensions(
            "permessage-deflate; client_max_window_bits; server_max_window_bits=10, foo",
        )
        .unwrap();
        assert_eq!(l.len(), 2);
        assert_eq!(l[0].name, "permessage-deflate");
        assert_eq!(
            l[0].params,
            vec![
                ("client_max_window_bits", None),
                ("server_max_window_bits", Some(Cow::Borrowed("10")))
            ]
        );
        assert_eq!(l[1].name, "foo");
        assert!(l[1].params.is_empty());
    }

    #[test]
    fn quoted_values_unescape_to_tokens() {
        let l = parse_extensions(r#"x; a="10"; b="1\5"; c = "ok""#).unwrap();
        let vals: Vec<_> = l[0].params.iter().map(|p| p.1.as_deref()).collect();
        assert_eq!(vals, vec![Some("10"), Some("15"), Some("ok")]);
        // A quoted value must still be a token once unescaped.
        assert!(parse_extensions(r#"x; a="1 0""#).is_none());
        assert!(parse_extensions(r#"x; a="""#).is_none());
        assert!(parse_extensions(r#"x; a="10"#).is_none());
        // A comma inside quotes does not split the list (and is no token).
        assert!(parse_extensions(r#"x; a="1,0", y"#).is_none());
    }

    #[test]
    fn empty_elements_and_whitespace() {
        assert_eq!(names(" , a ,\t,b;p ,"), vec!["a", "b"]);
        assert_eq!(names(""), Vec::<&str>::new());
    }

    #[test]
    fn malformed_lists() {
        for bad in [
            "a b",
            "a;",
            "a; =1",
            "a; p=",
            "a; p==1",
            "a;p=1 2",
            "é",
            "a; p=\"é\"",
            "(a)",
        ] {
            assert!(parse_extensions(bad).is_none(), "{bad:?}");
        }
    }
}
