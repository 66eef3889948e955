//! A push decoder for `Transfer-Encoding: chunked` request bodies (RFC 9112 §7.1), sans-IO.
//!
//! Bounds: the decoded body may not exceed the request's body limit (checked when a chunk's
//! size is read, before its data arrives: `413`); chunk sizes have at most 16 hex digits;
//! chunk extensions and trailer fields are tolerated but dropped, and together may not exceed
//! [`Config::max_chunked_overhead`](super::Config) bytes (`400`). Lines must end in CRLF.

use bytes::BytesMut;

use super::error::RequestError;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Reading the hex digits of a chunk size (`digits` read so far).
    Size { value: u64, digits: u8 },
    /// In a chunk extension, up to the CR.
    Extension { value: u64 },
    /// After the CR that ends a size line.
    SizeLf { value: u64 },
    /// Copying chunk data.
    Data { left: u64 },
    /// Expecting the CR after chunk data.
    DataCr,
    /// Expecting the LF after chunk data.
    DataLf,
    /// At the start of a trailer line, or of the final empty line.
    TrailerStart,
    /// Inside a trailer field line.
    Trailer,
    /// After the CR that ends a trailer line.
    TrailerLf,
    /// After the CR of the final empty line.
    FinalLf,
    /// The body is complete.
    Done,
}

/// Decodes one chunked body, fed in pieces as they arrive.
#[derive(Debug)]
pub struct ChunkedDecoder {
    state: State,
    /// Decoded bytes so far.
    len: u64,
    limit: u64,
    /// Extension and trailer bytes so far, and their bound.
    overhead: usize,
    max_overhead: usize,
}

fn malformed(what: &'static str) -> RequestError {
    RequestError::Malformed(what)
}

impl ChunkedDecoder {
    /// A decoder for a body of at most `limit` decoded bytes and at most `max_overhead` bytes of
    /// chunk extensions and trailers.
    #[must_use]
    pub fn new(limit: usize, max_overhead: usize) -> ChunkedDecoder {
        ChunkedDecoder {
            state: State::Size {
                value: 0,
                digits: 0,
            },
            len: 0,
            limit: limit as u64,
            overhead: 0,
            max_overhead,
        }
    }

    /// Whether the whole body, trailers included, has been decoded.
    #[must_use]
    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// Decodes from `input`, appending chunk data to `out`; returns how many input bytes were
    /// consumed. Once the body is complete it consumes nothing more: the rest of `input` belongs
    /// to the next request.
    ///
    /// # Errors
    /// Malformed chunk syntax, too much overhead (`400`) or a body over the limit (`413`).
    pub fn decode(&mut self, input: &[u8], out: &mut BytesMut) -> Result<usize, RequestError> {
        let mut i = 0;
        while i < input.len() {
            if let State::Data { left } = self.state {
                let n = (input.len() - i).min(usize::try_from(left).unwrap_or(usize::MAX));
                out.extend_from_slice(&input[i..i + n]);
                i += n;
                let left = left - n as u64;
                self.state = if left == 0 {
                    State::DataCr
                } else {
                    State::Data { left }
                };
                continue;
            }
            if self.state == State::Done {
                break;
            }
            self.step(input[i])?;
            i += 1;
        }
        Ok(i)
    }

    fn count_overhead(&mut self) -> Result<(), RequestError> {
        self.overhead += 1;
        if self.overhead > self.max_overhead {
            return Err(malformed("too many chunk extension or trailer bytes"));
        }
        Ok(())
    }

