//! Connection state recovery on this server: the log of kept sessions and recorded
//! packets ([`socketio_core::recovery`] decides the rules), shared by all namespaces.
//!
//! What a handler sees: a client that dropped (transport closed or failed, ping
//! timeout, server shutting down) and comes back within the duration connects as a
//! socket whose [`recovered()`](super::SocketRef::recovered) is `true`, with the same
//! id, rooms and data; the events it missed went out before its CONNECT answer, so its
//! client delivers them, in order, before anything new. Anything else is a fresh
//! socket, as without recovery.
//!
//! Recorded: each emit without an acknowledgement and not volatile, to one socket or
//! broadcast (from this server, or reaching it from others through the adapter). Each
//! carries its offset as its last argument while recovery is on.
//!
//! The log lives in this process. With an [`Adapter`](super::Adapter) the recovery is
//! local: a client that comes back to this server recovers (broadcasts that reached
//! this server from the others included); one that comes back to another server gets
//! a fresh session there. A log shared by every server (Redis Streams, as
//! `@socket.io/redis-streams-adapter` keeps it) would answer the same four questions
//! as [`SessionLog`]: record, persist, restore, replay since.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use bytes::{Bytes, BytesMut};
use socketio_core::recovery::{
    KeptSession, NotRecovered, Offset, RecoveryConfig, Restored, SessionLog, Target,
};
use socketio_parser::Namespace;

use super::outbound::Frame;
use super::rooms::Selection;
use super::socket::SocketData;

/// A kept session as this server keeps it: the socket's data is shared, not copied.
pub(crate) type Kept = KeptSession<Arc<SocketData>>;

/// A restored session, with the frames it missed.
pub(crate) type Restore = Restored<Arc<SocketData>, Arc<Frame>>;

/// The server's recovery state.
pub(crate) struct Recovery {
    pub(crate) config: RecoveryConfig,
    log: Mutex<SessionLog<Arc<SocketData>, Arc<Frame>>>,
}

impl std::fmt::Debug for Recovery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recovery")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// An event encoded for recording: its text still open for the offset.
#[derive(Debug)]
pub(crate) struct Encoded {
    pub(crate) text: BytesMut,
    pub(crate) attachments: Vec<Bytes>,
}

impl Encoded {
    /// The frame as it goes out without recovery.
    pub(crate) fn into_frame(self) -> Arc<Frame> {
        Arc::new(Frame::new(self.text.freeze(), self.attachments))
    }
}

impl Recovery {
    pub(crate) fn new(config: RecoveryConfig) -> Self {
        Recovery {
            config,
            log: Mutex::new(SessionLog::new(config)),
        }
    }

    fn log(&self) -> MutexGuard<'_, SessionLog<Arc<SocketData>, Arc<Frame>>> {
        // The log's methods do not panic on any input; a poisoned lock still holds a
        // consistent log.
        self.log.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Records an event for `selection` in `namespace`: the frame to send, its
    /// offset written in as the last argument.
    pub(crate) fn record(
        &self,
        now: Instant,
        namespace: &Namespace,
        selection: &Selection,
        mut encoded: Encoded,
    ) -> Arc<Frame> {
        let mut except = selection.except_rooms.clone();
        if let Some(id) = selection.except_socket {
            except.push(id.to_string());
        }
        let target = Target {
            rooms: selection.rooms.clone(),
            except,
        };
        let bytes = encoded.text.len() + encoded.attachments.iter().map(Bytes::len).sum::<usize>();
        let mut frame = None;
        self.log().record(now, namespace, target, bytes, |offset| {
            offset.append_to_event(&mut encoded.text);
            let made = Arc::new(Frame::new(
                std::mem::take(&mut encoded.text).freeze(),
                std::mem::take(&mut encoded.attachments),
            ));
            frame = Some(made.clone());
            made
        });
        frame.expect("record calls make once")
    }

    /// The offset of the last recorded packet.
    pub(crate) fn head(&self) -> Offset {
        self.log().head()
    }

    /// Keeps a socket that left for a recoverable reason.
    pub(crate) fn persist(&self, now: Instant, session: Kept) {
        if !self.log().persist(now, session) {
            tracing::debug!("a session too large to keep was not kept");
        }
    }

    /// Restores the session `pid` names in `namespace`, for a client whose last
    /// offset is `offset`.
    pub(crate) fn restore(
        &self,
        now: Instant,
        namespace: &Namespace,
        pid: &str,
        offset: Option<&str>,
    ) -> Result<Restore, NotRecovered> {
        self.log().restore(now, namespace.as_str(), pid, offset)
    }

    /// What was recorded for `session` after `offset`.
    pub(crate) fn replay_since(
        &self,
        now: Instant,
        session: &Kept,
        offset: Offset,
    ) -> Result<Vec<Arc<Frame>>, NotRecovered> {
        self.log().replay_since(now, session, offset)
    }
}

/// The `pid` and `offset` a CONNECT's auth presents, if it presents a pid: the offset
/// is `Ok(None)` when absent, `Err(())` when present but not a string.
pub(crate) fn presented(auth: Option<&[u8]>) -> Option<(String, Result<Option<String>, ()>)> {
    let auth: serde_json::Value = serde_json::from_slice(auth?).ok()?;
    let pid = auth.get("pid")?.as_str()?.to_owned();
    let offset = match auth.get("offset") {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(()),
    };
    Some((pid, offset))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_auth_presents_a_pid_and_maybe_an_offset() {
        assert_eq!(presented(None), None);
        assert_eq!(presented(Some(b"{}")), None);
        assert_eq!(presented(Some(b"not json")), None);
        assert_eq!(presented(Some(br#"{"pid":1,"offset":"2"}"#)), None);
        assert_eq!(
            presented(Some(br#"{"token":"t","pid":"p","offset":"2"}"#)),
            Some(("p".into(), Ok(Some("2".into()))))
        );
        assert_eq!(
            presented(Some(br#"{"pid":"p"}"#)),
            Some(("p".into(), Ok(None)))
        );
        assert_eq!(
            presented(Some(br#"{"pid":"p","offset":3}"#)),
            Some(("p".into(), Err(())))
        );
    }

    #[test]
    fn a_recorded_event_carries_its_offset_and_the_log_shares_its_frame() {
        let recovery = Recovery::new(RecoveryConfig::default());
        let encoded = Encoded {
            text: BytesMut::from(&br#"2["news",1]"#[..]),
            attachments: Vec::new(),
        };
        #[allow(clippy::disallowed_methods)]
        let now = Instant::now();
        let frame = recovery.record(now, &Namespace::main(), &Selection::default(), encoded);
        assert_eq!(&frame.text[..], br#"2["news",1,"1"]"#);
        assert_eq!(recovery.head(), Offset::new(1));
    }
}
