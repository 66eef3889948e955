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
use tokio::sync::Notify;

/// The engine session, as the application layer sees it from inside the task.
#[derive(Debug)]
pub(crate) struct Engine<'a> {
    pub(crate) session: &'a mut engineio::Session,
    pub(crate) now: Instant,
}

impl Engine<'_> {
    /// Queues a message for the client.
    pub(crate) fn send(&mut self, message: Message) -> Result<(), SendError> {
        self.session.send(message)
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
    pub headers: Vec<(String, String)>,
    /// The client's address, when the connection has one.
    pub address: Option<SocketAddr>,
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

    /// The session is gone and its task is ending; work still in flight is
    /// handed back to be finished elsewhere.
    fn finish(&mut self) -> Vec<std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>>;
}

/// Makes the application layer of each new session.
pub(crate) trait AppFactory: Send + Sync + 'static {
    /// The app type.
    type App: SessionApp;

    /// An app for a session opened by `request`; `signal` wakes the session
    /// task when other tasks queue work for it.
    fn create(&self, request: HandshakeRequest, signal: Arc<Notify>) -> Self::App;
}