    fn step(&mut self, b: u8) -> Result<(), RequestError> {
        self.state = match self.state {
            State::Size { value, digits } => match (b as char).to_digit(16) {
                Some(d) if digits < 16 => State::Size {
                    value: value << 4 | u64::from(d),
                    digits: digits + 1,
                },
                Some(_) => return Err(malformed("chunk size too long")),
                None if digits == 0 => return Err(malformed("missing chunk size")),
                None if b == b'\r' => State::SizeLf { value },
                None if b == b';' || b == b' ' || b == b'\t' => {
                    self.count_overhead()?;
                    State::Extension { value }
                }
                None => return Err(malformed("invalid chunk size")),
            },
            State::Extension { value } => match b {
                b'\r' => State::SizeLf { value },
                b'\n' => return Err(malformed("bare LF in chunk extension")),
                _ => {
                    self.count_overhead()?;
                    State::Extension { value }
                }
            },
            State::SizeLf { value } => {
                if b != b'\n' {
                    return Err(malformed("chunk size line not ended by CRLF"));
                }
                if value == 0 {
                    State::TrailerStart
                } else {
                    // Checked, not saturating: under a limit of u64::MAX a saturated sum
                    // would pass and the running length overflow.
                    match self.len.checked_add(value) {
                        Some(len) if len <= self.limit => self.len = len,
                        _ => return Err(RequestError::BodyTooLarge),
                    }
                    State::Data { left: value }
                }
            }
            State::DataCr if b == b'\r' => State::DataLf,
            State::DataLf if b == b'\n' => State::Size {
                value: 0,
                digits: 0,
            },
            State::DataCr | State::DataLf => {
                return Err(malformed("chunk data not followed by CRLF"))
            }
            State::TrailerStart if b == b'\r' => State::FinalLf,
            State::TrailerStart | State::Trailer if b != b'\r' && b != b'\n' => {
                self.count_overhead()?;
                State::Trailer
            }
            State::Trailer if b == b'\r' => State::TrailerLf,
            State::TrailerLf | State::FinalLf if b == b'\n' => {
                if self.state == State::FinalLf {
                    State::Done
                } else {
                    State::TrailerStart
                }
            }
            State::TrailerStart | State::Trailer | State::TrailerLf | State::FinalLf => {
                return Err(malformed("trailer line not ended by CRLF"));
            }
            State::Data { .. } | State::Done => unreachable!("handled by decode before step"),
        };
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn decode_all(input: &[u8], limit: usize) -> Result<(Vec<u8>, usize), RequestError> {
        let mut d = ChunkedDecoder::new(limit, 64);
        let mut out = BytesMut::new();
        let n = d.decode(input, &mut out)?;
        assert!(d.is_done(), "incomplete body");
        Ok((out.to_vec(), n))
    }

    #[test]
    fn decodes_the_rfc_shape_with_extensions_and_trailers() {
        let input = b"4;name=value\r\nWiki\r\n5\r\npedia\r\nE ; x\r\n in\r\n\r\nchunks.\r\n0\r\nExpires: never\r\n\r\nGET";
        let (body, n) = decode_all(input, 1000).unwrap();
        assert_eq!(body, b"Wikipedia in\r\n\r\nchunks.");
        assert_eq!(&input[n..], b"GET");
    }

    #[test]
    fn hex_sizes_upper_and_lower_case() {
        let input = b"a\r\n0123456789\r\nA\r\n0123456789\r\n000\r\n\r\n";
        assert_eq!(decode_all(input, 1000).unwrap().0.len(), 20);
    }

    #[test]
    fn over_the_limit_is_413_before_the_data() {
        let mut d = ChunkedDecoder::new(10, 64);
        let mut out = BytesMut::new();
        assert_eq!(d.decode(b"8\r\n01234567\r\n", &mut out), Ok(13));
        assert_eq!(
            d.decode(b"3\r\n", &mut out),
            Err(RequestError::BodyTooLarge)
        );
        assert_eq!(
            ChunkedDecoder::new(10, 64).decode(b"ffffffffffffffff\r\n", &mut out),
            Err(RequestError::BodyTooLarge)
        );
    }

    #[test]
    fn chunk_sizes_summing_past_u64_are_413_under_no_limit() {
        // Found by the http_chunked_body fuzz target: 1 + (2^64 - 1) passed a saturating
        // check against a limit of u64::MAX, then overflowed the running length.
        let mut d = ChunkedDecoder::new(usize::MAX, 64);
        let mut out = BytesMut::new();
        assert_eq!(d.decode(b"0000001\r\nx\r\n", &mut out), Ok(12));
        assert_eq!(
            d.decode(b"ffffffffffffffff\r\n", &mut out),
            Err(RequestError::BodyTooLarge)
        );
        assert_eq!(&out[..], b"x");
        // A single chunk of 2^64 - 1 bytes is within such a limit, and waits for its data.
        let mut d = ChunkedDecoder::new(usize::MAX, 64);
        assert_eq!(d.decode(b"ffffffffffffffff\r\nab", &mut out), Ok(20));
        assert!(!d.is_done());
    }

    #[test]
    fn malformed_bodies_are_400() {
        for bad in [
            &b"\r\n"[..],
            b"g\r\n",
            b"1\nx\r\n",
            b"1\r\nxy",
            b"1\r\nx\n",
            b"0\r\nTrailer: x\n",
            b"0\r\n\rx",
            b"11111111111111111\r\n",
            b"1;ext\n",
        ] {
            let mut d = ChunkedDecoder::new(100, 64);
            let e = d.decode(bad, &mut BytesMut::new()).unwrap_err();
            assert_eq!(e.status(), 400, "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn extensions_and_trailers_are_bounded() {
        let long_ext = format!("1;{}\r\nx\r\n0\r\n\r\n", "e".repeat(100));
        assert!(decode_all(long_ext.as_bytes(), 100).is_err());
        let long_trailer = format!("0\r\nX: {}\r\n\r\n", "t".repeat(100));
        assert!(decode_all(long_trailer.as_bytes(), 100).is_err());
    }

    proptest! {
        /// Any split of the input into pieces decodes to the same body and stops at the same
        /// place.
        #[test]
        fn pieces_decode_like_the_whole(
            data in proptest::collection::vec(any::<u8>(), 0..300),
            sizes in proptest::collection::vec(1usize..40, 1..20),
            cuts in proptest::collection::vec(0usize..400, 0..10),
        ) {
            let mut input = Vec::new();
            let mut rest = &data[..];
            for s in sizes.iter().cycle() {
                if rest.is_empty() { break; }
                let n = (*s).min(rest.len());
                input.extend_from_slice(format!("{n:x};e=1\r\n").as_bytes());
                input.extend_from_slice(&rest[..n]);
                input.extend_from_slice(b"\r\n");
                rest = &rest[n..];
            }
            input.extend_from_slice(b"0\r\nT: v\r\n\r\nTAIL");
            let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c % (input.len() + 1)).collect();
            cuts.sort_unstable();
            let mut d = ChunkedDecoder::new(1000, 10_000);
            let mut out = BytesMut::new();
            let mut consumed = 0;
            let mut start = 0;
            for end in cuts.into_iter().chain([input.len()]) {
                if end < start { continue; }
                // Unconsumed bytes are offered again with the next piece, as the connection does.
                consumed += d.decode(&input[consumed..end], &mut out).unwrap();
                start = end;
            }
            prop_assert!(d.is_done());
            prop_assert_eq!(&out[..], &data[..]);
            prop_assert_eq!(&input[consumed..], b"TAIL");
        }
    }
}
