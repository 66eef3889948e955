//! The routing table shared by every connection of one engine: the
//! [`engineio::Server`] and, for each open session, the inbox of its task (which holds the
//! session's counters); and the engine's counts of what happens once per session.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use super::inbox::Inbox;
use crate::metrics::{EngineStats, Sums};
use engineio::{RequestHead, RequestId, Routed, Server, Session, SessionRequest, Sid, Transmit};

struct RouterState<Io> {
    server: Server,
    sessions: HashMap<Sid, Arc<Inbox<Io>>>,
    /// The counts of the sessions that left the table, folded in as each leaves (under this
    /// lock, as snapshots sum the table: each count is seen once).
    closed: Sums,
}

struct Shared<Io> {
    state: Mutex<RouterState<Io>>,
    stats: EngineStats,
}

/// Where a request goes.
pub(crate) enum Dispatch<Io> {
    /// Answer at once (an error, a preflight, a request for a session that is not open).
    Respond(Transmit),
    /// A handshake opened this session.
    Opened(Box<Session>),
    /// To the inbox of the request's session.
    Session(SessionRequest, Arc<Inbox<Io>>),
    /// A kind of route this driver does not know.
    Unroutable,
}

/// A handle on the routing table. The lock is held only to route a request,
/// to add or remove a session or to sum the sessions' counts, never across an await.
pub(crate) struct RouterHandle<Io>(Arc<Shared<Io>>);

impl<Io> Clone for RouterHandle<Io> {
    fn clone(&self) -> Self {
        RouterHandle(self.0.clone())
    }
}

impl<Io> std::fmt::Debug for RouterHandle<Io> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RouterHandle").finish_non_exhaustive()
    }
}

impl<Io> RouterHandle<Io> {
    pub(crate) fn new(server: Server) -> Self {
        RouterHandle(Arc::new(Shared {
            state: Mutex::new(RouterState {
                server,
                sessions: HashMap::new(),
                closed: Sums::default(),
            }),
            stats: EngineStats::default(),
        }))
    }

    fn lock(&self) -> MutexGuard<'_, RouterState<Io>> {
        // A panic while routing is a bug; the table itself stays consistent.
        self.0
            .state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The engine's counts of what happens once per session or refused request.
    pub(crate) fn stats(&self) -> &EngineStats {
        &self.0.stats
    }

    /// The counts of every session the engine ran: the open ones' (with their gauges) and
    /// the closed ones'.
    pub(crate) fn sums(&self) -> Sums {
        let state = self.lock();
        let mut sums = state.closed;
        for inbox in state.sessions.values() {
            sums.add(&inbox.counters, true);
        }
        sums
    }

    /// Checks a request and says where it goes: the engine's decision and the table's
    /// lookup under one lock, so that a session leaving the table in between cannot make
    /// the answer depend on which came first.
    pub(crate) fn route(&self, now: Instant, id: RequestId, head: &RequestHead) -> Dispatch<Io> {
        let mut state = self.lock();
        match state.server.handle_request(now, id, head) {
            Routed::Respond(transmit) => Dispatch::Respond(transmit),
            Routed::Opened(session) => Dispatch::Opened(session),
            Routed::Session(request) => match state.sessions.get(&request.sid()) {
                Some(inbox) => Dispatch::Session(request, inbox.clone()),
                None => Dispatch::Respond(state.server.handle_unknown_session(now, request)),
            },
            _ => Dispatch::Unroutable,
        }
    }

    /// The answer to a request whose session ended before taking it.
    pub(crate) fn unknown_session(&self, now: Instant, request: SessionRequest) -> Transmit {
        self.lock().server.handle_unknown_session(now, request)
    }

    pub(crate) fn insert(&self, sid: Sid, inbox: Arc<Inbox<Io>>) {
        self.lock().sessions.insert(sid, inbox);
    }

    /// Takes the closed session out of the table, once (later calls do nothing): requests
    /// for it are now answered by the engine (`Session ID unknown`, or what the session owes
    /// a GET that arrived before its close), and the session cap counts one less.
    ///
    /// The session's counts move to the table's totals: the session task calls this once its
    /// application has seen the `Closed` event, after which nothing is counted for it.
    pub(crate) fn remove_closed(&self, now: Instant, session: &Session) {
        let mut state = self.lock();
        if let Some(inbox) = state.sessions.remove(&session.sid()) {
            crate::sparse::shrink_map(&mut state.sessions);
            state.closed.add(&inbox.counters, false);
            state.server.handle_session_closed(now, session);
        }
    }

    /// Takes a session that never started out of the table (see
    /// [`engineio::Server::handle_session_dropped`]).
    pub(crate) fn remove_unstarted(&self, sid: Sid) {
        let mut state = self.lock();
        if let Some(inbox) = state.sessions.remove(&sid) {
            crate::sparse::shrink_map(&mut state.sessions);
            state.closed.add(&inbox.counters, false);
            state.server.handle_session_dropped(sid);
        }
    }

    /// The inboxes of every open session.
    pub(crate) fn all_sessions(&self) -> Vec<Arc<Inbox<Io>>> {
        self.lock().sessions.values().cloned().collect()
    }

    /// How many sessions are open.
    pub(crate) fn open_sessions(&self) -> usize {
        self.lock().server.open_sessions()
    }
}
