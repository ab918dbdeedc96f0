//! Glob-style patterns for `KEYS`, with redis's rules: `*` any run of
//! bytes, `?` any one byte, `[abc]`, `[a-z]`, `[^a]` a byte in (or not in) a
//! set, `\x` the byte `x` itself. Matching is on bytes, case-sensitive.

/// True if `text` matches `pattern`.
///
/// Iterative with one backtrack point (the last `*`), so a hostile pattern
/// costs at most `O(pattern.len() * text.len())`.
pub fn matches(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0, 0);
    // Where to resume after the last `*`: (pattern index after it, text index).
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() {
            if pattern[p] == b'*' {
                // Collapse runs of stars.
                while p < pattern.len() && pattern[p] == b'*' {
                    p += 1;
                }
                if p == pattern.len() {
                    return true;
                }
                star = Some((p, t));
                continue;
            }
            if let Some(next) = match_one(pattern, p, text[t]) {
                p = next;
                t += 1;
                continue;
            }
        }
        match star {
            // Let the last `*` swallow one more byte and retry.
            Some((sp, st)) => {
                p = sp;
                t = st + 1;
                star = Some((sp, st + 1));
            }
            None => return false,
        }
    }
    pattern[p..].iter().all(|&c| c == b'*')
}

/// Matches one byte against the pattern element at `p` (not `*`); returns
/// the index after the element if it matches.
fn match_one(pattern: &[u8], p: usize, c: u8) -> Option<usize> {
    match pattern[p] {
        b'?' => Some(p + 1),
        b'\\' if p + 1 < pattern.len() => (pattern[p + 1] == c).then_some(p + 2),
        b'[' => match_class(pattern, p + 1, c),
        lit => (lit == c).then_some(p + 1),
    }
}

/// Matches `c` against the class starting after `[` at `p`; returns the
/// index after the closing `]` (or the end of an unterminated class).
fn match_class(pattern: &[u8], mut p: usize, c: u8) -> Option<usize> {
    let negate = pattern.get(p) == Some(&b'^');
    if negate {
        p += 1;
    }
    let mut hit = false;
    while p < pattern.len() && pattern[p] != b']' {
        if pattern[p] == b'\\' && p + 1 < pattern.len() {
            hit |= pattern[p + 1] == c;
            p += 2;
        } else if p + 2 < pattern.len() && pattern[p + 1] == b'-' && pattern[p + 2] != b']' {
            let (a, b) = (pattern[p], pattern[p + 2]);
            let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
            hit |= (lo..=hi).contains(&c);
            p += 3;
        } else {
            hit |= pattern[p] == c;
            p += 1;
        }
    }
    // Skip the closing `]` if there is one.
    let next = (p + 1).min(pattern.len());
    (hit != negate).then_some(next)
}
