//! The in-memory log of kept sessions and recorded packets.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use socketio_parser::Namespace;

use super::{Offset, Pid, RecoveryConfig};
use crate::socket_id::SocketId;

/// What each entry costs beyond the bytes it names: the bookkeeping around it (its
/// place in the map or queue, the caller's handle on its data or frame). Measured on
/// the server (`scripts/bench-sio.sh`, idle): 19 750 sessions kept took 4.5 to 9 MiB,
/// 230 to 470 bytes each with nothing but their ids.
const ENTRY_OVERHEAD: usize = 256;

/// Who a recorded packet was for: the sockets in any of `rooms` (every socket of the
/// namespace when empty), minus those in any of `except`. A socket id names the room
/// of that socket, as in the reference server.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Target {
    /// Rooms reached (none: every socket).
    pub rooms: Vec<String>,
    /// Rooms left out.
    pub except: Vec<String>,
}

impl Target {
    /// Whether a socket `id` in `rooms` was among the recipients.
    pub fn reaches(&self, id: SocketId, rooms: &[String]) -> bool {
        let is_in = |room: &String| room == id.as_str() || rooms.contains(room);
        (self.rooms.is_empty() || self.rooms.iter().any(is_in)) && !self.except.iter().any(is_in)
    }

    fn bytes(&self) -> usize {
        self.rooms.iter().chain(&self.except).map(String::len).sum()
    }
}

/// A socket kept after a recoverable disconnection, with the application's data
/// `D` (opaque here).
#[derive(Debug, Clone)]
pub struct KeptSession<D> {
    /// Its private session id, which the client presents to come back.
    pub pid: Pid,
    /// Its socket id, which it gets back.
    pub id: SocketId,
    /// Its namespace: a session comes back only there.
    pub namespace: Namespace,
    /// The rooms it was in (its own id need not be listed).
    pub rooms: Vec<String>,
    /// The application's data.
    pub data: D,
    /// The log's [`head`](SessionLog::head) when the socket was (re)admitted: nothing
    /// recorded up to there was for it, whatever offset the client presents.
    pub joined_at: Offset,
}

/// A session given back, with what its client missed.
#[derive(Debug)]
pub struct Restored<D, P> {
    /// The session as it was kept.
    pub session: KeptSession<D>,
    /// The packets recorded for it after the client's offset, in order: send them
    /// before anything else.
    pub replay: Vec<P>,
    /// The log's head when the replay was taken: a later
    /// [`replay_since`](SessionLog::replay_since) from here finds what came after.
    pub head: Offset,
}

/// Why a CONNECT that presented a pid gets a fresh session instead. None of these is
/// an error of anyone's: the client just starts anew.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NotRecovered {
    /// No session is kept under that pid in that namespace (never was, forged, or
    /// forgotten: restored already, dropped by a limit, expired and purged).
    #[error("no session is kept under that pid")]
    UnknownSession,
    /// The session was kept, but for longer than the maximum disconnection duration.
    #[error("the session expired")]
    Expired,
    /// The offset is not one this log gave out.
    #[error("the offset is not one this server gave")]
    UnknownOffset,
    /// Some packet after the offset was dropped (too old, or past a limit): a replay
    /// would be incomplete.
    #[error("packets after the offset were dropped")]
    PacketsDropped,
}

#[derive(Debug)]
struct Kept<D> {
    session: KeptSession<D>,
    since: Instant,
    /// Which persist this is, to match its entry in `SessionLog::by_age`.
    serial: u64,
    bytes: usize,
}

#[derive(Debug)]
struct Entry<P> {
    at: Instant,
    namespace: Namespace,
    target: Target,
    packet: P,
    bytes: usize,
}

/// Kept sessions and recorded packets, by the rules of the [module](super). `D` is the
/// application's data kept with a session, `P` a recorded packet as the caller sends
/// it (e.g. shared encoded bytes).
///
/// # Inputs and outputs
///
/// Every method that takes `now` first expires what is due at `now` (time never goes
/// back: an earlier `now` counts as the latest seen). [`poll_timeout`](Self::poll_timeout)
/// says when something expires next, for a caller that wants memory returned at once
/// rather than at its next call; the limits hold either way.
#[derive(Debug)]
pub struct SessionLog<D, P> {
    config: RecoveryConfig,
    sessions: HashMap<Pid, Kept<D>>,
    /// Persists in time order, as (serial, pid): stale ones (restored, replaced) are
    /// skipped when met.
    by_age: VecDeque<(u64, Pid)>,
    next_serial: u64,
    session_bytes: usize,
    /// Recorded packets; the first has offset `dropped + 1`, the others follow.
    packets: VecDeque<Entry<P>>,
    packet_bytes: usize,
    /// Every packet up to this offset is gone.
    dropped: u64,
    clock: Option<Instant>,
}

