//! What runs inside a session's task on top of the Engine.IO session.
//!
//! The session task owns the [`engineio::Session`], its sockets and its timer.
//! An application layer (the Engine.IO handler API, or the Socket.IO server)
//! plugs in as a [`SessionApp`]: the task hands it the session's events, lets
//! it apply commands other tasks queued, polls its in-flight handler work and
//! arms one timer for the earlier of the session's and the app's deadlines.

use std::net::SocketAddr;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use engineio::{Message, SendError};

use super::lane::WriteLane;
use crate::metrics::SessionCounters;

/// The engine session, as the application layer sees it from inside the task.
#[derive(Debug)]
pub(crate) struct Engine<'a> {
    pub(crate) session: &'a mut engineio::Session,
    pub(crate) now: Instant,
    /// The session's counts.
    pub(crate) counters: &'a SessionCounters,
}

impl Engine<'_> {
    /// Queues a message for the client (counted when queued).
    pub(crate) fn send(&mut self, message: Message) -> Result<(), SendError> {
        let len = message.len();
        match self.session.send(message) {
            Ok(()) => {
                self.counters.sent(len);
                tracing::trace!(len, "message sent");
                Ok(())
            }
            Err(e) => {
                if e == SendError::BufferFull {
                    self.counters.buffer_full();
                }
                Err(e)
            }
        }
    }

    /// Closes the session (buffered messages go first).
    pub(crate) fn close(&mut self) {
        self.session.close(self.now);
    }

    /// Whether a message sent now would go out at once.
    pub(crate) fn is_writable(&self) -> bool {
        self.session.is_writable()
    }

    /// The current time.
    pub(crate) fn now(&self) -> Instant {
        self.now
    }
}

/// What the HTTP request that opened a session carried, kept for handlers.
#[derive(Debug, Clone)]
pub struct HandshakeRequest {
    /// The Engine.IO session id.
    pub sid: engineio::Sid,
    /// The transport the session opened over.
    pub transport: engineio::TransportKind,
    /// The raw query string of the handshake request.
    pub query: String,
    /// The handshake request's headers (names lowercase), in order.
    pub headers: HandshakeHeaders,
    /// The client's address, when the connection has one.
    pub address: Option<SocketAddr>,
}

/// The headers of a handshake request, kept for as long as the session lives
/// in one allocation (every open connection holds them, so a `String` per
/// name and per value would be a tenth of an idle connection's memory).
///
/// ```
/// use server_adapter::HandshakeHeaders;
///
/// let headers = HandshakeHeaders::new([("User-Agent", "curl"), ("accept", "*/*")]);
/// assert_eq!(headers.get("user-agent"), Some("curl"));
/// assert_eq!(headers.iter().collect::<Vec<_>>(), [("user-agent", "curl"), ("accept", "*/*")]);
/// ```
#[derive(Clone, Default, PartialEq, Eq)]
pub struct HandshakeHeaders {
    /// `name NUL value NUL` for each header, in order. Names are HTTP tokens
    /// and values never hold NUL (a NUL given to [`HandshakeHeaders::new`] is
    /// kept as U+FFFD), so the separator is unambiguous.
    text: Box<str>,
}

impl HandshakeHeaders {
    /// Headers from `(name, value)` pairs; names are stored lowercase.
    pub fn new<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        let mut text = String::new();
        let keep = |c: char| if c == '\0' { '\u{fffd}' } else { c };
        for (name, value) in pairs {
            text.extend(name.chars().map(|c| keep(c.to_ascii_lowercase())));
            text.push('\0');
            text.extend(value.chars().map(keep));
            text.push('\0');
        }
        HandshakeHeaders {
            text: text.into_boxed_str(),
        }
    }

    /// The headers as `(name, value)`, names lowercase, in the request's order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> + '_ {
        let mut parts = self.text.split_terminator('\0');
        std::iter::from_fn(move || Some((parts.next()?, parts.next().unwrap_or(""))))
    }

    /// The first header called `name` (case-insensitive).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }

    /// How many headers there are.
    pub fn len(&self) -> usize {
        self.text.bytes().filter(|&b| b == 0).count() / 2
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }
}

