//! The routing table shared by every connection of one engine: the
//! [`engineio::Server`] and, for each open session, the inbox of its task.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use super::inbox::Inbox;
use engineio::{RequestHead, RequestId, Routed, Server, Session, SessionRequest, Sid, Transmit};

struct RouterState<Io> {
    server: Server,
    sessions: HashMap<Sid, Arc<Inbox<Io>>>,
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

/// A handle on the routing table. The lock is held only to route a request
/// or to add or remove a session, never across an await.
pub(crate) struct RouterHandle<Io>(Arc<Mutex<RouterState<Io>>>);

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
        RouterHandle(Arc::new(Mutex::new(RouterState {
            server,
            sessions: HashMap::new(),
        })))
    }

    fn lock(&self) -> MutexGuard<'_, RouterState<Io>> {
        // A panic while routing is a bug; the table itself stays consistent.
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
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
    pub(crate) fn remove_closed(&self, now: Instant, session: &Session) {
        let mut state = self.lock();
        if state.sessions.remove(&session.sid()).is_some() {
            state.server.handle_session_closed(now, session);
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
