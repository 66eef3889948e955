//! Socket ids: one per joined namespace, never the Engine.IO sid.

use std::fmt;

use engineio::Sid;

/// The id of a socket (one client in one namespace). It is public: the
/// client learns it and other clients may see it (e.g. as a message's sender),
/// so it is deliberately unrelated to the Engine.IO session id, which is a
/// credential.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SocketId(Sid);

impl SocketId {
    /// Builds an id from 15 random bytes (20 URL-safe characters).
    pub fn from_random_bytes(bytes: [u8; 15]) -> Self {
        SocketId(Sid::from_random_bytes(bytes))
    }

    /// Parses an id's text form.
    pub fn parse(s: &str) -> Option<Self> {
        Sid::parse(s).map(SocketId)
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

impl fmt::Debug for SocketId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SocketId({})", self.as_str())
    }
}

impl fmt::Display for SocketId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