impl std::fmt::Debug for HandshakeHeaders {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

/// An application layer driven by a session task.
pub(crate) trait SessionApp: Send + 'static {
    /// One event of the engine session.
    fn handle_event(&mut self, event: engineio::Event, engine: &mut Engine<'_>);

    /// Other tasks signalled work (queued sends, broadcasts, closes): apply it.
    fn handle_commands(&mut self, engine: &mut Engine<'_>);

    /// Drives in-flight handler work. `Ready` when something finished (the
    /// task then drains outputs and polls again), `Pending` otherwise.
    fn poll_work(&mut self, cx: &mut Context<'_>, engine: &mut Engine<'_>) -> Poll<()>;

    /// Whether the app takes more of the client's messages now. While it does not (its
    /// handlers are behind), the session task stops reading the client's WebSockets and
    /// taking the engine's events, which also holds back a long-poll POST's answer: the
    /// client is slowed down by TCP and by the engine protocol, and nothing piles up here.
    fn accepts_input(&self) -> bool {
        true
    }

    /// The app's next deadline.
    fn poll_timeout(&self) -> Option<Instant>;

    /// The app's deadline passed.
    fn handle_timeout(&mut self, engine: &mut Engine<'_>);

    /// The server is shutting down: end the session (the Socket.IO layer
    /// tells its sockets why first).
    fn shutdown(&mut self, engine: &mut Engine<'_>);

    /// After each turn, with the session drained: publish what other tasks
    /// need to know (how much is buffered, whether it can send at once).
    fn after_turn(&mut self, engine: &Engine<'_>);

    /// The session task is about to wait with nothing to write, and the session would send
    /// a message at once, unchanged, on the WebSocket whose stream `lane` writes: the app may
    /// [open](WriteLane::open) the lane, so that other tasks queue its messages there
    /// themselves until the task wakes (see [`super::lane`]). Apps that do not, ignore it.
    fn open_lane(&mut self, lane: &Arc<WriteLane>) {
        let _ = lane;
    }

    /// The session is gone and its task is ending; work still in flight is
    /// handed back to be finished elsewhere.
    fn finish(&mut self) -> Vec<std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>>;
}

/// Wakes a session's task: other tasks ring it after queueing work for the
/// session (sends, broadcasts, closes). The session's inbox is the signal, so
/// a session costs one shared allocation for both, and its counters too.
pub(crate) trait Signal: Send + Sync + std::fmt::Debug + 'static {
    /// Wakes the task (or makes its next wait return at once).
    fn ring(&self);

    /// The session's counts, for what other tasks count (refused and dropped sends).
    fn counters(&self) -> &SessionCounters;
}

/// A signal for unit tests of what sits on top of a session: rings a `Notify`.
#[cfg(test)]
#[derive(Debug)]
pub(crate) struct TestSignal {
    pub(crate) notify: tokio::sync::Notify,
    pub(crate) counters: SessionCounters,
}

#[cfg(test)]
impl TestSignal {
    pub(crate) fn new() -> std::sync::Arc<Self> {
        std::sync::Arc::new(TestSignal {
            notify: tokio::sync::Notify::new(),
            counters: SessionCounters::new(crate::metrics::Transport::WebSocket),
        })
    }
}

#[cfg(test)]
impl Signal for TestSignal {
    fn ring(&self) {
        self.notify.notify_one();
    }

    fn counters(&self) -> &SessionCounters {
        &self.counters
    }
}

/// Makes the application layer of each new session.
pub(crate) trait AppFactory: Send + Sync + 'static {
    /// The app type.
    type App: SessionApp;

    /// An app for a session opened by `request`; `signal` wakes the session
    /// task when other tasks queue work for it.
    fn create(&self, request: HandshakeRequest, signal: Arc<dyn Signal>) -> Self::App;
}

#[cfg(test)]
mod tests {
    use super::HandshakeHeaders;

    #[test]
    fn headers_keep_order_duplicates_and_empty_values() {
        let h = HandshakeHeaders::new([("X-A", "1"), ("x-b", ""), ("X-A", "2")]);
        assert_eq!(h.len(), 3);
        assert_eq!(
            h.iter().collect::<Vec<_>>(),
            [("x-a", "1"), ("x-b", ""), ("x-a", "2")]
        );
        assert_eq!(h.get("x-A"), Some("1"), "the first of a repeated header");
        assert_eq!(h.get("X-B"), Some(""));
        assert_eq!(h.get("x-c"), None);
    }

    #[test]
    fn a_nul_cannot_split_a_value() {
        let h = HandshakeHeaders::new([("a", "x\0y"), ("b", "z")]);
        assert_eq!(
            h.iter().collect::<Vec<_>>(),
            [("a", "x\u{fffd}y"), ("b", "z")]
        );
    }

    #[test]
    fn no_headers() {
        let h = HandshakeHeaders::default();
        assert!(h.is_empty());
        assert_eq!(h.len(), 0);
        assert_eq!(h.iter().count(), 0);
        assert_eq!(format!("{h:?}"), "{}");
    }
}