impl<D, P: Clone> SessionLog<D, P> {
    /// An empty log with these limits.
    pub fn new(config: RecoveryConfig) -> Self {
        SessionLog {
            config,
            sessions: HashMap::new(),
            by_age: VecDeque::new(),
            next_serial: 0,
            session_bytes: 0,
            packets: VecDeque::new(),
            packet_bytes: 0,
            dropped: 0,
            clock: None,
        }
    }

    /// The limits.
    pub fn config(&self) -> &RecoveryConfig {
        &self.config
    }

    /// The offset of the last packet recorded (`Offset::new(0)` before any).
    pub fn head(&self) -> Offset {
        Offset(self.dropped + self.packets.len() as u64)
    }

    /// How many sessions are kept.
    pub fn sessions(&self) -> usize {
        self.sessions.len()
    }

    /// How many packets are kept.
    pub fn packets(&self) -> usize {
        self.packets.len()
    }

    /// Bytes counted against the limits: (sessions, packets).
    pub fn bytes(&self) -> (usize, usize) {
        (self.session_bytes, self.packet_bytes)
    }

    // ----- inputs -------------------------------------------------------------------

    /// Records a packet for `target` in `namespace`: it gets the next offset, which
    /// `make` writes into it (as its last argument). `bytes` is its encoded size.
    pub fn record(
        &mut self,
        now: Instant,
        namespace: &Namespace,
        target: Target,
        bytes: usize,
        make: impl FnOnce(Offset) -> P,
    ) -> Offset {
        self.advance(now);
        let offset = Offset(self.head().0 + 1);
        let bytes = bytes + target.bytes() + ENTRY_OVERHEAD;
        self.packets.push_back(Entry {
            at: self.now(),
            namespace: namespace.clone(),
            target,
            packet: make(offset),
            bytes,
        });
        self.packet_bytes += bytes;
        while self.packets.len() > self.config.max_packets
            || self.packet_bytes > self.config.max_packet_bytes
        {
            self.drop_oldest_packet();
        }
        offset
    }

    /// Keeps a socket that left for a recoverable reason. Returns `false` if it is too
    /// large to keep at all. A session kept under the same pid is replaced; past a
    /// limit, the sessions kept longest go first.
    pub fn persist(&mut self, now: Instant, session: KeptSession<D>) -> bool {
        self.advance(now);
        let bytes = ENTRY_OVERHEAD
            + session.namespace.as_str().len()
            + session.rooms.iter().map(String::len).sum::<usize>();
        if bytes > self.config.max_session_bytes || self.config.max_sessions == 0 {
            return false;
        }
        let pid = session.pid;
        let serial = self.next_serial;
        self.next_serial += 1;
        if let Some(old) = self.sessions.insert(
            pid,
            Kept {
                session,
                since: self.now(),
                serial,
                bytes,
            },
        ) {
            self.session_bytes -= old.bytes;
        }
        self.session_bytes += bytes;
        self.by_age.push_back((serial, pid));
        while self.sessions.len() > self.config.max_sessions
            || self.session_bytes > self.config.max_session_bytes
        {
            self.drop_oldest_session();
        }
        // Stale entries (restored, replaced) wait at most until they reach the front;
        // never let them outnumber the live ones by much.
        if self.by_age.len() > 2 * self.sessions.len() + 16 {
            let sessions = &self.sessions;
            self.by_age
                .retain(|(serial, pid)| sessions.get(pid).is_some_and(|k| k.serial == *serial));
        }
        true
    }

