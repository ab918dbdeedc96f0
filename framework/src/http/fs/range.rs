//! The `Range` request field (RFC 9110 §14.2), single byte ranges only.

/// What a `Range` field asks of a representation of a given length.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RangeAsk {
    /// No usable range: send the whole representation. Also the answer to
    /// a field that does not parse (RFC 9110 §14.2: ignore it), to another
    /// unit than `bytes`, and to several ranges (served whole, which the
    /// RFC allows, rather than as `multipart/byteranges`).
    Whole,
    /// Bytes `start..=end` (inclusive, both within the length).
    Part { start: u64, end: u64 },
    /// The range lies wholly past the end: `416`.
    Unsatisfiable,
}

/// Parses `value` (`bytes=0-99`, `bytes=100-`, `bytes=-500`) against a
/// representation of `len` bytes.
pub(crate) fn parse_range(value: &[u8], len: u64) -> RangeAsk {
    let Ok(value) = std::str::from_utf8(value) else {
        return RangeAsk::Whole;
    };
    let Some((unit, set)) = value.trim().split_once('=') else {
        return RangeAsk::Whole;
    };
    if !unit.trim().eq_ignore_ascii_case("bytes") {
        return RangeAsk::Whole;
    }
    let set = set.trim();
    if set.contains(',') {
        return RangeAsk::Whole;
    }
    let Some((first, last)) = set.split_once('-') else {
        return RangeAsk::Whole;
    };
    let (first, last) = (first.trim(), last.trim());
    let num = |s: &str| -> Option<u64> {
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        // Digits that overflow still name a position past any file.
        Some(s.parse().unwrap_or(u64::MAX))
    };
    match (first.is_empty(), last.is_empty()) {
        // `-N`: the last N bytes.
        (true, false) => match num(last) {
            None => RangeAsk::Whole,
            Some(0) => RangeAsk::Unsatisfiable,
            Some(_) if len == 0 => RangeAsk::Unsatisfiable,
            Some(n) => RangeAsk::Part {
                start: len.saturating_sub(n),
                end: len - 1,
            },
        },
        (false, _) => {
            let Some(start) = num(first) else {
                return RangeAsk::Whole;
            };
            let end = if last.is_empty() {
                u64::MAX
            } else {
                match num(last) {
                    Some(e) if e >= start => e,
                    _ => return RangeAsk::Whole,
                }
            };
            if start >= len {
                RangeAsk::Unsatisfiable
            } else {
                RangeAsk::Part {
                    start,
                    end: end.min(len - 1),
                }
            }
        }
        (true, true) => RangeAsk::Whole,
    }
}

#[cfg(test)]
mod tests {
    use super::RangeAsk::*;
    use super::*;

    #[test]
    fn single_ranges() {
        assert_eq!(parse_range(b"bytes=0-99", 1000), Part { start: 0, end: 99 });
        assert_eq!(
            parse_range(b"bytes=990-2000", 1000),
            Part {
                start: 990,
                end: 999
            }
        );
        assert_eq!(
            parse_range(b"bytes=10-", 1000),
            Part {
                start: 10,
                end: 999
            }
        );
        assert_eq!(
            parse_range(b"bytes=-100", 1000),
            Part {
                start: 900,
                end: 999
            }
        );
        assert_eq!(
            parse_range(b"bytes=-5000", 1000),
            Part { start: 0, end: 999 }
        );
        assert_eq!(parse_range(b"Bytes = 5-5", 10), Part { start: 5, end: 5 });
    }

    #[test]
    fn unsatisfiable() {
        assert_eq!(parse_range(b"bytes=1000-", 1000), Unsatisfiable);
        assert_eq!(parse_range(b"bytes=5000-6000", 1000), Unsatisfiable);
        assert_eq!(parse_range(b"bytes=-0", 1000), Unsatisfiable);
        assert_eq!(parse_range(b"bytes=0-", 0), Unsatisfiable);
        assert_eq!(
            parse_range(b"bytes=99999999999999999999999-", 10),
            Unsatisfiable
        );
    }

    #[test]
    fn ignored() {
        for v in [
            &b"bytes=0-1,5-6"[..],
            b"items=0-1",
            b"bytes=5-1",
            b"bytes=a-b",
            b"bytes=-",
            b"bytes=+1-2",
            b"bytes 0-1",
            b"\xff",
        ] {
            assert_eq!(
                parse_range(v, 100),
                Whole,
                "{:?}",
                String::from_utf8_lossy(v)
            );
        }
    }
}
