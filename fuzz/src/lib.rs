//! What the fuzz targets share: reading an input as a stream and the places where it is cut
//! into the pieces a connection would read, so that a push parser can be fed the same bytes
//! in different splits and judged by whether it says the same thing.
//!
//! The input of a split target is, in order:
//! * one byte that the target reads as its limits (`config`);
//! * one byte whose low four bits are how many cuts follow (0 to 15), then two bytes per cut
//!   (little-endian; each taken modulo the stream's length plus one);
//! * the stream.
//!
//! `"00"` is a byte `'0'` (0x30) for each: a seed can start with `00` and then be readable
//! text, fed with no cut.

/// An input read as limits, cuts and a stream.
#[derive(Debug)]
pub struct Split<'a> {
    /// The byte that picks the target's limits.
    pub config: u8,
    /// Where the stream is cut, ascending, each within `0..=stream.len()`.
    pub cuts: Vec<usize>,
    /// The bytes to feed.
    pub stream: &'a [u8],
}

/// The longest stream also fed one byte at a time.
const BYTEWISE_MAX: usize = 512;

impl<'a> Split<'a> {
    /// Reads an input; `None` if it is too short to hold the cuts it announces.
    #[must_use]
    pub fn read(data: &'a [u8]) -> Option<Split<'a>> {
        let (&config, rest) = data.split_first()?;
        let (&count, mut rest) = rest.split_first()?;
        let mut raw = Vec::new();
        for _ in 0..count & 0x0f {
            let (cut, tail) = rest.split_at_checked(2)?;
            raw.push(usize::from(u16::from_le_bytes([cut[0], cut[1]])));
            rest = tail;
        }
        let mut cuts: Vec<usize> = raw.into_iter().map(|c| c % (rest.len() + 1)).collect();
        cuts.sort_unstable();
        Some(Split {
            config,
            cuts,
            stream: rest,
        })
    }

    /// The ways the stream is fed: whole; in the pieces the cuts make (empty pieces
    /// included: a read may bring nothing new); and, for a short stream that is not empty,
    /// one byte at a time.
    #[must_use]
    pub fn feedings(&self) -> Vec<Vec<&'a [u8]>> {
        let stream = self.stream;
        let mut feedings = vec![vec![stream]];
        let mut pieces = Vec::new();
        let mut start = 0;
        for &cut in self.cuts.iter().chain([stream.len()].iter()) {
            pieces.push(&stream[start..cut]);
            start = cut;
        }
        feedings.push(pieces);
        if !stream.is_empty() && stream.len() <= BYTEWISE_MAX {
            feedings.push(stream.chunks(1).collect());
        }
        feedings
    }
}