    /// Restores the session kept under `pid` in `namespace` for a client whose last
    /// handled offset is `offset` (as text; `None` if it handled none): the session,
    /// and the packets recorded for it since, in order. The session is forgotten
    /// either way, unless the pid names no session of this namespace.
    pub fn restore(
        &mut self,
        now: Instant,
        namespace: &str,
        pid: &str,
        offset: Option<&str>,
    ) -> Result<Restored<D, P>, NotRecovered> {
        self.advance(now);
        let pid = Pid::parse(pid).ok_or(NotRecovered::UnknownSession)?;
        match self.sessions.get(&pid) {
            Some(kept) if kept.session.namespace.as_str() == namespace => {}
            _ => return Err(NotRecovered::UnknownSession),
        }
        let kept = self.sessions.remove(&pid).expect("found just above");
        self.session_bytes -= kept.bytes;
        if self.is_expired(kept.since) {
            return Err(NotRecovered::Expired);
        }
        let from = match offset {
            None => kept.session.joined_at,
            Some(text) => {
                let offset = Offset::parse(text).ok_or(NotRecovered::UnknownOffset)?;
                if offset > self.head() {
                    return Err(NotRecovered::UnknownOffset);
                }
                offset.max(kept.session.joined_at)
            }
        };
        let session = kept.session;
        let replay = self.replay_since(now, &session, from)?;
        Ok(Restored {
            session,
            replay,
            head: self.head(),
        })
    }

    /// The packets recorded for `session` after `offset`, in order; an error if any
    /// of them was dropped. (For a restored socket admitted later, e.g. after its
    /// middleware ran: what came after [`Restored::head`].)
    pub fn replay_since(
        &mut self,
        now: Instant,
        session: &KeptSession<D>,
        offset: Offset,
    ) -> Result<Vec<P>, NotRecovered> {
        self.advance(now);
        if offset > self.head() {
            return Err(NotRecovered::UnknownOffset);
        }
        if offset.0 < self.dropped {
            return Err(NotRecovered::PacketsDropped);
        }
        let skip = usize::try_from(offset.0 - self.dropped).expect("at most the log's length");
        Ok(self
            .packets
            .iter()
            .skip(skip)
            .filter(|e| {
                e.namespace == session.namespace && e.target.reaches(session.id, &session.rooms)
            })
            .map(|e| e.packet.clone())
            .collect())
    }

    /// Time passed: expires what is due. Call at [`poll_timeout`](Self::poll_timeout),
    /// or not at all (each input does it too).
    pub fn handle_timeout(&mut self, now: Instant) {
        self.advance(now);
    }

    // ----- outputs ------------------------------------------------------------------

    /// When the next session or packet expires, if anything is kept.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        let live = self
            .by_age
            .iter()
            .find_map(|(serial, pid)| self.sessions.get(pid).filter(|k| k.serial == *serial))
            .map(|k| k.since);
        let packet = self.packets.front().map(|e| e.at);
        let first = [live, packet].into_iter().flatten().min()?;
        Some(first + self.config.max_disconnection_duration + Duration::from_nanos(1))
    }

    // ----- internals ----------------------------------------------------------------

    fn now(&self) -> Instant {
        self.clock.expect("advance sets the clock before any use")
    }

    /// Whether something kept since `since` is past the duration: it may be used at
    /// exactly the duration, not after.
    fn is_expired(&self, since: Instant) -> bool {
        self.now().saturating_duration_since(since) > self.config.max_disconnection_duration
    }

    fn advance(&mut self, now: Instant) {
        let now = self.clock.map_or(now, |c| c.max(now));
        self.clock = Some(now);
        while let Some(&(serial, pid)) = self.by_age.front() {
            match self.sessions.get(&pid) {
                Some(kept) if kept.serial == serial => {
                    if !self.is_expired(kept.since) {
                        break;
                    }
                    self.drop_oldest_session();
                }
                // Restored or replaced since.
                _ => {
                    self.by_age.pop_front();
                }
            }
        }
        while self.packets.front().is_some_and(|e| self.is_expired(e.at)) {
            self.drop_oldest_packet();
        }
    }

    fn drop_oldest_packet(&mut self) {
        if let Some(entry) = self.packets.pop_front() {
            self.packet_bytes -= entry.bytes;
            self.dropped += 1;
        }
    }

    fn drop_oldest_session(&mut self) {
        while let Some((serial, pid)) = self.by_age.pop_front() {
            if self.sessions.get(&pid).is_some_and(|k| k.serial == serial) {
                let kept = self.sessions.remove(&pid).expect("checked just above");
                self.session_bytes -= kept.bytes;
                return;
            }
        }
    }
}
