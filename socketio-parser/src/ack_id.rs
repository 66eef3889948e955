//! [`AckId`]: the number that pairs an ACK with the EVENT that asked for it.

use std::fmt;

/// An acknowledgement id: the digits between the namespace and the JSON payload.
///
/// The reference implementation stores ids as JavaScript numbers and counts them up from 0.
/// This crate accepts any id that fits in a `u64` and rejects longer digit runs as
/// [`DecodeError::AckIdOverflow`](crate::DecodeError::AckIdOverflow) (the reference decoder
/// would silently round them). A JavaScript peer reads ids above 2^53 rounded, so a server
/// should hand out small ones.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AckId(u64);

impl AckId {
    /// Wraps a number.
    pub const fn new(id: u64) -> Self {
        AckId(id)
    }

    /// The number.
    pub const fn get(self) -> u64 {
        self.0
    }
}

impl From<u64> for AckId {
    fn from(id: u64) -> Self {
        AckId(id)
    }
}

impl From<AckId> for u64 {
    fn from(id: AckId) -> Self {
        id.0
    }
}

impl fmt::Display for AckId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl fmt::Debug for AckId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AckId({})", self.0)
    }
}
