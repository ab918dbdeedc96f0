//! `Accept-Encoding` negotiation (RFC 9110 §12.5.3) for
//! [`Compression`](super::Compression): which of the codings this build
//! has the client takes, by q-value, ties broken by a fixed preference.

/// A content coding [`Compression`](super::Compression) can produce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Coding {
    /// Brotli (RFC 7932), feature `brotli`.
    #[cfg(feature = "brotli")]
    Br,
    /// Zstandard (RFC 8878), feature `zstd`.
    #[cfg(feature = "zstd")]
    Zstd,
    /// gzip (RFC 1952).
    Gzip,
}

impl Coding {
    /// The codings of this build, in the order preferred when a client
    /// gives several the same weight: Brotli (usually the smallest text),
    /// then Zstandard, then gzip (the one every client has).
    pub(super) const PREFERRED: &'static [Coding] = &[
        #[cfg(feature = "brotli")]
        Coding::Br,
        #[cfg(feature = "zstd")]
        Coding::Zstd,
        Coding::Gzip,
    ];

    /// The coding's token, as `Content-Encoding` carries it.
    pub fn as_str(self) -> &'static str {
        match self {
            #[cfg(feature = "brotli")]
            Coding::Br => "br",
            #[cfg(feature = "zstd")]
            Coding::Zstd => "zstd",
            Coding::Gzip => "gzip",
        }
    }

    /// True if `token` names this coding (case-insensitive; `x-gzip` is
    /// gzip).
    fn is(self, token: &str) -> bool {
        token.eq_ignore_ascii_case(self.as_str())
            || (self == Coding::Gzip && token.eq_ignore_ascii_case("x-gzip"))
    }
}

/// A q-value (`0`, `0.5`, `1.000`) in thousandths; 0 if malformed.
fn qvalue(s: &str) -> u16 {
    match s.parse::<f32>() {
        Ok(q) if (0.0..=1.0).contains(&q) => (q * 1000.0).round() as u16,
        _ => 0,
    }
}

/// The coding to answer with, from `values` (the request's
/// `Accept-Encoding` fields): the one of this build the client weighs
/// highest, the earlier in [`Coding::PREFERRED`] on a tie; `None` if it
/// takes none of them. A coding's weight is its own entry's, else `*`'s,
/// else 0 (refused); a missing q is 1, an unparsable one 0.
pub(super) fn choose<'v>(values: impl Iterator<Item = &'v [u8]>) -> Option<Coding> {
    // Weights in thousandths, by position in PREFERRED; then `*`'s.
    let mut own = [None::<u16>; 3];
    let mut star = None;
    for value in values {
        let Ok(value) = std::str::from_utf8(value) else {
            continue;
        };
        for item in value.split(',') {
            let mut parts = item.split(';');
            let token = parts.next().unwrap_or("").trim();
            let q = parts
                .map(str::trim)
                .find(|p| p.len() >= 2 && p[..2].eq_ignore_ascii_case("q="))
                .map_or(1000, |p| qvalue(p[2..].trim()));
            if token == "*" {
                star = star.or(Some(q));
            } else if let Some(i) = Coding::PREFERRED.iter().position(|c| c.is(token)) {
                own[i] = own[i].or(Some(q));
            }
        }
    }
    let mut best: Option<(Coding, u16)> = None;
    for (i, &coding) in Coding::PREFERRED.iter().enumerate() {
        let w = own[i].or(star).unwrap_or(0);
        if w > 0 && best.is_none_or(|(_, b)| w > b) {
            best = Some((coding, w));
        }
    }
    best.map(|(c, _)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pick(v: &str) -> Option<&'static str> {
        choose(std::iter::once(v.as_bytes())).map(Coding::as_str)
    }

    #[test]
    fn gzip_alone() {
        assert_eq!(pick("gzip"), Some("gzip"));
        assert_eq!(pick("deflate, gzip;q=1.0"), Some("gzip"));
        assert_eq!(pick("GZIP ; q=0.5"), Some("gzip"));
        assert_eq!(pick("x-gzip"), Some("gzip"));
        assert_eq!(pick("gzip;q=0"), None);
        assert_eq!(pick("deflate"), None);
        assert_eq!(pick(""), None);
        assert_eq!(pick("gzip;q=abc"), None);
        assert_eq!(choose(std::iter::once(&b"\xff"[..])), None);
    }

    #[test]
    fn star_covers_the_unlisted() {
        assert_eq!(pick("*"), Some(Coding::PREFERRED[0].as_str()));
        assert_eq!(pick("*, gzip;q=0").is_some(), Coding::PREFERRED.len() > 1);
    }

    #[cfg(all(feature = "brotli", feature = "zstd"))]
    #[test]
    fn q_values_then_preference() {
        assert_eq!(pick("gzip, br, zstd"), Some("br"));
        assert_eq!(pick("gzip, zstd"), Some("zstd"));
        assert_eq!(pick("br;q=0.5, zstd;q=0.8, gzip;q=0.6"), Some("zstd"));
        assert_eq!(pick("br;q=0.5, gzip"), Some("gzip"));
        assert_eq!(pick("br;q=0, zstd;q=0, gzip;q=0.1"), Some("gzip"));
        assert_eq!(pick("*;q=0.2, br;q=0"), Some("zstd"));
    }
}
