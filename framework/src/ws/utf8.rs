//! Incremental UTF-8 validation for text messages that arrive in pieces
//! (fragments, or one frame read as it trickles in): each piece is
//! checked as it comes, so an invalid byte fails the message at once
//! (close 1007), while a code point split between pieces is fine.

/// The state between pieces: the start of a code point cut by the end of
/// the last piece.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Utf8Validator {
    partial: [u8; 4],
    len: u8,
}

/// A byte sequence that can never be UTF-8, whatever follows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct InvalidUtf8;

impl Utf8Validator {
    /// Validates the next piece; `Err` as soon as the bytes so far cannot
    /// be the start of valid UTF-8.
    pub(crate) fn feed(&mut self, mut piece: &[u8]) -> Result<(), InvalidUtf8> {
        if self.len > 0 {
            // Finish the cut code point with up to three bytes of `piece`.
            let have = self.len as usize;
            let take = (4 - have).min(piece.len());
            let mut tmp = self.partial;
            tmp[have..have + take].copy_from_slice(&piece[..take]);
            let window = &tmp[..have + take];
            let done = match std::str::from_utf8(window) {
                Ok(_) => window.len(),
                Err(e) if e.valid_up_to() >= have => e.valid_up_to(),
                Err(e) if e.error_len().is_some() => return Err(InvalidUtf8),
                Err(_) => {
                    // Still cut short: `piece` was all of it.
                    self.partial = tmp;
                    self.len = window.len() as u8;
                    return Ok(());
                }
            };
            piece = &piece[done - have..];
            self.len = 0;
        }
        match std::str::from_utf8(piece) {
            Ok(_) => Ok(()),
            Err(e) if e.error_len().is_some() => Err(InvalidUtf8),
            Err(e) => {
                let rest = &piece[e.valid_up_to()..];
                self.partial[..rest.len()].copy_from_slice(rest);
                self.len = rest.len() as u8;
                Ok(())
            }
        }
    }

    /// Ends the message: `Err` if it stopped inside a code point. Resets
    /// for the next message either way.
    pub(crate) fn finish(&mut self) -> Result<(), InvalidUtf8> {
        let cut = self.len > 0;
        self.len = 0;
        if cut {
            Err(InvalidUtf8)
        } else {
            Ok(())
        }
    }

    /// Forgets any state (a new message).
    pub(crate) fn reset(&mut self) {
        self.len = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_cut(bytes: &[u8], cuts: &[usize]) -> Result<(), InvalidUtf8> {
        let mut v = Utf8Validator::default();
        let mut at = 0;
        for &c in cuts.iter().chain(std::iter::once(&bytes.len())) {
            v.feed(&bytes[at..c])?;
            at = c;
        }
        v.finish()
    }

    #[test]
    fn any_cut_of_valid_text_is_valid() {
        let text = "κόσμε a€𝄞 ü\u{10ffff}".as_bytes();
        for a in 0..=text.len() {
            for b in a..=text.len() {
                assert_eq!(check_cut(text, &[a, b]), Ok(()), "cuts {a} {b}");
            }
        }
    }

    #[test]
    fn invalid_text_fails_at_any_cut() {
        let bad: [&[u8]; 6] = [
            b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80edited", // surrogate
            b"ab\xff",
            b"\xf4\x90\x80\x80", // above U+10FFFF
            b"\xc0\xaf",         // overlong
            b"a\xe2\x82",        // cut at the end
            b"\x80",
        ];
        for text in bad {
            for a in 0..=text.len() {
                assert_eq!(check_cut(text, &[a]), Err(InvalidUtf8), "{text:?} cut {a}");
            }
        }
    }

    #[test]
    fn fails_fast_before_the_message_ends() {
        let mut v = Utf8Validator::default();
        assert_eq!(v.feed(b"hello \xe2"), Ok(()));
        // A continuation is expected; `(` can never be one.
        assert_eq!(v.feed(b"("), Err(InvalidUtf8));
        let mut v = Utf8Validator::default();
        assert_eq!(v.feed(b"ok \xed\xa0"), Err(InvalidUtf8));
    }
}
