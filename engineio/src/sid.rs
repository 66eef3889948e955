//! Session ids and where their randomness comes from.

use std::fmt;

/// Number of random bytes behind a session id: 15 bytes = 120 bits.
const SID_RANDOM_BYTES: usize = 15;
/// Length of a session id on the wire: 15 bytes in base64 without padding.
const SID_LEN: usize = 20;

/// URL-safe base64 alphabet (RFC 4648 §5): a sid travels in query strings unescaped.
const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Whether `b` is in [`ALPHABET`], by its ranges (a search through the alphabet for each
/// character was a twentieth of a long-polling request's cost: every request names its sid).
fn in_alphabet(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'_'
}

/// An Engine.IO session id: 20 URL-safe characters carrying 120 random bits.
///
/// It is a credential: whoever knows it can read and write the session. Never
/// send it to other clients (the Socket.IO layer gives sockets ids of their own).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Sid([u8; SID_LEN]);

impl Sid {
    /// Builds a sid from 15 random bytes.
    pub fn from_random_bytes(bytes: [u8; SID_RANDOM_BYTES]) -> Self {
        let mut out = [0u8; SID_LEN];
        for (chunk, dst) in bytes.chunks_exact(3).zip(out.chunks_exact_mut(4)) {
            let n = (u32::from(chunk[0]) << 16) | (u32::from(chunk[1]) << 8) | u32::from(chunk[2]);
            dst[0] = ALPHABET[(n >> 18) as usize & 63];
            dst[1] = ALPHABET[(n >> 12) as usize & 63];
            dst[2] = ALPHABET[(n >> 6) as usize & 63];
            dst[3] = ALPHABET[n as usize & 63];
        }
        Sid(out)
    }

    /// Parses a sid received from a client. Anything that is not exactly 20
    /// characters of the URL-safe alphabet cannot be one of ours.
    pub fn parse(s: &str) -> Option<Self> {
        let bytes = s.as_bytes();
        if bytes.len() != SID_LEN || !bytes.iter().copied().all(in_alphabet) {
            return None;
        }
        let mut out = [0u8; SID_LEN];
        out.copy_from_slice(bytes);
        Some(Sid(out))
    }

    /// The sid as text.
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).expect("a Sid holds only ASCII alphabet characters")
    }
}

impl fmt::Debug for Sid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Sid({})", self.as_str())
    }
}

impl fmt::Display for Sid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The source of randomness for session ids.
///
/// The engine reads no randomness of its own: the runtime passes an
/// implementation backed by the operating system's CSPRNG, tests pass a
/// deterministic one.
pub trait SidGenerator: Send {
    /// Fills `buf` with unpredictable bytes.
    fn fill(&mut self, buf: &mut [u8; SID_RANDOM_BYTES]);

    /// Returns a fresh session id.
    fn generate(&mut self) -> Sid {
        let mut buf = [0u8; SID_RANDOM_BYTES];
        self.fill(&mut buf);
        Sid::from_random_bytes(buf)
    }
}

/// A deterministic generator for tests and simulations: a counter mixed by a
/// fixed permutation. Predictable, so never use it to serve real clients.
#[derive(Debug, Clone, Default)]
pub struct CountingSidGenerator {
    next: u64,
}

impl CountingSidGenerator {
    /// Starts counting from `seed`.
    pub fn new(seed: u64) -> Self {
        CountingSidGenerator { next: seed }
    }
}

impl SidGenerator for CountingSidGenerator {
    fn fill(&mut self, buf: &mut [u8; SID_RANDOM_BYTES]) {
        // splitmix64: spreads consecutive counters over all bits.
        let mut x = self.next;
        self.next = self.next.wrapping_add(1);
        for chunk in buf.chunks_mut(8) {
            x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = x;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^= z >> 31;
            chunk.copy_from_slice(&z.to_le_bytes()[..chunk.len()]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sid_is_twenty_url_safe_characters() {
        let sid = Sid::from_random_bytes([0xff; 15]);
        assert_eq!(sid.as_str(), "____________________");
        let sid = Sid::from_random_bytes([0xfb; 15]);
        assert_eq!(sid.as_str().len(), 20);
        assert!(sid
            .as_str()
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
    }

    #[test]
    fn encoding_matches_url_safe_base64() {
        // "Man" in base64 is "TWFu"; five copies of it.
        let sid = Sid::from_random_bytes(*b"ManManManManMan");
        assert_eq!(sid.as_str(), "TWFuTWFuTWFuTWFuTWFu");
    }

    #[test]
    fn the_alphabet_test_matches_the_alphabet() {
        for b in 0..=255u8 {
            assert_eq!(in_alphabet(b), ALPHABET.contains(&b), "byte {b}");
        }
    }

    #[test]
    fn parse_round_trips_and_rejects_foreign_text() {
        let mut generator = CountingSidGenerator::new(7);
        let sid = generator.generate();
        assert_eq!(Sid::parse(sid.as_str()), Some(sid));
        assert_eq!(Sid::parse("short"), None);
        assert_eq!(Sid::parse("AAAAAAAAAAAAAAAAAAA="), None);
        assert_eq!(Sid::parse("AAAAAAAAAAAAAAAAAAAAA"), None);
    }

    #[test]
    fn counting_generator_gives_distinct_ids() {
        let mut generator = CountingSidGenerator::new(0);
        let ids: std::collections::HashSet<Sid> = (0..1000).map(|_| generator.generate()).collect();
        assert_eq!(ids.len(), 1000);
    }
}
