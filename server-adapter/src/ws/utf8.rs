//! Incremental UTF-8 validation: a text message is checked as its bytes arrive, across frame
//! and read boundaries, so that invalid input is refused as soon as it is invalid.

/// Validates a byte stream fed in pieces. Holds at most three bytes of an unfinished character.
#[derive(Clone, Copy, Debug, Default)]
pub struct Utf8Validator {
    pending: [u8; 4],
    len: u8,
}

/// The bytes fed so far are not UTF-8 (and no continuation can make them so).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InvalidUtf8;

/// Length of the character a valid lead byte starts.
fn char_width(lead: u8) -> usize {
    match lead {
        0xC0..=0xDF => 2,
        0xE0..=0xEF => 3,
        0xF0..=0xF7 => 4,
        _ => 1,
    }
}

impl Utf8Validator {
    /// Feeds the next bytes.
    ///
    /// # Errors
    /// The stream so far is not a prefix of any valid UTF-8 text.
    pub fn feed(&mut self, mut input: &[u8]) -> Result<(), InvalidUtf8> {
        if self.len > 0 {
            let have = usize::from(self.len);
            let need = char_width(self.pending[0]) - have;
            let take = need.min(input.len());
            self.pending[have..have + take].copy_from_slice(&input[..take]);
            self.len += take as u8;
            input = &input[take..];
            match std::str::from_utf8(&self.pending[..usize::from(self.len)]) {
                Ok(_) => self.len = 0,
                // Still a valid prefix; `input` is used up.
                Err(e) if e.error_len().is_none() => return Ok(()),
                Err(_) => return Err(InvalidUtf8),
            }
        }
        match std::str::from_utf8(input) {
            Ok(_) => Ok(()),
            Err(e) if e.error_len().is_none() => {
                let tail = &input[e.valid_up_to()..];
                self.pending[..tail.len()].copy_from_slice(tail);
                self.len = tail.len() as u8;
                Ok(())
            }
            Err(_) => Err(InvalidUtf8),
        }
    }

    /// Ends the stream and resets the validator.
    ///
    /// # Errors
    /// The stream ends inside a character.
    pub fn finish(&mut self) -> Result<(), InvalidUtf8> {
        let complete = self.len == 0;
        *self = Utf8Validator::default();
        if complete {
            Ok(())
        } else {
            Err(InvalidUtf8)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn validate_in_pieces(bytes: &[u8], cuts: &[usize]) -> Result<(), InvalidUtf8> {
        let mut v = Utf8Validator::default();
        let mut start = 0;
        for &c in cuts.iter().chain([bytes.len()].iter()) {
            let c = c.clamp(start, bytes.len());
            v.feed(&bytes[start..c])?;
            start = c;
        }
        v.finish()
    }

    #[test]
    fn split_characters_are_joined() {
        let s = "κόσμε € 𝄞".as_bytes();
        for cut in 0..s.len() {
            assert_eq!(validate_in_pieces(s, &[cut]), Ok(()), "cut at {cut}");
            for cut2 in cut..s.len() {
                assert_eq!(validate_in_pieces(s, &[cut, cut2]), Ok(()));
            }
        }
    }

    #[test]
    fn fails_as_soon_as_invalid() {
        let mut v = Utf8Validator::default();
        // U+110000 would start F4 90: the second byte already makes it invalid.
        v.feed(b"ok \xF4").unwrap();
        assert_eq!(v.feed(b"\x90"), Err(InvalidUtf8));
        // A surrogate (ED A0 80) is refused at its second byte.
        let mut v = Utf8Validator::default();
        v.feed(b"\xED").unwrap();
        assert_eq!(v.feed(b"\xA0"), Err(InvalidUtf8));
        // An unfinished character at the end.
        let mut v = Utf8Validator::default();
        v.feed(b"\xE2\x82").unwrap();
        assert_eq!(v.finish(), Err(InvalidUtf8));
        // Overlong and stray bytes.
        assert!(Utf8Validator::default().feed(b"\xC0\xAF").is_err());
        assert!(Utf8Validator::default().feed(b"\x80").is_err());
        assert!(Utf8Validator::default().feed(b"\xFF").is_err());
    }

    proptest! {
        /// Any split of any byte string is judged as `std::str::from_utf8` judges the whole.
        #[test]
        fn agrees_with_std(
            bytes in proptest::collection::vec(prop_oneof![any::<u8>(), 0x80u8..0xC0, 0xE0u8..0xF5], 0..40),
            cuts in proptest::collection::vec(0usize..40, 0..6),
        ) {
            let mut cuts = cuts;
            cuts.sort_unstable();
            let expected = std::str::from_utf8(&bytes).is_ok();
            prop_assert_eq!(validate_in_pieces(&bytes, &cuts).is_ok(), expected);
        }

        #[test]
        fn agrees_with_std_on_text(s in "\\PC{0,20}", cut in 0usize..80) {
            let b = s.as_bytes();
            prop_assert_eq!(validate_in_pieces(b, &[cut]), Ok(()));
        }
    }
}
