//! The routing table shared by every connection of one engine: the
//! [`engineio::Server`] and, for each open session, the inbox of its task.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use super::inbox::Inbox;
use engineio::{RequestHead, RequestId, Routed, Server, Sid};

struct RouterState<Io> {
    server: Server,
    sessions: HashMap<Sid, Arc<Inbox<Io>>>,
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

    /// Checks a request and says where it goes.
    pub(crate) fn route(&self, now: Instant, id: RequestId, head: &RequestHead) -> Routed {
        self.lock().server.handle_request(now, id, head)
    }

    /// The inbox of session `sid`, if it is open.
    pub(crate) fn session(&self, sid: Sid) -> Option<Arc<Inbox<Io>>> {
        self.lock().sessions.get(&sid).cloned()
    }

    pub(crate) fn insert(&self, sid: Sid, inbox: Arc<Inbox<Io>>) {
        self.lock().sessions.insert(sid, inbox);
    }

    /// Takes the session out of the table: requests for it are now answered
    /// `Session ID unknown` by the router.
    pub(crate) fn remove(&self, sid: Sid) {
        self.lock().sessions.remove(&sid);
    }

    /// The session's task ended: the session cap counts one less.
    pub(crate) fn session_closed(&self, sid: Sid) {
        let mut state = self.lock();
        state.sessions.remove(&sid);
        state.server.handle_session_closed(sid);
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
