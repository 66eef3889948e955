//! Connection state recovery: the rules that let a client which dropped for a
//! moment come back as the same socket, in the same rooms, with the same data,
//! and receive every packet it missed, in order.
//!
//! This is the behaviour of the reference server (Socket.IO 4.6 and later, option
//! `connectionStateRecovery`), decided here without I/O or a clock:
//!
//! - a socket accepted while recovery is on gets a private session id, a [`Pid`],
//!   sent next to its socket id in the CONNECT answer (`{"sid":…,"pid":…}`);
//! - every event the server [records](SessionLog::record) (a broadcast, or an emit to
//!   one socket, without an acknowledgement and not volatile) gets an [`Offset`],
//!   which travels as the event's last argument; the client remembers the last one
//!   it handled;
//! - a socket that leaves for a [recoverable reason](crate::DisconnectReason::is_recoverable)
//!   is [kept](SessionLog::persist): its id, rooms and data;
//! - a CONNECT whose auth carries `pid` (and `offset`) of a kept session
//!   [restores](SessionLog::restore) it, with the recorded packets for its rooms after
//!   that offset, to be sent before anything new; anything else gets a fresh session,
//!   quietly.
//!
//! ```text
//!   record(now, namespace, target, packet) ──► Offset      (every recorded emit)
//!   persist(now, KeptSession)                              (a recoverable disconnect)
//!   restore(now, namespace, pid, offset) ───► Restored { id, rooms, data, replay }
//!                                          └► NotRecovered (fresh session)
//!   handle_timeout(now) / poll_timeout()                   (expiry; optional: every
//!                                                           input also expires)
//! ```
//!
//! # Memory: limits and policy
//!
//! [`SessionLog`] is bounded by [`RecoveryConfig`]: kept sessions by count and bytes,
//! recorded packets by count and bytes, both by age.
//!
//! - A kept session expires when [`max_disconnection_duration`](RecoveryConfig::max_disconnection_duration)
//!   has passed since its disconnection: it can be restored at exactly that
//!   duration, not after (as the reference server). Past the count or byte limit,
//!   the session kept longest is dropped first; a session larger than the whole
//!   byte limit is not kept.
//! - A recorded packet is dropped when it is older than the same duration, and,
//!   oldest first, whenever the count or byte limit is passed (a packet larger than
//!   the whole byte limit is dropped at once: it still goes out live, with its offset).
//! - A restore needs every packet after the client's offset. If any of them was
//!   dropped, the client gets a fresh session: never a partial replay presented as
//!   complete.
//! - A kept session is restored at most once: restoring it, or failing to because
//!   of its offset, forgets it.
//!
//! Byte counts are the packets' encoded sizes and the sessions' room names and ids,
//! plus a fixed allowance per entry for the bookkeeping; the application's data kept
//! with a session is not measured (it is a handle the caller owns).

mod log;

pub use log::{KeptSession, NotRecovered, Restored, SessionLog, Target};

use std::fmt::{self, Write as _};
use std::time::Duration;

use bytes::BytesMut;

use engineio::Sid;

/// Settings of connection state recovery. Take the defaults and change what you need
/// (`..RecoveryConfig::default()`: fields may be added).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecoveryConfig {
    /// How long a disconnected socket is kept, and how long recorded packets are
    /// kept (default 2 minutes, as the reference server).
    pub max_disconnection_duration: Duration,
    /// Whether a restored socket skips the namespace's middleware (default `true`,
    /// as the reference server): it passed them when it first connected.
    pub skip_middlewares: bool,
    /// Most sessions kept at once (default 100 000).
    pub max_sessions: usize,
    /// Most bytes of kept sessions (default 32 MiB).
    pub max_session_bytes: usize,
    /// Most packets recorded at once (default 100 000).
    pub max_packets: usize,
    /// Most bytes of recorded packets (default 32 MiB).
    pub max_packet_bytes: usize,
}

impl Default for RecoveryConfig {
    fn default() -> Self {
        RecoveryConfig {
            max_disconnection_duration: Duration::from_secs(120),
            skip_middlewares: true,
            max_sessions: 100_000,
            max_session_bytes: 32 << 20,
            max_packets: 100_000,
            max_packet_bytes: 32 << 20,
        }
    }
}

/// A private session id: 20 URL-safe characters carrying 120 random bits.
///
/// Only its client learns it (in the CONNECT answer); presenting it restores the
/// session, so it is a credential, unlike the socket id, which other clients may see.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Pid(Sid);

impl Pid {
    /// Builds a pid from 15 random bytes (the caller's source of randomness).
    pub fn from_random_bytes(bytes: [u8; 15]) -> Self {
        Pid(Sid::from_random_bytes(bytes))
    }

    /// Parses a pid a client presented; anything that cannot be one is `None`.
    pub fn parse(s: &str) -> Option<Self> {
        Sid::parse(s).map(Pid)
    }

    /// The pid as text.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

impl fmt::Debug for Pid {
    // Not the value: it is a credential, and debug output ends up in logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Pid(..)")
    }
}

/// Where a recorded packet stands in the log: the numbers count up from 1, one per
/// recorded packet, and travel as decimal text (the event's last argument). `0` is
/// the position before anything was recorded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Offset(u64);

impl Offset {
    /// The offset numbered `n`.
    pub fn new(n: u64) -> Self {
        Offset(n)
    }

    /// Its number.
    pub fn get(self) -> u64 {
        self.0
    }

    /// Parses an offset a client sent back (decimal digits only, no sign, no spaces).
    pub fn parse(s: &str) -> Option<Self> {
        if s.is_empty() || s.len() > 20 || !s.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        s.parse().ok().map(Offset)
    }

    /// Writes `,"<offset>"` before the closing `]` of an encoded EVENT (its text
    /// frame, without the Engine.IO `4`): the offset becomes the last argument, as
    /// the reference server appends it to the event's data.
    ///
    /// Returns `false`, writing nothing, if `text` does not end with `]` (not an
    /// encoded event).
    pub fn append_to_event(self, text: &mut BytesMut) -> bool {
        if text.last() != Some(&b']') {
            return false;
        }
        text.truncate(text.len() - 1);
        write!(text, ",\"{}\"]", self.0).expect("writing to a BytesMut cannot fail");
        true
    }
}

impl fmt::Display for Offset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}
